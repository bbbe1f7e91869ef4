//! The RPC functions, grouped by capability. Each is the public function itself (a
//! `#[pg_extern(security_definer)]` with `#[search_path(pg_catalog, pg_temp)]` and the
//! contract's argument names, types and defaults), or, for the readers that project rows in
//! SQL (sql/31–35), the `mps_internal` scope the reader calls. Each reads like the contract's
//! step list: resolve the caller, ask the policy (`Caller::allow`), check, compute, write,
//! audit. Who may call what at all is src/rpc/manifest.tsv (the grants).

pub mod accounts;
pub mod admin;
pub mod cards;
pub mod events;
pub mod holds;
pub mod identity;
pub mod manifest;
pub mod numbering;
pub mod payments;
pub mod points;
pub mod qr;
pub mod retention;
pub mod rls;
pub mod schedules;
pub mod scopes;
pub mod sessions;
pub mod settlements;

use crate::domain::error::{ErrorCode, MpsError, MpsResult};

/// A text argument that must be present and not blank.
fn required_text<'a>(value: Option<&'a str>, argument: &str) -> MpsResult<&'a str> {
    value
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| MpsError::new(ErrorCode::InvalidArgument, format!("{argument} is required")))
}

/// An optional text argument; blank counts as absent.
fn optional_text(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|v| !v.is_empty())
}

fn required<T>(value: Option<T>, argument: &str) -> MpsResult<T> {
    value.ok_or_else(|| MpsError::new(ErrorCode::InvalidArgument, format!("{argument} is required")))
}
