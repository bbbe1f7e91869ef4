//! Money movements: merchant_charge_by_qr, merchant_refund_tx, user_recharge_card, and the
//! confirmation or cancellation of a member's pending recharge (confirm_recharge,
//! cancel_recharge). Each is one transaction that locks (original transaction →) card,
//! checks, writes the transaction row, the balance, the points ledger and the audit row.

use super::{
    optional_text,
    qr::{no_live_code, presentable},
    required, required_text,
};
use crate::auth::{self, Caller};
use crate::datum::{numeric, numeric_arg, Enum};
use crate::domain::enums::{CardStatus, CardType, PayMethod, TxStatus, TxType};
use crate::domain::error::{ErrorCode, MpsError, MpsResult};
use crate::domain::policy::Action;
use crate::domain::DbEnum;
use crate::domain::{idempotency, levels, money, pricing, settlements, tokens};
use crate::error::rpc;
use crate::settings;
use crate::store;
use crate::store::cards::MoneyCard;
use crate::store::transactions::{Actor, CardChange, NewTx, Outcome, Recorded};
use pgrx::datum::{AnyNumeric, JsonB, Uuid};
use pgrx::prelude::*;
use rust_decimal::Decimal;
use serde_json::json;

/// The active merchant named by the code, if the caller may act for it (policy:
/// `ActForMerchant`: a super admin for any merchant, a merchant, by session or staff JWT, for
/// its own). A merchant naming any code but its own gets the same answer whether that code
/// exists or not: no caller can probe for merchant codes.
pub(super) fn authorize_merchant(caller: &Caller, code: Option<&str>) -> MpsResult<Uuid> {
    let code = code.unwrap_or_default();
    let found = store::merchants::find_by_code_with_status(code);
    caller.allow(Action::ActForMerchant { merchant: found.map(|(id, _)| id), named: code })?;
    match found {
        Some((merchant_id, true)) => Ok(merchant_id),
        _ => {
            Err(MpsError::new(ErrorCode::MerchantNotFoundOrInactive, format!("no active merchant with code {code:?}")))
        }
    }
}

/// Records a movement (store::transactions::record) and refuses it if its stamp falls
/// inside a period the merchant has already settled. That cannot happen while the database
/// clock runs forward (see earlier_request); the check keeps the books right if it
/// does not. The error rolls back everything the call wrote.
pub(super) fn record(tx: &NewTx, outcome: Outcome) -> MpsResult<(Uuid, String)> {
    let stamped = store::transactions::record(tx, outcome);
    if stamped.inside_settled_period {
        return Err(MpsError::new(
            ErrorCode::MovementInSettledPeriod,
            "the movement's time falls inside a period the merchant has already settled",
        ));
    }
    Ok((stamped.tx_id, stamped.tx_no))
}

/// Serializes concurrent requests carrying the same key or order id (`kind`) in one scope,
/// until the transaction ends: the second waits for the first and then finds what it did.
pub(super) fn serialize_requests(operation: &str, scope: Uuid, kind: &str, value: &str) {
    store::lock_name(&idempotency::lock_name(operation, &scope.to_string(), kind, value));
}

/// Whether an earlier request made with `value` (numbered `earlier_no`) was this one: the
/// same parameters replay it, others are refused with `reused`.
pub(super) fn check_same_request(
    value: &str,
    earlier_no: &str,
    earlier_fingerprint: Option<&str>,
    fingerprint: &str,
    reused: ErrorCode,
) -> MpsResult<()> {
    if !idempotency::is_same_request(earlier_fingerprint, fingerprint) {
        return Err(MpsError::new(reused, format!("{value:?} was used by {earlier_no} with other parameters")));
    }
    Ok(())
}

