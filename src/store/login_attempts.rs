use super::{execute, query_one, value};
use crate::domain::login::Attempts;
use pgrx::datum::Uuid;

/// When the account's lock ends (ISO text), if it is locked now.
pub fn locked_until(kind: &str, account_id: Uuid) -> Option<String> {
    value(
        "SELECT locked_until::text FROM mps_internal.login_attempts
          WHERE account_kind = $1 AND account_id = $2 AND locked_until > pg_catalog.now()",
        &[kind.into(), account_id.into()],
    )
}

/// Forgets past failures after a successful login (only writes when there were any).
pub fn clear(kind: &str, account_id: Uuid) {
    execute(
        "DELETE FROM mps_internal.login_attempts WHERE account_kind = $1 AND account_id = $2",
        &[kind.into(), account_id.into()],
    );
}

/// Counts one failure. Runs in the login-failure worker's own transaction.
pub fn record_failure(kind: &str, account_id: Uuid) {
    execute(
        "INSERT INTO mps_internal.login_attempts (account_kind, account_id, failed_count)
         VALUES ($1, $2, 0) ON CONFLICT DO NOTHING",
        &[kind.into(), account_id.into()],
    );
    let row = query_one(
        "SELECT failed_count,
                EXTRACT(epoch FROM window_started_at)::bigint,
                EXTRACT(epoch FROM locked_until)::bigint,
                EXTRACT(epoch FROM pg_catalog.now())::bigint
           FROM mps_internal.login_attempts
          WHERE account_kind = $1 AND account_id = $2
          FOR UPDATE",
        &[kind.into(), account_id.into()],
        |r| Ok((r.get::<i32>(1)?, r.get::<i64>(2)?, r.get::<i64>(3)?, r.get::<i64>(4)?)),
    );
    let Some((count, window, locked, now)) = row else { return };
    let before =
        Attempts { failed_count: count.unwrap_or(0), window_started_at: window.unwrap_or(0), locked_until: locked };
    let after = before.after_failure(now.unwrap_or(0));
    execute(
        "UPDATE mps_internal.login_attempts
            SET failed_count = $3,
                window_started_at = pg_catalog.to_timestamp($4),
                locked_until = pg_catalog.to_timestamp($5),
                last_failed_at = pg_catalog.now()
          WHERE account_kind = $1 AND account_id = $2",
        &[
            kind.into(),
            account_id.into(),
            after.failed_count.into(),
            (after.window_started_at as f64).into(),
            after.locked_until.map(|t| t as f64).into(),
        ],
    );
}

/// Whether a failure was recorded (by the worker, in its own transaction) since the
/// current statement started.
pub fn failure_recorded_since_statement_start(kind: &str, account_id: Uuid) -> bool {
    value::<bool>(
        "SELECT EXISTS (SELECT 1 FROM mps_internal.login_attempts
                         WHERE account_kind = $1 AND account_id = $2
                           AND last_failed_at >= pg_catalog.statement_timestamp())",
        &[kind.into(), account_id.into()],
    ) == Some(true)
}
