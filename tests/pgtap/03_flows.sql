-- End-to-end flows through the RPCs, as the real roles with PostgREST's request settings.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
SELECT plan(14);

SET LOCAL role service_role;
SELECT set_config('request.jwt.claims', '{"role":"service_role"}', true);
SELECT create_merchant('PGTAP-CAFE', 'pgTAP Cafe', NULL, 'cafe-password') AS shop \gset
SELECT create_member_profile('pgTAP Carol', '0900000903', NULL, 'carol-password') AS carol \gset
SELECT id AS card FROM get_member_cards(:'carol') \gset
RESET role;

-- the member logs in with the anon key and asks to recharge their own card: the recharge
-- stays pending until the payment gateway confirms the payment
SET LOCAL role anon;
SELECT set_config('request.jwt.claims', '{"role":"anon"}', true);
SELECT member_login('0900000903', 'carol-password') ->> 'session_id' AS carol_sid \gset
SELECT is(get_user_role(p_session_id := :'carol_sid'), 'member', 'a member session resolves to the member');
SELECT tx_no AS recharge_no, amount AS asked FROM user_recharge_card(:'card', 1000, p_session_id := :'carol_sid') \gset
SELECT is(:'asked'::numeric, 1000.00, 'the member asks for a recharge of 1000.00');
SELECT results_eq(format('SELECT balance FROM get_member_cards(p_session_id := %L)', :'carol_sid'),
                  $$ VALUES (0.00::numeric) $$, 'nothing is credited before the payment is confirmed');
RESET role;
SET LOCAL role service_role;
SELECT set_config('request.jwt.claims', '{"role":"service_role"}', true);
SELECT is((SELECT amount FROM confirm_recharge(:'recharge_no')), 1000.00, 'the payment gateway confirms it');
RESET role;
SET LOCAL role anon;
SELECT set_config('request.jwt.claims', '{"role":"anon"}', true);
SELECT qr_plain AS qr FROM rotate_card_qr(:'card', p_session_id := :'carol_sid') \gset
SELECT is(length(:'qr'), 44, 'a 44-character QR token');

-- the merchant logs in and charges, then refunds part
SELECT merchant_login('PGTAP-CAFE', 'cafe-password') ->> 'session_id' AS cafe_sid \gset
SELECT final_amount AS paid, tx_no AS pay_no
  FROM merchant_charge_by_qr('PGTAP-CAFE', :'qr', 150, p_session_id := :'cafe_sid') \gset
SELECT is(:'paid'::numeric, 150.00, 'the merchant charges 150.00');
SELECT is((SELECT refunded_amount FROM merchant_refund_tx('PGTAP-CAFE', :'pay_no', 50,
                                                          p_session_id := :'cafe_sid')), 50.00,
          'the merchant refunds 50.00');
SELECT throws_ok(format('SELECT * FROM merchant_refund_tx(%L, %L, 100.01, p_session_id := %L)',
                        'PGTAP-CAFE', :'pay_no', :'cafe_sid'),
                 'P0001', 'REFUND_EXCEEDS_REMAINING', 'refunds stop at the amount paid');
SELECT results_eq(format('SELECT balance, points FROM get_member_cards(p_session_id := %L)', :'carol_sid'),
                  $$ VALUES (900.00::numeric, 100) $$,
                  'balance 1000 − 150 + 50 and two thirds of 150 points remain');
SELECT throws_ok(format('SELECT * FROM merchant_charge_by_qr(%L, %L, 1, p_session_id := %L)',
                        'PGTAP-CAFE', :'qr', :'carol_sid'),
                 '42501', 'NOT_AUTHORIZED_FOR_THIS_MERCHANT', 'a member cannot charge for the merchant');
SELECT throws_ok('SELECT set_config(''app.user_role'', ''super_admin'', false); SELECT create_merchant(''EVIL'', ''Evil'')',
                 '42501', NULL, 'a spoofed app.user_role grants nothing');
SELECT is(logout_session(:'carol_sid'), true, 'logout');
SELECT throws_ok(format('SELECT get_user_role(p_session_id := %L)', :'carol_sid'), '42501', 'SESSION_INVALID',
                 'a logged-out session is invalid at once');
RESET role;

SET LOCAL role service_role;
SELECT set_config('request.jwt.claims', '{"role":"service_role"}', true);
SELECT is_empty('SELECT * FROM verify_ledger()', 'the books balance');
RESET role;

SELECT * FROM finish();
ROLLBACK;
