-- Moves a database that runs the original MPS onto mps_ext, in one transaction
-- (docs/migration.md). Run it with scripts/migrate_legacy.sh, or directly:
--
--     psql -X -v dry_run=on  -f migrate/from_legacy.sql "$DATABASE_URL"   -- report only
--     psql -X -v dry_run=off -f migrate/from_legacy.sql "$DATABASE_URL"   -- the import
--
-- Both runs read the legacy tables in public and audit, list what would be imported and
-- every anomaly found. The dry run then rolls back: it takes no lock stronger than a
-- reader's and leaves nothing behind. The import goes on: it blocks writes to the legacy
-- tables, moves the original's tables, types, sequences and functions into the schema
-- mps_legacy, creates the extension, copies every row with its ids and numbers, books the
-- opening adjustments that make verify_ledger() clean, records the anomalies in
-- mps_internal.legacy_anomalies, checks the result and commits. Any error rolls all of it
-- back: the legacy database is left exactly as it was.

\set ON_ERROR_STOP on
\set QUIET on
\if :{?dry_run}
\else
\set dry_run off
\endif
\pset footer off
\pset null '∅'
SET client_min_messages = warning;

BEGIN;
SET LOCAL lock_timeout = '30s';

------------------------------------------------------------------------------------------
-- 1. Is this a database of the original, not yet imported?
------------------------------------------------------------------------------------------
DO $check$
DECLARE
    missing text;
BEGIN
    IF EXISTS (SELECT FROM pg_catalog.pg_extension WHERE extname = 'mps_ext') THEN
        RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = 'MIGRATION_ALREADY_DONE: mps_ext is already installed in this database',
            DETAIL = CASE WHEN pg_catalog.to_regclass('mps_internal.legacy_import') IS NOT NULL
                          THEN 'The import from the original ran ' || coalesce((
                               SELECT pg_catalog.format('at %s as %s', imported_at, imported_by)
                                 FROM mps_internal.legacy_import), 'never; mps_ext was installed empty') || '.'
                          ELSE 'mps_ext was installed without the import.' END,
            HINT = 'The import runs once, on a database that holds the original MPS and not mps_ext.';
    END IF;
    IF pg_catalog.to_regnamespace('mps_legacy') IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = 'MIGRATION_ALREADY_DONE: the schema mps_legacy exists',
            DETAIL = 'mps_legacy holds the original MPS after an import; this database was imported before.',
            HINT = 'Drop mps_legacy only if it is not the archive of an earlier import.';
    END IF;
    SELECT pg_catalog.string_agg(need, ', ') INTO missing
      FROM (VALUES ('public.member_profiles', 'password_hash'), ('public.member_cards', 'binding_password_hash'),
                   ('public.merchants', 'password_hash'), ('public.card_qr_state', 'token_hash'),
                   ('public.member_external_identities', 'provider'), ('public.membership_levels', 'level'),
                   ('public.card_bindings', 'role'), ('public.admin_users', 'auth_user_id'),
                   ('public.merchant_users', 'auth_user_id'), ('public.app_sessions', 'session_id'),
                   ('public.card_qr_history', 'token_hash'), ('public.tx_registry', 'tx_no'),
                   ('public.idempotency_registry', 'idempotency_key'),
                   ('public.merchant_order_registry', 'external_order_id'), ('public.transactions', 'reason'),
                   ('public.point_ledger', 'balance_after'), ('public.settlements', 'total_tx_count'),
                   ('audit.event_log', 'object_type')) AS t(tbl, col)
           CROSS JOIN LATERAL (SELECT t.tbl || '.' || t.col AS need) n
     WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_attribute a
                        WHERE a.attrelid = pg_catalog.to_regclass(t.tbl) AND a.attname = t.col AND NOT a.attisdropped);
    IF missing IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'undefined_table',
            MESSAGE = 'LEGACY_SCHEMA_NOT_FOUND: this database does not hold the original MPS',
            DETAIL = 'Missing: ' || missing || '.',
            HINT = 'Run the import on the database of the original MPS (its tables in public and audit).';
    END IF;
END
$check$;

\if :dry_run
\else
-- The import: no legacy row may change between what is read here and what is moved.
LOCK TABLE public.member_profiles, public.member_external_identities, public.membership_levels,
           public.member_cards, public.card_bindings, public.merchants, public.admin_users,
           public.merchant_users, public.app_sessions, public.card_qr_state, public.card_qr_history,
           public.tx_registry, public.idempotency_registry, public.merchant_order_registry,
           public.transactions, public.point_ledger, public.settlements, audit.event_log
    IN EXCLUSIVE MODE;
\endif

------------------------------------------------------------------------------------------
-- 2. What the legacy data says, worked out once (temporary tables, gone at the end).
------------------------------------------------------------------------------------------

-- Each refund and the payment it refunds: the original linked them by reason = the
-- payment's tx_no on the same card (original_tx_id stayed NULL).
CREATE TEMP TABLE legacy_refund_link ON COMMIT DROP AS
SELECT r.id AS refund_id, coalesce(r.original_tx_id, p.id) AS payment_id
  FROM public.transactions r
  LEFT JOIN public.transactions p
    ON p.tx_no = r.reason AND p.card_id = r.card_id AND p.tx_type = 'payment'
 WHERE r.tx_type = 'refund';

