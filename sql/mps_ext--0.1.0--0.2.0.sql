-- mps_ext 0.1.0 → 0.2.0: public.transactions becomes partitioned by month. A unique index
-- on a partitioned table must contain its partition key, so the uniqueness that spans
-- partitions moves to registries: tx_registry (every movement's number and id; foreign keys
-- to a movement point there) and a scoped idempotency_registry (idempotency keys and
-- external order ids, per merchant for payments and per card for recharges).
-- The statements mirror the 0.2.0 install script (sql/10–37); tests/db/test_upgrade_and_partitions.py
-- checks that an upgraded database and a fresh one have the same schema.

-- 1. Registries, backfilled from the movements so far.
INSERT INTO public.tx_registry (tx_no, tx_id, created_at)
SELECT tx_no, id, created_at FROM public.transactions
ON CONFLICT DO NOTHING;
CREATE INDEX idx_tx_registry_created_at ON public.tx_registry (created_at);

DROP TABLE public.idempotency_registry;  -- 0.1.0 kept keys on transactions and never wrote it
CREATE TABLE public.idempotency_registry (
    operation       text NOT NULL CHECK (operation IN ('payment', 'recharge')),
    scope_id        uuid NOT NULL,
    key_kind        text NOT NULL CHECK (key_kind IN ('key', 'order')),
    idempotency_key text NOT NULL,
    tx_id           uuid NOT NULL REFERENCES public.tx_registry (tx_id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (operation, scope_id, key_kind, idempotency_key)
);
INSERT INTO public.idempotency_registry (operation, scope_id, key_kind, idempotency_key, tx_id)
SELECT tx_type::text, CASE tx_type WHEN 'payment' THEN merchant_id ELSE card_id END, kind, value, id
  FROM public.transactions,
       LATERAL (VALUES ('key', idempotency_key), ('order', external_order_id)) AS request (kind, value)
 WHERE tx_type IN ('payment', 'recharge') AND value IS NOT NULL;
ALTER TABLE public.idempotency_registry ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON public.idempotency_registry FROM PUBLIC, anon, authenticated, service_role;

-- 2. References to movements now point at the registry.
ALTER TABLE public.point_ledger DROP CONSTRAINT point_ledger_tx_id_fkey;
ALTER TABLE public.point_ledger ADD CONSTRAINT point_ledger_tx_id_fkey
    FOREIGN KEY (tx_id) REFERENCES public.tx_registry (tx_id);

-- 3. The partitioned table takes the place of the old one (which leaves for mps_internal
--    first, so that its index and constraint names are free).
DROP FUNCTION public.get_transaction_detail(text, text);  -- it returns the old table's row type
ALTER TABLE public.transactions RENAME TO transactions_v1;
ALTER TABLE public.transactions_v1 SET SCHEMA mps_internal;

CREATE TABLE public.transactions (
    id                   uuid NOT NULL DEFAULT gen_random_uuid(),
    tx_no                text NOT NULL,
    tx_type              public.tx_type NOT NULL,
    card_id              uuid NOT NULL REFERENCES public.member_cards (id),
    merchant_id          uuid REFERENCES public.merchants (id),
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
    PRIMARY KEY (id, created_at),
    CONSTRAINT transactions_check CHECK (raw_amount > 0 AND final_amount >= 0)
) PARTITION BY RANGE (created_at);

CREATE TABLE mps_internal.transactions_default PARTITION OF public.transactions DEFAULT;

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


INSERT INTO public.transactions
SELECT id, tx_no, tx_type, card_id, merchant_id, raw_amount, discount_applied, final_amount, points_earned, status,
       reason, payment_method, external_order_id, idempotency_key, original_tx_id, processed_by_user_id, tag,
       created_at, updated_at, request_fingerprint
  FROM mps_internal.transactions_v1;
DROP TABLE mps_internal.transactions_v1;
SELECT mps_internal.ensure_transaction_partitions(3, (SELECT min(created_at) FROM public.transactions));

-- tx_no is unique through tx_registry (its primary key), across partitions.
CREATE INDEX idx_tx_card_time ON public.transactions (card_id, created_at DESC);
CREATE INDEX idx_tx_merchant_time ON public.transactions (merchant_id, created_at DESC);
CREATE INDEX idx_tx_status ON public.transactions (status) WHERE status <> 'completed';
CREATE INDEX idx_tx_type_time ON public.transactions (tx_type, created_at DESC);
CREATE INDEX idx_tx_created_at ON public.transactions (created_at);
CREATE INDEX idx_tx_tag_gin ON public.transactions USING gin (tag) WHERE tag <> '{}'::jsonb;
CREATE INDEX idx_tx_original ON public.transactions (original_tx_id) WHERE original_tx_id IS NOT NULL;

CREATE TRIGGER trg_transactions_updated_at BEFORE UPDATE ON public.transactions
    FOR EACH ROW EXECUTE FUNCTION mps_internal.set_updated_at();

ALTER TABLE public.transactions ENABLE ROW LEVEL SECURITY;
ALTER TABLE mps_internal.transactions_default ENABLE ROW LEVEL SECURITY;
CREATE POLICY transactions_own ON public.transactions FOR SELECT TO authenticated
    USING (card_id IN (SELECT c.id FROM public.member_cards c
                        WHERE c.owner_member_id = (SELECT mps_auth.caller_member_id()))
           OR merchant_id = (SELECT mps_auth.caller_merchant_id())
           OR (SELECT mps_auth.caller_is_super_admin()));

REVOKE ALL ON public.transactions FROM PUBLIC, anon, authenticated, service_role;
GRANT SELECT ON public.transactions TO authenticated, service_role;

CREATE FUNCTION public.get_transaction_detail(p_tx_no text, p_session_id text DEFAULT NULL)
RETURNS public.transactions LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''
AS $$
    SELECT t.* FROM mps_internal.transaction_scope(p_tx_no, p_session_id) AS s(id)
      LEFT JOIN public.transactions t ON t.id = s.id
$$;
REVOKE ALL ON FUNCTION public.get_transaction_detail(text, text) FROM PUBLIC, anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION public.get_transaction_detail(text, text) TO anon, authenticated, service_role, mps_admin;

-- 4. Partition maintenance for administrators and pg_cron.
CREATE FUNCTION mps_internal."create_transaction_partitions"(
    "p_months_ahead" INT, /* core::option::Option<i32> */
    "p_session_id" TEXT /* core::option::Option<&str> */
) RETURNS INT /* i32 */
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'create_transaction_partitions_wrapper';
REVOKE ALL ON FUNCTION mps_internal.create_transaction_partitions(integer, text)
    FROM PUBLIC, anon, authenticated, service_role;

CREATE FUNCTION public.create_transaction_partitions(p_months_ahead integer DEFAULT 3, p_session_id text DEFAULT NULL)
RETURNS integer LANGUAGE sql SECURITY DEFINER SET search_path = ''
AS $$ SELECT mps_internal.create_transaction_partitions(p_months_ahead, p_session_id) $$;

REVOKE ALL ON FUNCTION public.create_transaction_partitions(integer, text) FROM PUBLIC, anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION public.create_transaction_partitions(integer, text) TO authenticated, service_role, mps_admin;