/// An earlier movement with the same idempotency key or external order id in the same
/// scope: the same request again (replayed), or a different one (refused).
///
/// First, in one statement, the locks a movement needs before anything is stamped: the
/// settlement runs of `settling` (the movement's merchant) are held off until this
/// transaction ends, by a shared lock (movements do not wait for each other), so a
/// settlement either sees this movement or ended its period before the movement's stamp
/// (settlements.rs, `start_settlement_run`); and concurrent duplicates are serialized, key
/// first, then order id: the second waits for the first and then finds what it did.
pub(super) fn earlier_request(
    operation: &str,
    scope: Uuid,
    key: Option<&str>,
    order: Option<&str>,
    fingerprint: &str,
    settling: Option<Uuid>,
) -> MpsResult<Option<Recorded>> {
    let requests = [("key", key, ErrorCode::IdempotencyKeyReused), ("order", order, ErrorCode::ExternalOrderIdReused)];
    let settlements = settling.map(|merchant| settlements::lock_name(&merchant.to_string()));
    let serialized: Vec<String> = requests
        .iter()
        .filter_map(|&(kind, value, _)| {
            value.map(|value| idempotency::lock_name(operation, &scope.to_string(), kind, value))
        })
        .collect();
    store::lock_names(
        &settlements.iter().map(String::as_str).collect::<Vec<_>>(),
        &serialized.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    for (kind, value, reused) in requests {
        let Some(value) = value else { continue };
        if let Some(earlier) = store::transactions::find_earlier(operation, scope, kind, value) {
            check_same_request(value, &earlier.tx_no, earlier.fingerprint.as_deref(), fingerprint, reused)?;
            return Ok(Some(earlier));
        }
    }
    Ok(None)
}

/// The card's available balance (its balance less what its active holds reserve) covers
/// `amount`. The merchant may learn that the card cannot pay, never what is on it.
pub(super) fn check_covers(available: Decimal, amount: Decimal) -> MpsResult<()> {
    if available < amount {
        return Err(MpsError::new(
            ErrorCode::InsufficientBalance,
            format!("the card's available balance does not cover the amount due {amount}"),
        ));
    }
    Ok(())
}

/// Frozen or expired cards and suspended members move no money (docs/contract.md B15).
pub(super) fn check_card_can_move_money(card: &MoneyCard) -> MpsResult<()> {
    if card.card.status != CardStatus::Active {
        return Err(MpsError::new(ErrorCode::CardNotActive, format!("the card is {}", card.card.status)));
    }
    if card.card.expired {
        return Err(MpsError::new(ErrorCode::CardExpired, "the card's expiry date has passed"));
    }
    if !card.owner_active {
        return Err(MpsError::new(ErrorCode::MemberNotActive, "the card's owner is not an active member"));
    }
    Ok(())
}

/// The card's new balance and points, with the level they reach.
pub(super) fn card_change(
    card: &MoneyCard,
    balance_delta: Decimal,
    points: i32,
    ledger_reason: Option<&'static str>,
) -> CardChange {
    let standing = levels::standing(i64::from(points), &card.levels);
    CardChange {
        balance_delta,
        points_before: card.points,
        points_after: points,
        level: standing.level,
        level_discount: standing.discount,
        ledger_reason,
    }
}

pub(super) fn actor<'a>(caller: &'a Caller, action: &'a str, context: serde_json::Value) -> Actor<'a> {
    Actor { user_id: caller.actor_id(), role: caller.audit_role(), action, context }
}

pub(super) fn tag_of(tag: Option<JsonB>) -> serde_json::Value {
    tag.map(|t| t.0).filter(|v| !v.is_null()).unwrap_or_else(|| json!({}))
}

/// The card whose live QR code the POS presents, row-locked and able to move money, with what
/// a payment of `raw` costs it now, checked against its available balance. The code is
/// checked again under the card's lock: a rotation or revocation in between wins.
pub(super) fn presented_card(
    qr_plain: Option<&str>,
    qr_digest: &str,
    raw: Decimal,
) -> MpsResult<(MoneyCard, pricing::Charge)> {
    presentable(qr_plain)?;
    let card = store::cards::lock_for_money_by_code(qr_digest).ok_or_else(no_live_code)?;
    let held = store::cards::held_on_while_live(card.card.id, qr_digest)
        .ok_or_else(|| MpsError::new(ErrorCode::QrExpiredOrInvalid, "the QR code was rotated or revoked"))?;
    check_card_can_move_money(&card)?;
    let charge = pricing::charge(card.card.card_type, raw, card.discount, card.corporate_discount, card.points)?;
    check_covers(card.balance - held, charge.final_amount)?;
    Ok((card, charge))
}

/// A payment at a merchant's POS with the card's live QR code: the level (or corporate)
/// discount applies, the card earns points and may reach a new level.
#[pg_extern(name = "merchant_charge_by_qr", security_definer)]
#[search_path(pg_catalog, pg_temp)]
#[allow(clippy::too_many_arguments)]
fn rpc_merchant_charge_by_qr(
    p_merchant_code: Option<&str>,
    p_qr_plain: Option<&str>,
    p_raw_amount: Option<AnyNumeric>,
    p_idempotency_key: default!(Option<&str>, "NULL"),
    p_tag: default!(Option<JsonB>, "'{}'::jsonb"),
    p_external_order_id: default!(Option<&str>, "NULL"),
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
        let raw = money::amount(p_raw_amount.map(numeric_arg), ErrorCode::InvalidPrice, "p_raw_amount", false)?;
        let merchant_id = authorize_merchant(&caller, p_merchant_code)?;
        let key = optional_text(p_idempotency_key);
        let order = optional_text(p_external_order_id);
        let qr_digest = tokens::digest(p_qr_plain.unwrap_or_default());
        let fingerprint = idempotency::fingerprint(&["payment", &raw.to_string(), &qr_digest, order.unwrap_or("")]);
        let row = |r: Recorded| {
            TableIterator::once((r.tx_id, r.tx_no, r.card_id, numeric(r.final_amount), numeric(r.discount)))
        };
        let earlier = earlier_request("payment", merchant_id, key, order, &fingerprint, Some(merchant_id))?;
        if let Some(earlier) = earlier {
            return Ok(row(earlier));
        }

        let (card, charge) = presented_card(p_qr_plain, &qr_digest, raw)?;
        let card_id = card.card.id;

        let points = card.points + charge.points;
        let ledger = (card.card.card_type == CardType::Standard).then_some("payment_earn");
        let audit = json!({ "merchant": p_merchant_code, "final": charge.final_amount.to_string(), "card_id": card_id.to_string() });
        let (tx_id, tx_no) = record(
            &NewTx {
                tx_type: TxType::Payment,
                card_id,
                merchant_id: Some(merchant_id),
                raw_amount: raw,
                discount: charge.discount,
                final_amount: charge.final_amount,
                points_earned: charge.points,
                reason: None,
                payment_method: Some(PayMethod::Balance),
                external_order_id: order,
                idempotency_key: key,
                original: None,
                processed_by: caller.auth_user(),
                tag: tag_of(p_tag),
                fingerprint: Some(fingerprint),
                request_scope: Some(("payment", merchant_id)),
            },
            Outcome::Completed(
                &card_change(&card, -charge.final_amount, points, ledger),
                &actor(&caller, "PAYMENT", audit),
            ),
        )?;
        if settings::qr_single_use() {
            store::qr::revoke(card_id);
        }
        Ok(row(Recorded {
            tx_id,
            tx_no,
            card_id,
            final_amount: charge.final_amount,
            discount: charge.discount,
            fingerprint: None,
        }))
    })
}

