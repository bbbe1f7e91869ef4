-- Privileges: first nothing for anyone on anything this extension owns (this also undoes
-- Supabase's default privileges, which grant new public functions and tables to anon and
-- authenticated), then exactly the role matrix below.

DO $revoke$
DECLARE
    obj record;
BEGIN
    FOR obj IN
        SELECT d.classid::regclass AS catalog, d.objid
          FROM pg_catalog.pg_depend d
         WHERE d.refclassid = 'pg_catalog.pg_extension'::regclass
           AND d.refobjid = (SELECT oid FROM pg_catalog.pg_extension WHERE extname = 'mps_ext')
           AND d.deptype = 'e'
    LOOP
        IF obj.catalog = 'pg_catalog.pg_proc'::regclass THEN
            EXECUTE pg_catalog.format('REVOKE ALL ON ROUTINE %s FROM PUBLIC, anon, authenticated, service_role',
                                      obj.objid::regprocedure);
        ELSIF obj.catalog = 'pg_catalog.pg_class'::regclass THEN
            IF (SELECT relkind FROM pg_catalog.pg_class WHERE oid = obj.objid) = 'S' THEN
                EXECUTE pg_catalog.format('REVOKE ALL ON SEQUENCE %s FROM PUBLIC, anon, authenticated, service_role',
                                          obj.objid::regclass);
            ELSIF (SELECT relkind FROM pg_catalog.pg_class WHERE oid = obj.objid) IN ('r', 'p', 'v') THEN
                EXECUTE pg_catalog.format('REVOKE ALL ON TABLE %s FROM PUBLIC, anon, authenticated, service_role',
                                          obj.objid::regclass);
            END IF;
        END IF;
    END LOOP;
END
$revoke$;

-- psql administrators: members of mps_admin may call every RPC (as super admins).
DO $admin$
DECLARE
    f regprocedure;
BEGIN
    FOR f IN
        SELECT p.oid::regprocedure
          FROM pg_catalog.pg_proc p
          JOIN pg_catalog.pg_depend d ON d.objid = p.oid AND d.classid = 'pg_catalog.pg_proc'::regclass
         WHERE d.refobjid = (SELECT oid FROM pg_catalog.pg_extension WHERE extname = 'mps_ext')
           AND d.deptype = 'e'
           AND p.pronamespace = 'public'::regnamespace
    LOOP
        EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION %s TO mps_admin', f);
    END LOOP;
END
$admin$;

-- Caller resolution for RLS policies: evaluated as the querying role.
GRANT USAGE ON SCHEMA mps_auth TO anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION mps_auth.caller_member_id(), mps_auth.caller_merchant_id(),
    mps_auth.caller_is_super_admin() TO anon, authenticated, service_role;

-- The RPCs: exactly the grants of the manifest (src/rpc/manifest.tsv, read by
-- mps_internal.rpc_manifest()). `anon`: the logins, role helpers and the calls a member or
-- merchant makes with the anon key plus p_session_id (each function authorizes its caller
-- itself); `signed_in`: admin-only RPCs, never anon. A public function of the extension
-- missing from the manifest fails the install.
DO $rpc_grants$
DECLARE
    entry record;
    missing text;
BEGIN
    FOR entry IN SELECT function, arguments, "grant" FROM mps_internal.rpc_manifest() LOOP
        -- the manifest is the library's, which may be newer than this script (an install of an
        -- earlier version, an upgrade step): a function a later script creates is granted there.
        -- tests/pgtap/01_catalog.sql checks that a current install grants every manifest row.
        CONTINUE WHEN pg_catalog.to_regprocedure(pg_catalog.format('public.%I(%s)', entry.function,
                                                                   entry.arguments)) IS NULL;
        EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION public.%I(%s) TO %s', entry.function, entry.arguments,
                                  CASE entry."grant" WHEN 'anon' THEN 'anon, authenticated, service_role'
                                                     ELSE 'authenticated, service_role' END);
    END LOOP;
    SELECT pg_catalog.string_agg(p.oid::regprocedure::text, ', ') INTO missing
      FROM pg_catalog.pg_proc p
      JOIN pg_catalog.pg_depend d ON d.objid = p.oid AND d.classid = 'pg_catalog.pg_proc'::regclass
     WHERE d.refobjid = (SELECT oid FROM pg_catalog.pg_extension WHERE extname = 'mps_ext')
       AND d.deptype = 'e'
       AND p.pronamespace = 'public'::regnamespace
       AND NOT EXISTS (SELECT FROM mps_internal.rpc_manifest() m
                        WHERE pg_catalog.to_regprocedure(pg_catalog.format('public.%I(%s)', m.function, m.arguments))
                              = p.oid);
    IF missing IS NOT NULL THEN
        RAISE EXCEPTION 'public functions missing from the rpc manifest: %', missing;
    END IF;
END
$rpc_grants$;

-- Table API: SELECT only, whole rows (`select=*`), filtered by RLS. The secrets live in
-- mps_internal, where no API role has any privilege. anon reads no table at all (a POS or
-- app with the anon key works through the RPCs and its session).
GRANT SELECT ON public.membership_levels, public.merchants, public.member_profiles, public.member_cards,
    public.card_qr_state, public.card_qr_history, public.member_external_identities, public.card_bindings,
    public.merchant_users, public.admin_users, public.transactions, public.point_ledger, public.settlements,
    public.card_holds, public.events
    TO authenticated, service_role;
