-- mps_ext 0.2.0 → 0.3.0: security hardening (pending member recharges, one settlement
-- history per merchant, a lockout that holds, current password for own credential changes,
-- no oracles in errors).
-- The statements mirror the 0.3.0 install script (sql/10–90); tests/db/test_upgrade_and_partitions.py
-- checks that an upgraded database and a fresh one have the same schema.


-- ---------------------------------------------------------------------------------------
-- Accounts and oracles (issue 11 §4 anon listing, §5, §6, §8, §9): a member or merchant
-- changing their own password, phone or email gives p_current_password; anon reads no
-- table; card_no_scope says whether the caller may see the card owner's phone and email.
-- Suspension ending sessions, error texts and phone/email checks live in the Rust code.

-- Own credential changes need the current password (new last argument).
DROP FUNCTION public.set_member_password(uuid, text, text);
DROP FUNCTION mps_internal.set_member_password(uuid, text, text);
CREATE  FUNCTION mps_internal."set_member_password"(
	"p_member_id" uuid, /* Option < Uuid > */
	"p_password" TEXT, /* Option < & str > */
	"p_session_id" TEXT, /* Option < & str > */
	"p_current_password" TEXT /* Option < & str > */
) RETURNS bool /* bool */

LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'set_member_password_wrapper';
CREATE FUNCTION public.set_member_password(
    p_member_id uuid,
    p_password text,
    p_session_id text DEFAULT NULL,
    p_current_password text DEFAULT NULL)
RETURNS boolean LANGUAGE sql SECURITY DEFINER SET search_path = ''
AS $$ SELECT mps_internal.set_member_password(p_member_id, p_password, p_session_id, p_current_password) $$;

DROP FUNCTION public.set_merchant_password(uuid, text, text);
DROP FUNCTION mps_internal.set_merchant_password(uuid, text, text);
CREATE  FUNCTION mps_internal."set_merchant_password"(
	"p_merchant_id" uuid, /* Option < Uuid > */
	"p_password" TEXT, /* Option < & str > */
	"p_session_id" TEXT, /* Option < & str > */
	"p_current_password" TEXT /* Option < & str > */
) RETURNS bool /* bool */

LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'set_merchant_password_wrapper';
CREATE FUNCTION public.set_merchant_password(
    p_merchant_id uuid,
    p_password text,
    p_session_id text DEFAULT NULL,
    p_current_password text DEFAULT NULL)
RETURNS boolean LANGUAGE sql SECURITY DEFINER SET search_path = ''
AS $$ SELECT mps_internal.set_merchant_password(p_merchant_id, p_password, p_session_id, p_current_password) $$;

DROP FUNCTION public.update_member_profile(uuid, text, text, text, text);
DROP FUNCTION mps_internal.update_member_profile(uuid, text, text, text, text);
CREATE  FUNCTION mps_internal."update_member_profile"(
	"p_member_id" uuid, /* Option < Uuid > */
	"p_name" TEXT, /* Option < & str > */
	"p_phone" TEXT, /* Option < & str > */
	"p_email" TEXT, /* Option < & str > */
	"p_session_id" TEXT, /* Option < & str > */
	"p_current_password" TEXT /* Option < & str > */
) RETURNS bool /* bool */

LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'update_member_profile_wrapper';
CREATE FUNCTION public.update_member_profile(
    p_member_id uuid,
    p_name text DEFAULT NULL,
    p_phone text DEFAULT NULL,
    p_email text DEFAULT NULL,
    p_session_id text DEFAULT NULL,
    p_current_password text DEFAULT NULL)
RETURNS boolean LANGUAGE sql SECURITY DEFINER SET search_path = ''
AS $$ SELECT mps_internal.update_member_profile(p_member_id, p_name, p_phone, p_email, p_session_id,
          p_current_password) $$;

REVOKE ALL ON FUNCTION mps_internal.set_member_password(uuid, text, text, text),
    mps_internal.set_merchant_password(uuid, text, text, text),
    mps_internal.update_member_profile(uuid, text, text, text, text, text)
    FROM PUBLIC, anon, authenticated, service_role;
REVOKE ALL ON FUNCTION public.set_member_password(uuid, text, text, text),
    public.set_merchant_password(uuid, text, text, text),
    public.update_member_profile(uuid, text, text, text, text, text)
    FROM PUBLIC, anon, authenticated, service_role;
-- set_merchant_password joins the anon list: a merchant changes its own password with its
-- session (and current password).
GRANT EXECUTE ON FUNCTION public.set_member_password(uuid, text, text, text),
    public.set_merchant_password(uuid, text, text, text),
    public.update_member_profile(uuid, text, text, text, text, text)
    TO anon, authenticated, service_role, mps_admin;

-- Card readers by number: the owner's phone and email only for super admins, the owner
-- and the card's admins.
DROP FUNCTION mps_internal.card_no_scope(text, text);
CREATE  FUNCTION mps_internal."card_no_scope"(
	"p_card_no" TEXT, /* Option < & str > */
	"p_session_id" TEXT /* Option < & str > */
) RETURNS TABLE (
	"card_id" uuid,  /* Uuid */
	"owner_contact" bool  /* bool */
)
STABLE 
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'card_no_scope_wrapper';
REVOKE ALL ON FUNCTION mps_internal.card_no_scope(text, text) FROM PUBLIC, anon, authenticated, service_role;

CREATE OR REPLACE FUNCTION public.get_card_by_identifier(p_identifier text, p_session_id text DEFAULT NULL)
RETURNS jsonb LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''
AS $$
    SELECT pg_catalog.to_jsonb(c) - 'binding_password_hash'
      FROM mps_internal.card_no_scope(p_identifier, p_session_id) s
      LEFT JOIN public.member_cards c ON c.id = s.card_id
$$;

-- The owner's phone and email only for callers who may contact the owner (card_no_scope).
CREATE OR REPLACE FUNCTION public.get_card_details_by_card_no(p_card_no text, p_session_id text DEFAULT NULL)
RETURNS jsonb LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''
AS $$
    SELECT pg_catalog.jsonb_build_object(
               'id', c.id, 'card_no', c.card_no, 'card_type', c.card_type, 'name', c.name, 'balance', c.balance,
               'points', c.points, 'level', c.level, 'discount', c.discount, 'fixed_discount', c.fixed_discount,
               'status', c.status, 'expires_at', c.expires_at, 'created_at', c.created_at,
               'updated_at', c.updated_at, 'owner_member_id', c.owner_member_id, 'owner_name', m.name,
               'owner_phone', CASE WHEN s.owner_contact THEN m.phone END,
               'owner_email', CASE WHEN s.owner_contact THEN m.email END)
      FROM mps_internal.card_no_scope(p_card_no, p_session_id) s
      LEFT JOIN public.member_cards c ON c.id = s.card_id
      LEFT JOIN public.member_profiles m ON m.id = c.owner_member_id
$$;

-- anon reads no table: no listing of merchants (their login codes) or anything else.
REVOKE SELECT ON public.membership_levels, public.merchants FROM anon;
ALTER POLICY levels_public ON public.membership_levels TO authenticated;
DROP POLICY merchants_public ON public.merchants;
CREATE POLICY merchants_own ON public.merchants FOR SELECT TO authenticated
    USING (id = (SELECT mps_auth.caller_merchant_id()) OR (SELECT mps_auth.caller_is_super_admin()));