-- Points a movement earned that its point-ledger rows do not show.
CREATE TEMP TABLE legacy_tx_points ON COMMIT DROP AS
SELECT t.id AS tx_id, t.card_id, t.tx_no, t.points_earned, coalesce(l.change, 0) AS ledger_change,
       t.points_earned - coalesce(l.change, 0) AS missing
  FROM public.transactions t
  LEFT JOIN (SELECT tx_id, sum(change)::int AS change FROM public.point_ledger
              WHERE tx_id IS NOT NULL GROUP BY tx_id) l ON l.tx_id = t.id
 WHERE t.points_earned <> coalesce(l.change, 0);

-- Each card's books: its balance against its movements, its points against its ledger
-- (with the movements' missing rows above booked first).
CREATE TEMP TABLE legacy_card_books ON COMMIT DROP AS
SELECT c.id AS card_id, c.card_no, c.card_type, c.balance, coalesce(m.delta, 0) AS movements,
       c.balance - coalesce(m.delta, 0) AS opening_balance, c.points,
       coalesce(l.change, 0) + coalesce(x.missing, 0) AS ledger_points,
       c.points - coalesce(l.change, 0) - coalesce(x.missing, 0) AS opening_points
  FROM public.member_cards c
  LEFT JOIN (SELECT card_id, sum(CASE tx_type WHEN 'payment' THEN -final_amount ELSE final_amount END) AS delta
               FROM public.transactions WHERE status IN ('completed', 'refunded') GROUP BY card_id) m
         ON m.card_id = c.id
  LEFT JOIN (SELECT card_id, sum(change) AS change FROM public.point_ledger GROUP BY card_id) l ON l.card_id = c.id
  LEFT JOIN (SELECT card_id, sum(missing) AS missing FROM legacy_tx_points GROUP BY card_id) x ON x.card_id = c.id;

-- Where each number sequence continues: after the highest well-formed number and after the
-- legacy sequence itself (numbers its failed calls used up are not handed out again).
CREATE TEMP TABLE legacy_numbers ON COMMIT DROP AS
SELECT seq, highest, used, greatest(highest, used) AS last
  FROM (SELECT 'seq_member_no' AS seq,
               (SELECT max(substr(member_no, 2)::numeric) FROM public.member_profiles
                 WHERE member_no ~ '^M[0-9]{1,18}$') AS highest,
               (SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END FROM public.seq_member_no) AS used
        UNION ALL
        SELECT 'seq_card_no',
               (SELECT max(substr(card_no, 4)::numeric) FROM public.member_cards
                 WHERE card_no ~ '^(STD|VCH|COR)[0-9]{1,18}$'),
               (SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END FROM public.seq_card_no)
        UNION ALL
        SELECT 'seq_tx_no',
               (SELECT max(substr(tx_no, 4)::numeric) FROM public.transactions
                 WHERE tx_no ~ '^(PAY|REF|RCG)[0-9]{1,18}$'),
               (SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END FROM public.seq_tx_no)) n;

-- Every anomaly, with what the import books for it (nothing is dropped or rewritten
-- silently; the import records each row here in mps_internal.legacy_anomalies).
CREATE TEMP TABLE legacy_anomaly ON COMMIT DROP AS
-- a standard card's balance is not the sum of its movements (a card of another type opens
-- with the balance it was issued with; it has no movements of its own)
SELECT 'balance_not_sum_of_movements' AS kind, 'member_cards' AS table_name, b.card_no AS row_key,
       b.card_id, NULL::uuid AS tx_id,
       jsonb_build_object('balance', b.balance, 'movements', b.movements, 'difference', b.opening_balance) AS detail,
       pg_catalog.format('opening balance %s booked (issued_balance); the balance stays %s',
                         b.opening_balance, b.balance) AS booked
  FROM legacy_card_books b
 WHERE (b.card_type = 'standard' AND b.opening_balance <> 0)
    OR (b.card_type <> 'standard' AND (b.movements <> 0 OR b.opening_balance < 0))
UNION ALL
SELECT 'points_not_sum_of_ledger', 'member_cards', b.card_no, b.card_id, NULL,
       jsonb_build_object('points', b.points, 'ledger', b.ledger_points, 'difference', b.opening_points),
       pg_catalog.format('point-ledger row "legacy_opening" of %s booked; the points stay %s', b.opening_points, b.points)
  FROM legacy_card_books b WHERE b.opening_points <> 0
UNION ALL
SELECT 'points_earned_not_in_ledger', 'transactions', x.tx_no, x.card_id, x.tx_id,
       jsonb_build_object('points_earned', x.points_earned, 'ledger', x.ledger_change),
       pg_catalog.format('point-ledger row "legacy_opening" of %s booked for the movement', x.missing)
  FROM legacy_tx_points x
UNION ALL
SELECT 'payment_refunds_disagree', 'transactions', p.tx_no, p.card_id, p.id,
       jsonb_build_object('final_amount', p.final_amount, 'refunded', f.refunded, 'status', p.status,
                          'expected_status', f.expected),
       'imported as is; verify_ledger() accepts it and nothing of it is refundable any more'
  FROM public.transactions p
  JOIN (SELECT l.payment_id, sum(r.final_amount) FILTER (WHERE r.status = 'completed') AS refunded
          FROM legacy_refund_link l JOIN public.transactions r ON r.id = l.refund_id
         GROUP BY l.payment_id) s ON s.payment_id = p.id
  CROSS JOIN LATERAL (SELECT coalesce(s.refunded, 0) AS refunded,
                             CASE WHEN coalesce(s.refunded, 0) = p.final_amount AND p.final_amount > 0
                                  THEN 'refunded' ELSE 'completed' END AS expected) f
 WHERE f.refunded > p.final_amount OR p.status::text <> f.expected
