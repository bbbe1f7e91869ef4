-- Golden contract: settlements, transaction history and reports.
\pset tuples_only on
\pset format unaligned
BEGIN;
SELECT create_member_profile('Fa', '0944000001', NULL, 'fa-password-1') AS fa \gset
SELECT id AS card FROM get_member_cards(:'fa') \gset
SELECT create_merchant('GOLD-BAR', 'Gold Bar', NULL, 'bar-password-1') AS bar \gset
SELECT merchant_login('GOLD-BAR', 'bar-password-1') ->> 'session_id' AS bar_sid \gset
SELECT * FROM user_recharge_card(:'card', 300) \gset
SELECT qr_plain AS qr FROM rotate_card_qr(:'card') \gset
SELECT tx_no AS paid FROM merchant_charge_by_qr('GOLD-BAR', :'qr', 80) \gset
SELECT * FROM merchant_refund_tx('GOLD-BAR', :'paid', 30) \gset

-- result shapes
SELECT * FROM generate_settlement(NULL, 'realtime', NULL, NULL) \gdesc
SELECT * FROM list_settlements(NULL) \gdesc
SELECT * FROM get_transaction_detail(NULL) \gdesc
SELECT * FROM get_member_transactions(NULL) \gdesc
SELECT * FROM get_merchant_transactions(NULL) \gdesc
SELECT * FROM get_today_transaction_stats() \gdesc

SELECT golden.act_as('anon');
SELECT golden.outcome(format('SELECT tx_type, final_amount, status FROM get_merchant_transactions(%L, 50, 0, NULL, NULL, %L)'
                             ' ORDER BY tx_no', :'bar', :'bar_sid'));
SELECT golden.outcome(format('SELECT tx_no, tx_type, raw_amount, final_amount, status FROM get_transaction_detail(%L, %L)',
                             :'paid', :'bar_sid'));
SELECT golden.outcome(format('SELECT * FROM get_today_transaction_stats(%L, %L)', :'bar', :'bar_sid'));
SELECT golden.outcome(format('SELECT generate_settlement(%L, %L, now() - interval %L, now() + interval %L, %L)',
                             :'bar', 'realtime', '1 day', '1 day', :'bar_sid'));
SELECT golden.outcome(format('SELECT generate_settlement(%L, %L, now(), now() - interval %L, %L)',
                             :'bar', 'realtime', '1 day', :'bar_sid'));
-- this file's movements are stamped after its transaction began: moved a second back, they
-- fall in a period that has ended
RESET ROLE;
UPDATE transactions SET created_at = now() - interval '1 second' WHERE merchant_id = :'bar';
SELECT golden.act_as('anon');
SELECT golden.outcome(format('SELECT generate_settlement(%L, %L, now() - interval %L, now(), %L) IS NOT NULL AS made',
                             :'bar', 'realtime', '1 day', :'bar_sid'));
SELECT golden.outcome(format('SELECT generate_settlement(%L, %L, now() - interval %L, now(), %L)',
                             :'bar', 't_plus_1', '2 days', :'bar_sid'));
SELECT golden.outcome(format('SELECT mode, total_amount, total_tx_count, status FROM list_settlements(%L, 50, 0, %L)',
                             :'bar', :'bar_sid'));
SELECT golden.outcome(format('SELECT get_member_transactions(%L, 50, 0, NULL, NULL, %L)', :'fa', :'bar_sid'));
RESET ROLE;

SELECT golden.act_as('service_role');
SELECT id AS settlement FROM list_settlements(:'bar') \gset
SELECT golden.outcome(format('SELECT update_settlement_status(%L, %L)', :'settlement', 'paid'));
SELECT golden.outcome(format('SELECT update_settlement_status(%L, %L)', :'settlement', 'settled'));
SELECT golden.outcome(format('SELECT update_settlement_status(%L, %L)', :'settlement', 'paid'));
SELECT golden.outcome(format('SELECT mode, total_amount, status FROM get_settlement_detail(%L)', :'settlement'));
SELECT golden.outcome('SELECT get_settlement_detail(''00000000-0000-0000-0000-000000000009'')');
SELECT golden.outcome(format('SELECT tx_type, final_amount, status FROM get_member_transactions(%L) ORDER BY tx_no', :'fa'));
SELECT golden.outcome('SELECT members_total, cards_total, merchants_total FROM get_system_statistics()');
SELECT golden.outcome('SELECT check_name, status FROM system_health_check() ORDER BY check_name');

-- a period with no movement
SELECT golden.outcome(format('SELECT generate_settlement(%L, %L, now() - interval %L, now() - interval %L)',
                             :'bar', 'monthly', '400 days', '370 days'));
ROLLBACK;
