-- Public API: cards, shared-card bindings and QR payment codes.
--
-- Readers (here and in 33–35) call a Rust "scope" function that authorizes the caller and
-- returns what they may see; the projection happens in SQL so result types stay exactly the
-- tables'. The scope is always the outer side — LEFT JOIN, or CROSS JOIN LATERAL into a
-- subquery the planner cannot flatten (LIMIT, GROUP BY or OFFSET 0) — so it runs, and
-- raises, even when no row would match.

CREATE FUNCTION public.create_corporate_card(
    p_owner_member_id uuid,
    p_name text DEFAULT NULL,
    p_initial_balance numeric DEFAULT 0,
    p_fixed_discount numeric DEFAULT NULL,
    p_session_id text DEFAULT NULL)
RETURNS uuid LANGUAGE sql SECURITY DEFINER SET search_path = ''
AS $$ SELECT mps_internal.create_corporate_card(p_owner_member_id, p_name, p_initial_balance::text,
          p_fixed_discount::text, p_session_id) $$;

CREATE FUNCTION public.create_voucher_card(
    p_owner_member_id uuid,
    p_name text DEFAULT NULL,
    p_initial_balance numeric DEFAULT 0,
    p_expires_at timestamptz DEFAULT NULL,
    p_session_id text DEFAULT NULL)
RETURNS uuid LANGUAGE sql SECURITY DEFINER SET search_path = ''
AS $$ SELECT mps_internal.create_voucher_card(p_owner_member_id, p_name, p_initial_balance::text,
          p_expires_at, p_session_id) $$;

CREATE FUNCTION public.set_card_binding_password(p_card_id uuid, p_password text, p_session_id text DEFAULT NULL)
RETURNS boolean LANGUAGE sql SECURITY DEFINER SET search_path = ''
AS $$ SELECT mps_internal.set_card_binding_password(p_card_id, p_password, p_session_id) $$;

CREATE FUNCTION public.bind_member_to_card(
    p_card_id uuid,
    p_member_id uuid,
    p_role public.bind_role DEFAULT 'member',
    p_binding_password text DEFAULT NULL,
    p_session_id text DEFAULT NULL)
RETURNS boolean LANGUAGE sql SECURITY DEFINER SET search_path = ''
AS $$ SELECT mps_internal.bind_member_to_card(p_card_id, p_member_id, p_role::text, p_binding_password,
          p_session_id) $$;

CREATE FUNCTION public.unbind_member_from_card(p_card_id uuid, p_member_id uuid, p_session_id text DEFAULT NULL)
RETURNS boolean LANGUAGE sql SECURITY DEFINER SET search_path = ''
AS $$ SELECT mps_internal.unbind_member_from_card(p_card_id, p_member_id, p_session_id) $$;

CREATE FUNCTION public.get_card_bindings(p_card_id uuid, p_session_id text DEFAULT NULL)
RETURNS TABLE (id uuid, member_id uuid, member_no text, member_name text, role public.bind_role,
               created_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''
AS $$
    SELECT r.* FROM mps_internal.get_card_bindings(p_card_id, p_session_id) scope
     CROSS JOIN LATERAL (
           SELECT b.id, b.member_id, p.member_no, p.name, b.role, b.created_at
             FROM public.card_bindings b
             JOIN public.member_profiles p ON p.id = b.member_id
            WHERE b.card_id = scope.card_id
              AND (scope.only_member_id IS NULL OR b.member_id = scope.only_member_id)
            ORDER BY b.created_at DESC, b.id
           OFFSET 0) r
$$;

CREATE FUNCTION public.freeze_card(p_card_id uuid, p_session_id text DEFAULT NULL)
RETURNS boolean LANGUAGE sql SECURITY DEFINER SET search_path = ''
AS $$ SELECT mps_internal.freeze_card(p_card_id, p_session_id) $$;

CREATE FUNCTION public.unfreeze_card(p_card_id uuid, p_session_id text DEFAULT NULL)
RETURNS boolean LANGUAGE sql SECURITY DEFINER SET search_path = ''
AS $$ SELECT mps_internal.unfreeze_card(p_card_id, p_session_id) $$;

-- Cards the member owns or is actively bound to. The member's own standard card comes
-- first (clients take result[0] as the default card), then newest first.
CREATE FUNCTION public.get_member_cards(p_member_id uuid DEFAULT NULL, p_session_id text DEFAULT NULL)
RETURNS TABLE (id uuid, card_no text, card_type public.card_type, name text, balance numeric,
               points integer, level integer, discount numeric, status public.card_status,
               expires_at timestamptz, created_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''
AS $$
    SELECT r.* FROM mps_internal.get_member_cards(p_member_id, p_session_id) AS scope(member_id)
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
RETURNS public.member_cards LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''
AS $$
    SELECT c.*
      FROM mps_internal.get_card_detail(p_card_id, p_session_id) AS s(id)
      LEFT JOIN public.member_cards c ON c.id = s.id
$$;

CREATE FUNCTION public.rotate_card_qr(p_card_id uuid, p_ttl_seconds integer DEFAULT 900, p_session_id text DEFAULT NULL)
RETURNS TABLE (qr_plain text, qr_expires_at timestamptz)
LANGUAGE sql SECURITY DEFINER SET search_path = ''
AS $$ SELECT * FROM mps_internal.rotate_card_qr(p_card_id, p_ttl_seconds, p_session_id) $$;

CREATE FUNCTION public.revoke_card_qr(p_card_id uuid, p_session_id text DEFAULT NULL)
RETURNS boolean LANGUAGE sql SECURITY DEFINER SET search_path = ''
AS $$ SELECT mps_internal.revoke_card_qr(p_card_id, p_session_id) $$;

CREATE FUNCTION public.validate_qr_plain(p_qr_plain text, p_session_id text DEFAULT NULL)
RETURNS uuid LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''
AS $$ SELECT mps_internal.validate_qr_plain(p_qr_plain, p_session_id) $$;

CREATE FUNCTION public.cron_rotate_qr_tokens(p_ttl_seconds integer DEFAULT 300, p_session_id text DEFAULT NULL)
RETURNS integer LANGUAGE sql SECURITY DEFINER SET search_path = ''
AS $$ SELECT mps_internal.cron_rotate_qr_tokens(p_ttl_seconds, p_session_id) $$;
