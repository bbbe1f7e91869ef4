//! Settlements: generate_settlement and update_settlement_status (readers: scopes.rs).

use super::{required, scopes::require_merchant_access};
use crate::auth;
use crate::datum::Enum;
use crate::domain::enums::{SettlementMode, SettlementStatus};
use crate::domain::error::{ErrorCode, MpsError, MpsResult};
use crate::domain::policy::Action;
use crate::domain::settlements;
use crate::error::rpc;
use crate::store;
use pgrx::datum::{TimestampWithTimeZone, Uuid};
use pgrx::prelude::*;
use serde_json::json;

/// Starts a settlement run of the merchant: waits until no movement of the merchant is in
/// flight, then holds off new ones (and other runs) until this transaction ends. Every
/// movement recorded before is then visible to the next statement (READ COMMITTED takes a
/// fresh snapshot per statement; a run at a stricter level is refused, its snapshot may
/// predate the wait); every later movement is stamped after now(), so after the end of any
/// period this run may settle (`check_period_ended` wants it past). So no movement ever lands in a
/// settled period. Movements take the lock shared (payments.rs, `earlier_request`).
pub(super) fn start_settlement_run(merchant_id: Uuid) -> MpsResult<()> {
    if !store::settlements::read_committed() {
        return Err(MpsError::new(
            ErrorCode::InvalidArgument,
            "settlements are generated in READ COMMITTED transactions only (the default isolation level)",
        ));
    }
    store::lock_name(&settlements::lock_name(&merchant_id.to_string()));
    Ok(())
}

/// Settles a merchant's payments minus refunds over [start, end). Refused: a reversed,
/// empty or unfinished period, a period with no movement, a net-negative period, and a
/// period overlapping a live settlement of the same merchant in any mode
/// (docs/contract.md B17).
#[pg_extern(name = "generate_settlement", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn rpc_generate_settlement(
    p_merchant_id: Option<Uuid>,
    p_mode: Option<Enum<SettlementMode>>,
    p_period_start: Option<TimestampWithTimeZone>,
    p_period_end: Option<TimestampWithTimeZone>,
    p_session_id: default!(Option<&str>, "NULL"),
) -> Uuid {
    rpc(|| {
        let caller = auth::resolve(p_session_id)?;
        let merchant_id = required(p_merchant_id, "p_merchant_id")?;
        require_merchant_access(&caller, merchant_id)?;
        let Enum(mode) = required(p_mode, "p_mode")?;
        let start = required(p_period_start, "p_period_start")?;
        let end = required(p_period_end, "p_period_end")?;
        settlements::check_period(start.into_inner() < end.into_inner())?;
        settlements::check_period_ended(store::is_past(end))?;
        if !store::merchants::exists(merchant_id) {
            return Err(MpsError::new(ErrorCode::MerchantNotFound, format!("no merchant with id {merchant_id}")));
        }
        // Also serializes settlement runs of the merchant, so overlap checks cannot race.
        start_settlement_run(merchant_id)?;
        if let Some(existing) = store::settlements::overlapping(merchant_id, start, end) {
            return Err(MpsError::new(
                ErrorCode::SettlementAlreadyExists,
                format!("settlement {existing} already covers part of this period"),
            ));
        }
        let totals = store::settlements::period_totals(merchant_id, start, end);
        settlements::check_totals(totals.tx_count, totals.total)?;
        let id = store::settlements::insert(merchant_id, mode, start, end, &totals);
        caller.audit(
            "SETTLEMENT_GENERATE",
            "settlements",
            Some(id),
            json!({ "merchant_id": merchant_id.to_string(), "total": totals.total.to_string(), "count": totals.tx_count }),
        );
        Ok(id)
    })
}

/// pending → settled | failed, settled → paid. Super admins only.
#[pg_extern(name = "update_settlement_status", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn rpc_update_settlement_status(
    p_settlement_id: Option<Uuid>,
    p_status: Option<Enum<SettlementStatus>>,
    p_session_id: default!(Option<&str>, "NULL"),
) -> bool {
    rpc(|| {
        let caller = auth::resolve(p_session_id)?;
        caller.allow(Action::Administer)?;
        let id = required(p_settlement_id, "p_settlement_id")?;
        let Enum(status) = required(p_status, "p_status")?;
        let current = store::settlements::lock_status(id)
            .ok_or_else(|| MpsError::new(ErrorCode::SettlementNotFound, format!("no settlement with id {id}")))?;
        settlements::check_transition(current, status)?;
        store::settlements::set_status(id, status);
        caller.audit(
            "SETTLEMENT_STATUS_UPDATE",
            "settlements",
            Some(id),
            json!({ "old_status": current, "new_status": status }),
        );
        Ok(true)
    })
}
