#!/usr/bin/env bash
# Golden contract tests: pg_regress runs tests/golden/sql/*.sql (each in BEGIN … ROLLBACK)
# against a fresh database on the running cluster ($PGHOST/$PGPORT) and diffs the output with
# tests/golden/expected/*.out. Reviewing an API change is reading that diff.
#   bash scripts/golden.sh          run (exit 1 and a diff on any difference)
#   bash scripts/golden.sh --bless  run, and take the output as the new expected files
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"   # ROOT, PGBIN, PG_CONFIG
OUT="$ROOT/.cluster/test-output/golden"
DB=mps_golden
rm -rf "$OUT" && mkdir -p "$OUT"
psql -qX -v ON_ERROR_STOP=1 -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" >/dev/null
psql -qX -v ON_ERROR_STOP=1 -d $DB -c "CREATE EXTENSION mps_ext" >/dev/null
status=0
"$("$PG_CONFIG" --pkglibdir)/pgxs/src/test/regress/pg_regress" --use-existing --bindir="$PGBIN" \
    --host="$PGHOST" --port="$PGPORT" --user=postgres --dbname=$DB \
    --inputdir="$ROOT/tests/golden" --outputdir="$OUT" --schedule="$ROOT/tests/golden/schedule" || status=$?
if [ "${1:-}" = "--bless" ]; then
    cp "$OUT"/results/*.out "$ROOT/tests/golden/expected/"
    echo "golden: expected files updated from this run"
    exit 0
fi
[ "$status" -eq 0 ] || cat "$OUT/regression.diffs" >&2
exit "$status"
