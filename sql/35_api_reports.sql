-- Public API, readers: reports. Time windows are index-friendly ranges on created_at; "today" and
-- "this month" are UTC. Sales figures are payments and refunds only, never recharges
-- (docs/contract.md B16).

CREATE FUNCTION public.get_today_transaction_stats(p_merchant_id uuid DEFAULT NULL, p_session_id text DEFAULT NULL)
RETURNS TABLE (transaction_count bigint, payment_amount numeric, refund_amount numeric, net_amount numeric,
               unique_customers bigint, average_transaction numeric)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
    SELECT count(*) FILTER (WHERE t.tx_type = 'payment'),
           COALESCE(sum(t.final_amount) FILTER (WHERE t.tx_type = 'payment'), 0)::numeric(20,2),
           COALESCE(sum(t.final_amount) FILTER (WHERE t.tx_type = 'refund'), 0)::numeric(20,2),
           (COALESCE(sum(t.final_amount) FILTER (WHERE t.tx_type = 'payment'), 0)
            - COALESCE(sum(t.final_amount) FILTER (WHERE t.tx_type = 'refund'), 0))::numeric(20,2),
           count(DISTINCT t.card_id) FILTER (WHERE t.tx_type = 'payment'),
           COALESCE(round(avg(t.final_amount) FILTER (WHERE t.tx_type = 'payment'), 2), 0)::numeric(20,2)
      FROM mps_internal.report_scope(p_merchant_id => p_merchant_id, p_session_id => p_session_id) s
      LEFT JOIN public.transactions t
        ON t.created_at >= pg_catalog.date_trunc('day', pg_catalog.now(), 'UTC')
       AND t.created_at < pg_catalog.date_trunc('day', pg_catalog.now(), 'UTC') + interval '1 day'
       AND t.tx_type IN ('payment', 'refund')
       AND t.status IN ('completed', 'refunded')
       AND (s.merchant_id IS NULL OR t.merchant_id = s.merchant_id)
$$;

CREATE FUNCTION public.get_transaction_trends(
    p_start_date timestamptz,
    p_end_date timestamptz,
    p_merchant_id uuid DEFAULT NULL,
    p_group_by text DEFAULT 'day',
    p_session_id text DEFAULT NULL)
RETURNS TABLE (period_start timestamptz, period_end timestamptz, transaction_count bigint, payment_amount numeric,
               refund_amount numeric, net_amount numeric, unique_customers bigint, average_transaction numeric)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
    SELECT r.* FROM mps_internal.trend_scope(p_start_date => p_start_date,
                                             p_end_date => p_end_date,
                                             p_merchant_id => p_merchant_id,
                                             p_group_by => p_group_by,
                                             p_session_id => p_session_id) s
     CROSS JOIN LATERAL (
           SELECT b.period_start,
                  b.period_start + pg_catalog.make_interval(
                      hours => (s.unit = 'hour')::int, days => (s.unit = 'day')::int,
                      weeks => (s.unit = 'week')::int, months => (s.unit = 'month')::int),
                  count(*) FILTER (WHERE t.tx_type = 'payment'),
                  COALESCE(sum(t.final_amount) FILTER (WHERE t.tx_type = 'payment'), 0)::numeric(20,2),
                  COALESCE(sum(t.final_amount) FILTER (WHERE t.tx_type = 'refund'), 0)::numeric(20,2),
                  (COALESCE(sum(t.final_amount) FILTER (WHERE t.tx_type = 'payment'), 0)
                   - COALESCE(sum(t.final_amount) FILTER (WHERE t.tx_type = 'refund'), 0))::numeric(20,2),
                  count(DISTINCT t.card_id) FILTER (WHERE t.tx_type = 'payment'),
                  COALESCE(round(avg(t.final_amount) FILTER (WHERE t.tx_type = 'payment'), 2), 0)::numeric(20,2)
             FROM public.transactions t
            CROSS JOIN LATERAL (SELECT pg_catalog.date_trunc(s.unit, t.created_at, 'UTC') AS period_start) b
            WHERE t.created_at >= p_start_date AND t.created_at < p_end_date
              AND t.tx_type IN ('payment', 'refund')
              AND t.status IN ('completed', 'refunded')
              AND (s.merchant_id IS NULL OR t.merchant_id = s.merchant_id)
            GROUP BY b.period_start
            ORDER BY b.period_start) r
$$;

