#!/usr/bin/env bash
# Paired comparison of two builds of the library: two copies of one loaded database, each
# cluster loading its own mps_ext.so, the same pgbench run on both at the same time. On a
# shared machine two successive runs of one build can differ by a third; runs made at the same
# moment see the same machine, so their ratio keeps what the builds change. Compare a build
# with itself first (OLD = NEW): the spread of that ratio is the rig's noise. Besides TPS it
# reports each cluster's server CPU per transaction (bench/sample_waits.py), which does not
# depend on how the two clusters share the cores, and it alternates which pgbench starts first.
#   bash bench/paired.sh OLD.so NEW.so [WORKLOAD:CLIENTS ...]   (default charge:1 charge:4
#                                                                charge:16 charge_merchants:16)
# WORKLOAD: charge (one merchant), charge_merchants (a random one of 100 merchants per call),
# refund (0.01 of a random one of about 4,000 payments of merchant 1, made before the copy),
# recharge (10.00 on a random card by the service key) or history (get_member_transactions,
# first page, of one of 200 members with 50 movements each), as in bench/run.sh. A library of
# another commit:
#   git worktree add /tmp/old <commit> && (cd /tmp/old && cargo pgrx package --pg-config "$(command -v pg_config)")
#   → /tmp/old/target/release/mps_ext-pg15/usr/lib/postgresql/15/lib/mps_ext.so
# Both clusters run the installed extension's SQL; PAIRED_NEW_SQL=FILE runs FILE (psql, as
# superuser) on the new one's copy first, to try a change of the schema, and PAIRED_OLD_SQL=FILE
# on the old one's, to give an older build the schema it shipped with (what an upgrade changed).
# Knobs: PAIRED_ROUNDS (4), PAIRED_SECONDS (8 per run), PAIRED_COMMIT (off: CPU-bound; on:
# durable), PAIRED_MONTHS_BACK (0; 24 gives transactions the monthly partitions of a database
# two years in service), PAIRED_CARDS (20000), MPS_PAIRED_PORTS ("5501 5502").
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
ensure_python

