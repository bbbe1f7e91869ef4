-- mps_ext 0.5.0 → 0.6.0: migration from the original MPS (the import's report tables, legacy
-- idempotency keys that replay as they did) and the event feed. The statements mirror the 0.6.0 install script;
-- tests/db/test_upgrade_and_partitions.py checks that an upgraded database and a fresh one
-- have the same schema.

-- The import from the original MPS (migrate/from_legacy.sql; docs/migration.md): when it ran,
-- and every anomaly it found in the legacy data with what it booked for it. verify_ledger()
-- accepts the refund anomalies listed here (the original let refunds race past a payment);
-- the other bookings are ordinary rows (opening balances, opening point-ledger rows).
CREATE TABLE mps_internal.legacy_import (
    single      boolean PRIMARY KEY DEFAULT true CHECK (single),  -- a database imports once
    imported_at timestamptz NOT NULL DEFAULT now(),
    imported_by text NOT NULL DEFAULT current_user,
    rows        jsonb NOT NULL  -- rows imported, per table
);

CREATE TABLE mps_internal.legacy_anomalies (
    id         bigserial PRIMARY KEY,
    kind       text NOT NULL,
    table_name text NOT NULL,   -- the legacy table of the row
    row_key    text NOT NULL,   -- its id, number or key
    card_id    uuid,
    tx_id      uuid,
    detail     jsonb NOT NULL,  -- what was found, with the legacy values
    booked     text NOT NULL    -- what the import did about it
);
CREATE INDEX idx_legacy_anomalies_tx ON mps_internal.legacy_anomalies (tx_id) WHERE tx_id IS NOT NULL;

ALTER TABLE mps_internal.legacy_import ENABLE ROW LEVEL SECURITY;
ALTER TABLE mps_internal.legacy_anomalies ENABLE ROW LEVEL SECURITY;
SELECT pg_catalog.pg_extension_config_dump('mps_internal.legacy_import', '');
SELECT pg_catalog.pg_extension_config_dump('mps_internal.legacy_anomalies', '');
SELECT pg_catalog.pg_extension_config_dump('mps_internal.legacy_anomalies_id_seq', '');
REVOKE ALL ON TABLE mps_internal.legacy_import, mps_internal.legacy_anomalies FROM PUBLIC, anon, authenticated, service_role;
REVOKE ALL ON SEQUENCE mps_internal.legacy_anomalies_id_seq FROM PUBLIC, anon, authenticated, service_role;

-- ---------------------------------------------------------------------------------------
-- Enum types instead of CHECK (... IN (...)) lists for the words of the event feed and of
-- the idempotency registry: PostgreSQL reads and plans a table's CHECK expressions anew in
-- every statement that writes the table, and these are written by every money movement.
-- ---------------------------------------------------------------------------------------
CREATE TYPE public.event_type AS ENUM (
    'payment', 'refund', 'recharge', 'points_adjusted', 'card_frozen', 'card_unfrozen',
    'settlement_generated', 'hold_authorized', 'hold_captured', 'hold_voided', 'hold_expired');
CREATE TYPE public.request_operation AS ENUM ('payment', 'recharge', 'refund', 'capture');
CREATE TYPE public.request_key_kind AS ENUM ('key', 'order');
ALTER TABLE public.idempotency_registry
    DROP CONSTRAINT idempotency_registry_operation_check,
    DROP CONSTRAINT idempotency_registry_key_kind_check,
    ALTER COLUMN operation TYPE public.request_operation USING operation::public.request_operation,
    ALTER COLUMN key_kind TYPE public.request_key_kind USING key_kind::public.request_key_kind;

-- ---------------------------------------------------------------------------------------
-- The event feed (issue 16): public.events, get_events, NOTIFY mps_events, Realtime.
-- ---------------------------------------------------------------------------------------
CREATE  FUNCTION mps_internal."next_event_id"() RETURNS bigint /* i64 */
STRICT VOLATILE PARALLEL UNSAFE 
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'next_event_id_wrapper';
REVOKE ALL ON FUNCTION mps_internal.next_event_id() FROM PUBLIC, anon, authenticated, service_role;

