//! Retention's statements: each removes at most one batch of rows older than a cutoff.

use super::{query_one, required, value};
use crate::domain::retention::{Table, CARRIED_FORWARD};
use pgrx::datum::TimestampWithTimeZone;

/// The transaction's clock (now()), in microseconds: the time every cutoff counts back from.
pub fn now() -> i64 {
    required(value::<TimestampWithTimeZone>("SELECT pg_catalog.now()", &[]), "now()").into_inner()
}

pub fn timestamp(micros: i64) -> TimestampWithTimeZone {
    TimestampWithTimeZone::try_from(micros).unwrap_or_else(|_| TimestampWithTimeZone::negative_infinity())
}

/// What one batch did: the rows it took, and by how many rows the table shrank (fewer when
/// the point ledger wrote carried-forward rows for what it took).
pub struct Swept {
    pub taken: i64,
    pub removed: i64,
}

/// Removes the oldest rows of `table` older than `before`, at most `limit` (None: all).
pub fn sweep(table: Table, before: i64, limit: Option<i64>) -> Swept {
    let (relation, column) = match table {
        Table::PointLedger => return carry_forward(before, limit),
        Table::AuditLog => ("audit.event_log", "happened_at"),
        Table::IdempotencyRegistry => ("public.idempotency_registry", "created_at"),
        Table::MerchantOrderRegistry => ("public.merchant_order_registry", "created_at"),
        Table::AppSessions => ("public.app_sessions", "expires_at"),
        Table::CardQrHistory => ("public.card_qr_history", "issued_at"),
        Table::Events => ("public.events", "occurred_at"),
    };
    // The oldest first, through the time column's index; LIMIT NULL is no limit.
    let removed = value::<i64>(
        &format!(
            "WITH gone AS (
                 DELETE FROM {relation}
                  WHERE ctid = ANY (ARRAY(SELECT ctid FROM {relation} WHERE {column} < $1 ORDER BY {column} LIMIT $2))
                 RETURNING 1)
             SELECT count(*) FROM gone"
        ),
        &[timestamp(before).into(), limit.into()],
    )
    .unwrap_or(0);
    Swept { taken: removed, removed }
}

/// Folds point ledger detail older than `before` into one carried-forward row per card, dated
/// `before`, whose change is the sum of what it replaces: Σ change per card (the card's points)
/// is unchanged, and so is each card's running balance after `before`. Takes at most `limit`
/// rows, the oldest of each card first, from cards with detail (not only their opening row)
/// older than `before`. Card by card (the LATERAL ... LIMIT 1 keeps it a probe of the card's
/// (card_id, created_at) index, never a scan of the whole ledger), and the rows taken are
/// deleted by their primary key.
fn carry_forward(before: i64, limit: Option<i64>) -> Swept {
    let row = query_one(
        "WITH taken AS (
             SELECT l.id
               FROM public.member_cards c
              CROSS JOIN LATERAL (
                    SELECT 1 FROM public.point_ledger d
                     WHERE d.card_id = c.id AND d.created_at < $1
                       AND (d.tx_id IS NOT NULL OR d.reason IS DISTINCT FROM $3)
                     LIMIT 1) due
              CROSS JOIN LATERAL (
                    SELECT pl.id FROM public.point_ledger pl
                     WHERE pl.card_id = c.id AND pl.created_at < $1
                     ORDER BY pl.created_at LIMIT $2) l
              LIMIT $2),
         gone AS (
             DELETE FROM public.point_ledger WHERE id = ANY (ARRAY(SELECT id FROM taken))
             RETURNING card_id, change),
         carried AS (
             INSERT INTO public.point_ledger (card_id, tx_id, change, balance_before, balance_after, reason, created_at)
             SELECT card_id, NULL, sum(change), 0, sum(change), $3, $1 FROM gone GROUP BY card_id
             RETURNING 1)
         SELECT (SELECT count(*) FROM gone), (SELECT count(*) FROM carried)",
        &[timestamp(before).into(), limit.into(), CARRIED_FORWARD.into()],
        |r| Ok((required(r.get::<i64>(1)?, "taken"), required(r.get::<i64>(2)?, "carried"))),
    );
    let (taken, carried) = required(row, "point ledger batch");
    Swept { taken, removed: taken - carried }
}
