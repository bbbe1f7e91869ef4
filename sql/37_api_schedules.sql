-- Public API: periodic work. Beyond the contract: daily T+1 settlements and the pg_cron
-- registration of the maintenance jobs.

CREATE FUNCTION public.generate_daily_settlements(p_day date DEFAULT NULL, p_session_id text DEFAULT NULL)
RETURNS integer LANGUAGE sql SECURITY DEFINER SET search_path = ''
AS $$ SELECT mps_internal.generate_daily_settlements(p_day, p_session_id) $$;

CREATE FUNCTION public.schedule_maintenance(p_session_id text DEFAULT NULL)
RETURNS TABLE (job_name text, schedule text, command text)
LANGUAGE sql SECURITY DEFINER SET search_path = ''
AS $$ SELECT * FROM mps_internal.schedule_maintenance(p_session_id) $$;

CREATE FUNCTION public.create_transaction_partitions(p_months_ahead integer DEFAULT 3, p_session_id text DEFAULT NULL)
RETURNS integer LANGUAGE sql SECURITY DEFINER SET search_path = ''
AS $$ SELECT mps_internal.create_transaction_partitions(p_months_ahead, p_session_id) $$;

-- Retention: one batch per table per call (a row per table: its cutoff, the rows removed, and
-- whether it is done). Super admin / service_role only.
CREATE FUNCTION public.apply_retention(p_session_id text DEFAULT NULL)
RETURNS TABLE (table_name text, cutoff timestamptz, rows_removed bigint, done boolean)
LANGUAGE sql SECURITY DEFINER SET search_path = ''
AS $$ SELECT * FROM mps_internal.apply_retention(p_session_id) $$;

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
