-- Public API: money movements, points and levels, and the ledger check. Amounts travel to
-- Rust as text (exact decimal) and come back as numeric.

-- The hot path: bound straight to the Rust function, without a SQL wrapper in between.
CREATE FUNCTION public.merchant_charge_by_qr(
    p_merchant_code text,
    p_qr_plain text,
    p_raw_amount numeric,
    p_idempotency_key text DEFAULT NULL,
    p_tag jsonb DEFAULT '{}'::jsonb,
    p_external_order_id text DEFAULT NULL,
    p_session_id text DEFAULT NULL)
RETURNS TABLE (tx_id uuid, tx_no text, card_id uuid, final_amount numeric, discount numeric)
LANGUAGE c VOLATILE SECURITY DEFINER SET search_path = ''
AS 'MODULE_PATHNAME', 'merchant_charge_by_qr_wrapper';

CREATE FUNCTION public.merchant_refund_tx(
    p_merchant_code text,
    p_original_tx_no text,
    p_refund_amount numeric,
    p_tag jsonb DEFAULT '{}'::jsonb,
    p_session_id text DEFAULT NULL)
RETURNS TABLE (refund_tx_id uuid, refund_tx_no text, refunded_amount numeric)
LANGUAGE sql SECURITY DEFINER SET search_path = ''
AS $$
    SELECT r.refund_tx_id, r.refund_tx_no, r.refunded_amount::numeric
      FROM mps_internal.merchant_refund_tx(p_merchant_code, p_original_tx_no, p_refund_amount::text, p_tag,
                                           p_session_id) r
$$;

CREATE FUNCTION public.user_recharge_card(
    p_card_id uuid,
    p_amount numeric,
    p_payment_method public.pay_method DEFAULT 'wechat',
    p_tag jsonb DEFAULT '{}'::jsonb,
    p_idempotency_key text DEFAULT NULL,
    p_external_order_id text DEFAULT NULL,
    p_session_id text DEFAULT NULL)
RETURNS TABLE (tx_id uuid, tx_no text, card_id uuid, amount numeric)
LANGUAGE sql SECURITY DEFINER SET search_path = ''
AS $$
    SELECT r.tx_id, r.tx_no, r.card_id, r.amount::numeric
      FROM mps_internal.user_recharge_card(p_card_id, p_amount::text, p_payment_method::text, p_tag,
                                           p_idempotency_key, p_external_order_id, p_session_id) r
$$;

-- A member's recharge stays pending until its payment is confirmed: confirm_recharge (the
-- payment gateway's webhook with the service key, or a super admin) credits it once;
-- cancel_recharge (a super admin, or the member who asked for it) drops it.
CREATE FUNCTION public.confirm_recharge(p_tx_no text, p_session_id text DEFAULT NULL)
RETURNS TABLE (tx_id uuid, tx_no text, card_id uuid, amount numeric)
LANGUAGE sql SECURITY DEFINER SET search_path = ''
AS $$
    SELECT r.tx_id, r.tx_no, r.card_id, r.amount::numeric FROM mps_internal.confirm_recharge(p_tx_no, p_session_id) r
$$;

CREATE FUNCTION public.cancel_recharge(p_tx_no text, p_reason text DEFAULT NULL, p_session_id text DEFAULT NULL)
RETURNS boolean LANGUAGE sql SECURITY DEFINER SET search_path = ''
AS $$ SELECT mps_internal.cancel_recharge(p_tx_no, p_reason, p_session_id) $$;

CREATE FUNCTION public.update_points_and_level(
    p_card_id uuid,
    p_delta_points integer,
    p_reason text DEFAULT 'manual_adjust',
    p_session_id text DEFAULT NULL)
RETURNS boolean LANGUAGE sql SECURITY DEFINER SET search_path = ''
AS $$ SELECT mps_internal.update_points_and_level(p_card_id, p_delta_points, p_reason, p_session_id) $$;

CREATE FUNCTION public.compute_discount(p_points integer, p_session_id text DEFAULT NULL)
RETURNS numeric LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''
AS $$ SELECT mps_internal.compute_discount(p_points)::numeric(4,3) $$;

CREATE FUNCTION public.compute_level(p_points integer, p_session_id text DEFAULT NULL)
RETURNS integer LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''
AS $$ SELECT mps_internal.compute_level(p_points) $$;

CREATE FUNCTION public.get_point_ledger(
    p_card_id uuid,
    p_limit integer DEFAULT 50,
    p_offset integer DEFAULT 0,
    p_session_id text DEFAULT NULL)
RETURNS TABLE (id uuid, change integer, balance_before integer, balance_after integer, reason text, tx_id uuid,
               created_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''
AS $$
    SELECT l.id, l.change, l.balance_before, l.balance_after, l.reason, l.tx_id, l.created_at
      FROM mps_internal.get_point_ledger(p_card_id, p_limit, p_offset, p_session_id) scope
     CROSS JOIN LATERAL (
           SELECT * FROM public.point_ledger pl
            WHERE pl.card_id = scope.card_id
            ORDER BY pl.created_at DESC, pl.id
            LIMIT scope.page_limit OFFSET scope.page_offset) l
$$;

-- Admin: every violation of the money invariants (balance = issued balance + signed
-- movements; points = ledger sum; refunds within their payment). No rows: books balance.
CREATE FUNCTION public.verify_ledger(p_session_id text DEFAULT NULL)
RETURNS TABLE (card_id uuid, card_no text, check_name text, expected text, actual text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''
AS $$ SELECT * FROM mps_internal.verify_ledger(p_session_id) $$;
