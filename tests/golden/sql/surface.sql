-- Golden contract: the whole API surface. Every public function with its argument names, types
-- and defaults, its result shape, and who may execute it; a change to any of them is a diff here.
\pset tuples_only on
\pset format unaligned
SELECT p.proname || '(' || pg_get_function_arguments(p.oid) || ') → ' || pg_get_function_result(p.oid)
       || ' | ' || (SELECT string_agg(r, ', ' ORDER BY r) FROM unnest(ARRAY['anon', 'authenticated', 'service_role']) r
                     WHERE has_function_privilege(r, p.oid, 'EXECUTE'))
  FROM pg_proc p
 WHERE p.pronamespace = 'public'::regnamespace
   AND EXISTS (SELECT FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e'
                 AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'mps_ext'))
 ORDER BY p.proname;
