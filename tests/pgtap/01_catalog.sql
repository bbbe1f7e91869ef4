-- Privileges and search_path of every function mps_ext installs, and RLS on its tables.
-- Runs on any database with the extension: pg_prove -d <db> tests/pgtap/*.sql
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
SELECT plan(7);

CREATE TEMP VIEW mps_functions AS
    SELECT p.oid, p.proname::text AS name, p.pronamespace::regnamespace::text AS schema, p.prosecdef, p.proconfig
      FROM pg_proc p
      JOIN pg_depend d ON d.objid = p.oid AND d.classid = 'pg_proc'::regclass AND d.deptype = 'e'
      JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'mps_ext';
GRANT SELECT ON mps_functions TO PUBLIC;

SELECT is((SELECT count(*)::int FROM mps_functions WHERE schema = 'public'), 79,
          'the 70 contract RPCs and nine more (verify_ledger, generate_daily_settlements, schedule_maintenance, create_transaction_partitions, confirm_recharge, cancel_recharge, apply_retention, delete_test_member, delete_test_merchant)');

SELECT is_empty($$ SELECT name FROM mps_functions WHERE schema = 'public' AND NOT prosecdef $$,
                'every public RPC is SECURITY DEFINER');

SELECT is_empty($$ SELECT schema || '.' || name FROM mps_functions
                    WHERE prosecdef
                      AND NOT EXISTS (SELECT 1 FROM unnest(proconfig) c WHERE c LIKE 'search_path=%') $$,
                'every SECURITY DEFINER function has a fixed search_path');

SELECT is_empty($$ SELECT schema || '.' || name FROM mps_functions f, aclexplode(
                        (SELECT proacl FROM pg_proc WHERE oid = f.oid)) a
                    WHERE a.grantee = 0 $$,
                'no function is executable by PUBLIC');

SELECT set_eq(
    $$ SELECT name FROM mps_functions WHERE schema = 'public' AND has_function_privilege('anon', oid, 'EXECUTE') $$,
    ARRAY['get_user_role', 'check_permission', 'is_admin', 'get_user_profile', 'test_connection', 'member_login',
          'merchant_login', 'load_session', 'logout_session', 'reset_session_variables', 'set_member_password',
          'bind_member_to_card', 'unbind_member_from_card', 'get_card_bindings', 'set_card_binding_password',
          'get_member_cards', 'get_card_detail', 'rotate_card_qr', 'revoke_card_qr', 'validate_qr_plain',
          'merchant_charge_by_qr', 'merchant_refund_tx', 'user_recharge_card', 'cancel_recharge', 'compute_discount',
          'compute_level',
          'get_point_ledger', 'generate_settlement', 'list_settlements', 'get_settlement_detail',
          'get_member_transactions', 'get_merchant_transactions', 'get_transaction_detail', 'get_member_detail',
          'get_merchant_detail', 'get_member_by_auth_user', 'get_merchant_by_auth_user', 'update_member_profile',
          'set_merchant_password', 'get_today_transaction_stats', 'get_transaction_trends', 'get_card_by_identifier',
          'get_card_details_by_card_no'],
    'anon may execute exactly the login, member and merchant RPCs (which authorize through p_session_id)');

SELECT is_empty($$ SELECT schema || '.' || name FROM mps_functions
                    WHERE schema = 'mps_internal'
                      AND (has_function_privilege('anon', oid, 'EXECUTE')
                           OR has_function_privilege('authenticated', oid, 'EXECUTE')) $$,
                'no API role can reach the internal functions');

SELECT is_empty($$ SELECT c.oid::regclass::text
                     FROM pg_class c
                     JOIN pg_depend d ON d.objid = c.oid AND d.classid = 'pg_class'::regclass AND d.deptype = 'e'
                     JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'mps_ext'
                    WHERE c.relkind IN ('r', 'p') AND NOT c.relrowsecurity $$,
                'every table has row level security');

SELECT * FROM finish();
ROLLBACK;
