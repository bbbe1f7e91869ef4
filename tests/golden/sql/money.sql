-- Golden contract: charges by QR, refunds, recharges (pending and confirmed), points and levels.
\pset tuples_only on
\pset format unaligned
BEGIN;
SELECT create_member_profile('Cy', '0922000001', NULL, 'cy-password-1') AS cy \gset
SELECT id AS card FROM get_member_cards(:'cy') \gset
SELECT create_merchant('GOLD-CAFE', 'Gold Cafe', NULL, 'cafe-password-1') AS cafe \gset
SELECT merchant_login('GOLD-CAFE', 'cafe-password-1') ->> 'session_id' AS cafe_sid \gset
SELECT member_login('0922000001', 'cy-password-1') ->> 'session_id' AS cy_sid \gset

-- result shapes
SELECT * FROM merchant_charge_by_qr('x', 'x', 1) \gdesc
SELECT * FROM merchant_refund_tx('x', 'x', 1) \gdesc
SELECT * FROM user_recharge_card(NULL, 1) \gdesc
SELECT * FROM get_point_ledger(NULL) \gdesc

-- service_role recharges: complete at once
SELECT golden.act_as('service_role');
SELECT golden.outcome(format('SELECT tx_no, amount FROM user_recharge_card(%L, 500, %L, %L, %L)',
                             :'card', 'cash', '{}', 'rc-1'));
SELECT golden.outcome(format('SELECT tx_no, amount FROM user_recharge_card(%L, 500, %L, %L, %L)',
                             :'card', 'cash', '{}', 'rc-1'));
SELECT golden.outcome(format('SELECT tx_no FROM user_recharge_card(%L, 501, %L, %L, %L)', :'card', 'cash', '{}', 'rc-1'));
SELECT golden.outcome(format('SELECT tx_no FROM user_recharge_card(%L, 0)', :'card'));
SELECT golden.outcome(format('SELECT tx_no FROM user_recharge_card(%L, 1.005)', :'card'));
SELECT golden.outcome(format('SELECT tx_no FROM user_recharge_card(%L, 10000000000)', :'card'));
SELECT golden.outcome('SELECT tx_no FROM user_recharge_card(''00000000-0000-0000-0000-000000000009'', 10)');
SELECT qr_plain AS qr FROM rotate_card_qr(:'card') \gset
RESET ROLE;

-- the merchant's session charges and refunds
SELECT golden.act_as('anon');
SELECT golden.outcome(format('SELECT tx_no, final_amount, discount FROM merchant_charge_by_qr(%L, %L, 120.50, %L, %L, NULL, %L)',
                             'GOLD-CAFE', :'qr', 'pay-1', '{}', :'cafe_sid'));
SELECT golden.outcome(format('SELECT tx_no, final_amount FROM merchant_charge_by_qr(%L, %L, 120.50, %L, %L, NULL, %L)',
                             'GOLD-CAFE', :'qr', 'pay-1', '{}', :'cafe_sid'));
SELECT golden.outcome(format('SELECT tx_no FROM merchant_charge_by_qr(%L, %L, 99, %L, %L, NULL, %L)',
                             'GOLD-CAFE', :'qr', 'pay-1', '{}', :'cafe_sid'));
SELECT golden.outcome(format('SELECT tx_no FROM merchant_charge_by_qr(%L, %L, 5000, NULL, %L, NULL, %L)',
                             'GOLD-CAFE', :'qr', '{}', :'cafe_sid'));
SELECT golden.outcome(format('SELECT tx_no FROM merchant_charge_by_qr(%L, %L, -1, NULL, %L, NULL, %L)',
                             'GOLD-CAFE', :'qr', '{}', :'cafe_sid'));
SELECT golden.outcome(format('SELECT tx_no FROM merchant_charge_by_qr(%L, %L, 1, NULL, %L, NULL, %L)',
                             'GOLD-CAFE', 'not-a-code', '{}', :'cafe_sid'));
SELECT golden.outcome(format('SELECT tx_no FROM merchant_charge_by_qr(%L, %L, 1, NULL, %L, NULL, %L)',
                             'OTHER-SHOP', :'qr', '{}', :'cafe_sid'));
SELECT golden.outcome(format('SELECT tx_no FROM merchant_charge_by_qr(%L, %L, 1)', 'GOLD-CAFE', :'qr'));
SELECT golden.outcome(format('SELECT refund_tx_no, refunded_amount FROM merchant_refund_tx(%L, %L, 20.50, %L, %L, %L)',
                             'GOLD-CAFE', 'PAY0000000003', '{}', :'cafe_sid', 'refund-1'));
-- the same key again: the same refund, nothing paid twice; with another amount: refused
SELECT golden.outcome(format('SELECT refund_tx_no, refunded_amount FROM merchant_refund_tx(%L, %L, 20.50, %L, %L, %L)',
                             'GOLD-CAFE', 'PAY0000000003', '{}', :'cafe_sid', 'refund-1'));
SELECT golden.outcome(format('SELECT refund_tx_no FROM merchant_refund_tx(%L, %L, 20.00, %L, %L, %L)',
                             'GOLD-CAFE', 'PAY0000000003', '{}', :'cafe_sid', 'refund-1'));
