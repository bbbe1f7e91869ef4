-- A guarded DROP: a DROP EXTENSION mps_ext (or a DROP SCHEMA … CASCADE / DROP OWNED that
-- would take it along) is refused while any member, card or transaction exists, unless a
-- superuser has said so deliberately in the same session (the setting is superuser-only):
--     SET mps.allow_drop_with_data = on;
-- It checks at ddl_command_start, while the tables still exist. The statement's target is
-- not available there, so it is read from the statement text: a statement that names
-- mps_ext (or one of its schemas, with CASCADE) is taken to drop it.

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
