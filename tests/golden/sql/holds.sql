-- Golden contract: card holds (issue 15). Authorize by QR, capture all or part at the recorded
-- rate, void, expiry, who may read balances and holds, and movements respecting what is held.
-- The whole file is one transaction: now() does not move, so expiries read as exact intervals.
\pset tuples_only on
\pset format unaligned
BEGIN;
SELECT create_member_profile('Hal', '0922000031', NULL, 'hal-password-1') AS hal \gset
SELECT create_member_profile('Ivy', '0922000032', NULL, 'ivy-password-1') AS ivy \gset
SELECT id AS card FROM get_member_cards(:'hal') \gset
SELECT create_merchant('GOLD-DELI', 'Gold Deli', NULL, 'deli-password-1') AS deli \gset
SELECT create_merchant('GOLD-RIVAL', 'Gold Rival', NULL, 'rival-password-1') AS rival \gset
SELECT merchant_login('GOLD-DELI', 'deli-password-1') ->> 'session_id' AS deli_sid \gset
SELECT merchant_login('GOLD-RIVAL', 'rival-password-1') ->> 'session_id' AS rival_sid \gset
SELECT member_login('0922000031', 'hal-password-1') ->> 'session_id' AS hal_sid \gset
SELECT member_login('0922000032', 'ivy-password-1') ->> 'session_id' AS ivy_sid \gset

-- result shapes
SELECT * FROM merchant_authorize_by_qr('x', 'x', 1) \gdesc
SELECT * FROM merchant_capture_hold('x', 'x') \gdesc
SELECT merchant_void_hold('x', 'x') \gdesc
SELECT * FROM get_card_balance(NULL) \gdesc
SELECT * FROM get_card_holds(NULL) \gdesc
SELECT * FROM get_merchant_holds(NULL) \gdesc

SELECT golden.act_as('service_role');
SELECT golden.outcome(format('SELECT amount FROM user_recharge_card(p_card_id => %L, p_amount => 1000)', :'card'));
SELECT qr_plain AS qr FROM rotate_card_qr(:'card') \gset
RESET ROLE;

-- the merchant's session authorizes: nothing moves, the amount is held
SELECT golden.act_as('anon');
SELECT golden.outcome(format('SELECT hold_no, amount, discount, expires_at - now() AS ttl'
                             '  FROM merchant_authorize_by_qr(p_merchant_code => %L, p_qr_plain => %L,'
                             ' p_raw_amount => 200, p_idempotency_key => %L, p_session_id => %L)',
                             'GOLD-DELI', :'qr', 'hold-1', :'deli_sid'));
-- the same key again: the same hold; with another amount: refused
SELECT golden.outcome(format('SELECT hold_no, amount FROM merchant_authorize_by_qr(p_merchant_code => %L,'
                             ' p_qr_plain => %L, p_raw_amount => 200, p_idempotency_key => %L, p_session_id => %L)',
                             'GOLD-DELI', :'qr', 'hold-1', :'deli_sid'));
SELECT golden.outcome(format('SELECT hold_no FROM merchant_authorize_by_qr(p_merchant_code => %L,'
                             ' p_qr_plain => %L, p_raw_amount => 201, p_idempotency_key => %L, p_session_id => %L)',
                             'GOLD-DELI', :'qr', 'hold-1', :'deli_sid'));
-- the TTL is clamped to a minute and a week
SELECT golden.outcome(format('SELECT amount, expires_at - now() AS ttl FROM merchant_authorize_by_qr('
                             'p_merchant_code => %L, p_qr_plain => %L, p_raw_amount => 50, p_idempotency_key => %L,'
                             ' p_ttl_seconds => 10, p_session_id => %L)', 'GOLD-DELI', :'qr', 'hold-2', :'deli_sid'));
SELECT golden.outcome(format('SELECT amount, expires_at - now() AS ttl FROM merchant_authorize_by_qr('
                             'p_merchant_code => %L, p_qr_plain => %L, p_raw_amount => 10, p_idempotency_key => %L,'
                             ' p_ttl_seconds => 10000000, p_session_id => %L)', 'GOLD-DELI', :'qr', 'hold-3',
                             :'deli_sid'));
-- refusals, as a charge's: 1000 − 260 held leaves 740
SELECT golden.outcome(format('SELECT hold_no FROM merchant_authorize_by_qr(p_merchant_code => %L,'
                             ' p_qr_plain => %L, p_raw_amount => 740.01, p_session_id => %L)',
                             'GOLD-DELI', :'qr', :'deli_sid'));
SELECT golden.outcome(format('SELECT hold_no FROM merchant_authorize_by_qr(p_merchant_code => %L,'
                             ' p_qr_plain => %L, p_raw_amount => 0, p_session_id => %L)', 'GOLD-DELI', :'qr', :'deli_sid'));
