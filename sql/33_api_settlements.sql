-- Public API, readers: a merchant's settlements.

CREATE FUNCTION public.list_settlements(
    p_merchant_id uuid,
    p_limit integer DEFAULT 50,
    p_offset integer DEFAULT 0,
    p_session_id text DEFAULT NULL)
RETURNS TABLE (id uuid, period_start timestamptz, period_end timestamptz, mode public.settlement_mode,
               total_amount numeric, total_tx_count bigint, status public.settlement_status, created_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
    SELECT r.* FROM mps_internal.merchant_scope(p_merchant_id => p_merchant_id,
                                                p_limit => p_limit,
                                                p_offset => p_offset,
                                                p_session_id => p_session_id) s
     CROSS JOIN LATERAL (
           SELECT t.id, t.period_start, t.period_end, t.mode, t.total_amount, t.total_tx_count::bigint, t.status,
                  t.created_at
             FROM public.settlements t
            WHERE t.merchant_id = s.merchant_id
            ORDER BY t.created_at DESC, t.id
            LIMIT s.page_limit OFFSET s.page_offset) r
$$;

CREATE FUNCTION public.get_settlement_detail(p_settlement_id uuid, p_session_id text DEFAULT NULL)
RETURNS public.settlements LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
    SELECT t.* FROM mps_internal.settlement_scope(p_settlement_id => p_settlement_id,
                                                  p_session_id => p_session_id) AS s(id)
      LEFT JOIN public.settlements t ON t.id = s.id
$$;
