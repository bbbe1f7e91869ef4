#!/usr/bin/env bash
# The benchmark: charges per second against what this same server does for pgbench's TPC-B.
#   bash bench/run.sh            full run (about 8 minutes)
#   BENCH_SECONDS=5 bash bench/run.sh   a quick smoke run
# Writes bench/results/<date>.md and bench/results/<date>.png and prints PASS/FAIL lines.
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"

SECONDS_PER_RUN=${BENCH_SECONDS:-20}
CARDS=${BENCH_CARDS:-100000}
LOGINS=1000
BENCH="$ROOT/bench"
STAMP=$(date -u +%Y-%m-%d)
RESULTS="$BENCH/results"
WORK="$ROOT/.cluster/bench-work"

ensure_toolchain
ensure_python
"$PYTHON" -c 'import matplotlib' 2>/dev/null || "$ROOT/.venv/bin/pip" install -q -r "$BENCH/requirements.txt"
install_extension

start_bench_cluster
rm -rf "$WORK"; mkdir -p "$WORK" "$RESULTS"; chmod 777 "$WORK"

log "loading: TPC-B scale 10, and $CARDS members with cards and live QR codes"
psql -qX -d postgres -c "CREATE DATABASE tpcb" -c "CREATE DATABASE mps"
"$PGBIN/pgbench" -q -i -s 10 tpcb >/dev/null 2>&1
create_database_objects() {
    psql -qX -v ON_ERROR_STOP=1 -d mps -c "CREATE EXTENSION mps_ext" -c "SELECT create_transaction_partitions()" -c "CREATE EXTENSION pg_stat_statements" \
        -c "DO \$\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'authenticator') THEN CREATE ROLE authenticator LOGIN NOINHERIT; END IF; END \$\$" \
        -c "GRANT anon, authenticated, service_role TO authenticator" >/dev/null
    psql -qX -v ON_ERROR_STOP=1 -d mps -v cards="$CARDS" -v logins="$LOGINS" -f "$BENCH/load.sql" >/dev/null
}
create_database_objects
SESSION=$(psql -qAtX -d mps -c "SELECT merchant_login('BENCH-SHOP', 'bench-shop-password') ->> 'session_id'")

# live_codes N: exactly N live QR codes (cards 1..N), in a freshly built index, vacuumed,
# analyzed and checkpointed so that the reload costs the next run nothing.
live_codes() {
    psql -qX -v ON_ERROR_STOP=1 -d mps -v n="$1" <<'SQL' >/dev/null
TRUNCATE public.card_qr_state, mps_internal.card_qr_tokens;
INSERT INTO mps_internal.card_qr_tokens (card_id, token_hash, expires_at)
SELECT card_id, encode(sha256(convert_to(encode(sha256(convert_to('bench-qr-' || n, 'UTF8')), 'base64'), 'UTF8')), 'hex'),
       now() + interval '1 day'
  FROM mps_bench.cards WHERE n <= :n;
INSERT INTO public.card_qr_state (card_id, expires_at) SELECT card_id, expires_at FROM mps_internal.card_qr_tokens;
SQL
    # settle the reload before measuring: no vacuum, analyze or checkpoint during the run
    psql -qX -v ON_ERROR_STOP=1 -d mps -c "VACUUM (ANALYZE) public.card_qr_state, mps_internal.card_qr_tokens" \
        -c "CHECKPOINT" >/dev/null
}

