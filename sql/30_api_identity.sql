-- Public API: identity, sessions and accounts. Each function is the contract's exact
-- signature plus an optional p_session_id, SECURITY DEFINER with an empty search_path,
-- and calls the Rust function of the same name in mps_internal.

CREATE FUNCTION public.get_user_role(p_session_id text DEFAULT NULL)
RETURNS text LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''
AS $$ SELECT mps_internal.get_user_role(p_session_id) $$;

CREATE FUNCTION public.check_permission(required_role text, p_session_id text DEFAULT NULL)
RETURNS void LANGUAGE sql SECURITY DEFINER SET search_path = ''
AS $$ SELECT mps_internal.check_permission(required_role, p_session_id) $$;

CREATE FUNCTION public.is_admin(p_session_id text DEFAULT NULL)
RETURNS boolean LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''
AS $$ SELECT mps_internal.is_admin(p_session_id) $$;

CREATE FUNCTION public.get_user_profile(p_session_id text DEFAULT NULL)
RETURNS jsonb LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''
AS $$ SELECT mps_internal.get_user_profile(p_session_id) $$;

CREATE FUNCTION public.test_connection(p_session_id text DEFAULT NULL)
RETURNS jsonb LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''
AS $$ SELECT mps_internal.test_connection(p_session_id) $$;

CREATE FUNCTION public.member_login(p_identifier text, p_password text, p_session_id text DEFAULT NULL)
RETURNS jsonb LANGUAGE sql SECURITY DEFINER SET search_path = ''
AS $$ SELECT mps_internal.member_login(p_identifier, p_password) $$;

CREATE FUNCTION public.merchant_login(p_merchant_code text, p_password text, p_session_id text DEFAULT NULL)
RETURNS jsonb LANGUAGE sql SECURITY DEFINER SET search_path = ''
AS $$ SELECT mps_internal.merchant_login(p_merchant_code, p_password) $$;

CREATE FUNCTION public.load_session(p_session_id text)
RETURNS boolean LANGUAGE sql SECURITY DEFINER SET search_path = ''
AS $$ SELECT mps_internal.load_session(p_session_id) $$;

CREATE FUNCTION public.logout_session(p_session_id text)
RETURNS boolean LANGUAGE sql SECURITY DEFINER SET search_path = ''
AS $$ SELECT mps_internal.logout_session(p_session_id) $$;

CREATE FUNCTION public.cleanup_expired_sessions(p_session_id text DEFAULT NULL)
RETURNS integer LANGUAGE sql SECURITY DEFINER SET search_path = ''
AS $$ SELECT mps_internal.cleanup_expired_sessions(p_session_id) $$;

-- Kept for clients that call it before login and at logout. Identity never lives in
-- session variables here, so there is nothing to reset.
CREATE FUNCTION public.reset_session_variables(p_session_id text DEFAULT NULL)
RETURNS void LANGUAGE sql SECURITY DEFINER SET search_path = ''
AS $$ $$;

CREATE FUNCTION public.create_member_profile(
    p_name text,
    p_phone text,
    p_email text,
    p_password text DEFAULT NULL,
    p_binding_user_org text DEFAULT NULL,
    p_binding_org_id text DEFAULT NULL,
    p_default_card_type public.card_type DEFAULT 'standard',
    p_session_id text DEFAULT NULL)
RETURNS uuid LANGUAGE sql SECURITY DEFINER SET search_path = ''
AS $$ SELECT mps_internal.create_member_profile(p_name, p_phone, p_email, p_password,
          p_binding_user_org, p_binding_org_id, p_default_card_type::text, p_session_id) $$;

CREATE FUNCTION public.create_merchant(
    p_code text,
    p_name text,
    p_contact text DEFAULT NULL,
    p_password text DEFAULT NULL,
    p_session_id text DEFAULT NULL)
RETURNS uuid LANGUAGE sql SECURITY DEFINER SET search_path = ''
AS $$ SELECT mps_internal.create_merchant(p_code, p_name, p_contact, p_password, p_session_id) $$;

-- A member or merchant changing their own password gives p_current_password (last, so
-- positional callers of the contract's signature keep working); super admins need not.
CREATE FUNCTION public.set_member_password(
    p_member_id uuid,
    p_password text,
    p_session_id text DEFAULT NULL,
    p_current_password text DEFAULT NULL)
RETURNS boolean LANGUAGE sql SECURITY DEFINER SET search_path = ''
AS $$ SELECT mps_internal.set_member_password(p_member_id, p_password, p_session_id, p_current_password) $$;

CREATE FUNCTION public.set_merchant_password(
    p_merchant_id uuid,
    p_password text,
    p_session_id text DEFAULT NULL,
    p_current_password text DEFAULT NULL)
RETURNS boolean LANGUAGE sql SECURITY DEFINER SET search_path = ''
AS $$ SELECT mps_internal.set_merchant_password(p_merchant_id, p_password, p_session_id, p_current_password) $$;
