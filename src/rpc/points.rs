//! Points and levels: update_points_and_level, compute_discount, compute_level,
//! get_point_ledger, and the admin check verify_ledger.

use super::{cards::require_card_access, required};
use crate::auth;
use crate::datum::numeric;
use crate::domain::enums::CardType;
use crate::domain::error::{ErrorCode, MpsError};
use crate::domain::events::EventType;
use crate::domain::policy::Action;
use crate::domain::{levels, paging, pricing, retention};
use crate::error::rpc;
use crate::store;
use crate::store::events::NewEvent;
use pgrx::datum::Uuid;
use pgrx::prelude::*;
use serde_json::json;

/// A manual points adjustment: super admins only, whatever the reason (docs/contract.md
/// W3). The result is kept at ≥ 0 and the ledger records the change actually applied.
#[pg_extern(name = "update_points_and_level", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn rpc_update_points_and_level(
    p_card_id: Option<Uuid>,
    p_delta_points: Option<i32>,
    p_reason: default!(Option<&str>, "'manual_adjust'"),
    p_session_id: default!(Option<&str>, "NULL"),
) -> bool {
    rpc(|| {
        let caller = auth::resolve(p_session_id)?;
        caller.allow(Action::Administer)?;
        let card_id = required(p_card_id, "p_card_id")?;
        let delta = required(p_delta_points, "p_delta_points")?;
        let reason = p_reason.unwrap_or("manual_adjust");
        retention::check_adjustment_reason(reason)?;
        let card = store::cards::lock_for_money(card_id)
            .ok_or_else(|| MpsError::new(ErrorCode::CardNotFoundOrInactive, format!("no card with id {card_id}")))?;
        if card.card.card_type != CardType::Standard {
            return Err(MpsError::new(
                ErrorCode::UnsupportedCardTypeForPoints,
                format!("a {} card holds no points", card.card.card_type),
            ));
        }
        let points = pricing::add_points(card.points, i64::from(delta));
        let standing = levels::standing(i64::from(points), &card.levels);
        store::cards::apply_movement(card_id, rust_decimal::Decimal::ZERO, points, standing.level, standing.discount);
        store::ledger::record_points(card_id, None, points - card.points, card.points, points, reason);
        store::events::record(&NewEvent {
            event_type: EventType::PointsAdjusted,
            card_id: Some(card_id),
            merchant_id: None,
            tx_no: None,
            amount: None,
            payload: json!({
                "delta": delta, "points_before": card.points, "points_after": points,
                "level": standing.level, "reason": reason,
            }),
        });
        caller.audit(
            "POINTS_ADJUST",
            "member_cards",
            Some(card_id),
            json!({ "delta": delta, "applied": points - card.points, "reason": reason }),
        );
        Ok(true)
    })
}

#[pg_extern(name = "compute_discount", security_definer, stable)]
#[search_path(pg_catalog, pg_temp)]
fn rpc_compute_discount(p_points: Option<i32>, p_session_id: default!(Option<&str>, "NULL")) -> AnyNumeric {
    let _ = p_session_id; // the level table is public knowledge
    rpc(|| {
        let mut discount = levels::standing(i64::from(p_points.unwrap_or(0)), &store::levels::active()).discount;
        discount.rescale(3); // numeric(4,3), as the column shows it
        Ok(numeric(discount))
    })
}

#[pg_extern(name = "compute_level", security_definer, stable)]
#[search_path(pg_catalog, pg_temp)]
fn rpc_compute_level(p_points: Option<i32>, p_session_id: default!(Option<&str>, "NULL")) -> i32 {
    let _ = p_session_id; // the level table is public knowledge
    rpc(|| Ok(levels::standing(i64::from(p_points.unwrap_or(0)), &store::levels::active()).level))
}

/// get_point_ledger's scope: the card (super admin, or a member owning or bound to it) and
/// the page bounds.
#[pg_extern(schema = "mps_internal", stable)]
fn get_point_ledger(
    p_card_id: Option<Uuid>,
    p_limit: Option<i32>,
    p_offset: Option<i32>,
    p_session_id: Option<&str>,
) -> TableIterator<'static, (name!(card_id, Uuid), name!(page_limit, i32), name!(page_offset, i32))> {
    rpc(|| {
        let caller = auth::resolve(p_session_id)?;
        let card_id = required(p_card_id, "p_card_id")?;
        require_card_access(&caller, card_id)?;
        store::cards::get(card_id)
            .ok_or_else(|| MpsError::new(ErrorCode::CardNotFound, format!("no card with id {card_id}")))?;
        let (limit, offset) = paging::page(p_limit, p_offset);
        Ok(TableIterator::once((card_id, limit, offset)))
    })
}

/// Every violation of the money invariants; no rows means the books balance.
#[pg_extern(name = "verify_ledger", security_definer, stable)]
#[search_path(pg_catalog, pg_temp)]
#[allow(clippy::type_complexity)] // pgrx reads the result columns from the tuple written out here
fn rpc_verify_ledger(
    p_session_id: default!(Option<&str>, "NULL"),
) -> TableIterator<
    'static,
    (
        name!(card_id, Option<Uuid>),
        name!(card_no, Option<String>),
        name!(check_name, String),
        name!(expected, String),
        name!(actual, String),
    ),
> {
    rpc(|| {
        auth::resolve(p_session_id)?.allow(Action::Administer)?;
        let rows = store::ledger::violations()
            .into_iter()
            .map(|v| (v.card_id, v.card_no, v.check_name, v.expected, v.actual))
            .collect::<Vec<_>>();
        Ok(TableIterator::new(rows))
    })
}