SELECT golden.outcome(format('SELECT hold_no FROM merchant_authorize_by_qr(p_merchant_code => %L,'
                             ' p_qr_plain => %L, p_raw_amount => 1, p_session_id => %L)',
                             'GOLD-DELI', repeat('A', 44), :'deli_sid'));
SELECT golden.outcome(format('SELECT hold_no FROM merchant_authorize_by_qr(p_merchant_code => %L,'
                             ' p_qr_plain => %L, p_raw_amount => 1, p_session_id => %L)', 'GOLD-DELI', :'qr', :'rival_sid'));
SELECT golden.outcome(format('SELECT hold_no FROM merchant_authorize_by_qr(p_merchant_code => %L,'
                             ' p_qr_plain => %L, p_raw_amount => 1, p_session_id => %L)', 'GOLD-DELI', :'qr', :'hal_sid'));
SELECT golden.outcome(format('SELECT hold_no FROM merchant_authorize_by_qr(p_merchant_code => %L,'
                             ' p_qr_plain => %L, p_raw_amount => 1)', 'GOLD-DELI', :'qr'));
RESET ROLE;
SELECT hold_no AS h1 FROM card_holds WHERE idempotency_key = 'hold-1' \gset
SELECT hold_no AS h2 FROM card_holds WHERE idempotency_key = 'hold-2' \gset
SELECT hold_no AS h3 FROM card_holds WHERE idempotency_key = 'hold-3' \gset

-- the member sees what is held on their card
SELECT golden.act_as('anon');
SELECT golden.outcome(format('SELECT * FROM get_card_balance(p_card_id => %L, p_session_id => %L)', :'card', :'hal_sid'));

-- capture part of hold 1 with a key, retry it, capture it again
SELECT golden.outcome(format('SELECT tx_no FROM merchant_capture_hold(p_merchant_code => %L, p_hold_no => %L,'
                             ' p_raw_amount => 200.01, p_session_id => %L)', 'GOLD-DELI', :'h1', :'deli_sid'));
SELECT golden.outcome(format('SELECT tx_no, final_amount, discount FROM merchant_capture_hold(p_merchant_code => %L,'
                             ' p_hold_no => %L, p_raw_amount => 150, p_idempotency_key => %L, p_session_id => %L)',
                             'GOLD-DELI', :'h1', 'capture-1', :'deli_sid'));
SELECT golden.outcome(format('SELECT tx_no, final_amount FROM merchant_capture_hold(p_merchant_code => %L,'
                             ' p_hold_no => %L, p_raw_amount => 150, p_idempotency_key => %L, p_session_id => %L)',
                             'GOLD-DELI', :'h1', 'capture-1', :'deli_sid'));
SELECT golden.outcome(format('SELECT tx_no FROM merchant_capture_hold(p_merchant_code => %L, p_hold_no => %L,'
                             ' p_session_id => %L)', 'GOLD-DELI', :'h1', :'deli_sid'));
SELECT golden.outcome(format('SELECT merchant_void_hold(p_merchant_code => %L, p_hold_no => %L, p_session_id => %L)',
                             'GOLD-DELI', :'h1', :'deli_sid'));
-- void hold 2: released once, then nothing to release, and nothing to capture
SELECT golden.outcome(format('SELECT merchant_void_hold(p_merchant_code => %L, p_hold_no => %L, p_session_id => %L)',
                             'GOLD-DELI', :'h2', :'deli_sid'));
SELECT golden.outcome(format('SELECT merchant_void_hold(p_merchant_code => %L, p_hold_no => %L, p_session_id => %L)',
                             'GOLD-DELI', :'h2', :'deli_sid'));
SELECT golden.outcome(format('SELECT tx_no FROM merchant_capture_hold(p_merchant_code => %L, p_hold_no => %L,'
                             ' p_session_id => %L)', 'GOLD-DELI', :'h2', :'deli_sid'));
-- unknown holds, another merchant's, sessions of another merchant and of a member
SELECT golden.outcome(format('SELECT tx_no FROM merchant_capture_hold(p_merchant_code => %L, p_hold_no => %L,'
                             ' p_session_id => %L)', 'GOLD-DELI', 'HLD9999999999', :'deli_sid'));
SELECT golden.outcome(format('SELECT tx_no FROM merchant_capture_hold(p_merchant_code => %L, p_hold_no => %L,'
                             ' p_session_id => %L)', 'GOLD-RIVAL', :'h3', :'rival_sid'));
SELECT golden.outcome(format('SELECT merchant_void_hold(p_merchant_code => %L, p_hold_no => %L, p_session_id => %L)',
                             'GOLD-RIVAL', :'h3', :'rival_sid'));
SELECT golden.outcome(format('SELECT tx_no FROM merchant_capture_hold(p_merchant_code => %L, p_hold_no => %L,'
                             ' p_session_id => %L)', 'GOLD-DELI', :'h3', :'rival_sid'));
SELECT golden.outcome(format('SELECT tx_no FROM merchant_capture_hold(p_merchant_code => %L, p_hold_no => %L,'
                             ' p_session_id => %L)', 'GOLD-DELI', :'h3', :'hal_sid'));
