-- mps_ext 0.4.0 → 0.5.0: architecture (every RPC declared once, one authorization policy).
-- The statements mirror the 0.5.0 install script; tests/db/test_upgrade_and_partitions.py checks
-- that an upgraded database and a fresh one have the same schema.

-- ---------------------------------------------------------------------------------------
-- One policy: the RPC manifest (issue 13 §2). mps_internal.rpc_manifest() serves
-- src/rpc/manifest.tsv; the grants are made from it (sql/90_grants.sql), unchanged from 0.4.0.

CREATE  FUNCTION mps_internal."rpc_manifest"() RETURNS TABLE (
	"function" TEXT,  /* String */
	"arguments" TEXT,  /* String */
	"grant" TEXT,  /* String */
	"allowed" TEXT[]  /* Vec < String > */
)
IMMUTABLE STRICT PARALLEL SAFE 
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'rpc_manifest_wrapper';
REVOKE ALL ON FUNCTION mps_internal.rpc_manifest() FROM PUBLIC, anon, authenticated, service_role;

-- The RPCs: exactly the grants of the manifest (src/rpc/manifest.tsv, read by
-- mps_internal.rpc_manifest()). `anon`: the logins, role helpers and the calls a member or
-- merchant makes with the anon key plus p_session_id (each function authorizes its caller
-- itself); `signed_in`: admin-only RPCs, never anon. A public function of the extension
-- missing from the manifest, or a manifest row naming no function, fails the install.
DO $rpc_grants$
DECLARE
    entry record;
    missing text;
BEGIN
    FOR entry IN SELECT function, arguments, "grant" FROM mps_internal.rpc_manifest() LOOP
        IF pg_catalog.to_regprocedure(pg_catalog.format('public.%I(%s)', entry.function, entry.arguments)) IS NULL THEN
            RAISE EXCEPTION 'rpc manifest names no function public.%(%)', entry.function, entry.arguments;
        END IF;
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