-- The event feed (get_events, NOTIFY mps_events, Supabase Realtime): a row per money movement
-- and card event, written in the transaction that made it. An id is the writer's transaction
-- id shifted left by 20 bits plus the event's number within that transaction
-- (mps_internal.next_event_id; src/domain/events.rs says why that makes the feed gap-free).
-- No foreign keys: a feed row is a message about its card and merchant, kept 30 days.
CREATE TABLE public.events (
    id            bigint PRIMARY KEY DEFAULT mps_internal.next_event_id(),
    occurred_at   timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    event_type    public.event_type NOT NULL,
    card_id       uuid,
    member_id     uuid,   -- the card's owner
    merchant_id   uuid,
    tx_no         text,   -- the movement's number, or the hold's
    amount        numeric(12,2),
    balance_after numeric(12,2),
    payload       jsonb NOT NULL DEFAULT '{}'
);

CREATE INDEX idx_events_member ON public.events (member_id, id) WHERE member_id IS NOT NULL;
CREATE INDEX idx_events_merchant ON public.events (merchant_id, id) WHERE merchant_id IS NOT NULL;
CREATE INDEX idx_events_occurred_at ON public.events (occurred_at);
SELECT pg_catalog.pg_extension_config_dump('public.events', '');
ALTER TABLE public.events ENABLE ROW LEVEL SECURITY;
CREATE POLICY events_own ON public.events FOR SELECT TO authenticated
    USING (member_id = (SELECT mps_auth.caller_member_id())
           OR merchant_id = (SELECT mps_auth.caller_merchant_id())
           OR (SELECT mps_auth.caller_is_super_admin()));
REVOKE ALL ON TABLE public.events FROM PUBLIC, anon, authenticated, service_role;
GRANT SELECT ON public.events TO authenticated, service_role;

CREATE  FUNCTION mps_internal."event_horizon"(
	"p_xmin" bigint /* i64 */
) RETURNS bigint /* i64 */
IMMUTABLE STRICT PARALLEL SAFE 
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'event_horizon_wrapper';
REVOKE ALL ON FUNCTION mps_internal.event_horizon(bigint) FROM PUBLIC, anon, authenticated, service_role;

CREATE  FUNCTION mps_internal."event_scope"(
	"p_limit" INT, /* Option < i32 > */
	"p_session_id" TEXT /* Option < & str > */
) RETURNS TABLE (
	"member_id" uuid,  /* Option < Uuid > */
	"merchant_id" uuid,  /* Option < Uuid > */
	"all_events" bool,  /* bool */
	"page_limit" INT  /* i32 */
)
STABLE 
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'event_scope_wrapper';
REVOKE ALL ON FUNCTION mps_internal.event_scope(integer, text) FROM PUBLIC, anon, authenticated, service_role;

CREATE  FUNCTION "add_events_to_realtime"(
	"p_session_id" TEXT DEFAULT NULL /* Option < & str > */
) RETURNS bool /* bool */
SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'rpc_add_events_to_realtime_wrapper';
REVOKE ALL ON FUNCTION public.add_events_to_realtime(text) FROM PUBLIC, anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION public.add_events_to_realtime(text) TO mps_admin;

-- Events after p_after_id, ascending, that the caller may read (mps_internal.event_scope), up
-- to the horizon: events of transactions still in flight, and of any transaction younger
-- than the oldest of those, wait, so that no event can commit behind an id already handed
-- out (src/domain/events.rs). A reader passes back the largest id it has received.
CREATE FUNCTION public.get_events(
    p_after_id bigint DEFAULT 0,
    p_limit integer DEFAULT 100,
    p_session_id text DEFAULT NULL)
