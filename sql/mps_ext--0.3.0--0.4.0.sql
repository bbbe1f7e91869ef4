-- mps_ext 0.3.0 → 0.4.0: operations (logical backups that restore every row, bounded growth).
-- The statements mirror the 0.4.0 install script (sql/10–90); tests/db/test_upgrade_and_partitions.py
-- checks that an upgraded database and a fresh one have the same schema.

-- Backups: sql/13_seed.sql, sql/14_partitions.sql, sql/16_backups.sql.
-- The parent of transactions gives up its key and indexes; every partition gets its own, and
-- the monthly partitions earlier versions made inside CREATE EXTENSION stop being part of
-- the extension, so pg_dump writes them whole like the ones made since.
DROP INDEX public.idx_tx_card_time, public.idx_tx_merchant_time, public.idx_tx_status, public.idx_tx_type_time,
           public.idx_tx_created_at, public.idx_tx_tag_gin, public.idx_tx_original;
ALTER TABLE public.transactions DROP CONSTRAINT transactions_pkey;

CREATE FUNCTION mps_internal.index_transaction_partition(p_partition regclass)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    name text := (SELECT relname FROM pg_class WHERE oid = p_partition);
BEGIN
    EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I PRIMARY KEY (id)', p_partition, name || '_pkey');
    EXECUTE format('CREATE INDEX %I ON %s (card_id, created_at DESC)', name || '_card_id_created_at_idx', p_partition);
    EXECUTE format('CREATE INDEX %I ON %s (merchant_id, created_at DESC)', name || '_merchant_id_created_at_idx',
                   p_partition);
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

CREATE OR REPLACE FUNCTION mps_internal.ensure_transaction_partitions(p_months_ahead integer, p_since timestamptz DEFAULT NULL)
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

DO $partitions$
DECLARE
    partition regclass;
BEGIN
    FOR partition IN SELECT inhrelid::regclass FROM pg_catalog.pg_inherits
                      WHERE inhparent = 'public.transactions'::regclass LOOP
        PERFORM mps_internal.index_transaction_partition(partition);
        IF partition <> 'mps_internal.transactions_default'::regclass AND EXISTS (
               SELECT FROM pg_catalog.pg_depend
                WHERE classid = 'pg_catalog.pg_class'::regclass AND objid = partition AND deptype = 'e') THEN
            EXECUTE format('ALTER EXTENSION mps_ext DROP TABLE %s', partition);
        END IF;
    END LOOP;
END
$partitions$;

CREATE FUNCTION mps_internal.default_membership_levels()
RETURNS TABLE (level int, name text, min_points int, max_points int, discount numeric, is_active boolean)
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
    VALUES (0, '普通會員', 0,     999,  1.000, true),
           (1, '銀卡會員', 1000,  4999, 0.950, true),
           (2, '金卡會員', 5000,  9999, 0.900, true),
           (3, '鑽石會員', 10000, NULL, 0.850, true)
$$;

CREATE FUNCTION mps_internal.replace_default_level() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    DELETE FROM public.membership_levels l
     USING mps_internal.default_membership_levels() d
     WHERE l.level = NEW.level AND d.level = NEW.level
       AND (l.name, l.min_points, l.max_points, l.discount, l.is_active)
           IS NOT DISTINCT FROM (d.name, d.min_points, d.max_points, d.discount, d.is_active);
    RETURN NEW;
END
$$;

CREATE TRIGGER trg_membership_levels_replace_default BEFORE INSERT ON public.membership_levels
    FOR EACH ROW EXECUTE FUNCTION mps_internal.replace_default_level();

SELECT pg_catalog.pg_extension_config_dump('public.member_profiles', '');
SELECT pg_catalog.pg_extension_config_dump('public.member_external_identities', '');
SELECT pg_catalog.pg_extension_config_dump('public.membership_levels', '');
SELECT pg_catalog.pg_extension_config_dump('public.member_cards', '');
SELECT pg_catalog.pg_extension_config_dump('public.card_bindings', '');
SELECT pg_catalog.pg_extension_config_dump('public.merchants', '');
SELECT pg_catalog.pg_extension_config_dump('public.admin_users', '');
SELECT pg_catalog.pg_extension_config_dump('public.merchant_users', '');
SELECT pg_catalog.pg_extension_config_dump('public.app_sessions', '');
SELECT pg_catalog.pg_extension_config_dump('public.card_qr_state', '');
SELECT pg_catalog.pg_extension_config_dump('public.card_qr_history', '');
SELECT pg_catalog.pg_extension_config_dump('public.tx_registry', '');
SELECT pg_catalog.pg_extension_config_dump('public.idempotency_registry', '');
SELECT pg_catalog.pg_extension_config_dump('public.merchant_order_registry', '');
SELECT pg_catalog.pg_extension_config_dump('mps_internal.transactions_default', '');
SELECT pg_catalog.pg_extension_config_dump('public.point_ledger', '');
SELECT pg_catalog.pg_extension_config_dump('public.settlements', '');
SELECT pg_catalog.pg_extension_config_dump('audit.event_log', '');
-- the number sequences: pg_dump writes their values
SELECT pg_catalog.pg_extension_config_dump('public.seq_member_no', '');
SELECT pg_catalog.pg_extension_config_dump('public.seq_card_no', '');
SELECT pg_catalog.pg_extension_config_dump('public.seq_tx_no', '');
SELECT pg_catalog.pg_extension_config_dump('audit.event_log_id_seq', '');

