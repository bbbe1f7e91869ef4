-- Public API: administration and the identifier-based writers.

CREATE FUNCTION public.admin_suspend_member(p_member_id uuid, p_session_id text DEFAULT NULL)
RETURNS boolean LANGUAGE sql SECURITY DEFINER SET search_path = ''
AS $$ SELECT mps_internal.admin_suspend_member(p_member_id, p_session_id) $$;

CREATE FUNCTION public.admin_activate_member(p_member_id uuid, p_session_id text DEFAULT NULL)
RETURNS boolean LANGUAGE sql SECURITY DEFINER SET search_path = ''
AS $$ SELECT mps_internal.admin_activate_member(p_member_id, p_session_id) $$;

CREATE FUNCTION public.admin_suspend_merchant(p_merchant_id uuid, p_session_id text DEFAULT NULL)
RETURNS boolean LANGUAGE sql SECURITY DEFINER SET search_path = ''
AS $$ SELECT mps_internal.admin_suspend_merchant(p_merchant_id, p_session_id) $$;

CREATE FUNCTION public.admin_activate_merchant(p_merchant_id uuid, p_session_id text DEFAULT NULL)
RETURNS boolean LANGUAGE sql SECURITY DEFINER SET search_path = ''
AS $$ SELECT mps_internal.admin_activate_merchant(p_merchant_id, p_session_id) $$;

-- The original's test clean-up; refused unless mps.allow_test_cleanup is on.
CREATE FUNCTION public.delete_test_member(p_member_id uuid, p_session_id text DEFAULT NULL)
RETURNS boolean LANGUAGE sql SECURITY DEFINER SET search_path = ''
AS $$ SELECT mps_internal.delete_test_member(p_member_id, p_session_id) $$;

CREATE FUNCTION public.delete_test_merchant(p_merchant_id uuid, p_session_id text DEFAULT NULL)
RETURNS boolean LANGUAGE sql SECURITY DEFINER SET search_path = ''
AS $$ SELECT mps_internal.delete_test_merchant(p_merchant_id, p_session_id) $$;

-- A member changing their own phone or email gives p_current_password; super admins need not.
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

CREATE FUNCTION public.update_member_by_identifier(
    p_identifier text,
    p_name text DEFAULT NULL,
    p_phone text DEFAULT NULL,
    p_email text DEFAULT NULL,
    p_session_id text DEFAULT NULL)
RETURNS boolean LANGUAGE sql SECURITY DEFINER SET search_path = ''
AS $$ SELECT mps_internal.update_member_by_identifier(p_identifier, p_name, p_phone, p_email, p_session_id) $$;

CREATE FUNCTION public.set_member_password_by_identifier(
    p_identifier text,
    p_new_password text,
    p_session_id text DEFAULT NULL)
RETURNS boolean LANGUAGE sql SECURITY DEFINER SET search_path = ''
AS $$ SELECT mps_internal.set_member_password_by_identifier(p_identifier, p_new_password, p_session_id) $$;

CREATE FUNCTION public.toggle_member_status_by_identifier(
    p_identifier text,
    p_new_status public.member_status,
    p_session_id text DEFAULT NULL)
RETURNS boolean LANGUAGE sql SECURITY DEFINER SET search_path = ''
AS $$ SELECT mps_internal.toggle_member_status_by_identifier(p_identifier, p_new_status::text, p_session_id) $$;

CREATE FUNCTION public.toggle_card_status_by_card_no(
    p_card_no text,
    p_new_status public.card_status,
    p_session_id text DEFAULT NULL)
RETURNS boolean LANGUAGE sql SECURITY DEFINER SET search_path = ''
AS $$ SELECT mps_internal.toggle_card_status_by_card_no(p_card_no, p_new_status::text, p_session_id) $$;