RETURNS TABLE (id bigint, occurred_at timestamptz, event_type text, card_id uuid, member_id uuid, merchant_id uuid,
               tx_no text, amount numeric, balance_after numeric, payload jsonb)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
    SELECT e.id, e.occurred_at, e.event_type::text, e.card_id, e.member_id, e.merchant_id, e.tx_no, e.amount,
           e.balance_after, e.payload
      FROM mps_internal.event_scope(p_limit => p_limit, p_session_id => p_session_id) s,
           LATERAL (SELECT mps_internal.event_horizon(p_xmin => pg_snapshot_xmin(pg_current_snapshot())::text::bigint) AS before) h,
           LATERAL (SELECT * FROM public.events e
                     WHERE s.all_events AND e.id > coalesce(p_after_id, 0) AND e.id < h.before
                    UNION ALL
                    SELECT * FROM public.events e
                     WHERE e.member_id = s.member_id AND e.id > coalesce(p_after_id, 0) AND e.id < h.before
                    UNION ALL
                    SELECT * FROM public.events e
                     WHERE e.merchant_id = s.merchant_id AND e.id > coalesce(p_after_id, 0) AND e.id < h.before
                    ORDER BY id
                    LIMIT s.page_limit) e
     ORDER BY e.id
$$;

-- Supabase Realtime streams the tables of the publication supabase_realtime (to each
-- subscriber, through the table's RLS policy). Adds public.events to it if it exists and
-- does not have it yet; whether it did. Run here (CREATE EXTENSION), by the upgrade, and by
-- add_events_to_realtime() once the publication exists.
CREATE FUNCTION mps_internal.add_events_to_publication() RETURNS boolean
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_publication WHERE pubname = 'supabase_realtime')
       OR EXISTS (SELECT FROM pg_publication_tables
                   WHERE pubname = 'supabase_realtime' AND schemaname = 'public' AND tablename = 'events') THEN
        RETURN false;
    END IF;
    ALTER PUBLICATION supabase_realtime ADD TABLE public.events;
    RETURN true;
END
$$;

REVOKE ALL ON FUNCTION public.get_events(bigint, integer, text) FROM PUBLIC, anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION public.get_events(bigint, integer, text) TO mps_admin;
REVOKE ALL ON FUNCTION mps_internal.add_events_to_publication() FROM PUBLIC, anon, authenticated, service_role;

SELECT mps_internal.add_events_to_publication();

-- member_scope without the look-up of the member, for get_member_transactions.
CREATE  FUNCTION mps_internal."member_history_scope"(
	"p_member_id" uuid, /* Option < Uuid > */
	"p_limit" INT, /* Option < i32 > */
	"p_offset" INT, /* Option < i32 > */
	"p_session_id" TEXT /* Option < & str > */
) RETURNS TABLE (
	"member_id" uuid,  /* Uuid */
	"page_limit" INT,  /* i32 */
	"page_offset" INT  /* i32 */
)
STABLE 
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'member_history_scope_wrapper';
REVOKE ALL ON FUNCTION mps_internal.member_history_scope(uuid, integer, integer, text) FROM PUBLIC, anon, authenticated, service_role;

-- The two histories become PL/pgSQL (34_api_queries.sql says why); CREATE OR REPLACE keeps
-- their grants.
CREATE OR REPLACE FUNCTION public.get_member_transactions(
    p_member_id uuid,
    p_limit integer DEFAULT 50,
    p_offset integer DEFAULT 0,
    p_start_date timestamptz DEFAULT NULL,
    p_end_date timestamptz DEFAULT NULL,
    p_session_id text DEFAULT NULL)
RETURNS TABLE (id uuid, tx_no text, tx_type public.tx_type, card_id uuid, merchant_id uuid, final_amount numeric,
               status public.tx_status, created_at timestamptz, total_count bigint)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    SELECT r.* FROM mps_internal.member_history_scope(p_member_id => p_member_id,
                                                      p_limit => p_limit,
                                                      p_offset => p_offset,
                                                      p_session_id => p_session_id) s
     CROSS JOIN LATERAL (
           SELECT t.id, t.tx_no, t.tx_type, t.card_id, t.merchant_id, t.final_amount, t.status, t.created_at,
                  count(*) OVER ()
             FROM public.member_cards c
             JOIN public.transactions t ON t.card_id = c.id
            WHERE c.owner_member_id = s.member_id
              AND (p_start_date IS NULL OR t.created_at >= p_start_date)
              AND (p_end_date IS NULL OR t.created_at < p_end_date)
            ORDER BY t.created_at DESC, t.id
            LIMIT s.page_limit OFFSET s.page_offset) r;
    -- An empty page: MEMBER_NOT_FOUND if there is no such member.
    IF NOT FOUND THEN
        PERFORM FROM mps_internal.member_scope(p_member_id => p_member_id,
                                               p_limit => p_limit,
                                               p_offset => p_offset,
                                               p_session_id => p_session_id);
    END IF;
