use super::events::FROM_EV;
use super::{decimal, execute, label, numeric, query_one, required, value};
use crate::domain::enums::{SettlementMode, SettlementStatus};
use crate::domain::DbEnum;
use pgrx::datum::{AnyNumeric, JsonB, TimestampWithTimeZone, Uuid};
use rust_decimal::Decimal;

/// What a merchant's period adds up to: payments minus refunds, in status completed or
/// refunded, created in [start, end).
pub struct PeriodTotals {
    pub tx_count: i64,
    pub total: Decimal,
    pub payload: serde_json::Value,
}

pub fn period_totals(merchant_id: Uuid, start: TimestampWithTimeZone, end: TimestampWithTimeZone) -> PeriodTotals {
    let row = query_one(
        "SELECT count(*),
                COALESCE(sum(CASE tx_type WHEN 'payment' THEN final_amount ELSE -final_amount END), 0),
                pg_catalog.jsonb_build_object(
                    'payment_count', count(*) FILTER (WHERE tx_type = 'payment'),
                    'refund_count', count(*) FILTER (WHERE tx_type = 'refund'),
                    'payment_amount', COALESCE(sum(final_amount) FILTER (WHERE tx_type = 'payment'), 0),
                    'refund_amount', COALESCE(sum(final_amount) FILTER (WHERE tx_type = 'refund'), 0))
           FROM public.transactions
          WHERE merchant_id = $1 AND created_at >= $2 AND created_at < $3
            AND tx_type IN ('payment', 'refund') AND status IN ('completed', 'refunded')",
        &[merchant_id.into(), start.into(), end.into()],
        |r| {
            Ok(PeriodTotals {
                tx_count: required(r.get::<i64>(1)?, "count"),
                total: decimal(r.get::<AnyNumeric>(2)?, "total"),
                payload: required(r.get::<JsonB>(3)?, "payload").0,
            })
        },
    );
    required(row, "period totals")
}

/// A live (not failed) settlement of the merchant overlapping the period, in any mode: a
/// merchant has one settlement history, whatever the mode of each settlement.
pub fn overlapping(merchant_id: Uuid, start: TimestampWithTimeZone, end: TimestampWithTimeZone) -> Option<Uuid> {
    value(
        "SELECT id FROM public.settlements
          WHERE merchant_id = $1 AND status <> 'failed' AND period_start < $3 AND period_end > $2
          LIMIT 1",
        &[merchant_id.into(), start.into(), end.into()],
    )
}

/// Whether this transaction runs at READ COMMITTED, where every statement sees what was
/// committed before it started (a settlement run needs that to see every movement that
/// committed while it waited for its lock).
pub fn read_committed() -> bool {
    value::<bool>("SELECT pg_catalog.current_setting('transaction_isolation') = 'read committed'", &[]) == Some(true)
}

/// A settlement, with its event (`settlement_generated`).
pub fn insert(
    merchant_id: Uuid,
    mode: SettlementMode,
    start: TimestampWithTimeZone,
    end: TimestampWithTimeZone,
    totals: &PeriodTotals,
) -> Uuid {
    let id: Option<Uuid> = value(
        &format!(
            "WITH s AS (
                 INSERT INTO public.settlements (merchant_id, mode, period_start, period_end, total_amount, total_tx_count,
                                                 payload)
                 VALUES ($1, $2::public.settlement_mode, $3, $4, $5, $6, $7)
                 RETURNING *),
             ev AS (
                 SELECT 'settlement_generated' AS event_type, NULL::uuid AS card_id, s.merchant_id, NULL::text AS tx_no,
                        s.total_amount AS amount,
                        pg_catalog.jsonb_build_object('settlement_id', s.id, 'mode', s.mode, 'period_start', s.period_start,
                                                      'period_end', s.period_end, 'total_tx_count', s.total_tx_count)
                            AS payload
                   FROM s),
             event AS ({FROM_EV})
             SELECT id FROM s"
        ),
        &[
            merchant_id.into(),
            mode.label().into(),
            start.into(),
            end.into(),
            numeric(totals.total),
            (totals.tx_count as i32).into(),
            JsonB(totals.payload.clone()).into(),
        ],
    );
    required(id, "settlements.id")
}

/// The settlement's status, row-locked.
pub fn lock_status(id: Uuid) -> Option<SettlementStatus> {
    value::<String>("SELECT status::text FROM public.settlements WHERE id = $1 FOR UPDATE", &[id.into()])
        .map(|status| label(Some(status), "settlements.status"))
}

pub fn merchant_of(id: Uuid) -> Option<Uuid> {
    value("SELECT merchant_id FROM public.settlements WHERE id = $1", &[id.into()])
}

pub fn set_status(id: Uuid, status: SettlementStatus) {
    execute(
        "UPDATE public.settlements SET status = $2::public.settlement_status WHERE id = $1",
        &[id.into(), status.label().into()],
    );
}

/// [start, end) of a UTC day; None means yesterday.
pub fn utc_day(day: Option<pgrx::datum::Date>) -> (TimestampWithTimeZone, TimestampWithTimeZone) {
    let row = query_one(
        "SELECT d::timestamp AT TIME ZONE 'UTC', (d + 1)::timestamp AT TIME ZONE 'UTC'
           FROM (SELECT COALESCE($1, (pg_catalog.now() AT TIME ZONE 'UTC')::date - 1) AS d) day",
        &[day.into()],
        |r| {
            Ok((
                required(r.get::<TimestampWithTimeZone>(1)?, "start"),
                required(r.get::<TimestampWithTimeZone>(2)?, "end"),
            ))
        },
    );
    required(row, "utc day")
}

/// Active merchants with payments or refunds in [start, end), in id order (lock order).
pub fn merchants_due(start: TimestampWithTimeZone, end: TimestampWithTimeZone) -> Vec<Uuid> {
    super::query(
        "SELECT DISTINCT t.merchant_id
           FROM public.transactions t
           JOIN public.merchants m ON m.id = t.merchant_id AND m.status = 'active'
          WHERE t.created_at >= $1 AND t.created_at < $2
            AND t.tx_type IN ('payment', 'refund') AND t.status IN ('completed', 'refunded')
          ORDER BY t.merchant_id",
        &[start.into(), end.into()],
        |r| Ok(required(r.get::<Uuid>(1)?, "merchant_id")),
    )
}