/// Returns part or all of a completed payment to its card; its points go back in proportion.
/// `p_idempotency_key` (appended last, so calls of the contract's signature keep working)
/// makes a retry safe: the same key with the same original and amount replays the refund,
/// even when nothing is left to refund, and concurrent duplicates make one refund.
#[pg_extern(name = "merchant_refund_tx", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn rpc_merchant_refund_tx(
    p_merchant_code: Option<&str>,
    p_original_tx_no: Option<&str>,
    p_refund_amount: Option<AnyNumeric>,
    p_tag: default!(Option<JsonB>, "'{}'::jsonb"),
    p_session_id: default!(Option<&str>, "NULL"),
    p_idempotency_key: default!(Option<&str>, "NULL"),
) -> TableIterator<'static, (name!(refund_tx_id, Uuid), name!(refund_tx_no, String), name!(refunded_amount, AnyNumeric))>
{
    rpc(|| {
        let caller = auth::resolve(p_session_id)?;
        let amount =
            money::amount(p_refund_amount.map(numeric_arg), ErrorCode::InvalidRefundAmount, "p_refund_amount", false)?;
        let merchant_id = authorize_merchant(&caller, p_merchant_code)?;
        let tx_no = p_original_tx_no.unwrap_or_default();
        let key = optional_text(p_idempotency_key);
        let fingerprint = idempotency::fingerprint(&["refund", tx_no, &amount.to_string()]);
        if let Some(earlier) = earlier_request("refund", merchant_id, key, None, &fingerprint, Some(merchant_id))? {
            return Ok(TableIterator::once((earlier.tx_id, earlier.tx_no, numeric(earlier.final_amount))));
        }
        let original = store::transactions::lock_original(tx_no, merchant_id).ok_or_else(|| {
            MpsError::new(ErrorCode::OriginalTxNotFound, format!("merchant has no transaction {tx_no:?}"))
        })?;
        if original.tx_type != TxType::Payment || !matches!(original.status, TxStatus::Completed | TxStatus::Refunded) {
            return Err(MpsError::new(
                ErrorCode::OnlyCompletedPaymentRefundable,
                format!("{} is a {} {}", original.tx_no, original.status, original.tx_type),
            ));
        }
        let (refunded_before, reversed_before) = store::transactions::refunds_of(original.id);
        let remaining = original.final_amount - refunded_before;
        if amount > remaining {
            return Err(MpsError::new(
                ErrorCode::RefundExceedsRemaining,
                format!("{} has {} left to refund; asked {}", original.tx_no, remaining, amount),
            ));
        }
        let card = store::cards::lock_for_money(original.card_id)
            .ok_or_else(|| MpsError::new(ErrorCode::CardNotFound, "the paying card no longer exists"))?;
        check_card_can_move_money(&card)?;
        // The card may have been recharged up to the limit since it paid.
        if card.balance + amount > money::max_amount() {
            return Err(MpsError::new(
                ErrorCode::InvalidRefundAmount,
                format!("the balance would exceed {}", money::max_amount()),
            ));
        }
        let reversed = pricing::points_to_reverse(
            original.points_earned,
            original.final_amount,
            refunded_before,
            amount,
            reversed_before,
        )
        .min(card.points);

        let points = card.points - reversed;
        let ledger = (reversed > 0).then_some("refund_reverse");
        let audit = json!({ "merchant": p_merchant_code, "amount": amount.to_string(), "original": original.tx_no });
        let (refund_id, refund_no) = record(
            &NewTx {
                tx_type: TxType::Refund,
                card_id: original.card_id,
                merchant_id: Some(merchant_id),
                raw_amount: amount,
                discount: Decimal::new(1000, 3),
                final_amount: amount,
                points_earned: -reversed,
                reason: Some(&original.tx_no),
                payment_method: original.payment_method,
                external_order_id: None,
                idempotency_key: key,
                original: Some((original.id, &original.tx_no)),
                processed_by: caller.auth_user(),
                tag: tag_of(p_tag),
                fingerprint: Some(fingerprint),
                request_scope: Some(("refund", merchant_id)),
            },
            Outcome::Completed(&card_change(&card, amount, points, ledger), &actor(&caller, "REFUND", audit)),
        )?;
        if refunded_before + amount == original.final_amount {
            store::transactions::set_status(&original, TxStatus::Refunded);
        }
        Ok(TableIterator::once((refund_id, refund_no, numeric(amount))))
    })
}