-- Secrets out of the public tables (sql/10_tables.sql, 20_rls.sql, 90_grants.sql): password
-- and binding-password hashes and live QR digests move to mps_internal, so that every public
-- table can be read whole (`select=*`). The QR history keeps no digest.
CREATE TABLE mps_internal.member_passwords (
    member_id     uuid PRIMARY KEY REFERENCES public.member_profiles (id) ON DELETE CASCADE,
    password_hash text NOT NULL
);

CREATE TABLE mps_internal.merchant_passwords (
    merchant_id   uuid PRIMARY KEY REFERENCES public.merchants (id) ON DELETE CASCADE,
    password_hash text NOT NULL
);

CREATE TABLE mps_internal.card_binding_passwords (
    card_id       uuid PRIMARY KEY REFERENCES public.member_cards (id) ON DELETE CASCADE,
    password_hash text NOT NULL
);

CREATE TABLE mps_internal.card_qr_tokens (
    card_id    uuid PRIMARY KEY REFERENCES public.member_cards (id) ON DELETE CASCADE,
    token_hash text NOT NULL UNIQUE,
    expires_at timestamptz NOT NULL
);

INSERT INTO mps_internal.member_passwords (member_id, password_hash)
SELECT id, password_hash FROM public.member_profiles WHERE password_hash IS NOT NULL;
INSERT INTO mps_internal.merchant_passwords (merchant_id, password_hash)
SELECT id, password_hash FROM public.merchants WHERE password_hash IS NOT NULL;
INSERT INTO mps_internal.card_binding_passwords (card_id, password_hash)
SELECT id, binding_password_hash FROM public.member_cards WHERE binding_password_hash IS NOT NULL;
INSERT INTO mps_internal.card_qr_tokens (card_id, token_hash, expires_at)
SELECT card_id, token_hash, expires_at FROM public.card_qr_state;

-- get_card_detail returns the card row, whose type loses a column
DROP FUNCTION public.get_card_detail(uuid, text);
ALTER TABLE public.member_profiles DROP COLUMN password_hash;
ALTER TABLE public.merchants DROP COLUMN password_hash;
ALTER TABLE public.member_cards DROP COLUMN binding_password_hash;
ALTER TABLE public.card_qr_state DROP COLUMN token_hash;  -- drops uq_qr_state_token_hash with it
ALTER TABLE public.card_qr_history DROP COLUMN token_hash;

CREATE FUNCTION public.get_card_detail(p_card_id uuid, p_session_id text DEFAULT NULL)
RETURNS public.member_cards LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''
AS $$
    SELECT c.*
      FROM mps_internal.get_card_detail(p_card_id, p_session_id) AS s(id)
      LEFT JOIN public.member_cards c ON c.id = s.id
