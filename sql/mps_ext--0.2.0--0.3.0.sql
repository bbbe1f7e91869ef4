-- mps_ext 0.2.0 → 0.3.0: security hardening (pending member recharges, one settlement
-- history per merchant, a lockout that holds, current password for own credential changes,
-- no oracles in errors).
-- The statements mirror the 0.3.0 install script (sql/10–90); tests/db/test_upgrade_and_partitions.py
-- checks that an upgraded database and a fresh one have the same schema.

-- Attempt guard (logins, current passwords, binding passwords): the counts live in shared
-- memory (shared_preload_libraries = 'mps_ext'); the worker-written table is gone.
DROP TABLE mps_internal.login_attempts;

-- Guarded DROP: the statements of sql/15_drop_guard.sql.
CREATE FUNCTION mps_internal.refuse_drop_with_data() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = '' AS $$
DECLARE
    statement text := pg_catalog.lower(pg_catalog.current_query());
    drops_us boolean := CASE TG_TAG
        WHEN 'DROP EXTENSION' THEN statement ~ '\mmps_ext\M'
        WHEN 'DROP SCHEMA' THEN statement ~ '\m(public|audit|mps_internal|mps_auth)\M'
                            AND statement ~ '\mcascade\M'
        ELSE true  -- DROP OWNED
    END;
BEGIN
    IF NOT drops_us THEN
        RETURN;
    END IF;
    IF NOT (EXISTS (SELECT FROM public.member_profiles)
            OR EXISTS (SELECT FROM public.member_cards)
            OR EXISTS (SELECT FROM public.transactions)) THEN
        RETURN;
    END IF;
    IF pg_catalog.current_setting('mps.allow_drop_with_data', true) = 'on' THEN
        RETURN;
    END IF;
    RAISE EXCEPTION USING
        ERRCODE = 'dependent_objects_still_exist',
        MESSAGE = 'MPS_DATA_EXISTS: refusing to drop mps_ext while it holds members, cards or transactions',
        DETAIL = pg_catalog.format('%s would delete every balance and all payment history.', TG_TAG),
        HINT = 'Back the database up first (pg_dump -Fc). To drop it anyway, as a superuser: '
               'SET mps.allow_drop_with_data = on; then the DROP again.';
END
$$;

CREATE EVENT TRIGGER mps_refuse_drop_with_data ON ddl_command_start
    WHEN TAG IN ('DROP EXTENSION', 'DROP SCHEMA', 'DROP OWNED')
    EXECUTE FUNCTION mps_internal.refuse_drop_with_data();
-- Also under session_replication_role = replica (restores, logical replication).
ALTER EVENT TRIGGER mps_refuse_drop_with_data ENABLE ALWAYS;

-- == Money (issue 11, items 1, 2, 8): pending member recharges, one settlement history per
-- merchant, no balance in INSUFFICIENT_BALANCE ==
-- user_recharge_card, merchant_charge_by_qr, merchant_refund_tx, generate_settlement and
-- generate_daily_settlements keep their signatures; what changed in them lives in the
-- library. New: confirm_recharge and cancel_recharge.
CREATE FUNCTION mps_internal."confirm_recharge"(
	"p_tx_no" TEXT, /* Option < & str > */
	"p_session_id" TEXT /* Option < & str > */
) RETURNS TABLE (
	"tx_id" uuid,  /* Uuid */
	"tx_no" TEXT,  /* String */
	"card_id" uuid,  /* Uuid */
	"amount" TEXT  /* String */
)
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'confirm_recharge_wrapper';

CREATE FUNCTION mps_internal."cancel_recharge"(
	"p_tx_no" TEXT, /* Option < & str > */
	"p_reason" TEXT, /* Option < & str > */
	"p_session_id" TEXT /* Option < & str > */
) RETURNS bool /* bool */
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'cancel_recharge_wrapper';

REVOKE ALL ON FUNCTION mps_internal.confirm_recharge(text, text), mps_internal.cancel_recharge(text, text, text)
    FROM PUBLIC, anon, authenticated, service_role;

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

-- The same privileges as a fresh install (sql/90_grants.sql): mps_admin first, then the API
-- roles; confirming is for super admins only, a member may cancel their own request.
REVOKE ALL ON FUNCTION public.confirm_recharge(text, text), public.cancel_recharge(text, text, text)
    FROM PUBLIC, anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION public.confirm_recharge(text, text), public.cancel_recharge(text, text, text) TO mps_admin;
GRANT EXECUTE ON FUNCTION public.cancel_recharge(text, text, text) TO anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION public.confirm_recharge(text, text) TO authenticated, service_role;

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