SELECT golden.outcome(format('SELECT refund_tx_no FROM merchant_refund_tx(%L, %L, 100.01, %L, %L)',
                             'GOLD-CAFE', 'PAY0000000003', '{}', :'cafe_sid'));
SELECT golden.outcome(format('SELECT refund_tx_no FROM merchant_refund_tx(%L, %L, 1, %L, %L)',
                             'GOLD-CAFE', 'PAY0000009999', '{}', :'cafe_sid'));
SELECT golden.outcome(format('SELECT refund_tx_no FROM merchant_refund_tx(%L, %L, 1, %L, %L)',
                             'GOLD-CAFE', 'RCG0000000001', '{}', :'cafe_sid'));

-- the member's own session: balance, points, ledger; a member's recharge waits for confirmation
SELECT golden.outcome(format('SELECT card_no, balance, points, level, discount, status FROM get_member_cards(%L, %L)',
                             :'cy', :'cy_sid'));
SELECT golden.outcome(format('SELECT change, balance_before, balance_after, reason FROM get_point_ledger(%L, 50, 0, %L)',
                             :'card', :'cy_sid'));
SELECT golden.outcome(format('SELECT tx_no, amount FROM user_recharge_card(%L, 50, %L, %L, NULL, NULL, %L)',
                             :'card', 'wechat', '{}', :'cy_sid'));
SELECT golden.outcome(format('SELECT confirm_recharge(%L, %L)', 'RCG0000000005', :'cy_sid'));
SELECT golden.outcome(format('SELECT update_points_and_level(%L, 5000, %L, %L)', :'card', 'manual_adjust', :'cy_sid'));
SELECT golden.outcome('SELECT compute_level(5000) AS level, compute_discount(5000) AS discount');
RESET ROLE;

SELECT golden.act_as('service_role');
SELECT golden.outcome('SELECT tx_no, amount FROM confirm_recharge(''RCG0000000005'')');
SELECT golden.outcome('SELECT tx_no, amount FROM confirm_recharge(''RCG0000000005'')');
SELECT golden.outcome('SELECT cancel_recharge(''RCG0000000005'', ''too late'') AS r');
SELECT golden.outcome('SELECT tx_no FROM confirm_recharge(''RCG0000009999'')');
SELECT golden.outcome(format('SELECT update_points_and_level(%L, 5000)', :'card'));
SELECT golden.outcome(format('SELECT card_no, balance, points, level, discount FROM get_member_cards(%L)', :'cy'));
SELECT golden.outcome('SELECT * FROM verify_ledger()');

-- more refusals
SELECT golden.outcome(format('SELECT update_points_and_level(%L, 1, %L)', :'card', 'carried_forward'));
SELECT create_corporate_card(:'cy', 'Team', 100) AS corp \gset
SELECT golden.outcome(format('SELECT qr_plain FROM rotate_card_qr(%L)', :'corp'));
SELECT golden.outcome(format('SELECT tx_no FROM user_recharge_card(%L, 10)', :'corp'));
SELECT golden.outcome(format('SELECT update_points_and_level(%L, 10)', :'corp'));
SELECT qr_plain AS qr2 FROM rotate_card_qr(:'card') \gset
RESET ROLE;
SELECT golden.act_as('anon');
SELECT golden.outcome(format('SELECT tx_no FROM merchant_charge_by_qr(%L, %L, 1, NULL, %L, NULL, %L)',
                             'GOLD-CAFE', :'qr', '{}', :'cafe_sid'));
SELECT golden.outcome(format('SELECT final_amount FROM merchant_charge_by_qr(%L, %L, 2, NULL, %L, %L, %L)',
                             'GOLD-CAFE', :'qr2', '{}', 'order-1', :'cafe_sid'));
SELECT golden.outcome(format('SELECT final_amount FROM merchant_charge_by_qr(%L, %L, 3, NULL, %L, %L, %L)',
                             'GOLD-CAFE', :'qr2', '{}', 'order-1', :'cafe_sid'));
SELECT golden.outcome(format('SELECT refund_tx_no FROM merchant_refund_tx(%L, %L, 0, %L, %L)',
                             'GOLD-CAFE', 'PAY0000000003', '{}', :'cafe_sid'));
SELECT golden.outcome(format('SELECT refund_tx_no FROM merchant_refund_tx(%L, %L, 1, %L, %L)',
                             'GOLD-CAFE', 'REF0000000004', '{}', :'cafe_sid'));
RESET ROLE;
SELECT golden.act_as('service_role');
SELECT golden.outcome(format('SELECT admin_suspend_member(%L)', :'cy'));
SELECT golden.outcome(format('SELECT tx_no FROM merchant_charge_by_qr(%L, %L, 1)', 'GOLD-CAFE', :'qr2'));
SELECT golden.outcome(format('SELECT admin_activate_member(%L)', :'cy'));
SELECT golden.outcome(format('SELECT admin_suspend_merchant(%L)', :'cafe'));
SELECT golden.outcome(format('SELECT tx_no FROM merchant_charge_by_qr(%L, %L, 1)', 'GOLD-CAFE', :'qr2'));
ROLLBACK;
