-- Bench data: :cards members, each with a standard card holding a large balance and a live
-- QR code whose token is base64(sha256('bench-qr-<n>')), so the pgbench scripts can present
-- it. Written in bulk as the data owner; balances are issued balances, so verify_ledger()
-- holds. The first :logins members get the password 'bench-password'.
\set ON_ERROR_STOP on
CREATE SCHEMA mps_bench;
GRANT USAGE ON SCHEMA mps_bench TO anon, service_role;
CREATE TABLE mps_bench.cards (n int PRIMARY KEY, member_id uuid NOT NULL, card_id uuid NOT NULL, member_no text);
GRANT SELECT ON mps_bench.cards TO anon, service_role;

SELECT create_merchant('BENCH-SHOP', 'Bench Shop', NULL, 'bench-shop-password');
SELECT create_member_profile('Bench Template', NULL, NULL, 'bench-password') AS template \gset

INSERT INTO public.member_profiles (id, name)
SELECT gen_random_uuid(), 'Bench ' || g FROM generate_series(1, :cards) g;
INSERT INTO mps_bench.cards (n, member_id, card_id, member_no)
SELECT row_number() OVER (ORDER BY created_at, id), id, gen_random_uuid(), member_no
  FROM public.member_profiles WHERE name LIKE 'Bench %' AND name <> 'Bench Template';
INSERT INTO public.member_cards (id, card_no, card_type, owner_member_id, balance, issued_balance, level, discount)
SELECT card_id, '', 'standard', member_id, 1000000, 1000000, 0, 1.000 FROM mps_bench.cards;
INSERT INTO public.card_bindings (card_id, member_id, role)
SELECT card_id, member_id, 'owner' FROM mps_bench.cards;
INSERT INTO mps_internal.card_qr_tokens (card_id, token_hash, expires_at)
SELECT card_id,
       encode(sha256(convert_to(encode(sha256(convert_to('bench-qr-' || n, 'UTF8')), 'base64'), 'UTF8')), 'hex'),
       now() + interval '1 day'
  FROM mps_bench.cards;
INSERT INTO public.card_qr_state (card_id, expires_at)
SELECT card_id, expires_at FROM mps_internal.card_qr_tokens;
INSERT INTO mps_internal.member_passwords (member_id, password_hash)
SELECT c.member_id, t.password_hash
  FROM mps_internal.member_passwords t, mps_bench.cards c
 WHERE t.member_id = :'template' AND c.n <= :logins;

CREATE TABLE mps_bench.payments (n serial PRIMARY KEY, tx_no text NOT NULL);
GRANT SELECT ON mps_bench.payments TO anon, service_role;
-- Statistics for the loaded tables only: an ANALYZE of the still-empty movement tables would
-- tell the planner they are empty for good, and PostgreSQL's own foreign-key check plans,
-- kept per connection, would then scan them as they grow.
ANALYZE public.member_profiles, public.member_cards, public.card_bindings, public.card_qr_state,
        mps_internal.card_qr_tokens, mps_internal.member_passwords, mps_bench.cards;
