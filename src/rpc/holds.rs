//! Holds: merchant_authorize_by_qr reserves what a charge would cost now, on a card showing
//! its live QR code; merchant_capture_hold charges it later (all or part, at the rate
//! recorded) as an ordinary payment; merchant_void_hold releases it. Readers: sql/32.

use super::optional_text;
use super::payments::{
    actor, authorize_merchant, card_change, check_card_can_move_money, check_covers, check_same_request,
    earlier_request, presented_card, record, serialize_requests, tag_of,
};
use crate::auth;
use crate::datum::{numeric, numeric_arg};
use crate::domain::enums::{CardType, PayMethod, TxType};
use crate::domain::error::{ErrorCode, MpsError};
use crate::domain::holds;
use crate::domain::{idempotency, money, pricing, tokens};
use crate::error::rpc;
use crate::settings;
use crate::store;
use crate::store::holds::{Authorized, NewHold};
use crate::store::transactions::{NewTx, Outcome};
use pgrx::datum::{AnyNumeric, JsonB, TimestampWithTimeZone, Uuid};
use pgrx::prelude::*;
use serde_json::json;

type HoldRow = TableIterator<
    'static,
    (
        name!(hold_id, Uuid),
        name!(hold_no, String),
        name!(card_id, Uuid),
        name!(amount, AnyNumeric),
        name!(discount, AnyNumeric),
        name!(expires_at, TimestampWithTimeZone),
    ),
>;

fn hold_row(h: Authorized) -> HoldRow {
    TableIterator::once((h.hold_id, h.hold_no, h.card_id, numeric(h.amount), numeric(h.discount), h.expires_at))
}

fn hold_not_found(hold_no: &str) -> MpsError {
    MpsError::new(ErrorCode::HoldNotFound, format!("the merchant has no hold {hold_no:?}"))
}

/// Reserves on the card what a charge of `p_raw_amount` would cost now (the same checks as a
/// charge; the rate is recorded on the hold). Nothing is paid and no points are earned until
/// the hold is captured. A retry with the same idempotency key and parameters returns the
/// same hold; keys are per merchant.
#[pg_extern(name = "merchant_authorize_by_qr", security_definer)]
#[search_path(pg_catalog, pg_temp)]
#[allow(clippy::too_many_arguments)]
fn rpc_merchant_authorize_by_qr(
    p_merchant_code: Option<&str>,
    p_qr_plain: Option<&str>,
    p_raw_amount: Option<AnyNumeric>,
    p_idempotency_key: default!(Option<&str>, "NULL"),
    p_ttl_seconds: default!(Option<i32>, "900"),
    p_tag: default!(Option<JsonB>, "'{}'::jsonb"),
    p_external_order_id: default!(Option<&str>, "NULL"),
    p_session_id: default!(Option<&str>, "NULL"),
) -> TableIterator<
    'static,
    (
        name!(hold_id, Uuid),
        name!(hold_no, String),
        name!(card_id, Uuid),
        name!(amount, AnyNumeric),
        name!(discount, AnyNumeric),
        name!(expires_at, TimestampWithTimeZone),
    ),
> {
    rpc(|| {
        let caller = auth::resolve(p_session_id)?;
        let raw = money::amount(p_raw_amount.map(numeric_arg), ErrorCode::InvalidPrice, "p_raw_amount", false)?;
        let merchant_id = authorize_merchant(&caller, p_merchant_code)?;
        let key = optional_text(p_idempotency_key);
        let order = optional_text(p_external_order_id);
        let qr_digest = tokens::digest(p_qr_plain.unwrap_or_default());
        let fingerprint = idempotency::fingerprint(&["authorize", &raw.to_string(), &qr_digest, order.unwrap_or("")]);
        if let Some(key) = key {
            serialize_requests("authorize", merchant_id, "key", key);
            if let Some(earlier) = store::holds::find_by_key(merchant_id, key) {
                check_same_request(
                    key,
                    &earlier.hold_no,
                    earlier.fingerprint.as_deref(),
                    &fingerprint,
                    ErrorCode::IdempotencyKeyReused,
                )?;
                return Ok(hold_row(earlier));
            }
        }

        let (card, charge) = presented_card(p_qr_plain, &qr_digest, raw)?;
        let card_id = card.card.id;
        let hold = store::holds::insert(&NewHold {
            card_id,
            merchant_id,
            raw_amount: raw,
            discount: charge.discount,
            amount: charge.final_amount,
            ttl_seconds: holds::ttl_seconds(p_ttl_seconds),
            idempotency_key: key,
            external_order_id: order,
            fingerprint: &fingerprint,
            tag: tag_of(p_tag),
        });
        if settings::qr_single_use() {
            store::qr::revoke(card_id);
        }
        caller.audit(
            "HOLD_AUTHORIZE",
            "card_holds",
            Some(hold.hold_id),
            json!({ "merchant": p_merchant_code, "amount": hold.amount.to_string(), "card_id": card_id.to_string() }),
        );
        Ok(hold_row(hold))
    })
}

