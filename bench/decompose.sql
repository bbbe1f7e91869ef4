-- Reference movements for bench/decompose.sh: merchant_charge_by_qr rebuilt in PL/pgSQL in three
-- steps, each a superset of the one before, to see where a real charge's cost goes; and the
-- floors of a recharge and a refund (DECOMPOSE_SET=money), to see what their targets leave. None is
-- an implementation: they skip checks the RPC makes (they are benchmarks, in mps_bench), and
-- the floor's movements lack rows verify_ledger() expects (tx_registry): load them only into a
-- database made for bench/decompose.sh. Their card updates set updated_at, as the RPC's
-- movement does, which spares the row its trigger (sql/12_triggers.sql).
--
--   charge_floor       the least a charge can write and keep the invariants: one statement
--                      debits the card found by its live code only if the balance covers the
--                      amount (no over-draw), records the movement (its number, its partition
--                      and indexes, its CHECK), the idempotency key (unique in its scope:
--                      exactly once) and the audit row;
--   charge_rows        the same statement with every other row the RPC's movement writes:
--                      the feed's event, the points ledger row, the tx_registry row;
--   charge_statements  charge_rows after the statements the RPC runs before its movement, with
--                      the RPC's own SQL: the session, the merchant, the advisory locks (its
--                      settlement runs', the key's), the earlier request under the key, the
--                      card's lock with its owner and the levels, its holds and live code again.
--   recharge_floor     a completed recharge (user_recharge_card by the service key): one
--                      statement credits the card only if it is an active standard card and
--                      stays within numeric(12,2), records the movement, the key and the audit
--                      row, like charge_floor;
--   refund_floor       a refund of part of a payment (merchant_refund_tx): the payment found by
--                      its number and row-locked in its partition (as the RPC does: concurrent
--                      refunds of it queue there), the sum of its earlier refunds in every month
--                      read after the lock (no over-refund), then one statement credits the
--                      card, records the refund and the audit row. Like the benchmark's refunds
--                      it takes no key; the payments it refunds are all of this month.
-- The RPC itself (bench/scripts/charge.sql) adds to charge_statements the Rust around the
-- statements (the computation of price, points and level, pgrx's SPI and datum handling).

CREATE FUNCTION mps_bench.charge_floor(p_merchant_code text, p_qr_plain text, p_raw numeric, p_key text)
RETURNS text LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    recorded text;
BEGIN
    WITH card AS (
        UPDATE public.member_cards c SET balance = c.balance - p_raw, updated_at = now()
          FROM mps_internal.card_qr_tokens q
         WHERE q.token_hash = encode(sha256(convert_to(p_qr_plain, 'UTF8')), 'hex') AND q.expires_at > now()
           AND c.id = q.card_id AND c.balance >= p_raw AND c.status = 'active'
        RETURNING c.id),
    tx AS (
        INSERT INTO public.transactions (tx_no, tx_type, card_id, merchant_id, raw_amount, final_amount, status,
                                         idempotency_key, created_at, updated_at)
        SELECT mps_internal.tx_no('payment', nextval('public.seq_tx_no')), 'payment', card.id, m.id, p_raw, p_raw,
               'completed', p_key, clock_timestamp(), clock_timestamp()
          FROM card, public.merchants m WHERE m.code = p_merchant_code
        RETURNING id, tx_no, merchant_id, created_at),
    audit AS (
        INSERT INTO audit.event_log (happened_at, actor_role, action, object_type, object_id, context)
        SELECT tx.created_at, 'merchant', 'PAYMENT', 'transactions', tx.id, '{}' FROM tx),
    requests AS (
        INSERT INTO public.idempotency_registry (operation, scope_id, key_kind, idempotency_key, tx_id, created_at)
        SELECT 'payment', tx.merchant_id, 'key', p_key, tx.id, tx.created_at FROM tx)
    SELECT tx_no INTO recorded FROM tx;
    RETURN recorded;
END
$$;

CREATE FUNCTION mps_bench.charge_rows(p_merchant_code text, p_qr_plain text, p_raw numeric, p_key text)
RETURNS text LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    recorded text;
BEGIN
    WITH card AS (
        UPDATE public.member_cards c SET balance = c.balance - p_raw, points = c.points + 1, updated_at = now()
          FROM mps_internal.card_qr_tokens q
         WHERE q.token_hash = encode(sha256(convert_to(p_qr_plain, 'UTF8')), 'hex') AND q.expires_at > now()
           AND c.id = q.card_id AND c.balance >= p_raw AND c.status = 'active'
        RETURNING c.id, c.balance, c.points, c.owner_member_id),
    tx AS (
        INSERT INTO public.transactions (tx_no, tx_type, card_id, merchant_id, raw_amount, final_amount, status,
                                         idempotency_key, created_at, updated_at)
        SELECT mps_internal.tx_no('payment', nextval('public.seq_tx_no')), 'payment', card.id, m.id, p_raw, p_raw,
               'completed', p_key, clock_timestamp(), clock_timestamp()
          FROM card, public.merchants m WHERE m.code = p_merchant_code
        RETURNING id, tx_no, merchant_id, created_at),
    event AS (
        INSERT INTO public.events (occurred_at, event_type, card_id, member_id, merchant_id, tx_no, amount,
                                   balance_after, payload)
        SELECT tx.created_at, 'payment', card.id, card.owner_member_id, tx.merchant_id, tx.tx_no, p_raw, card.balance,
               jsonb_build_object('tag', '{}'::jsonb)
          FROM tx, card),
    ledger AS (
        INSERT INTO public.point_ledger (card_id, tx_id, change, balance_before, balance_after, reason, created_at)
        SELECT card.id, tx.id, 1, card.points - 1, card.points, 'payment_earn', tx.created_at FROM tx, card),
    audit AS (
        INSERT INTO audit.event_log (happened_at, actor_role, action, object_type, object_id, context)
        SELECT tx.created_at, 'merchant', 'PAYMENT', 'transactions', tx.id, '{}' FROM tx),
    registry AS (
        INSERT INTO public.tx_registry (tx_no, tx_id, created_at) SELECT tx_no, id, created_at FROM tx),
    requests AS (
        INSERT INTO public.idempotency_registry (operation, scope_id, key_kind, idempotency_key, tx_id, created_at)
        SELECT 'payment', tx.merchant_id, 'key', p_key, tx.id, tx.created_at FROM tx)
    SELECT tx_no INTO recorded FROM tx;
    RETURN recorded;
END
$$;

CREATE FUNCTION mps_bench.charge_statements(p_merchant_code text, p_qr_plain text, p_raw numeric, p_key text,
                                            p_session_id text)
RETURNS text LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    digest text := encode(sha256(convert_to(p_qr_plain, 'UTF8')), 'hex');
    merchant uuid;
    card uuid;
    levels jsonb;
BEGIN
    PERFORM FROM public.app_sessions s
      LEFT JOIN public.member_profiles p ON p.id = s.member_id
      LEFT JOIN public.merchants m ON m.id = s.merchant_id
     WHERE s.session_id = encode(sha256(convert_to(p_session_id, 'UTF8')), 'hex') AND s.expires_at > now()
       AND (s.member_id IS NULL OR p.status = 'active') AND (s.merchant_id IS NULL OR m.status = 'active');
    SELECT id INTO merchant FROM public.merchants WHERE code = p_merchant_code AND status = 'active';
    PERFORM CASE WHEN l.shared THEN pg_advisory_xact_lock_shared(hashtextextended(l.name, 0))
                 ELSE pg_advisory_xact_lock(hashtextextended(l.name, 0)) END
       FROM ROWS FROM (unnest(ARRAY['settlement:' || merchant, 'payment:' || merchant || ':key:' || p_key]),
                       unnest(ARRAY[true, false])) AS l (name, shared);
    PERFORM FROM public.idempotency_registry k JOIN public.tx_registry r ON r.tx_id = k.tx_id
     WHERE k.operation = 'payment' AND k.scope_id = merchant AND k.key_kind = 'key' AND k.idempotency_key = p_key;
    SELECT c.id, (SELECT COALESCE(jsonb_agg(jsonb_build_array(l.level, l.min_points, l.max_points, l.discount::text)
                                            ORDER BY l.level), '[]')
                    FROM public.membership_levels l WHERE l.is_active)
      INTO card, levels
      FROM public.member_cards c
      LEFT JOIN public.member_profiles p ON p.id = c.owner_member_id
      JOIN mps_internal.card_qr_tokens q ON q.card_id = c.id
     WHERE q.token_hash = digest AND q.expires_at > now()
       FOR UPDATE OF c;
    PERFORM (SELECT COALESCE(sum(amount), 0) FROM public.card_holds
              WHERE card_id = card AND status = 'active' AND expires_at > now())
       FROM mps_internal.card_qr_tokens WHERE card_id = card AND token_hash = digest AND expires_at > now();
    RETURN mps_bench.charge_rows(p_merchant_code, p_qr_plain, p_raw, p_key);
END
$$;

CREATE FUNCTION mps_bench.recharge_floor(p_card_id uuid, p_amount numeric, p_key text)
RETURNS text LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    recorded text;
BEGIN
    WITH card AS (
        UPDATE public.member_cards c SET balance = c.balance + p_amount, updated_at = now()
         WHERE c.id = p_card_id AND c.status = 'active' AND c.card_type = 'standard'
           AND c.balance + p_amount <= 9999999999.99
        RETURNING c.id),
    tx AS (
        INSERT INTO public.transactions (tx_no, tx_type, card_id, raw_amount, final_amount, status, payment_method,
                                         idempotency_key, created_at, updated_at)
        SELECT mps_internal.tx_no('recharge', nextval('public.seq_tx_no')), 'recharge', card.id, p_amount, p_amount,
               'completed', 'cash', p_key, clock_timestamp(), clock_timestamp()
          FROM card
        RETURNING id, tx_no, card_id, created_at),
    audit AS (
        INSERT INTO audit.event_log (happened_at, actor_role, action, object_type, object_id, context)
        SELECT tx.created_at, 'service_role', 'RECHARGE', 'transactions', tx.id, '{}' FROM tx),
    requests AS (
        INSERT INTO public.idempotency_registry (operation, scope_id, key_kind, idempotency_key, tx_id, created_at)
        SELECT 'recharge', tx.card_id, 'key', p_key, tx.id, tx.created_at FROM tx)
    SELECT tx_no INTO recorded FROM tx;
    RETURN recorded;
END
$$;

-- The payment is read from this month's partition by name, through the function's kept plan, as
-- the RPC reads it (a plan on the partitioned table would lock every partition at each call).
DO $do$
BEGIN
    EXECUTE format($f$
CREATE FUNCTION mps_bench.refund_floor(p_merchant_code text, p_tx_no text, p_amount numeric)
RETURNS text LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    original record;
    refunded numeric;
    recorded text;
BEGIN
    SELECT t.id, t.card_id, t.merchant_id, t.final_amount INTO original
      FROM %s t
     WHERE t.id = (SELECT r.tx_id FROM public.tx_registry r WHERE r.tx_no = p_tx_no)
       AND t.merchant_id = (SELECT m.id FROM public.merchants m WHERE m.code = p_merchant_code)
       AND t.tx_type = 'payment'
       FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no payment %%', p_tx_no;
    END IF;
    SELECT COALESCE(sum(final_amount) FILTER (WHERE tx_type = 'refund' AND status = 'completed'), 0) INTO refunded
      FROM public.transactions WHERE original_tx_id = original.id;
    IF refunded + p_amount > original.final_amount THEN
        RAISE EXCEPTION 'over-refund of %%', p_tx_no;
    END IF;
    WITH card AS (
        UPDATE public.member_cards c SET balance = c.balance + p_amount, updated_at = now()
         WHERE c.id = original.card_id AND c.status = 'active'
        RETURNING c.id),
    tx AS (
        INSERT INTO public.transactions (tx_no, tx_type, card_id, merchant_id, raw_amount, final_amount, status,
                                         original_tx_id, created_at, updated_at)
        SELECT mps_internal.tx_no('refund', nextval('public.seq_tx_no')), 'refund', card.id, original.merchant_id,
               p_amount, p_amount, 'completed', original.id, clock_timestamp(), clock_timestamp()
          FROM card
        RETURNING id, tx_no, created_at),
    audit AS (
        INSERT INTO audit.event_log (happened_at, actor_role, action, object_type, object_id, context)
        SELECT tx.created_at, 'merchant', 'REFUND', 'transactions', tx.id, '{}' FROM tx)
    SELECT tx_no INTO recorded FROM tx;
    RETURN recorded;
END
$$;$f$, 'mps_internal.transactions_p' || to_char(now() AT TIME ZONE 'UTC', 'YYYYMM'));
END
$do$;

REVOKE EXECUTE ON FUNCTION mps_bench.charge_floor, mps_bench.charge_rows, mps_bench.charge_statements FROM PUBLIC;
GRANT EXECUTE ON FUNCTION mps_bench.charge_floor, mps_bench.charge_rows, mps_bench.charge_statements TO anon;
REVOKE EXECUTE ON FUNCTION mps_bench.recharge_floor, mps_bench.refund_floor FROM PUBLIC;
GRANT EXECUTE ON FUNCTION mps_bench.recharge_floor TO service_role;
GRANT EXECUTE ON FUNCTION mps_bench.refund_floor TO anon;
