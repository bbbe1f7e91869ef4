-- mps_ext 0.2.0 → 0.3.0: security hardening (pending member recharges, one settlement
-- history per merchant, a lockout that holds, current password for own credential changes,
-- no oracles in errors).
-- The statements mirror the 0.3.0 install script (sql/10–90); tests/db/test_upgrade_and_partitions.py
-- checks that an upgraded database and a fresh one have the same schema.

-- Attempt guard (logins, current passwords, binding passwords): the counts live in shared
-- memory (shared_preload_libraries = 'mps_ext'); the worker-written table is gone.
DROP TABLE mps_internal.login_attempts;

-- Guarded DROP: the statements of sql/15_drop_guard.sql.
CREATE FUNCTION mps_internal.refuse_drop_with_data() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = '' AS $$
DECLARE
    statement text := pg_catalog.lower(pg_catalog.current_query());
    drops_us boolean := CASE TG_TAG
        WHEN 'DROP EXTENSION' THEN statement ~ '\mmps_ext\M'
        WHEN 'DROP SCHEMA' THEN statement ~ '\m(public|audit|mps_internal|mps_auth)\M'
                            AND statement ~ '\mcascade\M'
        ELSE true  -- DROP OWNED
    END;
BEGIN
    IF NOT drops_us THEN
        RETURN;
    END IF;
    IF NOT (EXISTS (SELECT FROM public.member_profiles)
            OR EXISTS (SELECT FROM public.member_cards)
            OR EXISTS (SELECT FROM public.transactions)) THEN
        RETURN;
    END IF;
    IF pg_catalog.current_setting('mps.allow_drop_with_data', true) = 'on' THEN
        RETURN;
    END IF;
    RAISE EXCEPTION USING
        ERRCODE = 'dependent_objects_still_exist',
        MESSAGE = 'MPS_DATA_EXISTS: refusing to drop mps_ext while it holds members, cards or transactions',
        DETAIL = pg_catalog.format('%s would delete every balance and all payment history.', TG_TAG),
        HINT = 'Back the database up first (pg_dump -Fc). To drop it anyway, as a superuser: '
               'SET mps.allow_drop_with_data = on; then the DROP again.';
END
$$;

CREATE EVENT TRIGGER mps_refuse_drop_with_data ON ddl_command_start
    WHEN TAG IN ('DROP EXTENSION', 'DROP SCHEMA', 'DROP OWNED')
    EXECUTE FUNCTION mps_internal.refuse_drop_with_data();
-- Also under session_replication_role = replica (restores, logical replication).
ALTER EVENT TRIGGER mps_refuse_drop_with_data ENABLE ALWAYS;