/// A recharge may credit the card: an active, unexpired standard card of an active member,
/// whose balance stays within numeric(12,2). Checked when a recharge is requested and again
/// when a pending one is confirmed.
fn check_card_can_take(card: &MoneyCard, amount: Decimal) -> MpsResult<()> {
    if card.card.status != CardStatus::Active {
        return Err(MpsError::new(
            ErrorCode::CardNotFoundOrInactive,
            format!("no active card with id {}", card.card.id),
        ));
    }
    if card.card.card_type != CardType::Standard {
        return Err(MpsError::new(
            ErrorCode::UnsupportedCardTypeForRecharge,
            format!("a {} card cannot be recharged", card.card.card_type),
        ));
    }
    check_card_can_move_money(card)?;
    if card.balance + amount > money::max_amount() {
        return Err(MpsError::new(
            ErrorCode::InvalidRechargeAmount,
            format!("the balance would exceed {}", money::max_amount()),
        ));
    }
    Ok(())
}

/// The contract's recharge row (pgrx wants it spelled out in each #[pg_extern] signature).
type RechargeRow =
    TableIterator<'static, (name!(tx_id, Uuid), name!(tx_no, String), name!(card_id, Uuid), name!(amount, AnyNumeric))>;

fn recharge_row(tx_id: Uuid, tx_no: String, card_id: Uuid, amount: Decimal) -> RechargeRow {
    TableIterator::once((tx_id, tx_no, card_id, numeric(amount)))
}