UNION ALL
-- a payment nothing refunded, left in another status than completed
SELECT 'payment_refunds_disagree', 'transactions', p.tx_no, p.card_id, p.id,
       jsonb_build_object('final_amount', p.final_amount, 'refunded', 0, 'status', p.status,
                          'expected_status', 'completed'),
       'imported as is; verify_ledger() accepts it and nothing of it is refundable any more'
  FROM public.transactions p
 WHERE p.tx_type = 'payment' AND p.status <> 'completed'
   AND NOT EXISTS (SELECT FROM legacy_refund_link l WHERE l.payment_id = p.id)
UNION ALL
SELECT 'movement_not_completed', 'transactions', t.tx_no, t.card_id, t.id,
       jsonb_build_object('tx_type', t.tx_type, 'status', t.status, 'final_amount', t.final_amount),
       'imported as is; it moved no money'
  FROM public.transactions t WHERE t.status IN ('processing', 'failed', 'cancelled')
UNION ALL
SELECT 'refund_without_payment', 'transactions', r.tx_no, r.card_id, r.id,
       jsonb_build_object('reason', r.reason, 'final_amount', r.final_amount),
       'imported as is, linked to no payment'
  FROM public.transactions r JOIN legacy_refund_link l ON l.refund_id = r.id WHERE l.payment_id IS NULL
UNION ALL
SELECT 'idempotency_key_without_movement', 'idempotency_registry', k.idempotency_key, NULL, k.tx_id,
       jsonb_build_object('tx_id', k.tx_id, 'created_at', k.created_at),
       'not imported: the original kept the key of a call that failed; a retry with it now makes the movement'
  FROM public.idempotency_registry k
 WHERE NOT EXISTS (SELECT FROM public.transactions t WHERE t.id = k.tx_id)
UNION ALL
SELECT 'external_order_without_movement', 'merchant_order_registry', o.external_order_id, NULL, o.tx_id,
       jsonb_build_object('merchant_id', o.merchant_id, 'tx_id', o.tx_id, 'created_at', o.created_at),
       'imported into merchant_order_registry as is; not a key a retry replays'
  FROM public.merchant_order_registry o
 WHERE NOT EXISTS (SELECT FROM public.transactions t WHERE t.id = o.tx_id)
UNION ALL
-- the original never deduplicated a recharge's external order id (no merchant: NULLs differ)
SELECT 'recharge_order_reused', 'merchant_order_registry', o.external_order_id, o.card_id, o.tx_id,
       jsonb_build_object('tx_no', o.tx_no, 'first_tx_no', o.first_tx_no),
       'imported into merchant_order_registry as is; a retry replays the first recharge with this order id'
  FROM (SELECT o.external_order_id, t.card_id, t.id AS tx_id, t.tx_no,
               first_value(t.tx_no) OVER w AS first_tx_no, row_number() OVER w AS n
          FROM public.merchant_order_registry o JOIN public.transactions t ON t.id = o.tx_id
         WHERE t.tx_type = 'recharge'
        WINDOW w AS (PARTITION BY t.card_id, o.external_order_id ORDER BY t.created_at, t.tx_no)) o
 WHERE o.n > 1
UNION ALL
SELECT 'auth_user_shared', 'member_profiles', m.member_no, NULL, NULL,
       jsonb_build_object('member_id', m.id, 'auth_user_id', m.auth_user_id, 'kept_by', m.kept_by),
       'auth_user_id cleared on this member (mps_ext links one Supabase user to one member); it stays on the oldest'
  FROM (SELECT id, member_no, auth_user_id,
               first_value(member_no) OVER (PARTITION BY auth_user_id ORDER BY created_at, id) AS kept_by,
               row_number() OVER (PARTITION BY auth_user_id ORDER BY created_at, id) AS n
          FROM public.member_profiles WHERE auth_user_id IS NOT NULL) m
 WHERE m.n > 1
UNION ALL
SELECT 'contact_duplicate', 'member_profiles', m.member_no, NULL, NULL,
       jsonb_build_object('member_id', m.id, m.field, m.value, 'same_as', m.others),
       'imported as is; each logs in with the identifier exactly as stored'
  FROM (SELECT id, member_no, field, value,
               array_agg(member_no) OVER (PARTITION BY field, normal) AS others,
               count(*) OVER (PARTITION BY field, normal) AS n
          FROM public.member_profiles
          CROSS JOIN LATERAL (VALUES ('phone', phone, regexp_replace(phone, '[ -]', '', 'g')),
                                     ('email', email, lower(btrim(email)))) AS c(field, value, normal)
         WHERE value IS NOT NULL) m
 WHERE m.n > 1