-- Super admins. Transaction figures: payments (count) and net sales (payments − refunds).
CREATE FUNCTION public.get_system_statistics(p_session_id text DEFAULT NULL)
RETURNS TABLE (members_total bigint, members_active bigint, members_inactive bigint, members_suspended bigint,
               cards_total bigint, cards_active bigint, cards_inactive bigint, cards_by_type jsonb,
               merchants_total bigint, merchants_active bigint, merchants_inactive bigint,
               transactions_today bigint, transactions_today_amount numeric, transactions_this_month bigint,
               transactions_this_month_amount numeric)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
    WITH members AS (
             SELECT count(*) AS total, count(*) FILTER (WHERE status = 'active') AS active,
                    count(*) FILTER (WHERE status = 'inactive') AS inactive,
                    count(*) FILTER (WHERE status = 'suspended') AS suspended
               FROM public.member_profiles),
         cards AS (
             SELECT count(*) AS total, count(*) FILTER (WHERE status = 'active') AS active,
                    count(*) FILTER (WHERE status = 'inactive') AS inactive
               FROM public.member_cards),
         card_types AS (
             SELECT pg_catalog.jsonb_object_agg(card_type, n) AS by_type
               FROM (SELECT card_type, count(*) AS n FROM public.member_cards GROUP BY card_type) x),
         merchants AS (
             SELECT count(*) AS total, count(*) FILTER (WHERE status = 'active') AS active,
                    count(*) FILTER (WHERE status = 'inactive') AS inactive
               FROM public.merchants),
         month AS (
             SELECT t.created_at >= pg_catalog.date_trunc('day', pg_catalog.now(), 'UTC') AS today, t.tx_type,
                    t.final_amount
               FROM public.transactions t
              WHERE t.created_at >= pg_catalog.date_trunc('month', pg_catalog.now(), 'UTC')
                AND t.tx_type IN ('payment', 'refund') AND t.status IN ('completed', 'refunded'))
    SELECT members.total, members.active, members.inactive, members.suspended,
           cards.total, cards.active, cards.inactive, card_types.by_type,
           merchants.total, merchants.active, merchants.inactive,
           (SELECT count(*) FROM month WHERE today AND tx_type = 'payment'),
           (SELECT COALESCE(sum(CASE tx_type WHEN 'payment' THEN final_amount ELSE -final_amount END), 0)
              FROM month WHERE today)::numeric(20,2),
           (SELECT count(*) FROM month WHERE tx_type = 'payment'),
           (SELECT COALESCE(sum(CASE tx_type WHEN 'payment' THEN final_amount ELSE -final_amount END), 0)
              FROM month)::numeric(20,2)
      FROM mps_internal.admin_page(p_limit => NULL,
                                   p_offset => NULL,
                                   p_session_id => p_session_id) guard, members, cards, card_types, merchants
$$;

-- Super admins. Six checks, in the contract's order; status 'ok' or 'warning'.
CREATE FUNCTION public.system_health_check(p_session_id text DEFAULT NULL)
RETURNS TABLE (check_name text, status text, details jsonb, recommendation text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
    SELECT c.check_name,
           CASE WHEN c.count > c.threshold THEN 'warning' ELSE 'ok' END,
           CASE WHEN c.check_name = 'database_connection'
                THEN pg_catalog.jsonb_build_object('timestamp', pg_catalog.now())
                ELSE pg_catalog.jsonb_build_object('count', c.count, 'threshold', c.threshold) END,
           CASE WHEN c.count > c.threshold THEN c.advice END
      FROM mps_internal.admin_page(p_limit => NULL, p_offset => NULL, p_session_id => p_session_id) guard
     CROSS JOIN LATERAL (VALUES
           (1, 'database_connection', 0::bigint, 0, NULL::text),
           (2, 'expired_sessions',
               (SELECT count(*) FROM public.app_sessions WHERE expires_at < pg_catalog.now()), 100,
               '建議清理過期 session'),
           (3, 'expiring_qr_codes',
               (SELECT count(*) FROM public.card_qr_state
                 WHERE expires_at BETWEEN pg_catalog.now() AND pg_catalog.now() + interval '1 hour'), 50,
               '建議檢查 QR 碼管理'),
           (4, 'low_balance_cards',
               (SELECT count(*) FROM public.member_cards
                 WHERE status = 'active' AND card_type = 'standard' AND balance < 10), 20,
               '建議提醒用戶充值'),
           (5, 'suspended_members',
               (SELECT count(*) FROM public.member_profiles WHERE status = 'suspended'), 10,
               '建議審核暫停會員'),
           (6, 'inactive_merchants',
               (SELECT count(*) FROM public.merchants WHERE status = 'inactive'), 5,
               '建議審核非活躍商戶')) AS c(ord, check_name, count, threshold, advice)
     ORDER BY c.ord
$$;
