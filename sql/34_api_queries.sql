-- Public API, readers: transaction history, details, and the admin's lists and searches.
-- The public tables hold no secret (those live in mps_internal); page sizes are bounded (≤ 200).

-- The two histories are PL/pgSQL, not SQL: a SQL function plans its body again on every call
-- (here a join over the partitioned transactions table), PL/pgSQL once per session. Measured:
-- a call cost 0.91 ms of which its query ran 0.26 ms; as PL/pgSQL, 2.6–3.7 x the calls per
-- second (bench/results/2026-12-02-partition-locks.md, the run after this change).
-- `use_column` resolves a name the way a SQL function does: a column wins over a parameter.
CREATE FUNCTION public.get_member_transactions(
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

CREATE FUNCTION public.get_merchant_transactions(
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

CREATE FUNCTION public.get_transaction_detail(p_tx_no text, p_session_id text DEFAULT NULL)
RETURNS public.transactions LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
    SELECT t.* FROM mps_internal.transaction_scope(p_tx_no => p_tx_no, p_session_id => p_session_id) AS s(id)
      LEFT JOIN public.transactions t ON t.id = s.id
$$;

CREATE FUNCTION public.get_member_detail(p_member_id uuid, p_session_id text DEFAULT NULL)
RETURNS public.member_profiles LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
    SELECT m.*
      FROM mps_internal.member_scope(p_member_id => p_member_id,
                                     p_limit => NULL,
                                     p_offset => NULL,
                                     p_session_id => p_session_id) s
      LEFT JOIN public.member_profiles m ON m.id = s.member_id
$$;

CREATE FUNCTION public.get_member_by_auth_user(p_session_id text DEFAULT NULL)
RETURNS public.member_profiles LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
    SELECT m.*
      FROM mps_internal.caller_member(p_session_id => p_session_id) AS s(id)
      LEFT JOIN public.member_profiles m ON m.id = s.id
$$;

CREATE FUNCTION public.get_merchant_detail(p_merchant_id uuid, p_session_id text DEFAULT NULL)
RETURNS public.merchants LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
    SELECT m.*
      FROM mps_internal.merchant_scope(p_merchant_id => p_merchant_id,
                                       p_limit => NULL,
                                       p_offset => NULL,
                                       p_session_id => p_session_id) s
      LEFT JOIN public.merchants m ON m.id = s.merchant_id
$$;

CREATE FUNCTION public.get_merchant_by_auth_user(p_session_id text DEFAULT NULL)
RETURNS public.merchants LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
    SELECT m.*
      FROM mps_internal.caller_merchant(p_session_id => p_session_id) AS s(id)
      LEFT JOIN public.merchants m ON m.id = s.id
$$;

CREATE FUNCTION public.get_all_members(
    p_limit integer DEFAULT 50,
    p_offset integer DEFAULT 0,
    p_status public.member_status DEFAULT NULL,
    p_session_id text DEFAULT NULL)
RETURNS TABLE (id uuid, member_no text, name text, phone text, email text, status public.member_status,
               created_at timestamptz, total_count bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
    SELECT r.* FROM mps_internal.admin_page(p_limit => p_limit,
                                            p_offset => p_offset,
                                            p_session_id => p_session_id) pg
     CROSS JOIN LATERAL (
           SELECT m.id, m.member_no, m.name, m.phone, m.email, m.status, m.created_at, count(*) OVER ()
             FROM public.member_profiles m
            WHERE p_status IS NULL OR m.status = p_status
            ORDER BY m.created_at DESC, m.id
            LIMIT pg.page_limit OFFSET pg.page_offset) r
$$;

CREATE FUNCTION public.search_members(p_keyword text, p_limit integer DEFAULT 50, p_session_id text DEFAULT NULL)
RETURNS TABLE (id uuid, member_no text, name text, phone text, email text, status public.member_status,
               created_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
    SELECT r.* FROM mps_internal.admin_page(p_limit => p_limit,
                                            p_offset => 0,
                                            p_session_id => p_session_id) pg
     CROSS JOIN LATERAL (SELECT mps_internal.contains_pattern(p_keyword => p_keyword) AS pattern) k
     CROSS JOIN LATERAL (
           SELECT m.id, m.member_no, m.name, m.phone, m.email, m.status, m.created_at
             FROM public.member_profiles m
            WHERE m.name ILIKE k.pattern OR m.phone ILIKE k.pattern OR m.email ILIKE k.pattern
               OR m.member_no ILIKE k.pattern
            ORDER BY m.created_at DESC, m.id
            LIMIT pg.page_limit) r
$$;

CREATE FUNCTION public.search_members_advanced(
    p_name text DEFAULT NULL,
    p_phone text DEFAULT NULL,
    p_email text DEFAULT NULL,
    p_member_no text DEFAULT NULL,
    p_status public.member_status DEFAULT NULL,
    p_limit integer DEFAULT 50,
    p_session_id text DEFAULT NULL)
RETURNS TABLE (id uuid, member_no text, name text, phone text, email text, status public.member_status,
               created_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
    SELECT r.* FROM mps_internal.admin_page(p_limit => p_limit,
                                            p_offset => 0,
                                            p_session_id => p_session_id) pg
     CROSS JOIN LATERAL (
           SELECT m.id, m.member_no, m.name, m.phone, m.email, m.status, m.created_at
             FROM public.member_profiles m
            WHERE (p_name IS NULL OR m.name ILIKE mps_internal.contains_pattern(p_keyword => p_name))
              AND (p_phone IS NULL OR m.phone ILIKE mps_internal.contains_pattern(p_keyword => p_phone))
              AND (p_email IS NULL OR m.email ILIKE mps_internal.contains_pattern(p_keyword => p_email))
              AND (p_member_no IS NULL OR m.member_no ILIKE mps_internal.contains_pattern(p_keyword => p_member_no))
              AND (p_status IS NULL OR m.status = p_status)
            ORDER BY m.created_at DESC, m.id
            LIMIT pg.page_limit) r
$$;

CREATE FUNCTION public.search_merchants(p_keyword text, p_limit integer DEFAULT 50, p_session_id text DEFAULT NULL)
RETURNS TABLE (id uuid, code text, name text, contact text, status text, created_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
    SELECT r.* FROM mps_internal.admin_page(p_limit => p_limit,
                                            p_offset => 0,
                                            p_session_id => p_session_id) pg
     CROSS JOIN LATERAL (SELECT mps_internal.contains_pattern(p_keyword => p_keyword) AS pattern) k
     CROSS JOIN LATERAL (
           SELECT m.id, m.code, m.name, m.contact, m.status, m.created_at
             FROM public.merchants m
            WHERE m.name ILIKE k.pattern OR m.code ILIKE k.pattern OR m.contact ILIKE k.pattern
            ORDER BY m.created_at DESC, m.id
            LIMIT pg.page_limit) r
$$;

CREATE FUNCTION public.get_all_cards(
    p_limit integer DEFAULT 50,
    p_offset integer DEFAULT 0,
    p_card_type public.card_type DEFAULT NULL,
    p_status public.card_status DEFAULT NULL,
    p_owner_name text DEFAULT NULL,
    p_session_id text DEFAULT NULL)
RETURNS TABLE (id uuid, card_no text, card_type public.card_type, name text, balance numeric, points integer,
               level integer, discount numeric, status public.card_status, owner_member_id uuid, owner_name text,
               owner_phone text, created_at timestamptz, total_count bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
    SELECT r.* FROM mps_internal.admin_page(p_limit => p_limit,
                                            p_offset => p_offset,
                                            p_session_id => p_session_id) pg
     CROSS JOIN LATERAL (
           SELECT c.id, c.card_no, c.card_type, c.name, c.balance, c.points, c.level, c.discount, c.status,
                  c.owner_member_id, m.name, m.phone, c.created_at, count(*) OVER ()
             FROM public.member_cards c
             LEFT JOIN public.member_profiles m ON m.id = c.owner_member_id
            WHERE (p_card_type IS NULL OR c.card_type = p_card_type)
              AND (p_status IS NULL OR c.status = p_status)
              AND (p_owner_name IS NULL OR m.name ILIKE mps_internal.contains_pattern(p_keyword => p_owner_name))
            ORDER BY c.created_at DESC, c.id
            LIMIT pg.page_limit OFFSET pg.page_offset) r
$$;

CREATE FUNCTION public.search_cards(p_keyword text, p_limit integer DEFAULT 50, p_session_id text DEFAULT NULL)
RETURNS TABLE (id uuid, card_no text, card_type public.card_type, name text, balance numeric, points integer,
               level integer, discount numeric, status public.card_status, owner_member_id uuid, owner_name text,
               owner_phone text, created_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
    SELECT r.* FROM mps_internal.admin_page(p_limit => p_limit,
                                            p_offset => 0,
                                            p_session_id => p_session_id) pg
     CROSS JOIN LATERAL (SELECT mps_internal.contains_pattern(p_keyword => p_keyword) AS pattern) k
     CROSS JOIN LATERAL (
           SELECT c.id, c.card_no, c.card_type, c.name, c.balance, c.points, c.level, c.discount, c.status,
                  c.owner_member_id, m.name, m.phone, c.created_at
             FROM public.member_cards c
             LEFT JOIN public.member_profiles m ON m.id = c.owner_member_id
            WHERE c.card_no ILIKE k.pattern OR c.name ILIKE k.pattern OR m.name ILIKE k.pattern
               OR m.phone ILIKE k.pattern
            ORDER BY c.created_at DESC, c.id
            LIMIT pg.page_limit) r
$$;

-- Identifier look-ups: the row as JSON (the public tables hold no secret).
CREATE FUNCTION public.get_member_by_identifier(p_identifier text, p_session_id text DEFAULT NULL)
RETURNS jsonb LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
    SELECT pg_catalog.to_jsonb(m)
      FROM mps_internal.member_identifier_scope(p_identifier => p_identifier,
                                                p_session_id => p_session_id) AS s(id)
      LEFT JOIN public.member_profiles m ON m.id = s.id
$$;

CREATE FUNCTION public.get_card_by_identifier(p_identifier text, p_session_id text DEFAULT NULL)
RETURNS jsonb LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
    SELECT pg_catalog.to_jsonb(c)
      FROM mps_internal.card_no_scope(p_card_no => p_identifier, p_session_id => p_session_id) s
      LEFT JOIN public.member_cards c ON c.id = s.card_id
$$;

CREATE FUNCTION public.get_merchant_by_identifier(p_identifier text, p_session_id text DEFAULT NULL)
RETURNS jsonb LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
    SELECT pg_catalog.to_jsonb(m)
      FROM mps_internal.merchant_code_scope(p_code => p_identifier, p_session_id => p_session_id) AS s(id)
      LEFT JOIN public.merchants m ON m.id = s.id
$$;

-- The owner's phone and email only for callers who may contact the owner (card_no_scope).
CREATE FUNCTION public.get_card_details_by_card_no(p_card_no text, p_session_id text DEFAULT NULL)
RETURNS jsonb LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
    SELECT pg_catalog.jsonb_build_object(
               'id', c.id, 'card_no', c.card_no, 'card_type', c.card_type, 'name', c.name, 'balance', c.balance,
               'points', c.points, 'level', c.level, 'discount', c.discount, 'fixed_discount', c.fixed_discount,
               'status', c.status, 'expires_at', c.expires_at, 'created_at', c.created_at,
               'updated_at', c.updated_at, 'owner_member_id', c.owner_member_id, 'owner_name', m.name,
               'owner_phone', CASE WHEN s.owner_contact THEN m.phone END,
               'owner_email', CASE WHEN s.owner_contact THEN m.email END)
      FROM mps_internal.card_no_scope(p_card_no => p_card_no, p_session_id => p_session_id) s
      LEFT JOIN public.member_cards c ON c.id = s.card_id
      LEFT JOIN public.member_profiles m ON m.id = c.owner_member_id
$$;
