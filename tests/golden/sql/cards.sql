-- Golden contract: cards, shared corporate cards and their bindings, freezing, QR codes.
\pset tuples_only on
\pset format unaligned
BEGIN;
SELECT create_member_profile('Di', '0933000001', NULL, 'di-password-1') AS di \gset
SELECT create_member_profile('Ed', '0933000002', NULL, 'ed-password-1') AS ed \gset
SELECT id AS di_card FROM get_member_cards(:'di') \gset
SELECT id AS ed_card FROM get_member_cards(:'ed') \gset
SELECT member_login('0933000002', 'ed-password-1') ->> 'session_id' AS ed_sid \gset

-- result shapes
SELECT * FROM get_member_cards(NULL) \gdesc
SELECT * FROM get_card_detail(NULL) \gdesc
SELECT * FROM get_card_bindings(NULL) \gdesc
SELECT * FROM rotate_card_qr(NULL) \gdesc

SELECT golden.act_as('service_role');
SELECT create_corporate_card(:'di', 'Team', 250, 0.800) AS corp \gset
SELECT golden.outcome(format('SELECT card_no, card_type, balance, fixed_discount, status FROM get_card_detail(%L)', :'corp'));
SELECT golden.outcome(format('SELECT create_corporate_card(%L, %L, 0, 1.5)', :'di', 'Bad'));
SELECT golden.outcome(format('SELECT create_voucher_card(%L, %L, -1)', :'di', 'Bad'));
SELECT golden.outcome(format('SELECT bind_member_to_card(%L, %L)', :'di_card', :'ed'));
SELECT golden.outcome(format('SELECT set_card_binding_password(%L, %L)', :'corp', 'bind-password-1'));
SELECT golden.outcome(format('SELECT set_card_binding_password(%L, %L)', :'corp', 'short'));
RESET ROLE;

-- Ed binds himself with the card's binding password
SELECT golden.act_as('anon');
SELECT golden.outcome(format('SELECT bind_member_to_card(%L, %L, %L, %L, %L)', :'corp', :'ed', 'member',
                             'wrong-password', :'ed_sid'));
SELECT golden.outcome(format('SELECT bind_member_to_card(%L, %L, %L, %L, %L)', :'corp', :'ed', 'member',
                             'bind-password-1', :'ed_sid'));
SELECT golden.outcome(format('SELECT card_no, discount FROM get_member_cards(%L, %L)', :'ed', :'ed_sid'));
SELECT golden.outcome(format('SELECT member_no, member_name, role FROM get_card_bindings(%L, %L) ORDER BY role', :'corp', :'ed_sid'));
SELECT golden.outcome(format('SELECT card_no FROM get_card_detail(%L, %L)', :'di_card', :'ed_sid'));
SELECT golden.outcome(format('SELECT qr_plain IS NOT NULL AS issued FROM rotate_card_qr(%L, 60, %L)', :'di_card', :'ed_sid'));
SELECT golden.outcome(format('SELECT qr_plain IS NOT NULL AS issued FROM rotate_card_qr(%L, 60, %L)', :'ed_card', :'ed_sid'));
SELECT golden.outcome(format('SELECT revoke_card_qr(%L, %L)', :'ed_card', :'ed_sid'));
SELECT golden.outcome(format('SELECT revoke_card_qr(%L, %L)', :'ed_card', :'ed_sid'));
SELECT golden.outcome(format('SELECT unbind_member_from_card(%L, %L, %L)', :'corp', :'ed', :'ed_sid'));
SELECT golden.outcome(format('SELECT card_no, discount FROM get_member_cards(%L, %L)', :'ed', :'ed_sid'));
SELECT golden.outcome(format('SELECT freeze_card(%L)', :'ed_card'));
RESET ROLE;

SELECT golden.act_as('service_role');
SELECT golden.outcome(format('SELECT freeze_card(%L)', :'ed_card'));
SELECT golden.outcome(format('SELECT status FROM get_card_detail(%L)', :'ed_card'));
SELECT golden.outcome(format('SELECT qr_plain FROM rotate_card_qr(%L)', :'ed_card'));
SELECT golden.outcome(format('SELECT unfreeze_card(%L)', :'ed_card'));
SELECT golden.outcome(format('SELECT unfreeze_card(%L)', :'ed_card'));
SELECT golden.outcome('SELECT validate_qr_plain(''not-a-code'')');
SELECT golden.outcome('SELECT freeze_card(''00000000-0000-0000-0000-000000000009'')');

-- more refusals
SELECT golden.outcome(format('SELECT set_card_binding_password(%L, %L)', :'di_card', 'bind-password-1'));
SELECT golden.outcome(format('SELECT unbind_member_from_card(%L, %L)', :'corp', :'ed'));
SELECT golden.outcome(format('SELECT unbind_member_from_card(%L, %L)', :'corp', :'di'));
SELECT create_corporate_card(:'di', 'Open') AS open_corp \gset
SELECT golden.outcome(format('SELECT create_voucher_card(%L, %L, 20, now() - interval %L)', :'ed', 'Gift', '1 day'));
SELECT create_voucher_card(:'ed', 'Gift', 20, now() + interval '1 day') AS voucher \gset
SELECT qr_plain AS voucher_qr FROM rotate_card_qr(:'voucher') \gset
RESET ROLE;
UPDATE member_cards SET expires_at = now() - interval '1 second' WHERE id = :'voucher';  -- it has expired since
SELECT golden.act_as('service_role');
SELECT create_merchant('GOLD-DELI', 'Gold Deli', NULL, 'deli-password-1') IS NOT NULL AS made \gset
SELECT golden.outcome(format('SELECT tx_no FROM merchant_charge_by_qr(%L, %L, 1)', 'GOLD-DELI', :'voucher_qr'));
RESET ROLE;
SELECT golden.act_as('anon');
SELECT golden.outcome(format('SELECT bind_member_to_card(%L, %L, %L, %L, %L)', :'open_corp', :'ed', 'member',
                             'any-password', :'ed_sid'));
SELECT golden.outcome(format('SELECT bind_member_to_card(%L, %L, %L, %L, %L)', :'corp', :'ed', 'member',
                             'wrong-password', :'ed_sid')) FROM generate_series(1, 5);
SELECT golden.outcome(format('SELECT bind_member_to_card(%L, %L, %L, %L, %L)', :'corp', :'ed', 'member',
                             'bind-password-1', :'ed_sid'));
ROLLBACK;
