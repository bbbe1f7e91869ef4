//! Periodic work: daily T+1 settlements, and registering the maintenance jobs with pg_cron.

use crate::auth;
use crate::domain::enums::SettlementMode;
use crate::domain::error::{ErrorCode, MpsError};
use crate::domain::policy::Action;
use crate::domain::settlements;
use crate::error::rpc;
use crate::store;
use pgrx::datum::Date;
use pgrx::prelude::*;
use serde_json::json;

/// T+1 settlement of one UTC day (which must have ended) for every active merchant with
/// movements that day and no settlement overlapping it yet, in any mode; returns how many
/// were created. Idempotent: a second run creates nothing. Each merchant's settlement lock
/// is held until the run commits, so that merchant's charges and refunds wait for the
/// rest of the run (one short query and insert per merchant).
#[pg_extern(name = "generate_daily_settlements", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn rpc_generate_daily_settlements(
    p_day: default!(Option<Date>, "NULL"),
    p_session_id: default!(Option<&str>, "NULL"),
) -> i32 {
    rpc(|| {
        let caller = auth::resolve(p_session_id)?;
        caller.allow(Action::Administer)?;
        let (start, end) = store::settlements::utc_day(p_day);
        settlements::check_period_ended(store::is_past(end))?;
        let mut created = 0;
        for merchant_id in store::settlements::merchants_due(start, end) {
            super::settlements::start_settlement_run(merchant_id)?;
            if store::settlements::overlapping(merchant_id, start, end).is_some() {
                continue;
            }
            let totals = store::settlements::period_totals(merchant_id, start, end);
            if totals.tx_count == 0 || totals.total.is_sign_negative() {
                continue; // nothing to settle, or refunds ahead of payments: left for a longer period
            }
            let id = store::settlements::insert(merchant_id, SettlementMode::TPlus1, start, end, &totals);
            caller.audit(
                "SETTLEMENT_GENERATE",
                "settlements",
                Some(id),
                json!({ "merchant_id": merchant_id.to_string(), "total": totals.total.to_string(),
                        "count": totals.tx_count, "scheduled": true }),
            );
            created += 1;
        }
        Ok(created)
    })
}

/// Creates the monthly partitions of transactions for this month and the next
/// `p_months_ahead` (default 3) that are missing; returns how many were created.
#[pg_extern(name = "create_transaction_partitions", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn rpc_create_transaction_partitions(
    p_months_ahead: default!(Option<i32>, "3"),
    p_session_id: default!(Option<&str>, "NULL"),
) -> i32 {
    rpc(|| {
        let caller = auth::resolve(p_session_id)?;
        caller.allow(Action::Administer)?;
        let months = p_months_ahead.unwrap_or(3).clamp(0, 120);
        let created = store::schedules::ensure_transaction_partitions(months);
        caller.audit("CREATE_PARTITIONS", "system", None, json!({ "months_ahead": months, "created": created }));
        Ok(created)
    })
}

/// The jobs mps_ext runs under pg_cron: (name, schedule, command).
const JOBS: &[(&str, &str, &str)] = &[
    ("mps-maintenance", "*/5 * * * *", "SELECT public.cron_rotate_qr_tokens()"),
    ("mps-daily-settlements", "10 0 * * *", "SELECT public.generate_daily_settlements()"),
    ("mps-partitions", "0 1 * * *", "SELECT public.create_transaction_partitions(3)"),
    ("mps-retention", "30 2 * * *", "CALL mps_internal.run_retention()"),
];

/// Registers (or updates) the periodic jobs with pg_cron; returns them. pg_cron runs them
/// as the extension's owner, a super admin by its database role.
#[pg_extern(name = "schedule_maintenance", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn rpc_schedule_maintenance(
    p_session_id: default!(Option<&str>, "NULL"),
) -> TableIterator<'static, (name!(job_name, String), name!(schedule, String), name!(command, String))> {
    rpc(|| {
        let caller = auth::resolve(p_session_id)?;
        caller.allow(Action::Administer)?;
        if !store::schedules::pg_cron_installed() {
            return Err(MpsError::new(
                ErrorCode::PgCronNotInstalled,
                "the pg_cron extension is not installed in this database",
            ));
        }
        let jobs = JOBS
            .iter()
            .map(|&(name, schedule, command)| {
                store::schedules::schedule(name, schedule, command);
                (name.to_string(), schedule.to_string(), command.to_string())
            })
            .collect::<Vec<_>>();
        caller.audit(
            "SCHEDULE_MAINTENANCE",
            "system",
            None,
            json!({ "jobs": JOBS.iter().map(|j| j.0).collect::<Vec<_>>() }),
        );
        Ok(TableIterator::new(jobs))
    })
}