[ $# -ge 2 ] && [ -f "$1" ] && [ -f "$2" ] || { sed -n '2,23p' "${BASH_SOURCE[0]}" >&2; exit 2; }
OLD_LIB=$(realpath "$1") NEW_LIB=$(realpath "$2"); shift 2
WORKLOADS=("$@")
[ $# -gt 0 ] || WORKLOADS=(charge:1 charge:4 charge:16 charge_merchants:16)
ROUNDS=${PAIRED_ROUNDS:-4}
SECONDS_PER_RUN=${PAIRED_SECONDS:-8}
COMMIT_MODE=${PAIRED_COMMIT:-off}
CARDS=${PAIRED_CARDS:-20000}
HISTORY_MEMBERS=200
read -r OLD_PORT NEW_PORT <<< "${MPS_PAIRED_PORTS:-5501 5502}"
LIBS="$ROOT/.cluster/paired-libs"
WORK="$ROOT/.cluster/paired-work"

# One cluster loaded with the installed build, then a copy of it; each then finds its own
# build through dynamic_library_path (the functions name the library without $libdir).
start_cluster paired-old "$OLD_PORT"
trap 'stop_cluster_dir "$ROOT/.cluster/paired-old"; stop_cluster_dir "$ROOT/.cluster/paired-new"' EXIT
as_root install -d -m 755 "$LIBS/old" "$LIBS/new"
mkdir -p "$WORK"
as_root install -m 755 "$OLD_LIB" "$LIBS/old/mps_ext.so"
as_root install -m 755 "$NEW_LIB" "$LIBS/new/mps_ext.so"
{ cat "$ROOT/bench/postgresql.conf"; echo "shared_buffers = 1GB"; } |
    as_root tee -a "$CLUSTER_DIR/data/postgresql.conf" >/dev/null
stop_cluster && launch_cluster

log "loading $CARDS cards, 100 merchants, $(( ${PAIRED_MONTHS_BACK:-0} )) past monthly partitions"
psql -qX -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE mps" >/dev/null
psql -qX -v ON_ERROR_STOP=1 -d mps -c "CREATE EXTENSION mps_ext" -c "CREATE EXTENSION pg_stat_statements" \
    -c "SELECT mps_internal.ensure_transaction_partitions(3, now() - make_interval(months => ${PAIRED_MONTHS_BACK:-0}))" \
    -c "DO \$\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'authenticator') THEN CREATE ROLE authenticator LOGIN NOINHERIT; END IF; END \$\$" \
    -c "GRANT anon, authenticated, service_role TO authenticator" \
    -c "UPDATE pg_catalog.pg_proc SET probin = 'mps_ext' WHERE probin = '\$libdir/mps_ext'" >/dev/null
load_bench_cards "$CARDS" "$HISTORY_MEMBERS"
bench_shop
if [[ " ${WORKLOADS[*]} " == *" refund:"* ]]; then
    workload_args charge
    PGOPTIONS="-c synchronous_commit=off" "$PGBIN/pgbench" -n -M prepared -c 4 -j 2 -t 1000 "${WORKLOAD_ARGS[@]}" mps \
        >/dev/null
fi
PAYMENTS=$(list_refund_payments "$SHOP")
psql -qX -v ON_ERROR_STOP=1 -d mps -c "VACUUM ANALYZE" -c "CHECKPOINT" >/dev/null
stop_cluster
stop_cluster_dir "$ROOT/.cluster/paired-new"
as_root rm -rf "$ROOT/.cluster/paired-new"
as_root cp -a "$ROOT/.cluster/paired-old" "$ROOT/.cluster/paired-new"
for build in old new; do
    echo "dynamic_library_path = '$LIBS/$build:\$libdir'" |
        as_root tee -a "$ROOT/.cluster/paired-$build/data/postgresql.conf" >/dev/null
done
launch_cluster
(CLUSTER_DIR="$ROOT/.cluster/paired-new" CLUSTER_PORT=$NEW_PORT CLUSTER_SOCK="$ROOT/.cluster/paired-new/sock"
 launch_cluster)
# Then both vacuum and analyze, whether or not they ran a file: a VACUUM reads every table into
# its cluster's buffers, and a copy that alone ran one started warm and ran 3-5 % faster.
for build in old new; do
    sql_var="PAIRED_${build^^}_SQL" port_var="${build^^}_PORT"
    [ -n "${!sql_var:-}" ] && log "the $build cluster runs ${!sql_var}"
    psql -qX -v ON_ERROR_STOP=1 -h "$ROOT/.cluster/paired-$build/sock" -p "${!port_var}" -d mps \
        ${!sql_var:+-f "${!sql_var}"} -c "VACUUM ANALYZE" -c "CHECKPOINT" >/dev/null
done

# tps BUILD WORKLOAD CLIENTS SECONDS: one pgbench run against BUILD's cluster; prints its TPS
# and its server CPU per transaction.
tps() {
    local build=$1 clients=$3 port=$OLD_PORT
    workload_args "$2" || return 1
    [ "$build" = new ] && port=$NEW_PORT
    (cd "$WORK" && PGHOST="$ROOT/.cluster/paired-$build/sock" PGPORT=$port \
        PGOPTIONS="-c synchronous_commit=$COMMIT_MODE" "$PYTHON" "$ROOT/bench/sample_waits.py" --db mps --interval 1 \
        --out "$build.cpu" -- "$PGBIN/pgbench" -n -M prepared -c "$clients" -j $(( clients < 2 ? 1 : 2 )) -T "$4" \
        "${WORKLOAD_ARGS[@]}" mps > "$build.out" 2>&1) ||
        { cat "$WORK/$build.out" >&2; return 1; }
    "$PYTHON" "$ROOT/bench/sample_waits.py" --figures "$WORK/$build.out" "$WORK/$build.cpu"
}

# paired WORKLOAD:CLIENTS SECONDS FIRST: both builds at once, FIRST's pgbench started first;
# prints "OLD_TPS NEW_TPS OLD_CPU NEW_CPU". The rounds alternate which starts first: with one order throughout, one
# cluster ran a few per cent ahead of the other running the same build.
paired() {
    local workload=${1%%:*} clients=${1##*:} first=$3 second=old
    [ "$first" = old ] && second=new
    tps "$first" "$workload" "$clients" "$2" > "$WORK/$first" &
    tps "$second" "$workload" "$clients" "$2" > "$WORK/$second"
    wait
    [ -s "$WORK/old" ] && [ -s "$WORK/new" ] || { echo "a run of $1 failed" >&2; exit 1; }
    local old_tps old_cpu new_tps new_cpu
    read -r old_tps old_cpu < "$WORK/old"
    read -r new_tps new_cpu < "$WORK/new"
    echo "$old_tps $new_tps $old_cpu $new_cpu"
}

log "warming up both clusters"
for w in "${WORKLOADS[@]}"; do paired "$w" 3 old >/dev/null; paired "$w" 3 new >/dev/null; done
# ratio A B: B / A to three places, "-" when either was not measured
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.3f", b / a; else printf "-" }'; }
# summary RATIOS…: median (range) of those measured
summary() {
    local median low high
    read -r median low high <<< "$(median_range "$@")"
    if [ -n "$median" ]; then printf '%.2f (%.2f–%.2f)' "$median" "$low" "$high"; else printf 'not measured'; fi
}
declare -A TPS_RATIOS CPU_RATIOS
for round in $(seq "$ROUNDS"); do
    first=old
    (( round % 2 )) || first=new
    for w in "${WORKLOADS[@]}"; do
        read -r old new old_cpu new_cpu <<< "$(paired "$w" "$SECONDS_PER_RUN" "$first")"
        TPS_RATIOS[$w]+="$(ratio "$old" "$new") " CPU_RATIOS[$w]+="$(ratio "$old_cpu" "$new_cpu") "
        printf '  round %d %-13s old %9.1f tps %6s µs  new %9.1f tps %6s µs  (%s first)\n' \
            "$round" "$w" "$old" "$old_cpu" "$new" "$new_cpu" "$first"
    done
done
echo "new/old, median (range) over $ROUNDS paired runs of ${SECONDS_PER_RUN}s, synchronous_commit = $COMMIT_MODE:"
echo "  (TPS: above 1 the new build is faster; server CPU per transaction: below 1 it is cheaper)"
for w in "${WORKLOADS[@]}"; do
    printf '  %-13s TPS %s   CPU per transaction %s\n' "$w" "$(summary "${TPS_RATIOS[$w]}")" "$(summary "${CPU_RATIOS[$w]}")"
done
