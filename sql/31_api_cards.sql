-- Public API, the readers that project table rows: cards and shared-card bindings.
--
-- Every other RPC is a Rust function bound directly (src/rpc/). A reader (here and in 32–35)
-- is SQL because the projection is the point: it calls a Rust "scope" function (by named
-- arguments) that authorizes the caller and returns what they may see, and selects the rows
-- so that result types stay exactly the tables'. The scope is always the outer side — LEFT JOIN, or CROSS JOIN LATERAL into a
-- subquery the planner cannot flatten (LIMIT, GROUP BY or OFFSET 0) — so it runs, and
-- raises, even when no row would match.

CREATE FUNCTION public.get_card_bindings(p_card_id uuid, p_session_id text DEFAULT NULL)
RETURNS TABLE (id uuid, member_id uuid, member_no text, member_name text, role public.bind_role,
               created_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
    SELECT r.* FROM mps_internal.get_card_bindings(p_card_id => p_card_id, p_session_id => p_session_id) scope
     CROSS JOIN LATERAL (
           SELECT b.id, b.member_id, p.member_no, p.name, b.role, b.created_at
             FROM public.card_bindings b
             JOIN public.member_profiles p ON p.id = b.member_id
            WHERE b.card_id = scope.card_id
              AND (scope.only_member_id IS NULL OR b.member_id = scope.only_member_id)
            ORDER BY b.created_at DESC, b.id
           OFFSET 0) r
$$;

-- Cards the member owns or is actively bound to. The member's own standard card comes
-- first (clients take result[0] as the default card), then newest first.
CREATE FUNCTION public.get_member_cards(p_member_id uuid DEFAULT NULL, p_session_id text DEFAULT NULL)
RETURNS TABLE (id uuid, card_no text, card_type public.card_type, name text, balance numeric,
               points integer, level integer, discount numeric, status public.card_status,
               expires_at timestamptz, created_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
    SELECT r.* FROM mps_internal.get_member_cards(p_member_id => p_member_id,
                                                  p_session_id => p_session_id) AS scope(member_id)
     CROSS JOIN LATERAL (
           SELECT c.id, c.card_no, c.card_type, c.name, c.balance, c.points, c.level, c.discount, c.status,
                  c.expires_at, c.created_at
             FROM public.member_cards c
            WHERE c.owner_member_id = scope.member_id
               OR c.id IN (SELECT b.card_id FROM public.card_bindings b
                            WHERE b.member_id = scope.member_id AND b.status = 'active')
            ORDER BY (c.owner_member_id = scope.member_id AND c.card_type = 'standard') DESC, c.created_at DESC, c.id
           OFFSET 0) r
$$;

-- The card row (its binding password's hash lives in mps_internal, docs/contract.md W5).
CREATE FUNCTION public.get_card_detail(p_card_id uuid, p_session_id text DEFAULT NULL)
RETURNS public.member_cards LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
    SELECT c.*
      FROM mps_internal.get_card_detail(p_card_id => p_card_id, p_session_id => p_session_id) AS s(id)
      LEFT JOIN public.member_cards c ON c.id = s.id
$$;

