-- Row level security per role and table, through the table API as PostgREST runs it.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
SELECT plan(43);

-- Arrange, as service_role: two members linked to JWT users, and a merchant with staff.
SELECT '8d0e6f4e-1111-4a4a-9a9a-000000000001'::uuid AS alice_sub,
       '8d0e6f4e-1111-4a4a-9a9a-000000000002'::uuid AS bob_sub,
       '8d0e6f4e-1111-4a4a-9a9a-000000000003'::uuid AS staff_sub \gset
DO $$ BEGIN
    IF to_regclass('auth.users') IS NOT NULL THEN
        EXECUTE 'INSERT INTO auth.users (id) VALUES ($1), ($2), ($3) ON CONFLICT DO NOTHING'
            USING '8d0e6f4e-1111-4a4a-9a9a-000000000001'::uuid, '8d0e6f4e-1111-4a4a-9a9a-000000000002'::uuid,
                  '8d0e6f4e-1111-4a4a-9a9a-000000000003'::uuid;
    END IF;
END $$;
SET LOCAL role service_role;
SELECT set_config('request.jwt.claims', '{"role":"service_role"}', true);
SELECT create_member_profile('pgTAP Alice', '0900000901', 'alice@pgtap.test', 'alice-password',
                             'supabase', :'alice_sub') AS alice \gset
SELECT create_member_profile('pgTAP Bob', '0900000902', 'bob@pgtap.test', 'bob-password',
                             'supabase', :'bob_sub') AS bob \gset
SELECT create_merchant('PGTAP-SHOP', 'pgTAP Shop', NULL, 'shop-password') AS shop \gset
RESET role;
INSERT INTO merchant_users (merchant_id, auth_user_id) VALUES (:'shop', :'staff_sub');

-- anon: no table at all
SET LOCAL role anon;
SELECT set_config('request.jwt.claims', '{"role":"anon"}', true);
SELECT throws_ok('SELECT count(*) FROM membership_levels', '42501', 'permission denied for table membership_levels',
                 'anon reads no table, not even the membership levels');
SELECT throws_ok('SELECT code FROM merchants', '42501', 'permission denied for table merchants',
                 'anon cannot list merchant codes');
SELECT throws_ok('SELECT * FROM mps_internal.merchant_passwords', '42501', NULL,
                 'anon cannot read merchant password hashes');
SELECT throws_ok('SELECT id FROM member_profiles', '42501', NULL, 'anon cannot read member profiles');
SELECT throws_ok('INSERT INTO membership_levels (level, name, min_points) VALUES (9, ''x'', 0)', '42501', NULL,
                 'anon cannot write levels');
RESET role;

-- a member (JWT): own rows only
SET LOCAL role authenticated;
SELECT set_config('request.jwt.claims', json_build_object('role', 'authenticated', 'sub', :'alice_sub')::text, true);
SELECT results_eq('SELECT id FROM member_profiles', format('VALUES (%L::uuid)', :'alice'),
                  'a member sees exactly their own profile');
SELECT results_eq('SELECT owner_member_id FROM member_cards', format('VALUES (%L::uuid)', :'alice'),
                  'a member sees exactly their own cards');
SELECT is((SELECT count(*)::int FROM card_bindings WHERE member_id <> :'alice'), 0, 'no other member''s bindings');
SELECT is_empty('SELECT id FROM admin_users', 'a member sees no admin rows');
SELECT throws_ok(format('UPDATE member_cards SET balance = 1000000 WHERE owner_member_id = %L', :'alice'), '42501',
                 NULL, 'a member cannot write their own balance');
SELECT throws_ok('DELETE FROM transactions', '42501', NULL, 'a member cannot delete transactions');
-- select=* on every table a client may read, rows filtered by RLS (no secret column is left)
SELECT lives_ok(format('SELECT * FROM public.%I', t), format('a member may select * from %s', t))
  FROM unnest(ARRAY['membership_levels', 'merchants', 'member_profiles', 'member_cards', 'card_qr_state', 'card_qr_history', 'member_external_identities', 'card_bindings', 'merchant_users', 'admin_users', 'transactions', 'point_ledger', 'settlements']) AS t;
SELECT throws_ok('SELECT * FROM mps_internal.card_binding_passwords', '42501', NULL,
                 'a member cannot read binding password hashes');
RESET role;

-- merchant staff (JWT): their merchant's staff rows, no member data
SET LOCAL role authenticated;
SELECT set_config('request.jwt.claims', json_build_object('role', 'authenticated', 'sub', :'staff_sub')::text, true);
SELECT results_eq('SELECT merchant_id FROM merchant_users', format('VALUES (%L::uuid)', :'shop'),
                  'staff see their merchant''s staff rows');
SELECT is_empty('SELECT id FROM member_profiles', 'staff see no member profiles');
SELECT results_eq('SELECT id FROM merchants', format('VALUES (%L::uuid)', :'shop'), 'staff see only their merchant');
RESET role;

-- service_role: bypasses RLS, but never reads secrets or writes tables
SET LOCAL role service_role;
SELECT set_config('request.jwt.claims', '{"role":"service_role"}', true);
SELECT cmp_ok((SELECT count(*)::int FROM member_profiles), '>=', 2, 'service_role reads every profile');
-- select=* on every table a client may read, rows filtered by RLS (no secret column is left)
SELECT lives_ok(format('SELECT * FROM public.%I', t), format('service_role may select * from %s', t))
  FROM unnest(ARRAY['membership_levels', 'merchants', 'member_profiles', 'member_cards', 'card_qr_state', 'card_qr_history', 'member_external_identities', 'card_bindings', 'merchant_users', 'admin_users', 'transactions', 'point_ledger', 'settlements']) AS t;
SELECT throws_ok('SELECT * FROM mps_internal.member_passwords', '42501', NULL,
                 'service_role cannot read password hashes either');
RESET role;

SELECT * FROM finish();
ROLLBACK;
