#!/usr/bin/env bash
# The import from the original MPS at a realistic size: builds a legacy database of
# 100,000 members and 1,000,000 movements (tests/legacy/: the original's schema, its functions,
# the generator), then times the dry run and the import (scripts/migrate_legacy.sh) on the
# benchmark cluster's settings, checks verify_ledger(), and writes
# bench/results/<date>-legacy-import.md.
#   bash bench/legacy_import.sh                                         about 5 minutes
#   LEGACY_MEMBERS=10000 LEGACY_TRANSACTIONS=100000 bash bench/legacy_import.sh   a quick run
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"

MEMBERS=${LEGACY_MEMBERS:-100000}
TRANSACTIONS=${LEGACY_TRANSACTIONS:-1000000}
STAMP=$(date -u +%Y-%m-%d)
OUT="$ROOT/bench/results/$STAMP-legacy-import.md"
WORK="$ROOT/.cluster/bench-work"

ensure_toolchain
install_extension
start_bench_cluster
rm -rf "$WORK"; mkdir -p "$WORK"

# timed LABEL COMMAND…: runs it, keeps its output in $WORK/LABEL.out, records the seconds
declare -A took
timed() {
    local label=$1; shift
    local start end
    start=$(date +%s.%N)
    "$@" >"$WORK/$label.out" 2>&1 || { tail -20 "$WORK/$label.out" >&2; exit 1; }
    end=$(date +%s.%N)
    took[$label]=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
    log "$label: ${took[$label]} s"
}

psql -qX -d postgres -c "CREATE DATABASE legacy"
log "building the original: $MEMBERS members, $TRANSACTIONS movements"
timed schema psql -qX -v ON_ERROR_STOP=1 -d legacy -f "$ROOT/tests/legacy/original_schema.sql" \
    -f "$ROOT/tests/legacy/original_functions.sql"
timed generate psql -qX -v ON_ERROR_STOP=1 -d legacy -v members="$MEMBERS" -v transactions="$TRANSACTIONS" \
    -f "$ROOT/tests/legacy/generate.sql"
psql -qX -d legacy -c "CHECKPOINT" >/dev/null
legacy_rows=$(psql -qAtX -d legacy -F ' | ' -c "
    SELECT 'members', count(*)::text FROM public.member_profiles UNION ALL
    SELECT 'cards', count(*)::text FROM public.member_cards UNION ALL
    SELECT 'movements', count(*)::text FROM public.transactions UNION ALL
    SELECT 'point-ledger rows', count(*)::text FROM public.point_ledger UNION ALL
    SELECT 'audit events', count(*)::text FROM audit.event_log UNION ALL
    SELECT 'database size', pg_size_pretty(pg_database_size('legacy'))::text")

log "dry run"
timed dry_run "$ROOT/scripts/migrate_legacy.sh" --dry-run -d legacy
log "import"
timed import "$ROOT/scripts/migrate_legacy.sh" -d legacy
violations=$(psql -qAtX -d legacy -c "SELECT count(*) FROM public.verify_ledger()")
anomalies=$(psql -qAtX -d legacy -F ' | ' -c "SELECT kind, count(*) FROM mps_internal.legacy_anomalies
                                              GROUP BY kind ORDER BY kind")
size_after=$(psql -qAtX -d legacy -c "SELECT pg_size_pretty(pg_database_size('legacy'))")
[ "$violations" = 0 ] || { echo "verify_ledger() found $violations violations after the import" >&2; exit 1; }

mkdir -p "$ROOT/bench/results"
{
    echo "# mps_ext $(sed -n 's/^version = "\(.*\)"/\1/p' "$ROOT/Cargo.toml" | head -1): import from the original MPS, $STAMP"
    echo
    echo "Machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; PostgreSQL 15, settings of"
    echo "\`bench/postgresql.conf\` (durable). Legacy data: \`tests/legacy/generate.sql\` with"
    echo "members=$MEMBERS, transactions=$TRANSACTIONS (its five planted anomalies included)."
    echo
    echo "| step | seconds |"
    echo "|---|---|"
    echo "| build the legacy database (generator) | ${took[generate]} |"
    echo "| dry run (\`scripts/migrate_legacy.sh --dry-run\`) | ${took[dry_run]} |"
    echo "| import (\`scripts/migrate_legacy.sh\`, one transaction, incl. checks and ANALYZE) | ${took[import]} |"
    echo
    echo "Legacy rows:"
    echo
    echo "| | |"
    echo "|---|---|"
    sed 's/^/| /; s/$/ |/' <<<"$legacy_rows"
    echo
    echo "After the import: \`verify_ledger()\` found $violations violations; database size $size_after"
    echo "(the original is kept in \`mps_legacy\`). Anomalies recorded:"
    echo
    echo "| kind | rows |"
    echo "|---|---|"
    sed 's/^/| /; s/$/ |/' <<<"$anomalies"
} >"$OUT"
log "wrote $OUT"
