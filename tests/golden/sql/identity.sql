-- Golden contract: identity, logins and sessions. Every call's outcome, as each kind of caller.
\pset tuples_only on
\pset format unaligned
BEGIN;
SELECT create_member_profile('Ann', '0911000001', 'ann@example.com', 'ann-password-1') AS ann \gset
SELECT create_merchant('GOLD-SHOP', 'Gold Shop', '0912', 'shop-password-1') AS shop \gset

-- result shapes
SELECT * FROM member_login('0911000001', 'ann-password-1') \gdesc
SELECT * FROM load_session('x') \gdesc
SELECT * FROM get_user_profile() \gdesc

-- anon: logins (the attempt guard counts failures; the fifth locks)
SELECT golden.act_as('anon');
SELECT golden.outcome($$ SELECT member_login('0911000001', 'ann-password-1') - 'session_id' - 'expires_at' AS r $$);
SELECT golden.outcome($$ SELECT member_login('M00000001', 'ann-password-1') ? 'session_id' AS has_session $$);
SELECT golden.outcome($$ SELECT member_login('0911000001', 'wrong-password') $$);
SELECT golden.outcome($$ SELECT member_login('0999999999', 'any-password') $$);
SELECT golden.outcome($$ SELECT member_login('', '') $$);
SELECT golden.outcome($$ SELECT merchant_login('GOLD-SHOP', 'shop-password-1') - 'session_id' - 'expires_at' AS r $$);
SELECT golden.outcome($$ SELECT merchant_login('GOLD-SHOP', 'wrong-password') $$);
SELECT golden.outcome($$ SELECT merchant_login('NO-SUCH-SHOP', 'any-password') $$);
SELECT golden.outcome($$ SELECT get_user_role() AS role $$);
SELECT golden.outcome($$ SELECT is_admin() AS is_admin $$);
SELECT golden.outcome($$ SELECT check_permission('member') $$);
SELECT golden.outcome($$ SELECT test_connection() AS r $$);
SELECT golden.outcome($$ SELECT get_user_profile() AS r $$);
SELECT golden.outcome($$ SELECT load_session('not-a-session') AS r $$);
SELECT golden.outcome($$ SELECT logout_session('not-a-session') AS r $$);
SELECT golden.outcome($$ SELECT cleanup_expired_sessions() AS r $$);

-- a member session
SELECT member_login('0911000001', 'ann-password-1') ->> 'session_id' AS sid \gset
SELECT golden.outcome(format('SELECT get_user_role(%L) AS role', :'sid'));
SELECT golden.outcome(format('SELECT is_admin(%L) AS is_admin', :'sid'));
SELECT golden.outcome(format('SELECT check_permission(%L, %L)', 'member', :'sid'));
SELECT golden.outcome(format('SELECT check_permission(%L, %L)', 'super_admin', :'sid'));
SELECT golden.outcome(format('SELECT get_user_profile(%L) - %L - %L AS r', :'sid', 'user_id', 'member_id'));
SELECT golden.outcome(format('SELECT load_session(%L) AS r', :'sid'));
SELECT golden.outcome(format('SELECT test_connection(%L) AS r', :'sid'));
SELECT golden.outcome(format('SELECT logout_session(%L) AS r', :'sid'));
SELECT golden.outcome(format('SELECT get_user_role(%L) AS role', :'sid'));

-- service_role
RESET ROLE;
SELECT golden.act_as('service_role');
SELECT golden.outcome($$ SELECT get_user_role() AS role $$);
SELECT golden.outcome($$ SELECT is_admin() AS is_admin $$);
SELECT golden.outcome($$ SELECT check_permission('super_admin') $$);
SELECT golden.outcome($$ SELECT test_connection() - 'timestamp' AS r $$);
SELECT golden.outcome($$ SELECT create_member_profile('Bo', '0911000001', NULL) $$);
SELECT golden.outcome($$ SELECT create_member_profile('Bo', 'not a phone', NULL) $$);
SELECT golden.outcome($$ SELECT create_member_profile('Bo', '0911000002', 'not-an-email') $$);
SELECT golden.outcome($$ SELECT create_member_profile('Bo', '0911000002', NULL, 'short') $$);
SELECT golden.outcome($$ SELECT create_merchant('GOLD-SHOP', 'Again', NULL, 'shop-password-2') $$);

-- a JWT user who is nobody here
RESET ROLE;
SELECT golden.act_as('authenticated', '{"role": "authenticated", "sub": "00000000-0000-0000-0000-000000000001"}');
SELECT golden.outcome($$ SELECT get_user_role() AS role $$);
SELECT golden.outcome($$ SELECT check_permission('member') $$);

-- more refusals
RESET ROLE;
SELECT golden.act_as('service_role');
SELECT golden.outcome($$ SELECT create_member_profile('Bo', '0911000003', 'ann@example.com') $$);
SELECT golden.outcome($$ SELECT create_member_profile('Bo', '0911000003', NULL, repeat('long', 20)) $$);
SELECT golden.outcome($$ SELECT create_member_profile('Bo', '0911000003', NULL, NULL, 'supabase', '00000000-0000-0000-0000-0000000000aa') IS NOT NULL AS made $$);
SELECT golden.outcome($$ SELECT create_member_profile('Cal', '0911000004', NULL, NULL, 'supabase', '00000000-0000-0000-0000-0000000000aa') $$);
SELECT golden.outcome($$ SELECT set_merchant_password('00000000-0000-0000-0000-000000000009', 'long-password-1') $$);
SELECT golden.outcome($$ SELECT create_member_profile('Zed', '0911000009', NULL, 'zed-password-1') IS NOT NULL AS made $$);
RESET ROLE;
-- five wrong passwords lock the account, the right one included
SELECT golden.act_as('anon');
SELECT golden.outcome($$ SELECT member_login('0911000009', 'wrong-password') $$) FROM generate_series(1, 5);
SELECT golden.outcome($$ SELECT member_login('0911000009', 'zed-password-1') $$);
ROLLBACK;
