#!/usr/bin/env bash
# Sets up everything this machine lacks, then runs every test layer against a real
# PostgreSQL 15 cluster it starts under .cluster/test, and ends with one summary line.
#   fast lane, which fails first: cargo fmt --check, cargo clippy -D warnings, and
#   layer 1: pure domain unit tests (cargo test -p mps-domain)
#   layer 2: database tests through psycopg as anon/authenticated/service_role, including
#            the PostgREST protocol and concurrency (pytest)
#   layer 3: the pgTAP suite users can run on their own database (pg_prove), and the golden
#            contract files (pg_regress, scripts/golden.sh)
#   layer 4: crash safety: kill -9 of the postmaster mid-load, on a cluster of its own (pytest)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ensure_toolchain
ensure_python
OUT="$ROOT/.cluster/test-output"
mkdir -p "$OUT"

# fast_lane_failed WHAT: the fast lane stops the run before anything is built or started.
fast_lane_failed() { echo "mps_ext: fast lane failed: $1" >&2; exit 1; }
log "fast lane: formatting, lints, domain unit tests"
(cd "$ROOT" && cargo fmt --all --check) || fast_lane_failed "cargo fmt --check"
(cd "$ROOT" && cargo clippy -q --workspace --all-targets -- -D warnings) || fast_lane_failed "cargo clippy"
log "layer 1: domain unit tests"
set +e
(cd "$ROOT" && cargo test -q -p mps-domain 2>&1) | tee "$OUT/domain.log"
domain_status=${PIPESTATUS[0]}
set -e
# sum_of PATTERN FILE: the sum of the numbers in front of PATTERN ("3 passed" …) in FILE.
sum_of() { { grep -Eo "[0-9]+ ($1)" "$2" || true; } | awk '{s+=$1} END {print s+0}'; }
domain_passed=$(sum_of passed "$OUT/domain.log")
domain_failed=$(sum_of failed "$OUT/domain.log")
[ "$domain_status" -eq 0 ] || fast_lane_failed "domain unit tests"

install_extension
log "package: cargo pgrx package, and the tests run on what it installs"
TARBALL=$(bash "$ROOT/scripts/package.sh" | tail -1)
package_passed=0
CONTENTS=$(tar -tzf "$TARBALL")
if grep -q 'lib/postgresql/15/lib/mps_ext.so$' <<<"$CONTENTS" \
   && grep -q 'extension/mps_ext.control$' <<<"$CONTENTS" \
   && grep -q 'extension/mps_ext--0.5.0--0.6.0.sql$' <<<"$CONTENTS" \
   && grep -q 'mps_ext/migrate/from_legacy.sql$' <<<"$CONTENTS"; then
    as_root tar -C / -xzf "$TARBALL"
    package_passed=1
    echo "    $TARBALL: installed"
else
    echo "    $TARBALL lacks files" >&2
fi
start_cluster test "${MPS_TEST_PORT:-5489}"
trap stop_cluster EXIT

log "layer 2: database tests"
set +e
(cd "$ROOT/tests/db" && "$PYTHON" -m pytest -q -p no:cacheprovider "$@") 2>&1 | tee "$OUT/db.log"
db_status=${PIPESTATUS[0]}
set -e
db_passed=$(tail -1 "$OUT/db.log" > "$OUT/db.last"; sum_of passed "$OUT/db.last")
db_failed=$(sum_of 'failed|errors?' "$OUT/db.last")

log "layer 3: pgTAP suite"
psql -qX -v ON_ERROR_STOP=1 -d postgres -c "DROP DATABASE IF EXISTS mps_pgtap" -c "CREATE DATABASE mps_pgtap" >/dev/null
psql -qX -v ON_ERROR_STOP=1 -d mps_pgtap -c "CREATE EXTENSION mps_ext" >/dev/null
set +e
pg_prove -d mps_pgtap "$ROOT"/tests/pgtap/*.sql 2>&1 | tee "$OUT/pgtap.log"
pgtap_status=${PIPESTATUS[0]}
set -e
pgtap_total=$({ grep -Eo 'Tests=[0-9]+' "$OUT/pgtap.log" || true; } | tr -dc '0-9')
pgtap_total=${pgtap_total:-0}
if [ "$pgtap_status" -eq 0 ]; then pgtap_passed=$pgtap_total; pgtap_failed=0; else pgtap_passed=0; pgtap_failed=1; fi

log "layer 3: golden contract files"
set +e
bash "$ROOT/scripts/golden.sh" 2>&1 | tee "$OUT/golden.log"
golden_status=${PIPESTATUS[0]}
set -e
golden_total=$({ grep -Eo '[0-9]+ tests' "$OUT/golden.log" || true; } | head -1 | tr -dc '0-9')
golden_total=${golden_total:-0}
if [ "$golden_status" -eq 0 ]; then golden_passed=$golden_total; golden_failed=0; else golden_passed=0; golden_failed=1; fi

log "layer 4: crash safety"
stop_cluster
start_cluster crash "${MPS_CRASH_PORT:-5493}"
export MPS_CRASH_PGDATA="$CLUSTER_DIR/data"
# After SIGKILL the orphaned backends need a moment to go; retry the start until they have.
export MPS_CRASH_START="for i in \$(seq 60); do source '$ROOT/scripts/lib.sh'; CLUSTER_DIR='$CLUSTER_DIR' CLUSTER_PORT=$CLUSTER_PORT CLUSTER_SOCK='$CLUSTER_SOCK' launch_cluster && exit 0; sleep 0.5; done; exit 1"
set +e
(cd "$ROOT/tests/crash" && "$PYTHON" -m pytest -q -s -p no:cacheprovider) 2>&1 | tee "$OUT/crash.log"
crash_status=${PIPESTATUS[0]}
set -e
tail -1 "$OUT/crash.log" > "$OUT/crash.last"
crash_passed=$(sum_of passed "$OUT/crash.last")
crash_failed=$(sum_of 'failed|errors?' "$OUT/crash.last")

passed=$((domain_passed + package_passed + db_passed + pgtap_passed + golden_passed + crash_passed))
failed=$((domain_failed + (1 - package_passed) + db_failed + pgtap_failed + golden_failed + crash_failed))
if [ "$db_passed" -eq 0 ] || [ "$domain_passed" -eq 0 ] || [ "$pgtap_passed" -eq 0 ] || [ "$golden_passed" -eq 0 ] \
   || [ "$crash_passed" -eq 0 ]; then
    echo "a test layer ran no test" >&2
    failed=$((failed + 1))
fi
echo "mps_ext: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$db_status" -eq 0 ] && [ "$pgtap_status" -eq 0 ] && [ "$golden_status" -eq 0 ] \
    && [ "$crash_status" -eq 0 ]
