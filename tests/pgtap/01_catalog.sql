-- Privileges and search_path of every function mps_ext installs, and RLS on its tables.
-- Runs on any database with the extension: pg_prove -d <db> tests/pgtap/*.sql
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
SELECT plan(8);

CREATE TEMP VIEW mps_functions AS
    SELECT p.oid, p.proname::text AS name, p.pronamespace::regnamespace::text AS schema, p.prosecdef, p.proconfig
      FROM pg_proc p
      JOIN pg_depend d ON d.objid = p.oid AND d.classid = 'pg_proc'::regclass AND d.deptype = 'e'
      JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'mps_ext';
GRANT SELECT ON mps_functions TO PUBLIC;

SELECT is((SELECT count(*)::int FROM mps_functions WHERE schema = 'public'), 87,
          'the 70 contract RPCs and seventeen more (verify_ledger, generate_daily_settlements, schedule_maintenance, create_transaction_partitions, confirm_recharge, cancel_recharge, apply_retention, delete_test_member, delete_test_merchant, the holds: merchant_authorize_by_qr, merchant_capture_hold, merchant_void_hold, get_card_balance, get_card_holds, get_merchant_holds, and the event feed: get_events, add_events_to_realtime)');

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

-- The grants follow the manifest (src/rpc/manifest.tsv): mps_internal.rpc_manifest().
CREATE TEMP VIEW manifest_grants AS
    SELECT pg_catalog.to_regprocedure(pg_catalog.format('public.%I(%s)', m.function, m.arguments)) AS oid, m.function,
           r.role
      FROM mps_internal.rpc_manifest() m,
           unnest(CASE m."grant" WHEN 'anon' THEN ARRAY['anon', 'authenticated', 'service_role']
                                 ELSE ARRAY['authenticated', 'service_role'] END) AS r(role);
GRANT SELECT ON manifest_grants TO PUBLIC;

SELECT set_eq(
    $$ SELECT name FROM mps_functions WHERE schema = 'public' AND has_function_privilege('anon', oid, 'EXECUTE') $$,
    $$ SELECT function FROM manifest_grants WHERE role = 'anon' $$,
    'anon may execute exactly the manifest''s anon RPCs: the logins, role helpers, member and merchant RPCs (which authorize through p_session_id)');

SELECT set_eq(
    $$ SELECT f.oid::regprocedure::text, r.role
         FROM mps_functions f, unnest(ARRAY['anon', 'authenticated', 'service_role']) AS r(role)
        WHERE f.schema = 'public' AND has_function_privilege(r.role, f.oid, 'EXECUTE') $$,
    $$ SELECT oid::regprocedure::text, role FROM manifest_grants $$,
    'every public function is executable by exactly the API roles of its manifest grant, and the manifest names every one');

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
