-- A payment from psql, as a database superuser or a member of mps_admin (a super admin).
-- psql -v ON_ERROR_STOP=1 -d <database> -f examples/psql.sql
\set QUIET on
SELECT create_merchant('PSQL-SHOP', 'psql Coffee', NULL, 'shop-password') AS shop \gset
SELECT create_member_profile('Dora', '0911222333', 'dora@example.com', 'dora-password') AS dora \gset
SELECT id AS card FROM get_member_cards(:'dora') \gset
SELECT amount FROM user_recharge_card(:'card', 500, 'cash');
SELECT qr_plain AS qr FROM rotate_card_qr(:'card', 300) \gset
-- the POS side: log in as the merchant and charge with its session
SELECT merchant_login('PSQL-SHOP', 'shop-password') ->> 'session_id' AS pos \gset
SELECT tx_no, final_amount, discount
  FROM merchant_charge_by_qr('PSQL-SHOP', :'qr', 120.50, p_idempotency_key := 'psql-example-1',
                             p_session_id := :'pos');
SELECT card_no, balance, points FROM get_member_cards(:'dora');
SELECT count(*) AS ledger_violations FROM verify_ledger();