$$;
REVOKE ALL ON FUNCTION public.get_card_detail(uuid, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.get_card_detail(uuid, text) TO anon, authenticated, service_role, mps_admin;

-- the row readers return the public rows whole
CREATE OR REPLACE FUNCTION public.get_member_detail(p_member_id uuid, p_session_id text DEFAULT NULL)
RETURNS public.member_profiles LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''
AS $$
    SELECT m.*
      FROM mps_internal.member_scope(p_member_id, NULL, NULL, p_session_id) s
      LEFT JOIN public.member_profiles m ON m.id = s.member_id
$$;

CREATE OR REPLACE FUNCTION public.get_member_by_auth_user(p_session_id text DEFAULT NULL)
RETURNS public.member_profiles LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''
AS $$
    SELECT m.*
      FROM mps_internal.caller_member(p_session_id) AS s(id)
      LEFT JOIN public.member_profiles m ON m.id = s.id
$$;

CREATE OR REPLACE FUNCTION public.get_merchant_detail(p_merchant_id uuid, p_session_id text DEFAULT NULL)
RETURNS public.merchants LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''
AS $$
    SELECT m.*
      FROM mps_internal.merchant_scope(p_merchant_id, NULL, NULL, p_session_id) s
      LEFT JOIN public.merchants m ON m.id = s.merchant_id
$$;

CREATE OR REPLACE FUNCTION public.get_merchant_by_auth_user(p_session_id text DEFAULT NULL)
RETURNS public.merchants LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''
AS $$
    SELECT m.*
      FROM mps_internal.caller_merchant(p_session_id) AS s(id)
      LEFT JOIN public.merchants m ON m.id = s.id
$$;

CREATE OR REPLACE FUNCTION public.get_member_by_identifier(p_identifier text, p_session_id text DEFAULT NULL)
RETURNS jsonb LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''
AS $$
    SELECT pg_catalog.to_jsonb(m)
      FROM mps_internal.member_identifier_scope(p_identifier, p_session_id) AS s(id)
      LEFT JOIN public.member_profiles m ON m.id = s.id
$$;

CREATE OR REPLACE FUNCTION public.get_card_by_identifier(p_identifier text, p_session_id text DEFAULT NULL)
RETURNS jsonb LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''
AS $$
    SELECT pg_catalog.to_jsonb(c)
      FROM mps_internal.card_no_scope(p_identifier, p_session_id) s
      LEFT JOIN public.member_cards c ON c.id = s.card_id
$$;

CREATE OR REPLACE FUNCTION public.get_merchant_by_identifier(p_identifier text, p_session_id text DEFAULT NULL)
RETURNS jsonb LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''
AS $$
    SELECT pg_catalog.to_jsonb(m)
      FROM mps_internal.merchant_code_scope(p_identifier, p_session_id) AS s(id)
      LEFT JOIN public.merchants m ON m.id = s.id
$$;

ALTER TABLE mps_internal.member_passwords ENABLE ROW LEVEL SECURITY;
ALTER TABLE mps_internal.merchant_passwords ENABLE ROW LEVEL SECURITY;
ALTER TABLE mps_internal.card_binding_passwords ENABLE ROW LEVEL SECURITY;
ALTER TABLE mps_internal.card_qr_tokens ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON mps_internal.member_passwords, mps_internal.merchant_passwords, mps_internal.card_binding_passwords,
    mps_internal.card_qr_tokens FROM PUBLIC, anon, authenticated, service_role;
GRANT SELECT ON public.merchants, public.member_profiles, public.member_cards, public.card_qr_state,
    public.card_qr_history TO authenticated, service_role;
SELECT pg_catalog.pg_extension_config_dump('mps_internal.member_passwords', '');
SELECT pg_catalog.pg_extension_config_dump('mps_internal.merchant_passwords', '');
SELECT pg_catalog.pg_extension_config_dump('mps_internal.card_binding_passwords', '');
SELECT pg_catalog.pg_extension_config_dump('mps_internal.card_qr_tokens', '');

-- The original's test clean-up (sql/36_api_admin.sql), refused unless mps.allow_test_cleanup is on.
CREATE  FUNCTION mps_internal."delete_test_member"(
	"p_member_id" uuid, /* Option < Uuid > */
	"p_session_id" TEXT /* Option < & str > */
) RETURNS bool /* bool */

LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'delete_test_member_wrapper';

CREATE  FUNCTION mps_internal."delete_test_merchant"(
	"p_merchant_id" uuid, /* Option < Uuid > */
	"p_session_id" TEXT /* Option < & str > */
) RETURNS bool /* bool */

LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'delete_test_merchant_wrapper';

CREATE FUNCTION public.delete_test_member(p_member_id uuid, p_session_id text DEFAULT NULL)
RETURNS boolean LANGUAGE sql SECURITY DEFINER SET search_path = ''
AS $$ SELECT mps_internal.delete_test_member(p_member_id, p_session_id) $$;

CREATE FUNCTION public.delete_test_merchant(p_merchant_id uuid, p_session_id text DEFAULT NULL)
RETURNS boolean LANGUAGE sql SECURITY DEFINER SET search_path = ''
AS $$ SELECT mps_internal.delete_test_merchant(p_merchant_id, p_session_id) $$;

REVOKE ALL ON FUNCTION mps_internal.delete_test_member(uuid, text), mps_internal.delete_test_merchant(uuid, text),
    public.delete_test_member(uuid, text), public.delete_test_merchant(uuid, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.delete_test_member(uuid, text), public.delete_test_merchant(uuid, text)
    TO authenticated, service_role, mps_admin;

-- == Retention (bounded growth): apply_retention, the daily mps-retention job ==
-- The mps.retention_* settings, the folded point ledger detail that verify_ledger() and
-- update_points_and_level now know about, and the bounded sweeps of cron_rotate_qr_tokens
-- and cleanup_expired_sessions live in the library.
CREATE INDEX idx_idempotency_registry_created_at ON public.idempotency_registry (created_at);

CREATE FUNCTION mps_internal."apply_retention"(
	"p_session_id" TEXT /* Option < & str > */
) RETURNS TABLE (
	"table_name" TEXT,  /* String */
	"cutoff" timestamp with time zone,  /* Option < TimestampWithTimeZone > */
	"rows_removed" bigint,  /* i64 */
	"done" bool  /* bool */
)
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'apply_retention_wrapper';

REVOKE ALL ON FUNCTION mps_internal.apply_retention(text) FROM PUBLIC, anon, authenticated, service_role;

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

REVOKE ALL ON FUNCTION public.apply_retention(text) FROM PUBLIC, anon, authenticated, service_role;
REVOKE ALL ON PROCEDURE mps_internal.run_retention() FROM PUBLIC, anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION public.apply_retention(text) TO authenticated, service_role, mps_admin;