END
$$;

CREATE OR REPLACE FUNCTION public.get_merchant_transactions(
    p_merchant_id uuid,
    p_limit integer DEFAULT 50,
    p_offset integer DEFAULT 0,
    p_start_date timestamptz DEFAULT NULL,
    p_end_date timestamptz DEFAULT NULL,
    p_session_id text DEFAULT NULL)
RETURNS TABLE (id uuid, tx_no text, tx_type public.tx_type, card_id uuid, final_amount numeric,
               status public.tx_status, created_at timestamptz, total_count bigint)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    SELECT r.* FROM mps_internal.merchant_scope(p_merchant_id => p_merchant_id,
                                                p_limit => p_limit,
                                                p_offset => p_offset,
                                                p_session_id => p_session_id) s
     CROSS JOIN LATERAL (
           SELECT t.id, t.tx_no, t.tx_type, t.card_id, t.final_amount, t.status, t.created_at, count(*) OVER ()
             FROM public.transactions t
            WHERE t.merchant_id = s.merchant_id
              AND (p_start_date IS NULL OR t.created_at >= p_start_date)
              AND (p_end_date IS NULL OR t.created_at < p_end_date)
            ORDER BY t.created_at DESC, t.id
            LIMIT s.page_limit OFFSET s.page_offset) r;
END
$$;

-- tx_registry is read only by tx_no and tx_id (sql/11_indexes.sql): its stamp's index went
-- unused and cost every movement an index entry.
DROP INDEX public.idx_tx_registry_created_at;

-- updated_at maintenance without SET search_path (sql/12_triggers.sql): a SET clause saves
-- and restores the settings around every call, once per updated row.
CREATE OR REPLACE FUNCTION mps_internal.set_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := pg_catalog.now();
    RETURN NEW;
END
$$;

-- The updated_at triggers fire only when an UPDATE leaves updated_at as it was (sql/12_triggers.sql):
-- the money movements' card update sets it itself.
CREATE OR REPLACE TRIGGER trg_member_profiles_updated_at BEFORE UPDATE ON public.member_profiles
    FOR EACH ROW WHEN (NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at)
    EXECUTE FUNCTION mps_internal.set_updated_at();
CREATE OR REPLACE TRIGGER trg_member_ext_ids_updated_at BEFORE UPDATE ON public.member_external_identities
    FOR EACH ROW WHEN (NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at)
    EXECUTE FUNCTION mps_internal.set_updated_at();
CREATE OR REPLACE TRIGGER trg_membership_levels_updated_at BEFORE UPDATE ON public.membership_levels
    FOR EACH ROW WHEN (NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at)
    EXECUTE FUNCTION mps_internal.set_updated_at();
CREATE OR REPLACE TRIGGER trg_member_cards_updated_at BEFORE UPDATE ON public.member_cards
    FOR EACH ROW WHEN (NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at)
    EXECUTE FUNCTION mps_internal.set_updated_at();
CREATE OR REPLACE TRIGGER trg_merchants_updated_at BEFORE UPDATE ON public.merchants
    FOR EACH ROW WHEN (NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at)
    EXECUTE FUNCTION mps_internal.set_updated_at();
CREATE OR REPLACE TRIGGER trg_transactions_updated_at BEFORE UPDATE ON public.transactions
    FOR EACH ROW WHEN (NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at)
    EXECUTE FUNCTION mps_internal.set_updated_at();
CREATE OR REPLACE TRIGGER trg_settlements_updated_at BEFORE UPDATE ON public.settlements
    FOR EACH ROW WHEN (NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at)
    EXECUTE FUNCTION mps_internal.set_updated_at();
CREATE OR REPLACE TRIGGER trg_card_holds_updated_at BEFORE UPDATE ON public.card_holds
    FOR EACH ROW WHEN (NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at)
    EXECUTE FUNCTION mps_internal.set_updated_at();
