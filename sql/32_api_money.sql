-- Public API, readers: a card's point ledger (the movements themselves are Rust: src/rpc/).

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

