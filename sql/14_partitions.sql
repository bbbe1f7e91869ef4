-- Monthly partitions of public.transactions (UTC months), in mps_internal.
--
-- Each partition carries its own key and indexes (the parent has none), made by
-- index_transaction_partition: a partition made after CREATE EXTENSION is an ordinary table,
-- not part of the extension, and pg_dump writes it with its indexes; a parent with indexes of
-- its own would add them again when the restore attaches it. For the same reason
-- CREATE EXTENSION makes only the default partition: the monthly ones are made by
-- create_transaction_partitions(), run once after CREATE EXTENSION and then daily by the
-- pg_cron job of schedule_maintenance(). Until then every movement lands in the default
-- partition, and moves into its month's partition when that is made.

-- The histories' indexes of one partition, named after it. They carry every column the
-- histories list (get_member_transactions, get_merchant_transactions): a page and its total
-- count are read from the index alone (an index-only scan), not from a heap page per movement.
CREATE FUNCTION mps_internal.index_transaction_histories(p_partition regclass)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    name text := (SELECT relname FROM pg_class WHERE oid = p_partition);
BEGIN
    EXECUTE format('CREATE INDEX %I ON %s (card_id, created_at DESC) INCLUDE (id, tx_no, tx_type, merchant_id, '
                   'final_amount, status)', name || '_card_id_created_at_idx', p_partition);
    EXECUTE format('CREATE INDEX %I ON %s (merchant_id, created_at DESC) INCLUDE (id, tx_no, tx_type, card_id, '
                   'final_amount, status)', name || '_merchant_id_created_at_idx', p_partition);
END
$$;

-- The key and indexes of one partition, named after it.
CREATE FUNCTION mps_internal.index_transaction_partition(p_partition regclass)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    name text := (SELECT relname FROM pg_class WHERE oid = p_partition);
BEGIN
    EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I PRIMARY KEY (id)', p_partition, name || '_pkey');
    PERFORM mps_internal.index_transaction_histories(p_partition);
    -- Partial: nearly every row is 'completed'; the index serves the look-ups of the others
    -- and costs nothing on the hot insert path.
    EXECUTE format('CREATE INDEX %I ON %s (status) WHERE status <> ''completed''', name || '_status_idx', p_partition);
    EXECUTE format('CREATE INDEX %I ON %s (tx_type, created_at DESC)', name || '_tx_type_created_at_idx', p_partition);
    EXECUTE format('CREATE INDEX %I ON %s (created_at)', name || '_created_at_idx', p_partition);
    -- Partial: most movements carry an empty tag.
    EXECUTE format('CREATE INDEX %I ON %s USING gin (tag) WHERE tag <> ''{}''::jsonb', name || '_tag_idx', p_partition);
    -- Partial: only refunds have an original.
    EXECUTE format('CREATE INDEX %I ON %s (original_tx_id) WHERE original_tx_id IS NOT NULL',
                   name || '_original_tx_id_idx', p_partition);
END
$$;

SELECT mps_internal.index_transaction_partition('mps_internal.transactions_default');

-- Creates the missing partitions from the month of p_since (default: this month) to
-- p_months_ahead months after this one; rows that had landed in the default partition for
-- such a month move into it. Returns the number of partitions created. Idempotent; run
-- daily by pg_cron (schedule_maintenance).
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
        PERFORM mps_internal.index_transaction_partition(format('mps_internal.%I', partition)::regclass);
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