UNION ALL
SELECT 'contact_refused_by_mps_ext', 'member_profiles', m.member_no, NULL, NULL,
       jsonb_build_object('member_id', m.id, 'phone', m.phone, 'email', m.email),
       'imported as is; mps_ext refuses such a value when it is entered again'
  FROM public.member_profiles m
 WHERE (m.phone IS NOT NULL AND (length(m.phone) > 32 OR m.phone !~ '^\+?[0-9]([0-9 -]*[0-9])?$'))
    OR (m.email IS NOT NULL AND (length(m.email) > 254 OR m.email !~ '^[^@[:space:]]+@[^@[:space:]]+$'))
UNION ALL
SELECT 'password_not_bcrypt', tbl, key, NULL, NULL, jsonb_build_object('id', id, 'prefix', left(hash, 4)),
       'imported as is; this password never matches: set a new one'
  FROM (SELECT 'member_profiles' AS tbl, member_no AS key, id, password_hash AS hash FROM public.member_profiles
        UNION ALL SELECT 'merchants', coalesce(code, id::text), id, password_hash FROM public.merchants
        UNION ALL SELECT 'member_cards', card_no, id, binding_password_hash FROM public.member_cards) h
 WHERE hash IS NOT NULL AND hash !~ '^\$2[abxy]?\$[0-9]{2}\$.{53}$'
UNION ALL
SELECT 'number_malformed', tbl, no, NULL, NULL, jsonb_build_object('expected', expected),
       'imported as is; the numbering continues after the highest well-formed number'
  FROM (SELECT 'member_profiles' AS tbl, member_no AS no, 'M and digits' AS expected
          FROM public.member_profiles WHERE member_no !~ '^M[0-9]{1,18}$'
        UNION ALL
        SELECT 'member_cards', card_no, CASE card_type WHEN 'standard' THEN 'STD' WHEN 'voucher' THEN 'VCH'
                                                      ELSE 'COR' END || ' and digits'
          FROM public.member_cards
         WHERE card_no !~ ('^' || CASE card_type WHEN 'standard' THEN 'STD' WHEN 'voucher' THEN 'VCH'
                                                 ELSE 'COR' END || '[0-9]{1,18}$')
        UNION ALL
        SELECT 'transactions', tx_no, CASE tx_type WHEN 'payment' THEN 'PAY' WHEN 'refund' THEN 'REF'
                                                   ELSE 'RCG' END || ' and digits'
          FROM public.transactions
         WHERE tx_no !~ ('^' || CASE tx_type WHEN 'payment' THEN 'PAY' WHEN 'refund' THEN 'REF'
                                             ELSE 'RCG' END || '[0-9]{1,18}$')) n
UNION ALL
-- one shared counter numbers every card (and every movement): two rows with the same digits
SELECT 'number_collides', tbl, no, NULL, NULL, jsonb_build_object('same_digits_as', nos),
       'imported as is (the numbers differ in their prefix)'
  FROM (SELECT 'member_cards' AS tbl, card_no AS no, array_agg(card_no) OVER (PARTITION BY substr(card_no, 4)) AS nos
          FROM public.member_cards WHERE card_no ~ '^[A-Z]{3}[0-9]+$'
        UNION ALL
        SELECT 'transactions', tx_no, array_agg(tx_no) OVER (PARTITION BY substr(tx_no, 4))
          FROM public.transactions WHERE tx_no ~ '^[A-Z]{3}[0-9]+$') c
 WHERE cardinality(nos) > 1
UNION ALL
SELECT 'sequence_behind_numbers', 'public', n.seq, NULL, NULL,
       jsonb_build_object('sequence_at', n.used, 'highest_number', n.highest),
       pg_catalog.format('the sequence continues after %s', n.highest)
  FROM legacy_numbers n
 WHERE n.highest > n.used;

-- What would be imported, per table, and what is not carried over by design.
CREATE TEMP TABLE legacy_rows ON COMMIT DROP AS
SELECT * FROM (VALUES
    ('membership_levels', (SELECT count(*) FROM public.membership_levels), 'imported (replace the default levels)'),
    ('member_profiles', (SELECT count(*) FROM public.member_profiles), 'imported'),
    ('member_external_identities', (SELECT count(*) FROM public.member_external_identities), 'imported'),
    ('merchants', (SELECT count(*) FROM public.merchants), 'imported'),
    ('admin_users', (SELECT count(*) FROM public.admin_users), 'imported'),
    ('merchant_users', (SELECT count(*) FROM public.merchant_users), 'imported'),
    ('member_cards', (SELECT count(*) FROM public.member_cards), 'imported'),
    ('card_bindings', (SELECT count(*) FROM public.card_bindings), 'imported'),
    ('transactions', (SELECT count(*) FROM public.transactions), 'imported'),
    ('tx_registry', (SELECT count(*) FROM public.transactions), 'imported (one row per movement)'),
    ('idempotency_registry', (SELECT count(*) FROM public.idempotency_registry k
                               WHERE EXISTS (SELECT FROM public.transactions t WHERE t.id = k.tx_id)),
     'imported, scoped to the movement''s merchant (payments) or card (recharges)'),
    ('merchant_order_registry', (SELECT count(*) FROM public.merchant_order_registry), 'imported'),
    ('point_ledger', (SELECT count(*) FROM public.point_ledger), 'imported'),
    ('settlements', (SELECT count(*) FROM public.settlements), 'imported'),
    ('card_qr_history', (SELECT count(*) FROM public.card_qr_history), 'imported (without token hashes)'),
    ('audit.event_log', (SELECT count(*) FROM audit.event_log), 'imported'),
    ('member passwords', (SELECT count(*) FROM public.member_profiles WHERE password_hash IS NOT NULL),
     'imported (bcrypt hashes: the same passwords log in)'),
    ('merchant passwords', (SELECT count(*) FROM public.merchants WHERE password_hash IS NOT NULL), 'imported'),
    ('card binding passwords', (SELECT count(*) FROM public.member_cards WHERE binding_password_hash IS NOT NULL),
     'imported'),
    ('app_sessions', (SELECT count(*) FROM public.app_sessions), 'not carried over: users log in again'),
    ('card_qr_state', (SELECT count(*) FROM public.card_qr_state), 'not carried over: members rotate a new QR code')
) AS r(legacy_table, row_count, import);

