-- Public API, readers: a card's point ledger, balance and holds, a merchant's holds (the
-- movements themselves are Rust: src/rpc/).

CREATE FUNCTION public.get_point_ledger(
    p_card_id uuid,
    p_limit integer DEFAULT 50,
    p_offset integer DEFAULT 0,
    p_session_id text DEFAULT NULL)
RETURNS TABLE (id uuid, change integer, balance_before integer, balance_after integer, reason text, tx_id uuid,
               created_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
    SELECT l.id, l.change, l.balance_before, l.balance_after, l.reason, l.tx_id, l.created_at
      FROM mps_internal.get_point_ledger(p_card_id => p_card_id,
                                         p_limit => p_limit,
                                         p_offset => p_offset,
                                         p_session_id => p_session_id) scope
     CROSS JOIN LATERAL (
           SELECT * FROM public.point_ledger pl
            WHERE pl.card_id = scope.card_id
            ORDER BY pl.created_at DESC, pl.id
            LIMIT scope.page_limit OFFSET scope.page_offset) l
$$;

-- What the card holds and what it may still pay: its active holds count until they expire.
CREATE FUNCTION public.get_card_balance(p_card_id uuid, p_session_id text DEFAULT NULL)
RETURNS TABLE (balance numeric, held numeric, available numeric)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
    SELECT c.balance, h.held, c.balance - h.held
      FROM mps_internal.get_card_detail(p_card_id => p_card_id, p_session_id => p_session_id) AS s(id)
      JOIN public.member_cards c ON c.id = s.id
     CROSS JOIN LATERAL (
           SELECT COALESCE(sum(k.amount), 0)::numeric(12,2) AS held FROM public.card_holds k
            WHERE k.card_id = c.id AND k.status = 'active' AND k.expires_at > now()) h
$$;

-- A card's holds, newest first; an active hold past its expiry shows as expired.
CREATE FUNCTION public.get_card_holds(p_card_id uuid, p_session_id text DEFAULT NULL)
RETURNS TABLE (hold_id uuid, hold_no text, merchant_id uuid, amount numeric, status public.hold_status,
               expires_at timestamptz, created_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
    SELECT r.* FROM mps_internal.get_card_detail(p_card_id => p_card_id, p_session_id => p_session_id) AS s(id)
     CROSS JOIN LATERAL (
           SELECT k.id, k.hold_no, k.merchant_id, k.amount,
                  CASE WHEN k.status = 'active' AND k.expires_at <= now() THEN 'expired' ELSE k.status END,
                  k.expires_at, k.created_at
             FROM public.card_holds k
            WHERE k.card_id = s.id
            ORDER BY k.created_at DESC, k.id
           OFFSET 0) r
$$;

-- A merchant's holds, newest first, paged like its transactions.
CREATE FUNCTION public.get_merchant_holds(
    p_merchant_id uuid,
    p_limit integer DEFAULT 50,
    p_offset integer DEFAULT 0,
    p_session_id text DEFAULT NULL)
RETURNS TABLE (hold_id uuid, hold_no text, card_id uuid, amount numeric, status public.hold_status,
               expires_at timestamptz, created_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
    SELECT r.* FROM mps_internal.merchant_scope(p_merchant_id => p_merchant_id,
                                                p_limit => p_limit,
                                                p_offset => p_offset,
                                                p_session_id => p_session_id) s
     CROSS JOIN LATERAL (
           SELECT k.id, k.hold_no, k.card_id, k.amount,
                  CASE WHEN k.status = 'active' AND k.expires_at <= now() THEN 'expired' ELSE k.status END,
                  k.expires_at, k.created_at
             FROM public.card_holds k
            WHERE k.merchant_id = s.merchant_id
            ORDER BY k.created_at DESC, k.id
            LIMIT s.page_limit OFFSET s.page_offset) r
$$;