# run NAME DB CLIENTS [pgbench args…]: one timed pgbench run, per-transaction latencies logged.
run() {
    local name=$1 db=$2 clients=$3; shift 3
    local threads=$(( clients < 2 ? 1 : 2 ))
    log "$name: $clients client(s), ${SECONDS_PER_RUN}s"
    (cd "$WORK" && "$PGBIN/pgbench" -n -M prepared -c "$clients" -j "$threads" -T "$SECONDS_PER_RUN" \
        -l --log-prefix="$name.c$clients" "$@" "$db" > "$WORK/$name.c$clients.out" 2>&1) \
        || { cat "$WORK/$name.c$clients.out"; exit 1; }
    grep -E "^(tps|number of failed)" "$WORK/$name.c$clients.out" | sed 's/^/    /'
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
STORED_BEFORE=$(stored)
PAYMENTS_BEFORE=$(payments)

for clients in 1 4 16; do
    run tpcb tpcb "$clients"
    live_codes "$CARDS"
    run charge mps "$clients" -U authenticator -f "$BENCH/scripts/charge.sql" -D cards="$CARDS" -D session="$SESSION"
    live_codes 10
    run charge_10_codes mps "$clients" -U authenticator -f "$BENCH/scripts/charge.sql" -D cards=10 -D session="$SESSION"
    live_codes "$CARDS"
    run charge_100k_codes mps "$clients" -U authenticator -f "$BENCH/scripts/charge.sql" -D cards=10 -D session="$SESSION"
done
STORED_AFTER=$(stored)
CHARGES=$(( $(payments) - PAYMENTS_BEFORE ))

# What the event feed costs a charge: the same charges without event rows (a bench-only
# trigger drops them; the id is still drawn), alternating with the full charge, three rounds
# at 4 and at 16 clients (the report takes the median round). The notifications come from the
# notifier worker (bench/postgresql.conf).
live_codes "$CARDS"
for clients in 4 16; do
    for round in 1 2 3; do
        run "charge_feed$round" mps "$clients" -U authenticator -f "$BENCH/scripts/charge.sql" -D cards="$CARDS" \
            -D session="$SESSION"
        psql -qX -v ON_ERROR_STOP=1 -d mps \
            -c "CREATE FUNCTION mps_bench.drop_row() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NULL; END'" \
            -c "CREATE TRIGGER bench_drop_event BEFORE INSERT ON public.events FOR EACH ROW
                    EXECUTE FUNCTION mps_bench.drop_row()" >/dev/null
        run "charge_no_feed$round" mps "$clients" -U authenticator -f "$BENCH/scripts/charge.sql" -D cards="$CARDS" \
            -D session="$SESSION"
        psql -qX -v ON_ERROR_STOP=1 -d mps -c "DROP TRIGGER bench_drop_event ON public.events" \
            -c "DROP FUNCTION mps_bench.drop_row()" >/dev/null
    done
done

psql -qX -d mps -c "INSERT INTO mps_bench.payments (tx_no) SELECT tx_no FROM public.transactions WHERE tx_type = 'payment'"
PAYMENTS=$(psql -qAtX -d mps -c "SELECT count(*) FROM mps_bench.payments")
run refund mps 4 -U authenticator -f "$BENCH/scripts/refund.sql" -D payments="$PAYMENTS" -D session="$SESSION"
run recharge mps 4 -U authenticator -f "$BENCH/scripts/recharge.sql" -D cards="$CARDS"
run hold mps 4 -U authenticator -f "$BENCH/scripts/hold.sql" -D cards="$CARDS" -D session="$SESSION"
run history mps 4 -U authenticator -f "$BENCH/scripts/history.sql" -D cards="$CARDS"
run login mps 4 -U authenticator -f "$BENCH/scripts/login.sql" -D logins="$LOGINS"

log "verify_ledger() after the run"
VIOLATIONS=$(psql -qAtX -d mps -c "SELECT count(*) FROM verify_ledger()")
psql -qAtX -d mps -c "SELECT calls, round(mean_exec_time::numeric, 3) AS ms, left(regexp_replace(query, '\s+', ' ', 'g'), 90)
                        FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = 'mps')
                        ORDER BY total_exec_time DESC LIMIT 25" > "$WORK/statements.txt"
SETTINGS=$(psql -qAtX -d mps -c "SELECT string_agg(name || ' = ' || setting || COALESCE(unit, ''), E'\n' ORDER BY name)
                                   FROM pg_settings WHERE source = 'configuration file'")
BCRYPT=$(psql -qAtX -d mps -c "SELECT public.compute_level(0)" -c "SHOW mps.bcrypt_cost" | tail -1)

"$PYTHON" "$BENCH/report.py" --work "$WORK" --out "$RESULTS/$STAMP" --seconds "$SECONDS_PER_RUN" --cards "$CARDS" \
    --violations "$VIOLATIONS" --bcrypt "$BCRYPT" --settings "$SETTINGS" \
    --stored-before "$STORED_BEFORE" --stored-after "$STORED_AFTER" --charges "$CHARGES"
