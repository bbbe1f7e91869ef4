//! The one list of the public API: every public function, its identity arguments, the API
//! roles granted EXECUTE and the caller kinds its authorization lets through
//! (`src/rpc/manifest.tsv`). sql/90_grants.sql grants from it, the pgTAP catalog test checks
//! the privileges against it, `scripts/rpc_matrix.py` writes README's "Who may call what"
//! from it and `tests/db/test_rpc_matrix.py` calls every function as every caller kind to
//! check the `allowed` column.

use crate::domain::manifest;
use pgrx::prelude::*;

const MANIFEST: &str = include_str!("manifest.tsv");

/// The manifest as rows; a malformed manifest fails the call (and so CREATE EXTENSION).
#[pg_extern(schema = "mps_internal", immutable, parallel_safe)]
#[allow(clippy::type_complexity)] // pgrx reads the result columns from the tuple written out here
fn rpc_manifest() -> TableIterator<
    'static,
    (name!(function, String), name!(arguments, String), name!(grant, String), name!(allowed, Vec<String>)),
> {
    let entries = manifest::parse(MANIFEST).unwrap_or_else(|e| error!("{e}"));
    TableIterator::new(entries.into_iter().map(|e| (e.function, e.arguments, e.grant, e.allowed)))
}
