#!/usr/bin/env bash
# Moves a database that runs the original MPS onto mps_ext (docs/migration.md).
#
#   scripts/migrate_legacy.sh --dry-run [psql connection arguments]   report only: changes nothing
#   scripts/migrate_legacy.sh [psql connection arguments]             the import: all or nothing
#
# e.g. scripts/migrate_legacy.sh --dry-run "postgresql://postgres@db.example:5432/postgres"
# Run it as a superuser (CREATE EXTENSION mps_ext needs one), with mps_ext installed on the
# server (make install, or the release tarball), after stopping the original's writers.
set -euo pipefail
dry_run=off
if [ "${1:-}" = "--dry-run" ]; then
    dry_run=on
    shift
fi
exec psql -X -v ON_ERROR_STOP=1 -v dry_run="$dry_run" -f "$(dirname "$0")/../migrate/from_legacy.sql" "$@"