\echo
\echo '== What the import carries over'
SELECT legacy_table, row_count, import FROM legacy_rows;
\echo '== Number sequences continue after'
SELECT seq AS sequence, last AS continues_after FROM legacy_numbers;
\echo '== Opening balances (cards that open with a balance of their own, e.g. corporate and voucher cards)'
SELECT card_type, count(*) AS cards, sum(opening_balance) AS opening_total
  FROM legacy_card_books WHERE opening_balance <> 0 GROUP BY card_type ORDER BY card_type;
\echo '== Anomalies by kind'
SELECT kind, count(*) AS found FROM legacy_anomaly GROUP BY kind ORDER BY kind;
\echo '== Every anomaly'
SELECT kind, table_name, row_key, detail, booked FROM legacy_anomaly ORDER BY kind, table_name, row_key;

\if :dry_run
ROLLBACK;
\echo 'Dry run: nothing was changed.'
\quit
\endif

------------------------------------------------------------------------------------------
-- 3. Move the original out of the way, into mps_legacy.
------------------------------------------------------------------------------------------
CREATE SCHEMA mps_legacy;
REVOKE ALL ON SCHEMA mps_legacy FROM PUBLIC;
COMMENT ON SCHEMA mps_legacy IS
    'The original MPS as it was when it was imported into mps_ext (migrate/from_legacy.sql): an archive, not for use.';

DO $move$
DECLARE
    obj record;
BEGIN
    -- tables (with their indexes, constraints, triggers, policies and owned sequences)
    FOR obj IN SELECT c.oid::regclass AS rel FROM pg_catalog.pg_class c
                WHERE c.relkind IN ('r', 'p') AND c.oid IN (
                      'public.member_profiles'::regclass, 'public.member_external_identities'::regclass,
                      'public.membership_levels'::regclass, 'public.member_cards'::regclass,
                      'public.card_bindings'::regclass, 'public.merchants'::regclass, 'public.admin_users'::regclass,
                      'public.merchant_users'::regclass, 'public.app_sessions'::regclass,
                      'public.card_qr_state'::regclass, 'public.card_qr_history'::regclass,
                      'public.tx_registry'::regclass, 'public.idempotency_registry'::regclass,
                      'public.merchant_order_registry'::regclass, 'public.transactions'::regclass,
                      'public.point_ledger'::regclass, 'public.settlements'::regclass, 'audit.event_log'::regclass)
    LOOP
        EXECUTE pg_catalog.format('ALTER TABLE %s SET SCHEMA mps_legacy', obj.rel);
    END LOOP;
    FOR obj IN SELECT c.relname FROM pg_catalog.pg_class c
                WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'S'
                  AND c.relname IN ('seq_member_no', 'seq_card_no', 'seq_tx_no')
    LOOP
        EXECUTE pg_catalog.format('ALTER SEQUENCE public.%I SET SCHEMA mps_legacy', obj.relname);
    END LOOP;
    FOR obj IN SELECT t.typname FROM pg_catalog.pg_type t
                WHERE t.typnamespace = 'public'::regnamespace
                  AND t.typname IN ('card_type', 'card_status', 'tx_type', 'tx_status', 'pay_method', 'bind_role',
                                    'binding_status', 'member_status', 'settlement_status', 'settlement_mode')
    LOOP
        EXECUTE pg_catalog.format('ALTER TYPE public.%I SET SCHEMA mps_legacy', obj.typname);
    END LOOP;
    -- the original's functions: every function in sec, and in public every function named as
    -- one of the original's (its RPCs, helpers, triggers and test helpers), overloads included
    FOR obj IN SELECT p.oid::regprocedure AS fn FROM pg_catalog.pg_proc p
                WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_depend d
                                   WHERE d.classid = 'pg_catalog.pg_proc'::regclass AND d.objid = p.oid
                                     AND d.deptype = 'e')
                  AND (p.pronamespace = pg_catalog.to_regnamespace('sec')
                       OR (p.pronamespace = 'public'::regnamespace AND p.proname = ANY (ARRAY[
        'admin_activate_member', 'admin_activate_merchant', 'admin_suspend_member', 'admin_suspend_merchant',
        'before_insert_member_cards_fill_card_no', 'bind_member_to_card', 'can_refund', 'check_permission',
        'cleanup_expired_sessions', 'cleanup_test_data', 'compute_discount', 'compute_level', 'create_corporate_card',
        'create_member_profile', 'create_merchant', 'create_test_corporate_card', 'create_test_dataset',
        'create_test_member', 'create_test_merchant', 'create_test_voucher_card', 'create_voucher_card',
        'cron_rotate_qr_tokens', 'delete_test_member', 'delete_test_merchant', 'freeze_card', 'gen_card_no',
        'gen_member_no', 'gen_tx_no', 'generate_settlement', 'get_all_cards', 'get_all_members', 'get_card_bindings',
        'get_card_by_identifier', 'get_card_detail', 'get_card_details_by_card_no', 'get_member_by_auth_user',
        'get_member_by_identifier', 'get_member_cards', 'get_member_detail', 'get_member_transactions',
        'get_merchant_by_auth_user', 'get_merchant_by_identifier', 'get_merchant_detail',
        'get_merchant_transactions', 'get_point_ledger', 'get_settlement_detail', 'get_system_statistics',
        'get_today_transaction_stats', 'get_transaction_detail', 'get_transaction_trends', 'get_user_profile',
        'get_user_role', 'is_admin', 'list_settlements', 'load_session', 'logout_session', 'member_login',
        'merchant_charge_by_qr', 'merchant_login', 'merchant_refund_tx', 'now_utc', 'require_role',
        'reset_session_variables', 'reset_test_environment', 'revoke_card_qr', 'rotate_card_qr', 'search_cards',
        'search_members', 'search_members_advanced', 'search_merchants', 'set_card_binding_password',
        'set_member_password', 'set_member_password_by_identifier', 'set_merchant_password', 'set_updated_at',
        'system_health_check', 'test_connection', 'toggle_card_status_by_card_no',
        'toggle_member_status_by_identifier', 'unbind_member_from_card', 'unfreeze_card',
        'update_member_by_identifier', 'update_member_profile', 'update_points_and_level',
        'update_settlement_status', 'user_recharge_card', 'validate_qr_plain'])))
    LOOP
        EXECUTE pg_catalog.format('ALTER FUNCTION %s SET SCHEMA mps_legacy', obj.fn);
        EXECUTE pg_catalog.format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', obj.fn);
    END LOOP;
    -- audit and sec held only the original's objects; mps_ext makes its own audit schema
    IF EXISTS (SELECT FROM pg_catalog.pg_class WHERE relnamespace = 'audit'::regnamespace)
       OR EXISTS (SELECT FROM pg_catalog.pg_proc WHERE pronamespace = 'audit'::regnamespace)
       OR EXISTS (SELECT FROM pg_catalog.pg_type WHERE typnamespace = 'audit'::regnamespace) THEN
        RAISE EXCEPTION USING ERRCODE = 'dependent_objects_still_exist',
            MESSAGE = 'LEGACY_SCHEMA_NOT_EMPTY: the schema audit holds objects that are not the original''s',
            DETAIL = 'mps_ext creates its own schema audit; the import moves audit.event_log and nothing else.',
            HINT = 'Move the other objects out of audit first.';
    END IF;
    DROP SCHEMA audit;
    IF pg_catalog.to_regnamespace('sec') IS NOT NULL
       AND NOT EXISTS (SELECT FROM pg_catalog.pg_class WHERE relnamespace = 'sec'::regnamespace)
       AND NOT EXISTS (SELECT FROM pg_catalog.pg_proc WHERE pronamespace = 'sec'::regnamespace) THEN
        DROP SCHEMA sec;
    END IF;
