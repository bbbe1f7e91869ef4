#!/usr/bin/env bash
# The benchmark: the extension's RPCs per second against what this same server does for
# pgbench's TPC-B. Every workload runs twice: durable (synchronous_commit = on, as in
# production) and CPU-bound (synchronous_commit = off for the run's sessions, same cluster),
# so that the disk's flush speed can neither hide nor inflate CPU cost.
#   bash bench/run.sh                                    full run (it prints its expected duration:
#                                                        about 35 minutes)
#   BENCH_SECONDS=2 BENCH_CARDS=2000 bash bench/run.sh   a quick smoke run
# Knobs: BENCH_SECONDS (per run, default 20), BENCH_CARDS (charge cards, default 100000),
# BENCH_ROUNDS (rounds for the targets that compare two workloads, default 3),
# BENCH_SKIP_INSTALL=1 (bench the installed mps_ext as it is: no build, no install),
# MPS_BENCH_PORT (default 5491).
# Writes bench/results/<date>.md and bench/results/<date>.png and prints PASS/FAIL lines.
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"

SECONDS_PER_RUN=${BENCH_SECONDS:-20}
ROUNDS=${BENCH_ROUNDS:-3}
(( ROUNDS >= 1 )) || { echo "BENCH_ROUNDS must be at least 1" >&2; exit 2; }
CARDS=${BENCH_CARDS:-100000}
MERCHANTS=100
HISTORY_MEMBERS=200
HISTORY_TXS=50
LOGINS=1000
TPCB_SCALE=10
WAL_SEGMENTS=256   # 4 GiB, min_wal_size in bench/postgresql.conf
CLIENTS=(1 4 16 64)
RPC_CLIENTS=(4 16)   # refund, recharge, history and their select-only reference
declare -A COMMIT=([durable]=on [cpu]=off)
BENCH="$ROOT/bench"
STAMP=$(date -u +%Y-%m-%d)
RESULTS="$BENCH/results"
WORK="$ROOT/.cluster/bench-work"