SELECT golden.outcome(format('SELECT merchant_void_hold(p_merchant_code => %L, p_hold_no => %L)', 'GOLD-DELI', :'h3'));
RESET ROLE;

-- hold 3 lapses: it stops counting at once, before any job runs
UPDATE card_holds SET expires_at = now() - interval '1 second' WHERE hold_no = :'h3';
SELECT golden.act_as('anon');
SELECT golden.outcome(format('SELECT tx_no FROM merchant_capture_hold(p_merchant_code => %L, p_hold_no => %L,'
                             ' p_session_id => %L)', 'GOLD-DELI', :'h3', :'deli_sid'));
SELECT golden.outcome(format('SELECT merchant_void_hold(p_merchant_code => %L, p_hold_no => %L, p_session_id => %L)',
                             'GOLD-DELI', :'h3', :'deli_sid'));
SELECT golden.outcome(format('SELECT * FROM get_card_balance(p_card_id => %L, p_session_id => %L)', :'card', :'hal_sid'));
SELECT golden.outcome(format('SELECT hold_no = %L AS hold_1, amount, status FROM get_card_holds(p_card_id => %L,'
                             ' p_session_id => %L) ORDER BY hold_no', :'h1', :'card', :'hal_sid'));
SELECT golden.outcome(format('SELECT card_no, balance, points, level FROM get_member_cards(%L, %L)', :'hal', :'hal_sid'));
SELECT golden.outcome(format('SELECT amount, status FROM get_merchant_holds(p_merchant_id => %L, p_session_id => %L)'
                             ' ORDER BY hold_no', :'deli', :'deli_sid'));
-- who else may read them: a stranger sees no card, a merchant reads no card, anon must sign in
SELECT golden.outcome(format('SELECT * FROM get_card_balance(p_card_id => %L, p_session_id => %L)', :'card', :'ivy_sid'));
SELECT golden.outcome(format('SELECT * FROM get_card_holds(p_card_id => %L, p_session_id => %L)', :'card', :'deli_sid'));
SELECT golden.outcome(format('SELECT * FROM get_card_balance(p_card_id => %L)', :'card'));
SELECT golden.outcome(format('SELECT * FROM get_merchant_holds(p_merchant_id => %L, p_session_id => %L)', :'deli',
                             :'rival_sid'));
RESET ROLE;

-- the maintenance job writes the lapse down
SELECT golden.act_as('service_role');
SELECT cron_rotate_qr_tokens() IS NOT NULL AS ran;
RESET ROLE;
SELECT status FROM card_holds WHERE hold_no = :'h3';

-- a card frozen after the authorization cannot be captured; what is held cannot be charged
SELECT golden.act_as('service_role');
SELECT golden.outcome(format('SELECT amount FROM merchant_authorize_by_qr(p_merchant_code => %L, p_qr_plain => %L,'
                             ' p_raw_amount => 100, p_idempotency_key => %L)', 'GOLD-DELI', :'qr', 'hold-4'));
RESET ROLE;
SELECT hold_no AS h4 FROM card_holds WHERE idempotency_key = 'hold-4' \gset
SELECT golden.act_as('service_role');
SELECT golden.outcome(format('SELECT hold_no FROM merchant_authorize_by_qr(p_merchant_code => %L,'
                             ' p_qr_plain => %L, p_raw_amount => 1)', 'NO-SUCH-SHOP', :'qr'));
SELECT golden.outcome(format('SELECT merchant_void_hold(p_merchant_code => %L, p_hold_no => %L)',
                             'NO-SUCH-SHOP', :'h4'));
SELECT golden.outcome(format('SELECT freeze_card(%L)', :'card'));
SELECT golden.outcome(format('SELECT tx_no FROM merchant_capture_hold(p_merchant_code => %L, p_hold_no => %L)',
                             'GOLD-DELI', :'h4'));
SELECT golden.outcome(format('SELECT unfreeze_card(%L)', :'card'));
SELECT qr_plain AS qr2 FROM rotate_card_qr(:'card') \gset
SELECT golden.outcome(format('SELECT * FROM get_card_balance(p_card_id => %L)', :'card'));
SELECT golden.outcome(format('SELECT tx_no FROM merchant_charge_by_qr(%L, %L, 750.01)', 'GOLD-DELI', :'qr2'));
SELECT golden.outcome(format('SELECT final_amount FROM merchant_charge_by_qr(%L, %L, 750)', 'GOLD-DELI', :'qr2'));
SELECT golden.outcome(format('SELECT final_amount FROM merchant_capture_hold(p_merchant_code => %L, p_hold_no => %L)',
                             'GOLD-DELI', :'h4'));
SELECT golden.outcome(format('SELECT * FROM get_card_balance(p_card_id => %L)', :'card'));
SELECT golden.outcome('SELECT * FROM verify_ledger()');
RESET ROLE;
ROLLBACK;