END
$move$;

------------------------------------------------------------------------------------------
-- 4. mps_ext, with a monthly partition for every month the legacy movements span.
------------------------------------------------------------------------------------------
CREATE EXTENSION mps_ext;
SELECT mps_internal.ensure_transaction_partitions(3, (SELECT min(created_at) FROM mps_legacy.transactions))
       AS partitions_created \gset

------------------------------------------------------------------------------------------
-- 5. Every row, with its ids, numbers and times.
------------------------------------------------------------------------------------------
DELETE FROM public.membership_levels;
INSERT INTO public.membership_levels (id, level, name, min_points, max_points, discount, is_active, created_at, updated_at)
SELECT id, level, name, min_points, max_points, discount, is_active, created_at, updated_at
  FROM mps_legacy.membership_levels;

INSERT INTO public.member_profiles (id, member_no, name, phone, email, binding_user_org, binding_org_id, role,
                                    status, owner_info, auth_user_id, created_at, updated_at)
SELECT m.id, m.member_no, m.name, m.phone, m.email, m.binding_user_org, m.binding_org_id, m.role,
       m.status::text::public.member_status, m.owner_info,
       CASE WHEN EXISTS (SELECT FROM legacy_anomaly a WHERE a.kind = 'auth_user_shared' AND a.row_key = m.member_no)
            THEN NULL ELSE m.auth_user_id END,
       m.created_at, m.updated_at
  FROM mps_legacy.member_profiles m;
INSERT INTO mps_internal.member_passwords (member_id, password_hash)
SELECT id, password_hash FROM mps_legacy.member_profiles WHERE password_hash IS NOT NULL;

INSERT INTO public.member_external_identities (id, member_id, provider, external_id, meta, created_at, updated_at)
SELECT id, member_id, provider, external_id, meta, created_at, updated_at FROM mps_legacy.member_external_identities;

INSERT INTO public.merchants (id, code, name, contact, status, created_at, updated_at)
SELECT id, code, name, contact, status, created_at, updated_at FROM mps_legacy.merchants;
INSERT INTO mps_internal.merchant_passwords (merchant_id, password_hash)
SELECT id, password_hash FROM mps_legacy.merchants WHERE password_hash IS NOT NULL;

