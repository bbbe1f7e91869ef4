#!/usr/bin/env bash
# Where a movement's cost goes, against TPC-B. DECOMPOSE_SET=charge (the default): pgbench's
# TPC-B, the real charge (merchant_charge_by_qr, bench/scripts/charge.sql) and the three
# reference charges of bench/decompose.sql (the floor that keeps the invariants; + the rest of
# the movement's rows; + the statements before the movement). DECOMPOSE_SET=money: TPC-B, and
# the real recharge and refund (recharge.sql, refund.sql) each after its floor (recharge_floor,
# refund_floor), the refunds on payments made first by charges. One after another in each round,
# the order rotated every round, all CPU-bound (synchronous_commit = off) or all durable
# (DECOMPOSE_COMMIT=on), with the same clients. Prints per workload the median TPS, its ratio
# to the same round's TPC-B, the server's CPU per transaction (bench/sample_waits.py), and what
# each adds to the line before (a floor: to TPC-B); in the charge set the last line, the real
# charge, adds to charge_statements what the RPC does besides those statements.
#   bash bench/decompose.sh
# Knobs: DECOMPOSE_SET (charge), DECOMPOSE_CLIENTS (4), DECOMPOSE_COMMIT (off),
# DECOMPOSE_ROUNDS (5), DECOMPOSE_SECONDS (10 per run), DECOMPOSE_CARDS (20000),
# BENCH_SKIP_INSTALL=1 (the installed build), MPS_BENCH_PORT (5504).
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"

CLIENTS=${DECOMPOSE_CLIENTS:-4}
COMMIT_MODE=${DECOMPOSE_COMMIT:-off}
ROUNDS=${DECOMPOSE_ROUNDS:-5}
SECONDS_PER_RUN=${DECOMPOSE_SECONDS:-10}
CARDS=${DECOMPOSE_CARDS:-20000}
export MPS_BENCH_PORT=${MPS_BENCH_PORT:-5504}
SET=${DECOMPOSE_SET:-charge}
declare -A CHARGE_LEVELS=([floor]=0 [rows]=1 [statements]=2)
case $SET in
    charge) WORKLOADS=(tpcb floor rows statements charge) ;;
    money) WORKLOADS=(tpcb recharge_floor recharge refund_floor refund) ;;
    *) echo "DECOMPOSE_SET is charge or money" >&2; exit 1 ;;
esac

ensure_toolchain
ensure_python
[ "${BENCH_SKIP_INSTALL:-}" = 1 ] || install_extension
start_bench_cluster decompose
WORK="$CLUSTER_DIR/work"
mkdir -p "$WORK"

log "loading: TPC-B scale 10; $CARDS cards, 100 merchants"
psql -qX -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE tpcb"
"$PGBIN/pgbench" -q -i -s 10 tpcb >/dev/null 2>&1
create_database mps
load_bench_cards "$CARDS"
psql -qX -v ON_ERROR_STOP=1 -d mps -f "$ROOT/bench/decompose.sql" >/dev/null
bench_shop
PAYMENTS=0
if [ "$SET" = money ]; then
    log "making the payments to refund: 20 s of charges at merchant 1"
    workload_args charge
    "$PGBIN/pgbench" -n -M prepared -c 4 -j 2 -T 20 "${WORKLOAD_ARGS[@]}" mps >/dev/null 2>&1
    PAYMENTS=$(list_refund_payments "$SHOP")
fi
for db in tpcb mps; do psql -qX -d "$db" -c "VACUUM ANALYZE" -c "CHECKPOINT" >/dev/null; done

# measure WORKLOAD SECONDS: one pgbench run; prints "TPS CPU" (CPU: the server's µs per
# transaction, "-" if not measured: see sample_waits.py).
measure() {
    local workload=$1 db=mps
    case $workload in
        floor | rows | statements)   # one script at three levels (bench/decompose.sql)
            workload_args charge_reference
            WORKLOAD_ARGS+=(-D level="${CHARGE_LEVELS[$workload]}") ;;
        *_floor) workload_args "${workload%_floor}_reference" ;;
        *) workload_args "$workload" ;;
    esac
    [ "$workload" = tpcb ] && db=tpcb
    (cd "$WORK" && PGOPTIONS="-c synchronous_commit=$COMMIT_MODE" "$PYTHON" "$ROOT/bench/sample_waits.py" --db "$db" \
        --interval 1 --out "$workload.cpu" -- "$PGBIN/pgbench" -n -M prepared -c "$CLIENTS" -j 2 -T "$2" \
        "${WORKLOAD_ARGS[@]}" "$db" > "$workload.out" 2>&1) || { cat "$WORK/$workload.out" >&2; exit 1; }
    "$PYTHON" "$ROOT/bench/sample_waits.py" --figures "$WORK/$workload.out" "$WORK/$workload.cpu"
}

log "warming up"
for w in "${WORKLOADS[@]}"; do measure "$w" 3 >/dev/null; done
declare -A TPS CPU RATIO
for round in $(seq "$ROUNDS"); do
    shift_by=$(( (round - 1) % ${#WORKLOADS[@]} ))
    order=("${WORKLOADS[@]:shift_by}" "${WORKLOADS[@]:0:shift_by}")
    declare -A this=()
    for w in "${order[@]}"; do
        read -r tps cpu <<< "$(measure "$w" "$SECONDS_PER_RUN")"
        this[$w]=$tps TPS[$w]+="$tps " CPU[$w]+="$cpu "
        printf '  round %d %-14s %9.1f tps %6s µs\n' "$round" "$w" "$tps" "$cpu"
    done
    for w in "${WORKLOADS[@]}"; do
        RATIO[$w]+="$(awk -v w="${this[$w]}" -v t="${this[tpcb]}" 'BEGIN { printf "%.3f", w / t }') "
    done
done

# median VALUES…: the median of the measured ones, "-" if none was
median() { local m _; read -r m _ <<< "$(median_range "$@")"; echo "${m:--}"; }
echo "median over $ROUNDS rounds of ${SECONDS_PER_RUN}s, $CLIENTS clients, synchronous_commit = $COMMIT_MODE:"
printf '  %-14s %9s %9s %14s %s\n' workload TPS "× TPC-B" "server µs/tx" "more than the line before"
previous=
for w in "${WORKLOADS[@]}"; do
    cpu=$(median "${CPU[$w]}")
    [[ $w == *floor ]] && previous=$(median "${CPU[tpcb]}")
    adds=$(awk -v a="$cpu" -v b="$previous" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%+d µs", a - b }')
    printf '  %-14s %9.0f %9.2f %14s %s\n' "$w" "$(median "${TPS[$w]}")" "$(median "${RATIO[$w]}")" "$cpu" "$adds"
    previous=$cpu
done