/// A super admin, or a member on a card they own (the original let anyone mint money:
/// docs/contract.md W1).
/// Money enters only through a confirmed payment: a member's recharge (session or JWT) is
/// recorded pending (status `processing`, balance, points, ledger and audit untouched) and
/// credited by confirm_recharge once the payment gateway or the back office confirms the
/// payment. A super admin's recharge (service_role: the gateway or the server scripts; an
/// admin taking cash at the counter) completes at once. Either way the contract's row comes
/// back, and a retry with the same idempotency key replays it, pending or not.
#[pg_extern(name = "user_recharge_card", security_definer)]
#[search_path(pg_catalog, pg_temp)]
#[allow(clippy::too_many_arguments)]
fn rpc_user_recharge_card(
    p_card_id: Option<Uuid>,
    p_amount: Option<AnyNumeric>,
    p_payment_method: default!(Option<Enum<PayMethod>>, "'wechat'"),
    p_tag: default!(Option<JsonB>, "'{}'::jsonb"),
    p_idempotency_key: default!(Option<&str>, "NULL"),
    p_external_order_id: default!(Option<&str>, "NULL"),
    p_session_id: default!(Option<&str>, "NULL"),
) -> TableIterator<'static, (name!(tx_id, Uuid), name!(tx_no, String), name!(card_id, Uuid), name!(amount, AnyNumeric))>
{
    rpc(|| {
        let caller = auth::resolve(p_session_id)?;
        let amount = money::amount(p_amount.map(numeric_arg), ErrorCode::InvalidRechargeAmount, "p_amount", false)?;
        let card_id = required(p_card_id, "p_card_id")?;
        let not_found =
            || MpsError::new(ErrorCode::CardNotFoundOrInactive, format!("no active card with id {card_id}"));
        // Who may recharge at all is settled before the card is read; a member's attempt on
        // another's card then looks exactly like one on a card that does not exist. A
        // member's own recharge waits for the payment to be confirmed.
        let owner = || store::cards::get(card_id).and_then(|c| c.owner_member_id);
        caller.allow(Action::Recharge { owner: &owner }).map_err(|denial| denial.or_not_found(not_found))?;
        let pending = !caller.is_super_admin();
        let Enum(method) = p_payment_method.unwrap_or(Enum(PayMethod::Wechat)); // NULL: the default
        let key = optional_text(p_idempotency_key);
        let order = optional_text(p_external_order_id);
        let fingerprint =
            idempotency::fingerprint(&["recharge", &amount.to_string(), method.label(), order.unwrap_or("")]);
        let earlier = earlier_request("recharge", card_id, key, order, &fingerprint, None)?;
        if let Some(earlier) = earlier {
            return Ok(recharge_row(earlier.tx_id, earlier.tx_no, earlier.card_id, earlier.final_amount));
        }

        let card = store::cards::lock_for_money(card_id).ok_or_else(not_found)?;
        check_card_can_take(&card, amount)?;
        let recharge = NewTx {
            tx_type: TxType::Recharge,
            card_id,
            merchant_id: None,
            raw_amount: amount,
            discount: Decimal::new(1000, 3),
            final_amount: amount,
            points_earned: 0,
            reason: Some("recharge"),
            payment_method: Some(method),
            external_order_id: order,
            idempotency_key: key,
            original: None,
            processed_by: caller.auth_user(),
            tag: tag_of(p_tag),
            fingerprint: Some(fingerprint),
            request_scope: Some(("recharge", card_id)),
        };
        let (tx_id, tx_no) = if pending {
            record(&recharge, Outcome::Pending)?
        } else {
            let audit = json!({ "amount": amount.to_string(), "method": method });
            record(
                &recharge,
                Outcome::Completed(&card_change(&card, amount, card.points, None), &actor(&caller, "RECHARGE", audit)),
            )?
        };
        Ok(recharge_row(tx_id, tx_no, card_id, amount))
    })
}

fn no_recharge(tx_no: &str) -> MpsError {
    MpsError::new(ErrorCode::TxNotFound, format!("no recharge {tx_no:?}"))
}

