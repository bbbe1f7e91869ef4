-- Golden contract: the event feed (issue 16). Who may read it, and the events the movements
-- write. The file is one transaction, and get_events never hands out events of a transaction
-- still in flight (this one included: a feed is read after commit), so the events themselves
-- are shown from public.events.
\pset tuples_only on
\pset format unaligned
BEGIN;
SELECT create_member_profile('Eva', '0922000041', NULL, 'eva-password-1') AS eva \gset
SELECT id AS card FROM get_member_cards(:'eva') \gset
SELECT create_merchant('GOLD-FEED', 'Gold Feed', NULL, 'feed-password-1') AS feed \gset
SELECT merchant_login('GOLD-FEED', 'feed-password-1') ->> 'session_id' AS feed_sid \gset
SELECT member_login('0922000041', 'eva-password-1') ->> 'session_id' AS eva_sid \gset

SELECT * FROM get_events() \gdesc

-- a recharge, a charge, a partial refund, points, a freeze and back, a hold voided
SELECT golden.act_as('service_role');
SELECT golden.outcome(format('SELECT amount FROM user_recharge_card(p_card_id => %L, p_amount => 300,'
                             ' p_tag => %L)', :'card', '{"channel": "counter"}'));
SELECT qr_plain AS qr FROM rotate_card_qr(:'card') \gset
RESET ROLE;
SELECT golden.act_as('anon');
SELECT tx_no AS paid FROM merchant_charge_by_qr(p_merchant_code => 'GOLD-FEED', p_qr_plain => :'qr',
       p_raw_amount => 120, p_tag => '{"table": 7}', p_session_id => :'feed_sid') \gset
SELECT golden.outcome(format('SELECT refunded_amount FROM merchant_refund_tx(p_merchant_code => %L,'
                             ' p_original_tx_no => %L, p_refund_amount => 20, p_session_id => %L)',
                             'GOLD-FEED', :'paid', :'feed_sid'));
SELECT hold_no AS held FROM merchant_authorize_by_qr(p_merchant_code => 'GOLD-FEED', p_qr_plain => :'qr',
       p_raw_amount => 50, p_session_id => :'feed_sid') \gset
SELECT golden.outcome(format('SELECT merchant_void_hold(p_merchant_code => %L, p_hold_no => %L, p_session_id => %L)',
                             'GOLD-FEED', :'held', :'feed_sid'));
RESET ROLE;
SELECT golden.act_as('service_role');
SELECT golden.outcome(format('SELECT update_points_and_level(p_card_id => %L, p_delta_points => 5,'
                             ' p_reason => %L)', :'card', 'welcome'));
SELECT golden.outcome(format('SELECT freeze_card(%L), unfreeze_card(%L)', :'card', :'card'));
RESET ROLE;

-- the events, in id order
SELECT golden.outcome(format('SELECT event_type, tx_no IS NOT NULL AS numbered, amount, balance_after,'
                             ' member_id = %L AS owner, merchant_id = %L AS at_merchant, payload - %L AS payload'
                             '  FROM public.events WHERE card_id = %L ORDER BY id',
                             :'eva', :'feed', 'expires_at', :'card'));
-- ids: this transaction's id, then the event's number within it
SELECT golden.outcome(format('SELECT count(DISTINCT id >> 20) AS transactions, min(id & 1048575) AS first_index,'
                             ' max(id & 1048575) AS last_index FROM public.events WHERE card_id = %L', :'card'));

-- who may read: anonymous no; the member, the merchant and service_role their part, which is
-- empty until this transaction commits
SELECT golden.act_as('anon');
SELECT golden.outcome('SELECT count(*) FROM get_events()');
SELECT golden.outcome(format('SELECT count(*) FROM get_events(p_session_id => %L)', :'eva_sid'));
SELECT golden.outcome(format('SELECT count(*) FROM get_events(0, 5000, %L)', :'feed_sid'));
RESET ROLE;
SELECT golden.act_as('service_role');
SELECT golden.outcome(format('SELECT count(*) FROM get_events(p_after_id => %s)', (SELECT max(id) FROM public.events)));
-- Realtime: no publication supabase_realtime on this server
SELECT golden.outcome('SELECT add_events_to_realtime()');
RESET ROLE;
SELECT golden.act_as('anon');
SELECT golden.outcome(format('SELECT add_events_to_realtime(p_session_id => %L)', :'eva_sid'));
RESET ROLE;
ROLLBACK;
