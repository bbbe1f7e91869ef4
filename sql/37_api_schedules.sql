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