INSERT INTO public.admin_users (id, auth_user_id, name, role, permissions, is_active, created_at, updated_at)
SELECT id, auth_user_id, name, role, permissions, is_active, created_at, updated_at FROM mps_legacy.admin_users;
INSERT INTO public.merchant_users (id, merchant_id, auth_user_id, role, created_at)
SELECT id, merchant_id, auth_user_id, role, created_at FROM mps_legacy.merchant_users;

INSERT INTO public.member_cards (id, card_no, card_type, owner_member_id, name, balance, points, level, discount,
                                 corporate_discount, fixed_discount, status, expires_at, created_at, updated_at,
                                 issued_balance)
SELECT c.id, c.card_no, c.card_type::text::public.card_type, c.owner_member_id, c.name, c.balance, c.points, c.level,
       c.discount, c.corporate_discount, c.fixed_discount, c.status::text::public.card_status, c.expires_at,
       c.created_at, c.updated_at, b.opening_balance
  FROM mps_legacy.member_cards c JOIN legacy_card_books b ON b.card_id = c.id;
INSERT INTO mps_internal.card_binding_passwords (card_id, password_hash)
SELECT id, binding_password_hash FROM mps_legacy.member_cards WHERE binding_password_hash IS NOT NULL;

INSERT INTO public.card_bindings (id, card_id, member_id, role, status, created_at)
SELECT id, card_id, member_id, role::text::public.bind_role, status::text::public.binding_status, created_at
  FROM mps_legacy.card_bindings;

INSERT INTO public.tx_registry (tx_no, tx_id, created_at)
SELECT tx_no, id, created_at FROM mps_legacy.transactions;

-- An imported movement carries the fingerprint 'legacy' (src/domain/legacy.rs): its key
-- replays any retry, as the original did. A refund is linked to its payment.
INSERT INTO public.transactions (id, tx_no, tx_type, card_id, merchant_id, raw_amount, discount_applied, final_amount,
                                 points_earned, status, reason, payment_method, external_order_id, idempotency_key,
                                 original_tx_id, processed_by_user_id, tag, created_at, updated_at,
                                 request_fingerprint)
SELECT t.id, t.tx_no, t.tx_type::text::public.tx_type, t.card_id, t.merchant_id, t.raw_amount, t.discount_applied,
       t.final_amount, t.points_earned, t.status::text::public.tx_status, t.reason,
       t.payment_method::text::public.pay_method, t.external_order_id, t.idempotency_key,
       coalesce(t.original_tx_id, l.payment_id), t.processed_by_user_id, t.tag, t.created_at, t.updated_at, 'legacy'
  FROM mps_legacy.transactions t LEFT JOIN legacy_refund_link l ON l.refund_id = t.id;

INSERT INTO public.idempotency_registry (operation, scope_id, key_kind, idempotency_key, tx_id, created_at)
SELECT t.tx_type::text::public.request_operation, CASE WHEN t.tx_type = 'recharge' THEN t.card_id ELSE t.merchant_id END,
       'key'::public.request_key_kind,
       k.idempotency_key, k.tx_id, k.created_at
  FROM mps_legacy.idempotency_registry k JOIN mps_legacy.transactions t ON t.id = k.tx_id;
-- external order ids: per merchant for payments, per card for recharges (the first one of a
-- reused recharge order id)
INSERT INTO public.idempotency_registry (operation, scope_id, key_kind, idempotency_key, tx_id, created_at)
SELECT DISTINCT ON (t.tx_type, scope, o.external_order_id)
       t.tx_type::text::public.request_operation, scope, 'order'::public.request_key_kind, o.external_order_id, o.tx_id, o.created_at
  FROM mps_legacy.merchant_order_registry o JOIN mps_legacy.transactions t ON t.id = o.tx_id
 CROSS JOIN LATERAL (SELECT CASE WHEN t.tx_type = 'recharge' THEN t.card_id ELSE t.merchant_id END AS scope) s
 ORDER BY t.tx_type, scope, o.external_order_id, t.created_at, t.tx_no;
INSERT INTO public.merchant_order_registry (merchant_id, external_order_id, tx_id, created_at)
SELECT merchant_id, external_order_id, tx_id, created_at FROM mps_legacy.merchant_order_registry;

INSERT INTO public.point_ledger (id, card_id, tx_id, change, balance_before, balance_after, reason, created_at)
SELECT id, card_id, tx_id, change, balance_before, balance_after, reason, created_at FROM mps_legacy.point_ledger;

INSERT INTO public.settlements (id, merchant_id, mode, period_start, period_end, total_amount, total_tx_count,
                                status, payload, created_at, updated_at)
SELECT id, merchant_id, mode::text::public.settlement_mode, period_start, period_end, total_amount, total_tx_count,
       status::text::public.settlement_status, payload, created_at, updated_at
  FROM mps_legacy.settlements;

INSERT INTO public.card_qr_history (id, card_id, expires_at, issued_by, issued_at)
SELECT id, card_id, expires_at, issued_by, issued_at FROM mps_legacy.card_qr_history;

INSERT INTO audit.event_log (id, happened_at, actor_user_id, action, object_type, object_id, context)
SELECT id, happened_at, actor_user_id, action, object_type, object_id, context FROM mps_legacy.event_log;

