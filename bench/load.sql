-- Bench data: :cards + :history members, each with a standard card holding a large balance
-- (written in bulk as the data owner; balances are issued balances, so verify_ledger() holds).
-- Cards 1..:cards are the charges' (run.sh gives them live QR codes whose token is
-- base64(sha256('bench-qr-<n>')), so the pgbench scripts can present it); the first :logins
-- members get the password 'bench-password'. The :history members after them get exactly
-- :history_txs recharges each, through the RPC, for get_member_transactions.
-- :merchants merchants BENCH-SHOP-001, 002, … are logged in once; their sessions are kept in
-- mps_bench.merchants.
\set ON_ERROR_STOP on
CREATE SCHEMA mps_bench;
GRANT USAGE ON SCHEMA mps_bench TO anon, service_role;
CREATE TABLE mps_bench.cards (n int PRIMARY KEY, member_id uuid NOT NULL, card_id uuid NOT NULL, member_no text);
GRANT SELECT ON mps_bench.cards TO anon, service_role;
CREATE TABLE mps_bench.merchants (n int PRIMARY KEY, code text NOT NULL, session_id text NOT NULL);
GRANT SELECT ON mps_bench.merchants TO anon;

SELECT count(create_merchant(p_code := 'BENCH-SHOP-' || lpad(n::text, 3, '0'), p_name := 'Bench Shop ' || n,
                             p_password := 'bench-shop-password'))
  FROM generate_series(1, :merchants) n;
INSERT INTO mps_bench.merchants (n, code, session_id)
SELECT n, code, merchant_login(code, 'bench-shop-password') ->> 'session_id'
  FROM (SELECT n, 'BENCH-SHOP-' || lpad(n::text, 3, '0') AS code FROM generate_series(1, :merchants) n) m;

SELECT create_member_profile('Bench Template', NULL, NULL, 'bench-password') AS template \gset
INSERT INTO public.member_profiles (id, name)
SELECT gen_random_uuid(), 'Bench ' || g FROM generate_series(1, :cards + :history) g;
INSERT INTO mps_bench.cards (n, member_id, card_id, member_no)
SELECT row_number() OVER (ORDER BY created_at, id), id, gen_random_uuid(), member_no
  FROM public.member_profiles WHERE name LIKE 'Bench %' AND name <> 'Bench Template';
-- A billion each: the 10 hot cards take every charge of their 16 runs (up to 50.00 each), and
-- with a million they ran dry on a fast day (about 40,000 charges a card).
INSERT INTO public.member_cards (id, card_no, card_type, owner_member_id, balance, issued_balance, level, discount)
SELECT card_id, '', 'standard', member_id, 1000000000, 1000000000, 0, 1.000 FROM mps_bench.cards;
INSERT INTO public.card_bindings (card_id, member_id, role)
SELECT card_id, member_id, 'owner' FROM mps_bench.cards;
INSERT INTO mps_internal.member_passwords (member_id, password_hash)
SELECT c.member_id, t.password_hash
  FROM mps_internal.member_passwords t, mps_bench.cards c
 WHERE t.member_id = :'template' AND c.n <= :logins;

CREATE TABLE mps_bench.payments (n serial PRIMARY KEY, tx_no text NOT NULL);
GRANT SELECT ON mps_bench.payments TO anon, service_role;
-- Statistics for the loaded tables only: an ANALYZE of the still-empty movement tables would
-- tell the planner they are empty for good, and PostgreSQL's own foreign-key check plans,
-- kept per connection, would then scan them as they grow.
ANALYZE public.member_profiles, public.member_cards, public.card_bindings, mps_internal.member_passwords,
        public.merchants, mps_bench.cards, mps_bench.merchants;

-- in the select list, the recharge runs once per row (a LATERAL call would run once per card)
SELECT count(*) FROM (
    SELECT public.user_recharge_card(p_card_id := c.card_id, p_amount := 10, p_payment_method := 'cash')
      FROM mps_bench.cards c, generate_series(1, :history_txs)
     WHERE c.n > :cards) recharges;
