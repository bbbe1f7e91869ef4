#!/usr/bin/env bash
# Sets up everything this machine lacks, then runs every test layer against a real
# PostgreSQL 15 cluster it starts under .cluster/test, and ends with one summary line.
#   layer 1: pure domain unit tests (cargo test -p mps-domain)
#   layer 2: database tests through psycopg as anon/authenticated/service_role (pytest)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ensure_toolchain
ensure_python
OUT="$ROOT/.cluster/test-output"
mkdir -p "$OUT"

log "layer 1: domain unit tests"
(cd "$ROOT" && cargo test -q -p mps-domain 2>&1) | tee "$OUT/domain.log"
# sum_of PATTERN FILE: the sum of the numbers in front of PATTERN ("3 passed" …) in FILE.
sum_of() { { grep -Eo "[0-9]+ ($1)" "$2" || true; } | awk '{s+=$1} END {print s+0}'; }
domain_passed=$(sum_of passed "$OUT/domain.log")
domain_failed=$(sum_of failed "$OUT/domain.log")

install_extension
start_cluster test "${MPS_TEST_PORT:-5489}"
trap stop_cluster EXIT

log "layer 2: database tests"
set +e
(cd "$ROOT/tests/db" && "$PYTHON" -m pytest -q -p no:cacheprovider "$@") 2>&1 | tee "$OUT/db.log"
db_status=${PIPESTATUS[0]}
set -e
db_passed=$(tail -1 "$OUT/db.log" > "$OUT/db.last"; sum_of passed "$OUT/db.last")
db_failed=$(sum_of 'failed|errors?' "$OUT/db.last")

passed=$((domain_passed + db_passed))
failed=$((domain_failed + db_failed))
if [ "$db_passed" -eq 0 ] || [ "$domain_passed" -eq 0 ]; then
    echo "a test layer ran no test" >&2
    failed=$((failed + 1))
fi
echo "mps_ext: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$db_status" -eq 0 ]
