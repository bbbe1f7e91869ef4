-- Monthly partitions of public.transactions (UTC months), in mps_internal. Creates the
-- missing partitions from the month of p_since (default: this month) to p_months_ahead
-- months after this one; rows that had landed in the default partition for such a month
-- move into it. Returns the number of partitions created. Idempotent; run daily by pg_cron
-- (schedule_maintenance).
CREATE FUNCTION mps_internal.ensure_transaction_partitions(p_months_ahead integer, p_since timestamptz DEFAULT NULL)
RETURNS integer LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    this_month date := date_trunc('month', now() AT TIME ZONE 'UTC')::date;
    first_month date := least(this_month, date_trunc('month', coalesce(p_since, now()) AT TIME ZONE 'UTC')::date);
    month date;
    partition text;
    lower_bound timestamptz;
    upper_bound timestamptz;
    created integer := 0;
BEGIN
    FOR i IN 0 .. (extract(year FROM age(this_month, first_month)) * 12
                   + extract(month FROM age(this_month, first_month)))::int + greatest(p_months_ahead, 0) LOOP
        month := (first_month + make_interval(months => i))::date;
        partition := format('transactions_p%s', to_char(month, 'YYYYMM'));
        CONTINUE WHEN to_regclass(format('mps_internal.%I', partition)) IS NOT NULL;
        lower_bound := month::timestamp AT TIME ZONE 'UTC';
        upper_bound := (month + interval '1 month')::timestamp AT TIME ZONE 'UTC';
        EXECUTE format('CREATE TABLE mps_internal.%I (LIKE public.transactions INCLUDING DEFAULTS INCLUDING CONSTRAINTS)',
                       partition);
        EXECUTE format('WITH moved AS (DELETE FROM mps_internal.transactions_default
                                         WHERE created_at >= %L AND created_at < %L RETURNING *)
                        INSERT INTO mps_internal.%I SELECT * FROM moved', lower_bound, upper_bound, partition);
        EXECUTE format('ALTER TABLE public.transactions ATTACH PARTITION mps_internal.%I FOR VALUES FROM (%L) TO (%L)',
                       partition, lower_bound, upper_bound);
        EXECUTE format('ALTER TABLE mps_internal.%I ENABLE ROW LEVEL SECURITY', partition);
        EXECUTE format('REVOKE ALL ON mps_internal.%I FROM PUBLIC', partition);
        created := created + 1;
    END LOOP;
    RETURN created;
END
$$;

SELECT mps_internal.ensure_transaction_partitions(3);