CREATE OR REPLACE TRIGGER trg_admin_users_updated_at BEFORE UPDATE ON public.admin_users
    FOR EACH ROW WHEN (NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at)
    EXECUTE FUNCTION mps_internal.set_updated_at();

-- Follow-ups find a movement's month through tx_registry (src/store/transactions.rs), which
-- carries the movement's stamp: a movement re-stamped by hand (back-dated by an operator, or
-- by a test) takes its registry row along. Fires only when an UPDATE sets created_at.
CREATE FUNCTION mps_internal.restamp_registry() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    UPDATE public.tx_registry SET created_at = NEW.created_at WHERE tx_id = NEW.id;
    RETURN NEW;
END
$$;

CREATE TRIGGER trg_transactions_restamp_registry BEFORE UPDATE OF created_at ON public.transactions
    FOR EACH ROW WHEN (OLD.created_at IS DISTINCT FROM NEW.created_at)
    EXECUTE FUNCTION mps_internal.restamp_registry();
REVOKE ALL ON FUNCTION mps_internal.restamp_registry() FROM PUBLIC, anon, authenticated, service_role;
-- Registry rows that a hand edit left behind before this version: in step once.
UPDATE public.tx_registry r SET created_at = t.created_at
  FROM public.transactions t
 WHERE t.id = r.tx_id AND t.created_at IS DISTINCT FROM r.created_at;

-- The histories' indexes of each partition carry the columns the histories list, so a page
-- and its count are read by an index-only scan (sql/14_partitions.sql): new partitions get
-- them from index_transaction_partition, the existing ones are re-indexed here under the
-- same names.
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
REVOKE ALL ON FUNCTION mps_internal.index_transaction_histories(regclass) FROM PUBLIC, anon, authenticated, service_role;

CREATE OR REPLACE FUNCTION mps_internal.index_transaction_partition(p_partition regclass)
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

DO $$
DECLARE
    part regclass;
    name text;
BEGIN
    FOR part, name IN SELECT i.inhrelid::regclass, c.relname
                        FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
                       WHERE i.inhparent = 'public.transactions'::regclass LOOP
        EXECUTE format('DROP INDEX mps_internal.%I, mps_internal.%I',
                       name || '_card_id_created_at_idx', name || '_merchant_id_created_at_idx');
        PERFORM mps_internal.index_transaction_histories(part);
    END LOOP;
END
$$;

-- Five references every money movement makes are kept from the referenced side instead of
-- by foreign keys: a movement's card and merchant (transactions.card_id, .merchant_id), a
-- points row's card and movement (point_ledger.card_id, .tx_id) and a request's movement
-- (idempotency_registry.tx_id). A foreign key checks every inserted row with a query of its
-- own: five per charge, 6 % of its server CPU (bench/results/2026-12-02-history-run3.md).
-- Here a card, a merchant or a registry row that such rows point to cannot be deleted or
-- given another key, with the error a foreign key gives (23503), and a card's points rows go
-- with it as before (ON DELETE CASCADE). The inserting side needs no check: a movement writes
-- its registry row in the same statement and holds its card's row locked
-- (src/store/transactions.rs), and a merchant is deleted only after the movements in flight:
-- the trigger takes the merchant's settlement lock, which every movement of the merchant
-- holds shared while it is recorded (src/domain/settlements.rs, lock_name). verify_ledger()
-- reports any row that points nowhere all the same (one written by hand, with the triggers
-- disabled, …).

-- TG_ARGV: the key column, the prefix of an advisory-lock name to take exclusively before
-- looking (the key follows it; '' for none), then (table, column, on delete) for each
-- reference: 'restrict' refuses, 'cascade' deletes the referencing rows. Changing the key
-- is refused while any reference holds it. It runs after the row, at the end of the
-- statement, as a foreign key's check does: a statement that deletes the referencing rows
-- too (src/store/test_cleanup.rs) passes whichever part of it runs first.
CREATE FUNCTION mps_internal.keep_references() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    key_column text := TG_ARGV[0];
    lock_prefix text := TG_ARGV[1];
    old_key text := to_jsonb(OLD) ->> key_column;
    referenced boolean;
