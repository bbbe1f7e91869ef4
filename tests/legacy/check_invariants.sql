-- tests/legacy/check_invariants.sql — sanity checks for a database built by generate.sql.
-- Each query lists VIOLATIONS; the expected rows are exactly the planted anomalies (A1..A5).
\pset pager off
\echo == counts
SELECT (SELECT count(*) FROM member_profiles) members, (SELECT count(*) FROM merchants) merchants,
       (SELECT count(*) FROM member_cards) cards, (SELECT count(*) FROM card_bindings) bindings,
       (SELECT count(*) FROM transactions) tx, (SELECT count(*) FROM tx_registry) tx_registry,
       (SELECT count(*) FROM point_ledger) ledger, (SELECT count(*) FROM idempotency_registry) idem,
       (SELECT count(*) FROM merchant_order_registry) orders, (SELECT count(*) FROM settlements) settlements,
       (SELECT count(*) FROM audit.event_log) audit;
SELECT tx_type, status, count(*), sum(final_amount) FROM transactions GROUP BY 1, 2 ORDER BY 1, 2;
\echo == balance <> initial + movements (expect A1 only; standard cards start at 0)
WITH m AS (SELECT card_id, sum(CASE tx_type WHEN 'payment' THEN -final_amount ELSE final_amount END) d
             FROM transactions GROUP BY card_id)
SELECT c.card_no, c.balance, coalesce(m.d, 0) AS movements
  FROM member_cards c LEFT JOIN m ON m.card_id = c.id
 WHERE c.card_type = 'standard' AND c.balance <> coalesce(m.d, 0);
\echo == points <> sum(ledger.change) (expect A3 only)
WITH l AS (SELECT card_id, sum(change) s FROM point_ledger GROUP BY card_id)
SELECT c.card_no, c.points, l.s FROM member_cards c LEFT JOIN l ON l.card_id = c.id
 WHERE c.points <> coalesce(l.s, 0);
\echo == level/discount inconsistent with points (expect none)
SELECT card_no FROM member_cards WHERE card_type = 'standard'
   AND (level <> compute_level(points) OR discount <> compute_discount(points));
\echo == ledger chain broken (before/after) per card (expect none; the A3 row is clamped: after = 0)
SELECT card_id, change, balance_before, balance_after FROM point_ledger
 WHERE balance_after <> GREATEST(0, balance_before + change);
\echo == payments: points_earned <> floor(raw), final <> round(raw*disc,2) (expect none)
SELECT tx_no FROM transactions WHERE tx_type = 'payment'
   AND (points_earned <> floor(raw_amount) OR final_amount <> round(raw_amount * discount_applied, 2));
\echo == tx missing from tx_registry / registry mismatch (expect none)
SELECT t.tx_no FROM transactions t LEFT JOIN tx_registry r ON r.tx_no = t.tx_no WHERE r.tx_id IS DISTINCT FROM t.id;
\echo == refunds exceeding the original (expect A2 only, original still completed)
SELECT o.tx_no, o.status, o.final_amount, sum(r.final_amount) refunded
  FROM transactions o JOIN transactions r ON r.tx_type = 'refund' AND r.reason = o.tx_no AND r.card_id = o.card_id
 WHERE o.tx_type = 'payment' GROUP BY 1, 2, 3 HAVING sum(r.final_amount) > o.final_amount;
\echo == 'refunded' status inconsistent with refunds (expect none)
SELECT o.tx_no FROM transactions o
  LEFT JOIN (SELECT reason, sum(final_amount) s FROM transactions WHERE tx_type = 'refund' GROUP BY 1) r ON r.reason = o.tx_no
 WHERE o.tx_type = 'payment' AND (o.status = 'refunded') <> (coalesce(r.s, 0) >= o.final_amount AND r.s <= o.final_amount);
\echo == refund whose original merchant/card differs or original_tx_id set (expect none)
SELECT r.tx_no FROM transactions r LEFT JOIN transactions o ON o.tx_no = r.reason
 WHERE r.tx_type = 'refund' AND (o.id IS NULL OR o.merchant_id <> r.merchant_id OR o.card_id <> r.card_id
       OR r.original_tx_id IS NOT NULL OR r.created_at < o.created_at);
\echo == running balance ever negative (expect none)
SELECT card_id, min(run) FROM (
  SELECT card_id, sum(CASE tx_type WHEN 'payment' THEN -final_amount ELSE final_amount END)
           OVER (PARTITION BY card_id ORDER BY created_at, tx_no) run FROM transactions) s
 GROUP BY card_id HAVING min(run) < 0;
\echo == orphan idempotency keys (expect A4 only)
SELECT r.* FROM idempotency_registry r WHERE NOT EXISTS (SELECT 1 FROM transactions t WHERE t.id = r.tx_id);
\echo == processing transactions (expect A5 only)
SELECT tx_no, tx_type, tag FROM transactions WHERE status = 'processing';
\echo == tagged anomalies
SELECT tx_no, tx_type, reason, status, final_amount, tag FROM transactions WHERE tag ? 'fixture_anomaly';
\echo == settlements that no longer match the transactions (expect none)
SELECT s.id FROM settlements s WHERE (s.total_amount, s.total_tx_count) <>
  (SELECT coalesce(sum(CASE WHEN tx_type = 'payment' THEN final_amount ELSE -final_amount END), 0), count(*)
     FROM transactions t WHERE t.merchant_id = s.merchant_id AND t.created_at >= s.period_start
      AND t.created_at < s.period_end AND t.status IN ('completed','refunded'));
\echo == sequences
SELECT (SELECT last_value FROM seq_member_no) >= (SELECT max(substr(member_no, 2)::int) FROM member_profiles) member_ok,
       (SELECT last_value FROM seq_card_no) >= (SELECT max(substr(card_no, 4)::int) FROM member_cards) card_ok,
       (SELECT last_value FROM seq_tx_no) >= (SELECT max(substr(tx_no, 4)::bigint) FROM transactions) tx_ok;
