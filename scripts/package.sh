#!/usr/bin/env bash
# Builds the installable package: target/mps_ext-<version>-pg15-<arch>.tar.gz, holding
# usr/lib/postgresql/15/lib/mps_ext.so and usr/share/postgresql/15/extension/ with the
# control file, the install script and the upgrade scripts, and usr/share/postgresql/15/mps_ext/
# with the import from the original MPS (scripts/migrate_legacy.sh, migrate/from_legacy.sql).
# Unpack it at / (or into an image) and CREATE EXTENSION mps_ext, or ALTER EXTENSION mps_ext
# UPDATE.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ensure_toolchain
VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' "$ROOT/Cargo.toml" | head -1)
TREE="$ROOT/target/release/mps_ext-pg15"
(cd "$ROOT" && cargo pgrx package --pg-config "$PG_CONFIG" >/dev/null 2>"$ROOT/target/package.log") \
    || { tail -20 "$ROOT/target/package.log"; exit 1; }
EXT_DIR="$TREE$("$PG_CONFIG" --sharedir)/extension"
install -m 644 "$ROOT"/sql/archive/mps_ext--*.sql "$ROOT"/sql/mps_ext--*--*.sql "$EXT_DIR/"
MIGRATE_DIR="$TREE$("$PG_CONFIG" --sharedir)/mps_ext"
install -D -m 755 "$ROOT/scripts/migrate_legacy.sh" "$MIGRATE_DIR/scripts/migrate_legacy.sh"
install -D -m 644 "$ROOT/migrate/from_legacy.sql" "$MIGRATE_DIR/migrate/from_legacy.sql"
TARBALL="$ROOT/target/mps_ext-$VERSION-pg15-$(uname -m).tar.gz"
tar -C "$TREE" -czf "$TARBALL" usr
echo "$TARBALL"