/// Credits a member's pending recharge once its payment is confirmed: service_role (the
/// payment gateway's webhook) or a super admin (the back office). Locks the recharge, then
/// the card (the house order), checks that the card can still take the money, credits it
/// and audits it exactly as a recharge that completes at once. Confirming a completed
/// recharge again credits nothing and returns the same row (webhooks retry); a cancelled
/// one stays cancelled. A card that can no longer take the money leaves the recharge
/// pending, for the back office to cancel (and refund the payment outside MPS).
#[pg_extern(name = "confirm_recharge", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn rpc_confirm_recharge(
    p_tx_no: Option<&str>,
    p_session_id: default!(Option<&str>, "NULL"),
) -> TableIterator<'static, (name!(tx_id, Uuid), name!(tx_no, String), name!(card_id, Uuid), name!(amount, AnyNumeric))>
{
    rpc(|| {
        let caller = auth::resolve(p_session_id)?;
        caller.allow(Action::Administer)?;
        let tx_no = required_text(p_tx_no, "p_tx_no")?;
        let recharge = store::transactions::lock_recharge(tx_no).ok_or_else(|| no_recharge(tx_no))?;
        let row = || recharge_row(recharge.id, recharge.tx_no.clone(), recharge.card_id, recharge.final_amount);
        match recharge.status {
            TxStatus::Processing => {}
            TxStatus::Completed => return Ok(row()),
            other => {
                return Err(MpsError::new(
                    ErrorCode::InvalidStatusTransition,
                    format!("recharge {} is {other}: only a pending recharge can be confirmed", recharge.tx_no),
                ))
            }
        }
        let card = store::cards::lock_for_money(recharge.card_id).ok_or_else(|| {
            MpsError::new(ErrorCode::CardNotFoundOrInactive, format!("no active card with id {}", recharge.card_id))
        })?;
        check_card_can_take(&card, recharge.final_amount)?;
        let change = card_change(&card, recharge.final_amount, card.points, None);
        store::cards::apply_movement(
            recharge.card_id,
            change.balance_delta,
            change.points_after,
            change.level,
            change.level_discount,
        );
        store::transactions::set_status(&recharge, TxStatus::Completed);
        store::events::recharge_credited(recharge.id);
        caller.audit(
            "RECHARGE",
            "transactions",
            Some(recharge.id),
            json!({ "amount": recharge.final_amount.to_string(), "method": recharge.payment_method, "confirmed": true }),
        );
        Ok(row())
    })
}

/// Drops a pending recharge whose payment did not happen (status `cancelled`; no money
/// moves): service_role or a super admin, or the member who owns the card, for their own
/// request (an abandoned checkout; harmless, nothing was credited). To anyone else the
/// recharge does not exist. Cancelling a cancelled recharge again changes nothing and
/// returns true; a completed one cannot be cancelled (it moved money: refund it instead).
#[pg_extern(name = "cancel_recharge", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn rpc_cancel_recharge(
    p_tx_no: Option<&str>,
    p_reason: default!(Option<&str>, "NULL"),
    p_session_id: default!(Option<&str>, "NULL"),
) -> bool {
    rpc(|| {
        let caller = auth::resolve(p_session_id)?;
        let named = p_tx_no.unwrap_or_default();
        let owner = || {
            let (_, card_id, _) = store::transactions::find_by_no(named)?;
            store::cards::get(card_id)?.owner_member_id
        };
        caller
            .allow(Action::CancelRecharge { owner: &owner })
            .map_err(|denial| denial.or_not_found(|| no_recharge(named)))?;
        let tx_no = required_text(p_tx_no, "p_tx_no")?;
        let recharge = store::transactions::lock_recharge(tx_no).ok_or_else(|| no_recharge(tx_no))?;
        match recharge.status {
            TxStatus::Processing => {}
            TxStatus::Cancelled => return Ok(true),
            other => {
                return Err(MpsError::new(
                    ErrorCode::InvalidStatusTransition,
                    format!("recharge {} is {other}: only a pending recharge can be cancelled", recharge.tx_no),
                ))
            }
        }
        store::transactions::set_status(&recharge, TxStatus::Cancelled);
        caller.audit(
            "RECHARGE_CANCEL",
            "transactions",
            Some(recharge.id),
            json!({ "amount": recharge.final_amount.to_string(), "reason": optional_text(p_reason) }),
        );
        Ok(true)
    })
}
