use super::events::FROM_EV;
use super::{decimal, execute, label, numeric, query_one, required, value};
use crate::domain::holds::HoldState;
use pgrx::datum::{AnyNumeric, JsonB, TimestampWithTimeZone, Uuid};
use rust_decimal::Decimal;

/// A hold as its authorization returns it.
pub struct Authorized {
    pub hold_id: Uuid,
    pub hold_no: String,
    pub card_id: Uuid,
    pub amount: Decimal,
    pub discount: Decimal,
    pub expires_at: TimestampWithTimeZone,
    pub fingerprint: Option<String>,
}

const AUTHORIZED_COLUMNS: &str = "id, hold_no, card_id, amount, discount, expires_at, request_fingerprint";

fn read_authorized(r: &pgrx::spi::SpiHeapTupleData<'_>) -> pgrx::spi::SpiResult<Authorized> {
    Ok(Authorized {
        hold_id: required(r.get::<Uuid>(1)?, "card_holds.id"),
        hold_no: required(r.get::<String>(2)?, "card_holds.hold_no"),
        card_id: required(r.get::<Uuid>(3)?, "card_holds.card_id"),
        amount: decimal(r.get::<AnyNumeric>(4)?, "card_holds.amount"),
        discount: decimal(r.get::<AnyNumeric>(5)?, "card_holds.discount"),
        expires_at: required(r.get::<TimestampWithTimeZone>(6)?, "card_holds.expires_at"),
        fingerprint: r.get::<String>(7)?,
    })
}

pub struct NewHold<'a> {
    pub card_id: Uuid,
    pub merchant_id: Uuid,
    pub raw_amount: Decimal,
    pub discount: Decimal,
    pub amount: Decimal,
    pub ttl_seconds: i32,
    pub idempotency_key: Option<&'a str>,
    pub external_order_id: Option<&'a str>,
    pub fingerprint: &'a str,
    pub tag: serde_json::Value,
}

/// Authorizes a hold, with its event (`hold_authorized`).
pub fn insert(hold: &NewHold) -> Authorized {
    let row = query_one(
        &format!(
            "WITH hold AS (
                 INSERT INTO public.card_holds (card_id, merchant_id, raw_amount, discount, amount, expires_at,
                                                idempotency_key, external_order_id, request_fingerprint, tag)
                 VALUES ($1, $2, $3, $4, $5, pg_catalog.now() + pg_catalog.make_interval(secs => $6), $7, $8, $9, $10)
                 RETURNING *),
             ev AS (SELECT 'hold_authorized' AS event_type, card_id, merchant_id, hold_no AS tx_no, amount,
                           pg_catalog.jsonb_build_object('tag', tag, 'expires_at', expires_at) AS payload
                      FROM hold),
             event AS ({FROM_EV})
             SELECT {AUTHORIZED_COLUMNS} FROM hold"
        ),
        &[
            hold.card_id.into(),
            hold.merchant_id.into(),
            numeric(hold.raw_amount),
            numeric(hold.discount),
            numeric(hold.amount),
            f64::from(hold.ttl_seconds).into(),
            hold.idempotency_key.into(),
            hold.external_order_id.into(),
            hold.fingerprint.into(),
            JsonB(hold.tag.clone()).into(),
        ],
        read_authorized,
    );
    required(row, "card_holds row")
}

/// The merchant's hold authorized under this idempotency key, whatever happened to it since.
pub fn find_by_key(merchant_id: Uuid, key: &str) -> Option<Authorized> {
    query_one(
        &format!("SELECT {AUTHORIZED_COLUMNS} FROM public.card_holds WHERE merchant_id = $1 AND idempotency_key = $2"),
        &[merchant_id.into(), key.into()],
        read_authorized,
    )
}

/// A hold locked for its capture or void.
pub struct LockedHold {
    pub id: Uuid,
    pub hold_no: String,
    pub card_id: Uuid,
    pub raw_amount: Decimal,
    pub discount: Decimal,
    pub amount: Decimal,
    pub state: HoldState,
}

/// The merchant's hold with that number, row-locked: a capture and a void of one hold queue
/// here. Lock order: the hold, then its card. Another merchant's hold is not found.
pub fn lock(hold_no: &str, merchant_id: Uuid) -> Option<LockedHold> {
    query_one(
        "SELECT id, hold_no, card_id, raw_amount, discount, amount, status::text,
                expires_at <= pg_catalog.now()
           FROM public.card_holds
          WHERE hold_no = $1 AND merchant_id = $2
            FOR UPDATE",
        &[hold_no.into(), merchant_id.into()],
        |r| {
            let status: crate::domain::enums::HoldStatus = label(r.get::<String>(7)?, "card_holds.status");
            let lapsed = required(r.get::<bool>(8)?, "card_holds.expires_at");
            Ok(LockedHold {
                id: required(r.get::<Uuid>(1)?, "card_holds.id"),
                hold_no: required(r.get::<String>(2)?, "card_holds.hold_no"),
                card_id: required(r.get::<Uuid>(3)?, "card_holds.card_id"),
                raw_amount: decimal(r.get::<AnyNumeric>(4)?, "card_holds.raw_amount"),
                discount: decimal(r.get::<AnyNumeric>(5)?, "card_holds.discount"),
                amount: decimal(r.get::<AnyNumeric>(6)?, "card_holds.amount"),
                state: status.state(lapsed),
            })
        },
    )
}

/// The hold captured by the payment `tx_id` (numbered `tx_no`, of `amount`), with its event.
pub fn set_captured(hold_id: Uuid, tx_id: Uuid, tx_no: &str, amount: Decimal) {
    execute(
        &format!(
            "WITH hold AS (
                 UPDATE public.card_holds SET status = 'captured', capture_tx_id = $2 WHERE id = $1 RETURNING *),
             ev AS (SELECT 'hold_captured' AS event_type, card_id, merchant_id, hold_no AS tx_no, $4 AS amount,
                           pg_catalog.jsonb_build_object('capture_tx_no', $3::text) AS payload
                      FROM hold)
             {FROM_EV}"
        ),
        &[hold_id.into(), tx_id.into(), tx_no.into(), numeric(amount)],
    );
}

/// The hold released, with its event.
pub fn set_voided(hold_id: Uuid) {
    execute(
        &format!(
            "WITH hold AS (UPDATE public.card_holds SET status = 'voided' WHERE id = $1 RETURNING *),
             ev AS (SELECT 'hold_voided' AS event_type, card_id, merchant_id, hold_no AS tx_no, amount,
                           '{{}}'::jsonb AS payload
                      FROM hold)
             {FROM_EV}"
        ),
        &[hold_id.into()],
    );
}

/// Marks active holds past their expiry `expired` (they already reserve nothing), each with
/// its event; how many.
pub fn mark_lapsed() -> i64 {
    value::<i64>(
        &format!(
            "WITH hold AS (
                 UPDATE public.card_holds SET status = 'expired'
                  WHERE status = 'active' AND expires_at <= pg_catalog.now() RETURNING *),
             ev AS (SELECT 'hold_expired' AS event_type, card_id, merchant_id, hold_no AS tx_no, amount,
                           '{{}}'::jsonb AS payload
                      FROM hold),
             event AS ({FROM_EV})
             SELECT count(*) FROM hold"
        ),
        &[],
    )
    .unwrap_or(0)
}