BEGIN
    IF TG_OP = 'UPDATE' AND to_jsonb(NEW) ->> key_column IS NOT DISTINCT FROM old_key THEN
        RETURN NULL;
    END IF;
    IF lock_prefix <> '' THEN
        PERFORM pg_advisory_xact_lock(hashtextextended(lock_prefix || old_key, 0));
    END IF;
    FOR i IN 2 .. TG_NARGS - 1 BY 3 LOOP
        CONTINUE WHEN TG_OP = 'DELETE' AND TG_ARGV[i + 2] = 'cascade';
        EXECUTE format('SELECT EXISTS (SELECT FROM %s WHERE %I = $1::uuid)', TG_ARGV[i], TG_ARGV[i + 1])
           INTO referenced USING old_key;
        IF referenced THEN
            RAISE foreign_key_violation USING
                MESSAGE = format('update or delete on table "%s" would leave rows of %s without their %s',
                                 TG_TABLE_NAME, TG_ARGV[i], TG_ARGV[i + 1]),
                DETAIL = format('Key (%s)=(%s) is still referenced from table %s.', key_column, old_key, TG_ARGV[i]);
        END IF;
    END LOOP;
    IF TG_OP = 'DELETE' THEN
        FOR i IN 2 .. TG_NARGS - 1 BY 3 LOOP
            CONTINUE WHEN TG_ARGV[i + 2] <> 'cascade';
            EXECUTE format('DELETE FROM %s WHERE %I = $1::uuid', TG_ARGV[i], TG_ARGV[i + 1]) USING old_key;
        END LOOP;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER trg_member_cards_keep_references AFTER DELETE OR UPDATE OF id ON public.member_cards
    FOR EACH ROW EXECUTE FUNCTION mps_internal.keep_references(
        'id', '',
        'public.transactions', 'card_id', 'restrict',
        'public.point_ledger', 'card_id', 'cascade');
CREATE TRIGGER trg_merchants_keep_references AFTER DELETE OR UPDATE OF id ON public.merchants
    FOR EACH ROW EXECUTE FUNCTION mps_internal.keep_references(
        'id', 'mps:settlement:',
        'public.transactions', 'merchant_id', 'restrict');
CREATE TRIGGER trg_tx_registry_keep_references AFTER DELETE OR UPDATE OF tx_id ON public.tx_registry
    FOR EACH ROW EXECUTE FUNCTION mps_internal.keep_references(
        'tx_id', '',
        'public.point_ledger', 'tx_id', 'restrict',
        'public.idempotency_registry', 'tx_id', 'restrict');

ALTER TABLE public.transactions DROP CONSTRAINT transactions_card_id_fkey,
                                DROP CONSTRAINT transactions_merchant_id_fkey;
ALTER TABLE public.point_ledger DROP CONSTRAINT point_ledger_card_id_fkey,
                                DROP CONSTRAINT point_ledger_tx_id_fkey;
ALTER TABLE public.idempotency_registry DROP CONSTRAINT idempotency_registry_tx_id_fkey;

-- The RPCs: exactly the grants of the manifest (src/rpc/manifest.tsv, read by
-- mps_internal.rpc_manifest()). `anon`: the logins, role helpers and the calls a member or
-- merchant makes with the anon key plus p_session_id (each function authorizes its caller
-- itself); `signed_in`: admin-only RPCs, never anon. A public function of the extension
-- missing from the manifest fails the install.
DO $rpc_grants$
DECLARE
    entry record;
    missing text;
BEGIN
    FOR entry IN SELECT function, arguments, "grant" FROM mps_internal.rpc_manifest() LOOP
        -- the manifest is the library's, which may be newer than this script (an install of an
        -- earlier version, an upgrade step): a function a later script creates is granted there.
        -- tests/pgtap/01_catalog.sql checks that a current install grants every manifest row.
        CONTINUE WHEN pg_catalog.to_regprocedure(pg_catalog.format('public.%I(%s)', entry.function,
                                                                   entry.arguments)) IS NULL;
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
