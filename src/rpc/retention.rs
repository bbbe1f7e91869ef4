//! Bounded growth: apply_retention, run daily by the mps-retention job.

use crate::auth;
use crate::domain::policy::Action;
use crate::domain::retention::{self, Table};
use crate::error::rpc;
use crate::settings;
use crate::store;
use pgrx::datum::TimestampWithTimeZone;
use pgrx::prelude::*;
use serde_json::json;

/// Runs of apply_retention queue here: each sees what the one before it committed.
const LOCK_NAME: &str = "mps-retention";

/// One batch of retention over every table that grows with traffic: rows older than the
/// table's cutoff (`mps.retention_*` settings; none when the table keeps its rows) go, at
/// most `mps.retention_batch_rows` per table, oldest first; point ledger detail is folded
/// into a carried-forward row per card. `done` says nothing older is left; the daily job
/// (mps_internal.run_retention) calls again, each batch in its own transaction, until
/// every table is done. Transactions and tx_registry are money history and stay.
#[pg_extern(name = "apply_retention", security_definer)]
#[search_path(pg_catalog, pg_temp)]
#[allow(clippy::type_complexity)] // pgrx reads the result columns from the tuple written out here
fn rpc_apply_retention(
    p_session_id: default!(Option<&str>, "NULL"),
) -> TableIterator<
    'static,
    (
        name!(table_name, String),
        name!(cutoff, Option<TimestampWithTimeZone>),
        name!(rows_removed, i64),
        name!(done, bool),
    ),
> {
    rpc(|| {
        let caller = auth::resolve(p_session_id)?;
        caller.allow(Action::Administer)?;
        store::lock_name(LOCK_NAME);
        let policy = settings::retention_policy();
        let batch = settings::retention_batch_rows();
        let now = store::retention::now();
        let rows = Table::ALL
            .iter()
            .map(|&table| match policy.cutoff(table, now) {
                None => (table.name().to_string(), None, 0, true),
                Some(before) => {
                    let swept = store::retention::sweep(table, before, Some(batch));
                    let done = retention::is_done(swept.taken, batch);
                    (table.name().to_string(), Some(store::retention::timestamp(before)), swept.removed, done)
                }
            })
            .collect::<Vec<_>>();
        caller.audit(
            "APPLY_RETENTION",
            "system",
            None,
            json!({ "removed": rows.iter().map(|r| (r.0.clone(), json!(r.2))).collect::<serde_json::Map<_, _>>(),
                    "done": rows.iter().all(|r| r.3) }),
        );
        Ok(TableIterator::new(rows))
    })
}

/// Removes every row of `table` past its retention now, in one statement: for the tables the
/// frequent maintenance calls keep short (expired sessions, QR history).
pub(super) fn sweep_all(table: Table) -> i64 {
    let now = store::retention::now();
    settings::retention_policy()
        .cutoff(table, now)
        .map_or(0, |before| store::retention::sweep(table, before, None).removed)
}
