//! Password logins with lockout. A failed attempt must be counted although the failing
//! call rolls back everything it wrote, so the count is written by a short-lived dynamic
//! background worker in a transaction of its own; the login waits for it to finish.

use crate::domain::error::{ErrorCode, MpsError, MpsResult};
use crate::domain::password;
use crate::settings;
use crate::store;
use crate::store::members::LoginAccount;
use pgrx::bgworkers::{BackgroundWorker, BackgroundWorkerBuilder, SignalWakeFlags};
use pgrx::datum::Uuid;
use pgrx::pg_sys;
use pgrx::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountKind {
    Member,
    Merchant,
}

impl AccountKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountKind::Member => "member",
            AccountKind::Merchant => "merchant",
        }
    }

    fn audit_object(self) -> &'static str {
        match self {
            AccountKind::Member => "member_profiles",
            AccountKind::Merchant => "merchants",
        }
    }

    fn parse(s: &str) -> Option<AccountKind> {
        match s {
            "member" => Some(AccountKind::Member),
            "merchant" => Some(AccountKind::Merchant),
            _ => None,
        }
    }
}

/// Checks a password against an account found by its identifier. Unknown accounts, accounts
/// without a password and wrong passwords all fail alike with INVALID_PASSWORD, in the same
/// time; a locked account fails with ACCOUNT_LOCKED.
pub fn authenticate(kind: AccountKind, account: Option<LoginAccount>, password: &str) -> MpsResult<Uuid> {
    let invalid = || MpsError::new(ErrorCode::InvalidPassword, "unknown account or wrong password");
    let cost = settings::bcrypt_cost();
    let Some(account) = account else {
        password::verify(password, None, cost);
        return Err(invalid());
    };
    if let Some(until) = store::login_attempts::locked_until(kind.as_str(), account.id) {
        return Err(MpsError::new(ErrorCode::AccountLocked, format!("too many failed logins; locked until {until}")));
    }
    if !password::verify(password, account.password_hash.as_deref(), cost) {
        record_failure(kind, account.id)?;
        return Err(invalid());
    }
    store::login_attempts::clear(kind.as_str(), account.id);
    Ok(account.id)
}

const WORKER_FUNCTION: &str = "mps_login_failure_worker";

fn record_failure(kind: AccountKind, account_id: Uuid) -> MpsResult<()> {
    let unavailable = |why: &str| {
        MpsError::new(ErrorCode::LoginGuardUnavailable, format!("the failed login could not be recorded: {why}"))
    };
    let database = unsafe { pg_sys::MyDatabaseId };
    let worker = BackgroundWorkerBuilder::new("mps_ext login failure")
        .set_library("mps_ext")
        .set_function(WORKER_FUNCTION)
        .enable_spi_access()
        .set_restart_time(None)
        .set_notify_pid(unsafe { pg_sys::MyProcPid })
        .set_extra(&format!("{} {} {}", u32::from(database), kind.as_str(), account_id))
        .load_dynamic()
        .map_err(|_| unavailable("no free background worker slot (max_worker_processes)"))?;
    worker.wait_for_shutdown().map_err(|status| unavailable(&format!("worker ended as {status:?}")))?;
    if !store::login_attempts::failure_recorded_since_statement_start(kind.as_str(), account_id) {
        return Err(unavailable("the worker did not commit it"));
    }
    Ok(())
}

/// Entry point of the login-failure worker: counts one failure and writes LOGIN_FAILED.
#[pg_guard]
#[no_mangle]
pub extern "C-unwind" fn mps_login_failure_worker(_arg: pg_sys::Datum) {
    BackgroundWorker::attach_signal_handlers(SignalWakeFlags::SIGTERM);
    let extra = BackgroundWorker::get_extra().to_owned();
    let mut parts = extra.split(' ');
    let (Some(database), Some(kind), Some(account)) = (parts.next(), parts.next(), parts.next()) else {
        pgrx::error!("mps_ext login failure worker: malformed arguments {extra:?}");
    };
    let database: u32 = database.parse().unwrap_or_else(|_| pgrx::error!("bad database oid {database:?}"));
    let kind = AccountKind::parse(kind).unwrap_or_else(|| pgrx::error!("bad account kind {kind:?}"));
    let account = uuid::Uuid::parse_str(account).unwrap_or_else(|_| pgrx::error!("bad account id {account:?}"));
    let account = crate::auth::to_pg_uuid(account);

    BackgroundWorker::connect_worker_to_spi_by_oid(Some(pg_sys::Oid::from(database)), None);
    BackgroundWorker::transaction(|| {
        // Never hang the waiting login: give up on a lock held too long.
        Spi::run("SET LOCAL lock_timeout = '5s'").unwrap_or_else(|e| pgrx::error!("{e}"));
        store::login_attempts::record_failure(kind.as_str(), account);
        store::audit::record(
            Some(account),
            kind.as_str(),
            "LOGIN_FAILED",
            kind.audit_object(),
            Some(account),
            serde_json::json!({ "reason": "wrong password" }),
        );
    });
}