-- The numbers continue where the original's left off.
SELECT count(pg_catalog.setval(('public.' || seq)::regclass, last::bigint)) AS sequences_set
  FROM legacy_numbers WHERE last > 0 \gset
SELECT pg_catalog.setval('audit.event_log_id_seq',
                         greatest((SELECT max(id) FROM audit.event_log), (SELECT last_value FROM mps_legacy.event_log_id_seq)))
\gset

------------------------------------------------------------------------------------------
-- 6. Opening adjustments, the report and the audit trail.
------------------------------------------------------------------------------------------
-- Points: a row for each movement's missing points, then one per card for the rest.
INSERT INTO public.point_ledger (card_id, tx_id, change, balance_before, balance_after, reason)
SELECT x.card_id, x.tx_id, x.missing, c.points, c.points, 'legacy_opening'
  FROM legacy_tx_points x JOIN public.member_cards c ON c.id = x.card_id;
INSERT INTO public.point_ledger (card_id, tx_id, change, balance_before, balance_after, reason)
SELECT card_id, NULL, opening_points, ledger_points, points, 'legacy_opening'
  FROM legacy_card_books WHERE opening_points <> 0;

INSERT INTO mps_internal.legacy_anomalies (kind, table_name, row_key, card_id, tx_id, detail, booked)
SELECT kind, table_name, row_key, card_id, tx_id, detail, booked FROM legacy_anomaly ORDER BY kind, table_name, row_key;

INSERT INTO mps_internal.legacy_import (rows)
SELECT jsonb_object_agg(legacy_table, row_count) FROM legacy_rows;

INSERT INTO audit.event_log (actor_role, action, object_type, object_id, context)
SELECT 'super_admin', 'LEGACY_OPENING_BALANCE', 'member_cards', card_id,
       jsonb_build_object('card_no', card_no, 'opening_balance', opening_balance, 'balance', balance,
                          'movements', movements)
  FROM legacy_card_books WHERE opening_balance <> 0
UNION ALL
SELECT 'super_admin', 'LEGACY_ANOMALY', table_name, coalesce(tx_id, card_id),
       jsonb_build_object('kind', kind, 'row', row_key, 'detail', detail, 'booked', booked)
  FROM legacy_anomaly
UNION ALL
SELECT 'super_admin', 'LEGACY_IMPORT', 'database', NULL,
       jsonb_build_object('rows', (SELECT rows FROM mps_internal.legacy_import),
                          'anomalies', (SELECT count(*) FROM legacy_anomaly));

------------------------------------------------------------------------------------------
-- 7. Check before committing: every row arrived, and the books balance.
------------------------------------------------------------------------------------------
DO $verify$
DECLARE
    short text;
    unbalanced text;
BEGIN
    SELECT pg_catalog.string_agg(pg_catalog.format('%s: %s legacy, %s imported', tbl, legacy, imported), '; ')
      INTO short
      FROM (VALUES
        ('member_profiles', (SELECT count(*) FROM mps_legacy.member_profiles), (SELECT count(*) FROM public.member_profiles)),
        ('member_cards', (SELECT count(*) FROM mps_legacy.member_cards), (SELECT count(*) FROM public.member_cards)),
        ('card_bindings', (SELECT count(*) FROM mps_legacy.card_bindings), (SELECT count(*) FROM public.card_bindings)),
        ('merchants', (SELECT count(*) FROM mps_legacy.merchants), (SELECT count(*) FROM public.merchants)),
        ('transactions', (SELECT count(*) FROM mps_legacy.transactions), (SELECT count(*) FROM public.transactions)),
        ('point_ledger', (SELECT count(*) FROM mps_legacy.point_ledger),
                         (SELECT count(*) FROM public.point_ledger WHERE reason IS DISTINCT FROM 'legacy_opening')),
        ('settlements', (SELECT count(*) FROM mps_legacy.settlements), (SELECT count(*) FROM public.settlements)),
        ('event_log', (SELECT count(*) FROM mps_legacy.event_log),
                      (SELECT count(*) FROM audit.event_log WHERE action NOT LIKE 'LEGACY\_%'))
      ) AS c(tbl, legacy, imported)
     WHERE legacy <> imported;
    IF short IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'data_exception',
            MESSAGE = 'MIGRATION_INCOMPLETE: rows were not imported', DETAIL = short || '.',
            HINT = 'Nothing was changed. Report this with the output of the dry run.';
    END IF;
    SELECT pg_catalog.string_agg(pg_catalog.format('%s %s: expected %s, found %s', check_name, card_no, expected, actual),
                                 '; ')
      INTO unbalanced
      FROM (SELECT * FROM public.verify_ledger() LIMIT 20) v;
    IF unbalanced IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'data_exception',
            MESSAGE = 'MIGRATION_LEDGER_UNBALANCED: verify_ledger() is not clean after the import',
            DETAIL = unbalanced || '.',
            HINT = 'Nothing was changed. Report this with the output of the dry run.';
    END IF;
END
$verify$;

ANALYZE public.member_profiles, public.member_cards, public.card_bindings, public.merchants, public.transactions,
        public.tx_registry, public.idempotency_registry, public.point_ledger, public.settlements, audit.event_log;

COMMIT;
\echo 'Imported: the original MPS is in the schema mps_legacy; mps_internal.legacy_anomalies lists what was found.'
