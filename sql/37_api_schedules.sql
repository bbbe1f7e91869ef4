-- Periodic work: the retention procedure the daily pg_cron job calls (the schedules and
-- apply_retention themselves are Rust: src/rpc/schedules.rs, src/rpc/retention.rs).

-- The daily mps-retention job: apply_retention until every table is done, each batch
-- committed on its own so that no batch's row locks outlive it. A procedure that commits can
-- be neither SECURITY DEFINER nor carry a SET clause: it runs with its caller's rights (pg_cron
-- runs it as the extension's owner; nobody else may execute it) and names everything in full.
CREATE PROCEDURE mps_internal.run_retention()
LANGUAGE plpgsql AS $$
DECLARE
    finished boolean;
BEGIN
    LOOP
        SELECT pg_catalog.bool_and(r.done) INTO finished FROM public.apply_retention() r;
        COMMIT;
        EXIT WHEN finished;
    END LOOP;
END
$$;
