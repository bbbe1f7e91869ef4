-- The 18 tables of the contract (17 in public, audit.event_log) plus internal bookkeeping.
-- Timestamps are plain now(): timestamptz is UTC-correct in any session TimeZone
-- (docs/contract.md B6).

CREATE TABLE public.member_profiles (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    member_no        text NOT NULL UNIQUE
                     DEFAULT mps_internal.member_no(nextval('public.seq_member_no')),
    name             text NOT NULL,
    phone            text UNIQUE,
    email            text UNIQUE,
    binding_user_org text,
    binding_org_id   text,
    role             text NOT NULL DEFAULT 'member',
    status           public.member_status NOT NULL DEFAULT 'active',
    owner_info       jsonb NOT NULL DEFAULT '{}',
    auth_user_id     uuid,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (binding_user_org, binding_org_id)
);

CREATE TABLE public.member_external_identities (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    member_id   uuid NOT NULL REFERENCES public.member_profiles (id) ON DELETE CASCADE,
    provider    text NOT NULL,
    external_id text NOT NULL,
    meta        jsonb NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (provider, external_id),
    UNIQUE (member_id, provider)
);

CREATE TABLE public.membership_levels (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    level      int NOT NULL UNIQUE,
    name       text NOT NULL,
    min_points int NOT NULL,
    max_points int,
    discount   numeric(4,3) NOT NULL DEFAULT 1.000,
    is_active  boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE public.member_cards (
    id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    card_no               text NOT NULL UNIQUE,
    card_type             public.card_type NOT NULL,
    owner_member_id       uuid REFERENCES public.member_profiles (id),
    name                  text,
    balance               numeric(12,2) NOT NULL DEFAULT 0,
    points                int NOT NULL DEFAULT 0,
    level                 int,
    discount              numeric(4,3) NOT NULL DEFAULT 1.000,
    corporate_discount    numeric(4,3),
    fixed_discount        numeric(4,3),
    status                public.card_status NOT NULL DEFAULT 'active',
    expires_at            timestamptz,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    -- Beyond the contract's columns: the balance the card was issued with; verify_ledger()
    -- checks balance = issued_balance + the signed sum of its transactions.
    issued_balance        numeric(12,2) NOT NULL DEFAULT 0,
    CONSTRAINT member_cards_check CHECK (
        (card_type = 'standard' AND discount BETWEEN 0.000 AND 1.000)
        OR card_type IN ('voucher', 'corporate')),
    CONSTRAINT ck_card_balance_nonneg CHECK (balance >= 0),
    CONSTRAINT ck_card_points_nonneg CHECK (points >= 0),
    CONSTRAINT ck_card_fixed_discount_range CHECK (
        fixed_discount IS NULL OR (fixed_discount >= 0 AND fixed_discount <= 1))
)
-- Every movement updates its card's balance: free space on the page lets PostgreSQL make
-- that a HOT update, which touches none of the card's indexes.
WITH (fillfactor = 80);

CREATE TABLE public.card_bindings (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    card_id    uuid NOT NULL REFERENCES public.member_cards (id) ON DELETE CASCADE,
    member_id  uuid NOT NULL REFERENCES public.member_profiles (id) ON DELETE CASCADE,
    role       public.bind_role NOT NULL DEFAULT 'member',
    status     public.binding_status NOT NULL DEFAULT 'active',
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (card_id, member_id)
);

CREATE TABLE public.merchants (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    code          text UNIQUE,
    name          text NOT NULL,
    contact       text,
    status        text NOT NULL DEFAULT 'active',
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE public.admin_users (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    auth_user_id uuid NOT NULL UNIQUE,
    name         text NOT NULL,
    role         text NOT NULL DEFAULT 'super_admin',
    permissions  jsonb DEFAULT '[]',
    is_active    boolean NOT NULL DEFAULT true,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT ck_admin_role CHECK (role = 'super_admin')
);

CREATE TABLE public.merchant_users (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    merchant_id  uuid NOT NULL REFERENCES public.merchants (id) ON DELETE CASCADE,
    auth_user_id uuid NOT NULL,
    role         text NOT NULL DEFAULT 'staff',
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (merchant_id, auth_user_id)
);

-- session_id holds the hex SHA-256 digest of the 44-char session id handed to the client;
-- the id itself is never stored.
CREATE TABLE public.app_sessions (
    session_id       text PRIMARY KEY,
    user_role        text NOT NULL CHECK (user_role IN ('super_admin', 'merchant', 'member')),
    user_id          uuid NOT NULL,
    merchant_id      uuid REFERENCES public.merchants (id) ON DELETE CASCADE,
    member_id        uuid REFERENCES public.member_profiles (id) ON DELETE CASCADE,
    expires_at       timestamptz NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    last_accessed_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON COLUMN public.app_sessions.session_id IS 'hex SHA-256 of the session id; the id itself is never stored';

-- A card's live QR code as clients may see it; its digest is in mps_internal.card_qr_tokens.
CREATE TABLE public.card_qr_state (
    card_id    uuid PRIMARY KEY REFERENCES public.member_cards (id) ON DELETE CASCADE,
    expires_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE public.card_qr_history (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    card_id    uuid NOT NULL REFERENCES public.member_cards (id) ON DELETE CASCADE,
    expires_at timestamptz NOT NULL,
    issued_by  uuid,
    issued_at  timestamptz NOT NULL DEFAULT now()
);

-- Every movement's number and id, unique across all partitions of transactions (a unique
-- index on a partitioned table must include its partition key). Foreign keys to a movement
-- point here.
CREATE TABLE public.tx_registry (
    tx_no      text PRIMARY KEY,
    tx_id      uuid NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Idempotency keys and external order ids, unique within their scope: per merchant for
-- payments, per card for recharges (the original's key space was global: docs/contract.md B7).
CREATE TABLE public.idempotency_registry (
    operation       public.request_operation NOT NULL,
    scope_id        uuid NOT NULL,
    key_kind        public.request_key_kind NOT NULL,
    idempotency_key text NOT NULL,
    tx_id           uuid NOT NULL,  -- a tx_registry row: sql/18_references.sql
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (operation, scope_id, key_kind, idempotency_key)
);

CREATE TABLE public.merchant_order_registry (
    merchant_id       uuid REFERENCES public.merchants (id) ON DELETE CASCADE,
    external_order_id text NOT NULL,
    tx_id             uuid NOT NULL UNIQUE,
    created_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (merchant_id, external_order_id)
);

-- Partitioned by month (created_at); partitions live in mps_internal, out of the API's reach,
-- and are made ahead of time by create_transaction_partitions(). Rows outside every month
-- partition land in the default partition. The parent has no key or index of its own: each
-- partition carries its own (sql/14_partitions.sql), so that pg_dump, which writes a monthly
-- partition as an ordinary table with its indexes, restores it onto a parent that adds none.
CREATE TABLE public.transactions (
    id                   uuid NOT NULL DEFAULT gen_random_uuid(),
    tx_no                text NOT NULL,
    tx_type              public.tx_type NOT NULL,
    card_id              uuid NOT NULL,  -- a card and a merchant: sql/18_references.sql
    merchant_id          uuid,
    raw_amount           numeric(12,2) NOT NULL,
    discount_applied     numeric(4,3) NOT NULL DEFAULT 1.000,
    final_amount         numeric(12,2) NOT NULL,
    points_earned        int NOT NULL DEFAULT 0,
    status               public.tx_status NOT NULL DEFAULT 'processing',
    reason               text,
    payment_method       public.pay_method DEFAULT 'balance',
    external_order_id    text,
    idempotency_key      text,
    original_tx_id       uuid REFERENCES public.tx_registry (tx_id),
    processed_by_user_id uuid,
    tag                  jsonb NOT NULL DEFAULT '{}',
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    -- Beyond the contract's columns: hex SHA-256 of the request's parameters, to tell a
    -- retry from a reused idempotency key or external order id.
    request_fingerprint  text,
    CONSTRAINT transactions_check CHECK (raw_amount > 0 AND final_amount >= 0)
) PARTITION BY RANGE (created_at);

CREATE TABLE mps_internal.transactions_default PARTITION OF public.transactions DEFAULT;

CREATE TABLE public.point_ledger (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    card_id        uuid NOT NULL,  -- a card and a tx_registry row: sql/18_references.sql
    tx_id          uuid,
    change         int NOT NULL,
    balance_before int NOT NULL,
    balance_after  int NOT NULL,
    reason         text,
    created_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE public.settlements (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    merchant_id    uuid NOT NULL REFERENCES public.merchants (id) ON DELETE CASCADE,
    mode           public.settlement_mode NOT NULL DEFAULT 'realtime',
    period_start   timestamptz NOT NULL,
    period_end     timestamptz NOT NULL,
    total_amount   numeric(12,2) NOT NULL,
    total_tx_count int NOT NULL,
    status         public.settlement_status NOT NULL DEFAULT 'pending',
    payload        jsonb NOT NULL DEFAULT '{}',
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT settlements_check CHECK (total_amount >= 0 AND total_tx_count >= 0)
);

-- actor_user_id is the real actor: the session's member or merchant, or the JWT user.
-- actor_role says which kind of actor it is (docs/contract.md W16).
CREATE TABLE audit.event_log (
    id            bigserial PRIMARY KEY,
    happened_at   timestamptz NOT NULL DEFAULT now(),
    actor_user_id uuid,
    actor_role    text,
    action        text NOT NULL,
    object_type   text NOT NULL,
    object_id     uuid,
    context       jsonb NOT NULL DEFAULT '{}'
);

-- Secrets, out of the API's reach: no API role has any privilege on mps_internal, so the
-- public tables hold nothing a client may not read and `select=*` works on every one of
-- them. Each row belongs to the public row it is keyed by and goes with it.
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

-- The hex SHA-256 digest of each card's live QR token (unique: a charge finds its card with
-- one indexed lookup). expires_at is card_qr_state's, kept here too so that the lookup needs
-- no join.
CREATE TABLE mps_internal.card_qr_tokens (
    card_id    uuid PRIMARY KEY REFERENCES public.member_cards (id) ON DELETE CASCADE,
    token_hash text NOT NULL UNIQUE,
    expires_at timestamptz NOT NULL
);

-- Supabase: link the auth user columns to auth.users where that table exists. On vanilla
-- PostgreSQL there is no auth schema and the columns stay plain uuids.
DO $auth_fk$
BEGIN
    IF pg_catalog.to_regclass('auth.users') IS NOT NULL THEN
        ALTER TABLE public.member_profiles ADD CONSTRAINT member_profiles_auth_user_id_fkey
            FOREIGN KEY (auth_user_id) REFERENCES auth.users (id) ON DELETE SET NULL;
        ALTER TABLE public.admin_users ADD CONSTRAINT admin_users_auth_user_id_fkey
            FOREIGN KEY (auth_user_id) REFERENCES auth.users (id) ON DELETE CASCADE;
        ALTER TABLE public.merchant_users ADD CONSTRAINT merchant_users_auth_user_id_fkey
            FOREIGN KEY (auth_user_id) REFERENCES auth.users (id) ON DELETE CASCADE;
        ALTER TABLE public.transactions ADD CONSTRAINT transactions_processed_by_user_id_fkey
            FOREIGN KEY (processed_by_user_id) REFERENCES auth.users (id);
    END IF;
END
$auth_fk$;

-- Holds: an amount reserved on a card at a merchant's POS (merchant_authorize_by_qr), captured
-- later as an ordinary payment at the recorded rate (merchant_capture_hold) or released
-- (merchant_void_hold). An active hold counts against the card's available balance until it
-- expires; no job is needed for that (the maintenance job only marks lapsed holds expired).
CREATE TABLE public.card_holds (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    hold_no             text NOT NULL UNIQUE DEFAULT mps_internal.hold_no(nextval('public.seq_hold_no')),
    card_id             uuid NOT NULL REFERENCES public.member_cards (id) ON DELETE CASCADE,
    merchant_id         uuid NOT NULL REFERENCES public.merchants (id) ON DELETE CASCADE,
    raw_amount          numeric(12,2) NOT NULL CHECK (raw_amount > 0),
    discount            numeric(4,3) NOT NULL CHECK (discount BETWEEN 0 AND 1),
    amount              numeric(12,2) NOT NULL CHECK (amount >= 0),
    status              public.hold_status NOT NULL DEFAULT 'active',
    expires_at          timestamptz NOT NULL,
    capture_tx_id       uuid UNIQUE REFERENCES public.tx_registry (tx_id),
    idempotency_key     text,
    external_order_id   text,
    request_fingerprint text,
    tag                 jsonb NOT NULL DEFAULT '{}',
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CHECK ((status = 'captured') = (capture_tx_id IS NOT NULL))
);


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
