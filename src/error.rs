//! The one place an `MpsError` becomes a PostgreSQL error report.

use crate::domain::error::MpsResult;
use crate::domain::{MpsError, SqlState};
use pgrx::pg_sys::panic::ErrorReport;
use pgrx::prelude::*;
use pgrx::{PgLogLevel, PgSqlErrorCode};
use std::ffi::CStr;

/// The message domain of every error mps_ext reports; the log hook recognizes them by it.
const DOMAIN: &CStr = c"mps_ext";

pub fn raise(e: MpsError) -> ! {
    let sqlstate = match e.sql_state() {
        SqlState::Business => PgSqlErrorCode::ERRCODE_RAISE_EXCEPTION,
        SqlState::Permission => PgSqlErrorCode::ERRCODE_INSUFFICIENT_PRIVILEGE,
    };
    let hint = e.hint();
    let mut report = ErrorReport::new(sqlstate, e.message, "mps_ext")
        .set_detail(e.detail)
        .set_domain(DOMAIN.to_str().expect("ASCII"));
    if let Some(hint) = hint {
        report = report.set_hint(hint);
    }
    report.report(PgLogLevel::ERROR);
    unreachable!("ERROR reports do not return")
}

/// Runs an RPC body, on a schema of the library's version, and reports its error, if any.
pub fn rpc<T>(body: impl FnOnce() -> MpsResult<T>) -> T {
    crate::version::require_current_schema().and_then(|()| body()).unwrap_or_else(|e| raise(e))
}

static mut PREVIOUS_EMIT_LOG_HOOK: pg_sys::emit_log_hook_type = None;

/// Called from `_PG_init`. The server log would otherwise show the failing statement
/// (`log_min_error_statement`), and an RPC's arguments are passwords, session ids and QR
/// codes: errors of mps_ext are logged without it.
pub fn init_log_hook() {
    unsafe {
        PREVIOUS_EMIT_LOG_HOOK = pg_sys::emit_log_hook;
        pg_sys::emit_log_hook = Some(hide_statement_of_our_errors);
    }
}

#[pg_guard]
unsafe extern "C-unwind" fn hide_statement_of_our_errors(edata: *mut pg_sys::ErrorData) {
    unsafe {
        if let Some(e) = edata.as_mut() {
            if !e.domain.is_null() && CStr::from_ptr(e.domain) == DOMAIN {
                e.hide_stmt = true;
            }
        }
        if let Some(previous) = PREVIOUS_EMIT_LOG_HOOK {
            previous(edata);
        }
    }
}
