//! The one place an `MpsError` becomes a PostgreSQL error report.

use crate::domain::error::MpsResult;
use crate::domain::{MpsError, SqlState};
use pgrx::pg_sys::panic::ErrorReport;
use pgrx::{PgLogLevel, PgSqlErrorCode};

pub fn raise(e: MpsError) -> ! {
    let sqlstate = match e.sql_state() {
        SqlState::Business => PgSqlErrorCode::ERRCODE_RAISE_EXCEPTION,
        SqlState::Permission => PgSqlErrorCode::ERRCODE_INSUFFICIENT_PRIVILEGE,
    };
    let hint = e.hint();
    let mut report = ErrorReport::new(sqlstate, e.message, "mps_ext").set_detail(e.detail);
    if let Some(hint) = hint {
        report = report.set_hint(hint);
    }
    report.report(PgLogLevel::ERROR);
    unreachable!("ERROR reports do not return")
}

/// Runs an RPC body and reports its error, if any.
pub fn rpc<T>(body: impl FnOnce() -> MpsResult<T>) -> T {
    body().unwrap_or_else(|e| raise(e))
}
