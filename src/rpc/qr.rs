//! QR payment codes: rotate_card_qr, revoke_card_qr, validate_qr_plain,
//! cron_rotate_qr_tokens.

use super::{cards::caller_role, required};
use crate::auth::{self, Caller};
use crate::domain::enums::{CardStatus, CardType};
use crate::domain::error::{ErrorCode, MpsError, MpsResult};
use crate::domain::policy::{Action, QrOperation};
use crate::domain::retention::Table;
use crate::domain::{qr, tokens};
use crate::error::rpc;
use crate::store;
use pgrx::datum::{TimestampWithTimeZone, Uuid};
use pgrx::prelude::*;
use serde_json::json;

/// Super admins for any card; members for cards they own or are actively bound to;
/// merchants and anonymous callers never (policy: `ManageQr`). Checked before the card is
/// looked up or locked, so a member gets the same refusal for another's card as for one that
/// does not exist.
fn authorize(caller: &Caller, card_id: Uuid, operation: QrOperation) -> MpsResult<()> {
    Ok(caller.allow(Action::ManageQr { operation, role: &|| caller_role(caller, card_id) })?)
}

fn existing_card(card_id: Uuid) -> MpsResult<store::cards::Card> {
    store::cards::lock(card_id)
        .ok_or_else(|| MpsError::new(ErrorCode::CardNotFound, format!("no card with id {card_id}")))
}

/// Issues a new code for a card that can pay; the previous code dies at once.
#[pg_extern(name = "rotate_card_qr", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn rpc_rotate_card_qr(
    p_card_id: Option<Uuid>,
    p_ttl_seconds: default!(Option<i32>, "900"),
    p_session_id: default!(Option<&str>, "NULL"),
) -> TableIterator<'static, (name!(qr_plain, String), name!(qr_expires_at, TimestampWithTimeZone))> {
    rpc(|| {
        let caller = auth::resolve(p_session_id)?;
        let card_id = required(p_card_id, "p_card_id")?;
        authorize(&caller, card_id, QrOperation::Rotate)?;
        let card = existing_card(card_id)?;
        if card.card_type == CardType::Corporate {
            return Err(MpsError::new(
                ErrorCode::CorporateCardCannotPay,
                "a corporate card cannot pay, so it gets no QR code",
            ));
        }
        if card.status != CardStatus::Active {
            return Err(MpsError::new(ErrorCode::CardNotActive, format!("the card is {}", card.status)));
        }
        if card.expired {
            return Err(MpsError::new(ErrorCode::CardExpired, "the card's expiry date has passed"));
        }
        let ttl = qr::effective_ttl(p_ttl_seconds);
        let token = tokens::generate();
        let expires_at = store::qr::issue(card_id, &tokens::digest(&token), ttl, caller.actor_id());
        caller.audit("QR_ROTATE", "member_cards", Some(card_id), json!({ "ttl": ttl }));
        Ok(TableIterator::once((token, expires_at)))
    })
}

/// Kills the card's live code; false when it had none.
#[pg_extern(name = "revoke_card_qr", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn rpc_revoke_card_qr(p_card_id: Option<Uuid>, p_session_id: default!(Option<&str>, "NULL")) -> bool {
    rpc(|| {
        let caller = auth::resolve(p_session_id)?;
        let card_id = required(p_card_id, "p_card_id")?;
        authorize(&caller, card_id, QrOperation::Revoke)?;
        existing_card(card_id)?;
        let revoked = store::qr::revoke(card_id);
        caller.audit("QR_REVOKE", "member_cards", Some(card_id), json!({ "revoked": revoked }));
        Ok(revoked)
    })
}

/// The card a live code belongs to: one unique-index lookup of its SHA-256 digest, never
/// bcrypt. For super admins and merchants (a POS checking a code); not an open oracle
/// (docs/contract.md W7).
#[pg_extern(name = "validate_qr_plain", security_definer, stable)]
#[search_path(pg_catalog, pg_temp)]
fn rpc_validate_qr_plain(p_qr_plain: Option<&str>, p_session_id: default!(Option<&str>, "NULL")) -> Uuid {
    rpc(|| {
        auth::resolve(p_session_id)?.allow(Action::CheckQr)?;
        live_card(p_qr_plain)
    })
}

/// Resolves a presented QR token to its card.
fn live_card(plain: Option<&str>) -> MpsResult<Uuid> {
    let plain = presentable(plain)?;
    store::qr::live_card(&tokens::digest(plain)).ok_or_else(no_live_code)
}

/// What a presented token that is not a live code gets.
pub(super) fn no_live_code() -> MpsError {
    MpsError::new(ErrorCode::QrExpiredOrInvalid, "no live QR code matches the token")
}

/// A presented QR token that could be a live code (shared with the payments by QR code).
pub(super) fn presentable(plain: Option<&str>) -> MpsResult<&str> {
    let plain = qr::check_candidate(plain)?;
    if !tokens::is_well_formed(plain) {
        return Err(no_live_code());
    }
    Ok(plain)
}

/// Maintenance, safe to run every minute: deletes lapsed codes, QR history past
/// `mps.qr_history_retention_days` and expired sessions. It never touches a live code (the
/// original re-keyed and so silently revoked every corporate code: docs/contract.md B20).
/// It also marks lapsed holds `expired` (they reserved nothing since their expiry anyway).
/// Returns the number of rows removed or marked; the audit row has the counts.
/// `p_ttl_seconds` is accepted for compatibility and unused: no code is issued here.
#[pg_extern(name = "cron_rotate_qr_tokens", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn rpc_cron_rotate_qr_tokens(
    p_ttl_seconds: default!(Option<i32>, "300"),
    p_session_id: default!(Option<&str>, "NULL"),
) -> i32 {
    let _ = p_ttl_seconds; // no code is issued here
    rpc(|| {
        let caller = auth::resolve(p_session_id)?;
        caller.allow(Action::Administer)?;
        let lapsed = store::qr::delete_lapsed();
        let history = super::retention::sweep_all(Table::CardQrHistory);
        let sessions = super::retention::sweep_all(Table::AppSessions);
        let holds = store::holds::mark_lapsed();
        caller.audit(
            "QR_CRON_ROTATE",
            "system",
            None,
            json!({ "lapsed_codes": lapsed, "pruned_history": history, "expired_sessions": sessions,
                    "expired_holds": holds }),
        );
        Ok((lapsed + history + sessions + holds) as i32)
    })
}