# The expected duration. Per mode: TPC-B and 4 charge workloads at each client count, 4 runs at
# each RPC client count; then 9 runs per round, hold and login. Each run takes about 1 s more
# than its time; each reload of the codes (2 per client count and mode, 2 per round) or of the
# refunds' payments about 1 s + 4 s per 100,000 cards; the load, the WAL segments and
# verify_ledger() about 50 s + 100 s per 100,000 cards.
RUNS=$(( ${#COMMIT[@]} * (${#CLIENTS[@]} * 5 + ${#RPC_CLIENTS[@]} * 4) + ROUNDS * 9 + 2 ))
RELOADS=$(( ${#COMMIT[@]} * (${#CLIENTS[@]} * 2 + ${#RPC_CLIENTS[@]}) + ROUNDS * 2 + 2 ))
EXPECTED=$(( RUNS * (SECONDS_PER_RUN + 1) + RELOADS * (1 + CARDS * 4 / 100000) + 50 + CARDS / 1000 ))
log "$RUNS runs of ${SECONDS_PER_RUN}s: expected duration about $(( (EXPECTED + 59) / 60 )) minutes"

ensure_toolchain
ensure_python
"$PYTHON" -c 'import matplotlib' 2>/dev/null || "$ROOT/.venv/bin/pip" install -q -r "$BENCH/requirements.txt"
[ "${BENCH_SKIP_INSTALL:-}" = 1 ] || install_extension

start_bench_cluster
rm -rf "$WORK"; mkdir -p "$WORK" "$RESULTS"; chmod 777 "$WORK"

log "loading: TPC-B scale $TPCB_SCALE; $CARDS + $HISTORY_MEMBERS members with cards, $MERCHANTS merchants"
psql -qX -d postgres -c "CREATE DATABASE tpcb" -c "CREATE DATABASE mps"
"$PGBIN/pgbench" -q -i -s "$TPCB_SCALE" tpcb >/dev/null 2>&1
psql -qX -v ON_ERROR_STOP=1 -d mps -c "CREATE EXTENSION mps_ext" -c "SELECT create_transaction_partitions()" \
    -c "CREATE EXTENSION pg_stat_statements" \
    -c "DO \$\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'authenticator') THEN CREATE ROLE authenticator LOGIN NOINHERIT; END IF; END \$\$" \
    -c "GRANT anon, authenticated, service_role TO authenticator" >/dev/null
psql -qX -v ON_ERROR_STOP=1 -d mps -v cards="$CARDS" -v history="$HISTORY_MEMBERS" -v history_txs="$HISTORY_TXS" \
    -v logins="$LOGINS" -v merchants="$MERCHANTS" -f "$BENCH/load.sql" >/dev/null
# the select-only reference reads as history.sql's role (the roles are the cluster's, made with mps_ext)
psql -qX -v ON_ERROR_STOP=1 -d tpcb -c "GRANT SELECT ON pgbench_accounts TO service_role"
# A server in service recycles its WAL segments; a fresh one creates and zero-fills each new one,
# which cost charges (the workload that writes the most WAL) about 5 % of the machine's CPU. So
# the segments the runs will need are made now, and min_wal_size (bench/postgresql.conf) keeps
# them for recycling across the checkpoints of settle(): each switch needs a record to end.
log "making $WAL_SEGMENTS WAL segments for the runs to recycle"
psql -qX -v ON_ERROR_STOP=1 -d postgres -v n="$WAL_SEGMENTS" >/dev/null <<'SQL'
SELECT count(pg_catalog.pg_switch_wal()) FILTER (WHERE pg_catalog.pg_logical_emit_message(false, 'mps_bench', '') IS NOT NULL)
  FROM pg_catalog.generate_series(1, :n);
CHECKPOINT;
SQL

# hold and refund: merchant 1
bench_shop

# settle TABLES: vacuums and analyzes TABLES (a list) after a reload, analyzes the transactions
# and checkpoints, so that none of it happens during the next run. The transactions' statistics
# decide the RPCs' plans (stale ones cost get_member_transactions a JIT compilation per call,
# and refunds a slow lookup of the original); autovacuum would refresh them at any moment.
settle() {
    local analyze=(-c "ANALYZE public.transactions")
    [[ ", $1," == *", public.transactions,"* ]] && analyze=()   # the VACUUM (ANALYZE) does it
    psql -qX -v ON_ERROR_STOP=1 -d mps -c "VACUUM (ANALYZE) $1" "${analyze[@]}" -c "CHECKPOINT" >/dev/null
}

# live_codes N: exactly N live QR codes (cards 1..N), in a freshly built index, settled.
live_codes() {
    psql -qX -v ON_ERROR_STOP=1 -d mps -v n="$1" -f "$BENCH/scripts/live_codes.sql" >/dev/null
    settle "public.card_qr_state, mps_internal.card_qr_tokens"
}

# refund_payments: the payments refund.sql picks from (bench/scripts/refund_payments.sql),
# settled with the movements; prints how many. The movements are vacuumed as autovacuum
# would soon have done (an insert-only table is vacuumed every so many inserts): the
# histories read their page from the index alone where the heap pages are all-visible, as
# the select-only reference reads pgbench_accounts, vacuumed by pgbench -i.
refund_payments() {
    PAYMENTS=$(list_refund_payments "$SHOP")
    settle "mps_bench.payments, public.transactions"
}

# run WORKLOAD MODE DB CLIENTS [pgbench args…]: one timed pgbench run in MODE, per-transaction
# latencies logged; meanwhile the waits of DB's active backends are sampled, and its top
# statements (pg_stat_statements, reset just before) are kept. With ROUND set, the run is that
# round's (its files end in .r<ROUND>).
run() {
    local workload=$1 mode=$2 db=$3 clients=$4; shift 4
    local id="$workload.$mode.c$clients${ROUND:+.r$ROUND}" threads=$(( clients < 2 ? 1 : 2 ))
    log "$id: $clients client(s), ${SECONDS_PER_RUN}s"
    psql -qX -d mps -c "SELECT pg_stat_statements_reset()" >/dev/null
    (cd "$WORK" && PGOPTIONS="-c synchronous_commit=${COMMIT[$mode]}" "$PYTHON" "$BENCH/sample_waits.py" --db "$db" \
        --out "$id.waits" -- "$PGBIN/pgbench" -n -M prepared -c "$clients" -j "$threads" -T "$SECONDS_PER_RUN" \
        -l --log-prefix="$id.log" "$@" "$db" > "$id.out" 2>&1) || { cat "$WORK/$id.out"; exit 1; }
    psql -qAtX -F ' | ' -d mps -c "SELECT calls, round(mean_exec_time::numeric, 3),
                                          left(regexp_replace(query, '\s+', ' ', 'g'), 100)
                                     FROM pg_stat_statements
                                    WHERE dbid = (SELECT oid FROM pg_database WHERE datname = '$db')
                                      AND query <> 'SELECT pg_stat_statements_reset()'
                                    ORDER BY total_exec_time DESC LIMIT 8" > "$WORK/$id.statements"
    grep -E "^(tps|number of failed)" "$WORK/$id.out" | sed 's/^/    /'
}
# run_workload WORKLOAD MODE CLIENTS [ID]: `run` of a workload of workload_args (scripts/lib.sh)
# under ID (the workload's name by default), on mps; TPC-B and the select-only reference on
# tpcb. Refunds pick from the PAYMENTS that refund_payments listed last.
run_workload() {
    local db=mps
    [[ $1 == tpcb || $1 == select_only ]] && db=tpcb
    workload_args "$1"
    run "${4:-$1}" "$2" "$db" "$3" "${WORKLOAD_ARGS[@]}"
}

# stored: bytes of every table of the extension's schemas with its indexes and TOAST
# (partitions included), but the live QR codes (card_qr_state, card_qr_tokens), whose size is the
# number of codes the runs reload between workloads, not the charges; payments: charges made so far.
stored() {
    psql -qAtX -d mps -c "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c
                           WHERE c.relnamespace::regnamespace::text IN ('public', 'audit', 'mps_internal', 'mps_auth')
                             AND c.relkind IN ('r', 'm')
                             AND c.oid NOT IN ('public.card_qr_state'::regclass, 'mps_internal.card_qr_tokens'::regclass)"
}
payments() { psql -qAtX -d mps -c "SELECT count(*) FROM public.transactions WHERE tx_type = 'payment'"; }
# what the charge runs stored and how many charges they made (other runs come between them)
STORED=0
CHARGES=0

# TPC-B and each workload it is compared with run in turn, so that drift hits both equally.
for mode in durable cpu; do
    for clients in "${CLIENTS[@]}"; do
        run_workload tpcb "$mode" "$clients"
        live_codes "$CARDS"
        stored_before=$(stored)
        payments_before=$(payments)
        run_workload charge "$mode" "$clients"
        run_workload charge_merchants "$mode" "$clients"
        run_workload charge_hot "$mode" "$clients" charge_100k_codes
        live_codes 10
        run_workload charge_hot "$mode" "$clients" charge_10_codes
        STORED=$(( STORED + $(stored) - stored_before ))
        CHARGES=$(( CHARGES + $(payments) - payments_before ))
        [[ " ${RPC_CLIENTS[*]} " == *" $clients "* ]] || continue
        refund_payments   # before the reads too: it settles the charges
        for workload in select_only history refund recharge; do run_workload "$workload" "$mode" "$clients"; done
    done
done

# The targets that compare two workloads at 4 clients take the median of ROUNDS rounds run back
# to back: a durable ratio follows the disk's flush time, which drifts by a quarter within
# minutes on a shared machine (bench/results/2026-12-03-run2.md), 10 hot cards queue on their
# rows, which makes one run of them swing, and any run can meet a busy moment of the machine.
# In each round, durable, TPC-B, refund and recharge, the order rotating, each held against the
# TPC-B run of its round; charges on the 10 hot cards with 100,000 and with 10 live codes; then,
# durable and CPU-bound, the select-only reference and the history read; pairs alternate order.
refund_payments
ROUND_ORDER=(tpcb refund recharge)
for (( round = 1; round <= ROUNDS; round++ )); do
    for (( i = 0; i < 3; i++ )); do ROUND=$round run_workload "${ROUND_ORDER[(round - 1 + i) % 3]}" durable 4; done
    codes=("$CARDS" 10)
    (( round % 2 )) || codes=(10 "$CARDS")
    for live in "${codes[@]}"; do
        live_codes "$live"
        if [ "$live" = 10 ]; then id=charge_10_codes; else id=charge_100k_codes; fi
        ROUND=$round run_workload charge_hot durable 4 "$id"
    done
    reads=(select_only history)
    (( round % 2 )) || reads=(history select_only)
    for mode in durable cpu; do
        for read in "${reads[@]}"; do ROUND=$round run_workload "$read" "$mode" 4; done
    done
done
live_codes "$CARDS"
run_workload hold durable 4
run_workload login durable 4

log "verify_ledger() after the run"
VIOLATIONS=$(psql -qAtX -d mps -c "SELECT count(*) FROM verify_ledger()")
SETTINGS=$(psql -qAtX -d mps -c "SELECT string_agg(name || ' = ' || setting || COALESCE(unit, ''), E'\n' ORDER BY name)
                                   FROM pg_settings WHERE source = 'configuration file'")
BCRYPT=$(psql -qAtX -d mps -c "SELECT public.compute_level(0)" -c "SHOW mps.bcrypt_cost" | tail -1)

"$PYTHON" "$BENCH/report.py" --work "$WORK" --out "$RESULTS/$STAMP" --seconds "$SECONDS_PER_RUN" --scale "$TPCB_SCALE" \
    --cards "$CARDS" --merchants "$MERCHANTS" --history "$HISTORY_MEMBERS" --history-txs "$HISTORY_TXS" \
    --violations "$VIOLATIONS" --bcrypt "$BCRYPT" --settings "$SETTINGS" --stored "$STORED" --charges "$CHARGES"
