use super::{execute, query, required};
use crate::domain::legacy;
use crate::domain::retention::CARRIED_FORWARD;
use pgrx::datum::Uuid;

/// One row of the points ledger.
pub fn record_points(card_id: Uuid, tx_id: Option<Uuid>, change: i32, before: i32, after: i32, reason: &str) {
    execute(
        "INSERT INTO public.point_ledger (card_id, tx_id, change, balance_before, balance_after, reason)
         VALUES ($1, $2, $3, $4, $5, $6)",
        &[card_id.into(), tx_id.into(), change.into(), before.into(), after.into(), reason.into()],
    );
}

/// A broken invariant found by verify_ledger().
pub struct Violation {
    pub card_id: Option<Uuid>,
    pub card_no: Option<String>,
    pub check_name: String,
    pub expected: String,
    pub actual: String,
}

/// Every violation of the money invariants:
/// * balance = issued_balance − payments + refunds + recharges (completed or refunded rows);
/// * points = Σ point_ledger.change, and points_earned of movements = their ledger rows
///   (for movements after the card's carried-forward row: retention folded older detail);
/// * refunds of a payment never exceed its final amount, and a payment is `refunded`
///   exactly when its refunds reach it (except payments imported with refunds the original
///   let race past them, which the import recorded as accepted anomalies);
/// * a captured hold has its one payment, of at most the hold's amount; a hold with a
///   payment is captured; a card's balance covers its active holds;
/// * every movement has its tx_registry row, with its number and stamp (follow-ups find
///   the movement's month through it: src/store/transactions.rs, `filed`).
/// * every movement's card and merchant, every points row's card and movement and every
///   request's movement exist (references the referenced side keeps: sql/18_references.sql).
pub fn violations() -> Vec<Violation> {
    query(
        "WITH movement AS (
             SELECT card_id,
                    sum(CASE tx_type WHEN 'payment' THEN -final_amount ELSE final_amount END) AS delta
               FROM public.transactions WHERE status IN ('completed', 'refunded')
              GROUP BY card_id),
         points AS (SELECT card_id, sum(change) AS total FROM public.point_ledger GROUP BY card_id),
         folded AS (
             SELECT card_id, max(created_at) AS until FROM public.point_ledger
              WHERE tx_id IS NULL AND reason = $1 GROUP BY card_id),
         refunds AS (
             SELECT p.id, p.card_id, p.tx_no, p.final_amount, p.status, COALESCE(sum(r.final_amount), 0) AS refunded
               FROM public.transactions p
               LEFT JOIN public.transactions r
                 ON r.original_tx_id = p.id AND r.tx_type = 'refund' AND r.status = 'completed'
              WHERE p.tx_type = 'payment'
                AND NOT EXISTS (SELECT FROM mps_internal.legacy_anomalies a
                                 WHERE a.tx_id = p.id AND a.kind = $2)
              GROUP BY p.id, p.card_id, p.tx_no, p.final_amount, p.status)
         SELECT c.id, c.card_no, 'balance', (c.issued_balance + COALESCE(m.delta, 0))::text, c.balance::text
           FROM public.member_cards c LEFT JOIN movement m ON m.card_id = c.id
          WHERE c.balance <> c.issued_balance + COALESCE(m.delta, 0)
         UNION ALL
         SELECT c.id, c.card_no, 'points', COALESCE(p.total, 0)::text, c.points::text
           FROM public.member_cards c LEFT JOIN points p ON p.card_id = c.id
          WHERE c.points <> COALESCE(p.total, 0)
         UNION ALL
         SELECT t.card_id, t.tx_no, 'points_earned', COALESCE(sum(l.change), 0)::text, t.points_earned::text
           FROM public.transactions t LEFT JOIN public.point_ledger l ON l.tx_id = t.id
          WHERE NOT EXISTS (SELECT 1 FROM folded f WHERE f.card_id = t.card_id AND t.created_at < f.until)
          GROUP BY t.id, t.card_id, t.tx_no, t.points_earned HAVING t.points_earned <> COALESCE(sum(l.change), 0)
         UNION ALL
         SELECT f.card_id, f.tx_no, 'refund_total', f.final_amount::text, f.refunded::text
           FROM refunds f WHERE f.refunded > f.final_amount
         UNION ALL
         SELECT f.card_id, f.tx_no, 'refund_status',
                CASE WHEN f.refunded = f.final_amount AND f.final_amount > 0 THEN 'refunded' ELSE 'completed' END,
                f.status::text
           FROM refunds f
          WHERE f.status::text <> CASE WHEN f.refunded = f.final_amount AND f.final_amount > 0
                                       THEN 'refunded' ELSE 'completed' END
         UNION ALL
         SELECT h.card_id, h.hold_no, 'hold_capture', h.amount::text, t.final_amount::text
           FROM public.card_holds h JOIN public.transactions t ON t.id = h.capture_tx_id
          WHERE t.final_amount > h.amount
         UNION ALL
         SELECT h.card_id, h.hold_no, 'hold_payment', 'one payment',
                CASE WHEN h.capture_tx_id IS NULL THEN 'none' ELSE 'a payment of another card or kind' END
           FROM public.card_holds h
           LEFT JOIN public.transactions t ON t.id = h.capture_tx_id
                                          AND t.card_id = h.card_id AND t.tx_type = 'payment'
          WHERE h.status = 'captured' AND t.id IS NULL
         UNION ALL
         SELECT c.id, c.card_no, 'hold_balance', h.held::text, c.balance::text
           FROM public.member_cards c
           JOIN (SELECT card_id, sum(amount) AS held FROM public.card_holds
                  WHERE status = 'active' AND expires_at > pg_catalog.now() GROUP BY card_id) h ON h.card_id = c.id
          WHERE c.balance < h.held
         UNION ALL
         SELECT t.card_id, t.tx_no, 'registry', t.tx_no || ' at ' || t.created_at::text,
                COALESCE(r.tx_no || ' at ' || r.created_at::text, 'missing')
           FROM public.transactions t LEFT JOIN public.tx_registry r ON r.tx_id = t.id
          WHERE r.tx_no IS DISTINCT FROM t.tx_no OR r.created_at IS DISTINCT FROM t.created_at
         UNION ALL
         SELECT t.card_id, t.tx_no, 'movement_card', t.card_id::text, 'missing'
           FROM public.transactions t
          WHERE NOT EXISTS (SELECT FROM public.member_cards c WHERE c.id = t.card_id)
         UNION ALL
         SELECT t.card_id, t.tx_no, 'movement_merchant', t.merchant_id::text, 'missing'
           FROM public.transactions t
          WHERE t.merchant_id IS NOT NULL AND NOT EXISTS (SELECT FROM public.merchants m WHERE m.id = t.merchant_id)
         UNION ALL
         SELECT l.card_id, NULL, 'points_card', l.card_id::text, 'missing'
           FROM public.point_ledger l
          WHERE NOT EXISTS (SELECT FROM public.member_cards c WHERE c.id = l.card_id)
         UNION ALL
         SELECT l.card_id, NULL, 'points_movement', l.tx_id::text, 'missing'
           FROM public.point_ledger l
          WHERE l.tx_id IS NOT NULL AND NOT EXISTS (SELECT FROM public.tx_registry r WHERE r.tx_id = l.tx_id)
         UNION ALL
         SELECT NULL, NULL, 'request_movement', i.tx_id::text, 'missing'
           FROM public.idempotency_registry i
          WHERE NOT EXISTS (SELECT FROM public.tx_registry r WHERE r.tx_id = i.tx_id)",
        &[CARRIED_FORWARD.into(), legacy::REFUNDS_DISAGREE.into()],
        |r| {
            Ok(Violation {
                card_id: r.get::<Uuid>(1)?,
                card_no: r.get::<String>(2)?,
                check_name: required(r.get::<String>(3)?, "check_name"),
                expected: required(r.get::<String>(4)?, "expected"),
                actual: required(r.get::<String>(5)?, "actual"),
            })
        },
    )
}