/// Charges a hold once, as an ordinary payment: all of it (NULL) or a smaller raw amount at
/// the rate recorded when it was authorized; the rest is released. A retry with the same
/// idempotency key and amount returns the same payment.
#[pg_extern(name = "merchant_capture_hold", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn rpc_merchant_capture_hold(
    p_merchant_code: Option<&str>,
    p_hold_no: Option<&str>,
    p_raw_amount: default!(Option<AnyNumeric>, "NULL"),
    p_idempotency_key: default!(Option<&str>, "NULL"),
    p_tag: default!(Option<JsonB>, "'{}'::jsonb"),
    p_session_id: default!(Option<&str>, "NULL"),
) -> TableIterator<
    'static,
    (
        name!(tx_id, Uuid),
        name!(tx_no, String),
        name!(card_id, Uuid),
        name!(final_amount, AnyNumeric),
        name!(discount, AnyNumeric),
    ),
> {
    rpc(|| {
        let caller = auth::resolve(p_session_id)?;
        let requested = p_raw_amount
            .map(|raw| money::amount(Some(numeric_arg(raw)), ErrorCode::InvalidPrice, "p_raw_amount", false))
            .transpose()?;
        let merchant_id = authorize_merchant(&caller, p_merchant_code)?;
        let hold_no = p_hold_no.unwrap_or_default();
        let key = optional_text(p_idempotency_key);
        let asked = requested.map_or_else(|| "all".to_string(), |raw| raw.to_string());
        let fingerprint = idempotency::fingerprint(&["capture", hold_no, &asked]);
        let row = |tx_id, tx_no, card_id, final_amount, discount| {
            TableIterator::once((tx_id, tx_no, card_id, numeric(final_amount), numeric(discount)))
        };
        if let Some(earlier) = earlier_request("capture", merchant_id, key, None, &fingerprint, Some(merchant_id))? {
            return Ok(row(earlier.tx_id, earlier.tx_no, earlier.card_id, earlier.final_amount, earlier.discount));
        }

        let hold = store::holds::lock(hold_no, merchant_id).ok_or_else(|| hold_not_found(hold_no))?;
        let raw = holds::capture_raw(hold.state, hold.raw_amount, requested)?;
        let card = store::cards::lock_for_money(hold.card_id)
            .ok_or_else(|| MpsError::new(ErrorCode::CardNotFound, "the held card no longer exists"))?;
        check_card_can_move_money(&card)?;
        let charge = pricing::at_rate(card.card.card_type, raw, hold.discount, card.points)?;
        // it pays from its own reservation
        check_covers(card.balance - store::cards::held_on(hold.card_id) + hold.amount, charge.final_amount)?;
        let points = card.points + charge.points;
        let ledger = (card.card.card_type == CardType::Standard).then_some("payment_earn");
        let audit =
            json!({ "merchant": p_merchant_code, "hold": hold.hold_no, "final": charge.final_amount.to_string() });
        let (tx_id, tx_no) = record(
            &NewTx {
                tx_type: TxType::Payment,
                card_id: hold.card_id,
                merchant_id: Some(merchant_id),
                raw_amount: raw,
                discount: charge.discount,
                final_amount: charge.final_amount,
                points_earned: charge.points,
                reason: Some(&hold.hold_no),
                payment_method: Some(PayMethod::Balance),
                external_order_id: None,
                idempotency_key: key,
                original: None,
                processed_by: caller.auth_user(),
                tag: tag_of(p_tag),
                fingerprint: Some(fingerprint),
                request_scope: Some(("capture", merchant_id)),
            },
            Outcome::Completed(
                &card_change(&card, -charge.final_amount, points, ledger),
                &actor(&caller, "HOLD_CAPTURE", audit),
            ),
        )?;
        store::holds::set_captured(hold.id, tx_id, &tx_no, charge.final_amount);
        Ok(row(tx_id, tx_no, hold.card_id, charge.final_amount, charge.discount))
    })
}

/// Releases an active hold: true; false when it was voided or had expired already. A
/// captured hold moved money and stays (refund its payment instead).
#[pg_extern(name = "merchant_void_hold", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn rpc_merchant_void_hold(
    p_merchant_code: Option<&str>,
    p_hold_no: Option<&str>,
    p_session_id: default!(Option<&str>, "NULL"),
) -> bool {
    rpc(|| {
        let caller = auth::resolve(p_session_id)?;
        let merchant_id = authorize_merchant(&caller, p_merchant_code)?;
        let hold_no = p_hold_no.unwrap_or_default();
        let hold = store::holds::lock(hold_no, merchant_id).ok_or_else(|| hold_not_found(hold_no))?;
        if !holds::void_releases(hold.state)? {
            return Ok(false);
        }
        store::holds::set_voided(hold.id);
        caller.audit("HOLD_VOID", "card_holds", Some(hold.id), json!({ "merchant": p_merchant_code }));
        Ok(true)
    })
}
