-- tests/legacy/original_functions.sql
--
-- Test fixture: PL/pgSQL re-creations of the ORIGINAL MPS RPCs that write data, faithful to the
-- contract reference §3/§4 in their DATA EFFECTS (rows written, statuses, audit actions, error texts,
-- and the known defects: orphan idempotency keys, unlocked refunds, requested-delta ledger rows...).
-- Run after original_schema.sql:  psql -v ON_ERROR_STOP=1 -f original_functions.sql
--
-- Simplifications (fixture only):
--  * get_user_role(): returns the GUC app.user_role when set, else 'super_admin' (no Supabase auth).
--  * Every function has SET search_path = public, extensions, pg_temp (instead of calling
--    sec.fixed_search_path() and leaking a session-level SET; sec.fixed_search_path still exists).
--  * merchant_charge_by_qr calls validate_qr_plain() once, then locks the card by id (the original's
--    WHERE id = validate_qr_plain(...) seq-scan, §6.4 P2, is a performance trap only).

SET client_min_messages = warning;

-- ---------------------------------------------------------------------------------------------
-- sec helpers
-- ---------------------------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION sec.fixed_search_path() RETURNS void
LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
  SET search_path = public, pg_temp;
END $$;

-- ---------------------------------------------------------------------------------------------
-- 3.1 / 3.2 role resolution (simplified)
-- ---------------------------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION public.get_user_role() RETURNS text
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, extensions, pg_temp AS $$
DECLARE v text := current_setting('app.user_role', true);
BEGIN
  IF v IS NOT NULL AND v <> '' THEN
    RETURN v;
  END IF;
  RETURN 'super_admin';   -- fixture: no auth.uid(); callers are the deploying admin
END $$;

CREATE OR REPLACE FUNCTION public.check_permission(required_role text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, extensions, pg_temp AS $$
DECLARE v_role text := get_user_role();
BEGIN
  IF v_role IS NULL THEN
    RAISE EXCEPTION 'NOT_AUTHENTICATED';
  END IF;
  IF v_role = 'super_admin' THEN
    RETURN;
  END IF;
  IF v_role <> required_role THEN
    RAISE EXCEPTION 'PERMISSION_DENIED: Required %, but user is %', required_role, v_role;
  END IF;
END $$;

-- The policy the original's schema script fails to create on a fresh install (B5); created here,
-- after get_user_role() exists.
DROP POLICY IF EXISTS "Only super admins can modify admin_users" ON public.admin_users;
CREATE POLICY "Only super admins can modify admin_users" ON public.admin_users
  FOR ALL USING (get_user_role() = 'super_admin');

-- ---------------------------------------------------------------------------------------------
-- 3.4 sessions (load_session is used by the session-aware RPCs)
-- ---------------------------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION public.load_session(p_session_id text) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, extensions, pg_temp AS $$
DECLARE s app_sessions%ROWTYPE;
BEGIN
  IF p_session_id IS NULL THEN RETURN false; END IF;
  SELECT * INTO s FROM app_sessions WHERE session_id = p_session_id AND expires_at > now_utc();
  IF NOT FOUND THEN RETURN false; END IF;
  PERFORM set_config('app.user_role', s.user_role, false);
  PERFORM set_config('app.user_id', s.user_id::text, false);
  IF s.merchant_id IS NOT NULL THEN PERFORM set_config('app.merchant_id', s.merchant_id::text, false); END IF;
  IF s.member_id IS NOT NULL THEN PERFORM set_config('app.member_id', s.member_id::text, false); END IF;
  UPDATE app_sessions SET last_accessed_at = now_utc() WHERE session_id = p_session_id;
  RETURN true;
END $$;

CREATE OR REPLACE FUNCTION public.reset_session_variables() RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, extensions, pg_temp AS $$
BEGIN
  BEGIN PERFORM set_config('app.user_role', '', false); EXCEPTION WHEN OTHERS THEN NULL; END;
  BEGIN PERFORM set_config('app.user_id', '', false); EXCEPTION WHEN OTHERS THEN NULL; END;
  BEGIN PERFORM set_config('app.session_id', '', false); EXCEPTION WHEN OTHERS THEN NULL; END;
END $$;

CREATE OR REPLACE FUNCTION public.merchant_login(p_merchant_code text, p_password text) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, extensions, pg_temp AS $$
DECLARE m merchants%ROWTYPE; v_sid text; v_exp timestamptz;
BEGIN
  SELECT * INTO m FROM merchants WHERE code = p_merchant_code AND status = 'active';
  IF NOT FOUND THEN RAISE EXCEPTION 'MERCHANT_NOT_FOUND'; END IF;
  IF m.password_hash IS NULL THEN RAISE EXCEPTION 'PASSWORD_NOT_SET'; END IF;
  IF extensions.crypt(p_password, m.password_hash) <> m.password_hash THEN
    INSERT INTO audit.event_log(action, object_type, object_id, context)
      VALUES ('LOGIN_FAILED', 'merchants', m.id, jsonb_build_object('code', p_merchant_code));
    RAISE EXCEPTION 'INVALID_PASSWORD';
  END IF;
  v_sid := encode(extensions.gen_random_bytes(32), 'base64');
  v_exp := now_utc() + interval '24 hours';
  INSERT INTO app_sessions(session_id, user_role, user_id, merchant_id, expires_at)
    VALUES (v_sid, 'merchant', m.id, m.id, v_exp);
  PERFORM set_config('app.user_role', 'merchant', false);
  PERFORM set_config('app.user_id', m.id::text, false);
  PERFORM set_config('app.session_id', v_sid, false);
  INSERT INTO audit.event_log(action, object_type, object_id, context)
    VALUES ('LOGIN_SUCCESS', 'merchants', m.id, jsonb_build_object('code', p_merchant_code));
  RETURN jsonb_build_object('success', true, 'role', 'merchant', 'merchant_id', m.id,
    'merchant_code', m.code, 'merchant_name', m.name, 'session_id', v_sid, 'expires_at', v_exp);
END $$;

CREATE OR REPLACE FUNCTION public.member_login(p_identifier text, p_password text) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, extensions, pg_temp AS $$
DECLARE m member_profiles%ROWTYPE; v_sid text; v_exp timestamptz;
BEGIN
  SELECT * INTO m FROM member_profiles
   WHERE (phone = p_identifier OR member_no = p_identifier) AND status = 'active' LIMIT 1;
  IF NOT FOUND THEN RAISE EXCEPTION 'MEMBER_NOT_FOUND'; END IF;
  IF m.password_hash IS NULL THEN RAISE EXCEPTION 'PASSWORD_NOT_SET'; END IF;
  IF extensions.crypt(p_password, m.password_hash) <> m.password_hash THEN
    INSERT INTO audit.event_log(action, object_type, object_id, context)
      VALUES ('LOGIN_FAILED', 'member_profiles', m.id, jsonb_build_object('identifier', p_identifier));
    RAISE EXCEPTION 'INVALID_PASSWORD';
  END IF;
  v_sid := encode(extensions.gen_random_bytes(32), 'base64');
  v_exp := now_utc() + interval '24 hours';
  INSERT INTO app_sessions(session_id, user_role, user_id, member_id, expires_at)
    VALUES (v_sid, 'member', m.id, m.id, v_exp);
  PERFORM set_config('app.user_role', 'member', false);
  PERFORM set_config('app.user_id', m.id::text, false);
  PERFORM set_config('app.session_id', v_sid, false);
  INSERT INTO audit.event_log(action, object_type, object_id, context)
    VALUES ('LOGIN_SUCCESS', 'member_profiles', m.id, jsonb_build_object('identifier', p_identifier));
  RETURN jsonb_build_object('success', true, 'role', 'member', 'member_id', m.id, 'member_no', m.member_no,
    'name', m.name, 'phone', m.phone, 'email', m.email, 'session_id', v_sid, 'expires_at', v_exp);
END $$;

-- ---------------------------------------------------------------------------------------------
-- 4.5 points and levels helpers
-- ---------------------------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION public.compute_discount(p_points int) RETURNS numeric(4,3)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, extensions, pg_temp AS $$
DECLARE v numeric(4,3);
BEGIN
  SELECT discount INTO v FROM membership_levels
   WHERE is_active AND min_points <= p_points AND (max_points IS NULL OR p_points <= max_points)
   ORDER BY level DESC LIMIT 1;
  RETURN COALESCE(v, 1.000);
END $$;

CREATE OR REPLACE FUNCTION public.compute_level(p_points int) RETURNS int
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, extensions, pg_temp AS $$
DECLARE v int;
BEGIN
  SELECT level INTO v FROM membership_levels
   WHERE is_active AND min_points <= p_points AND (max_points IS NULL OR p_points <= max_points)
   ORDER BY level DESC LIMIT 1;
  RETURN COALESCE(v, 0);
END $$;

-- ---------------------------------------------------------------------------------------------
-- 4.1 passwords
-- ---------------------------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION public.set_member_password(p_member_id uuid, p_password text) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, extensions, pg_temp AS $$
BEGIN
  -- no authorization check (W2)
  IF length(p_password) < 6 THEN RAISE EXCEPTION 'PASSWORD_TOO_SHORT'; END IF;
  UPDATE member_profiles
     SET password_hash = extensions.crypt(p_password, extensions.gen_salt('bf')), updated_at = now_utc()
   WHERE id = p_member_id;
  IF NOT FOUND THEN RAISE EXCEPTION 'MEMBER_NOT_FOUND'; END IF;
  INSERT INTO audit.event_log(action, object_type, object_id, context)
    VALUES ('PASSWORD_CHANGED', 'member_profiles', p_member_id, '{}'::jsonb);
  RETURN TRUE;
END $$;

CREATE OR REPLACE FUNCTION public.set_merchant_password(p_merchant_id uuid, p_password text) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, extensions, pg_temp AS $$
BEGIN
  PERFORM check_permission('super_admin');
  IF length(p_password) < 6 THEN RAISE EXCEPTION 'PASSWORD_TOO_SHORT'; END IF;
  UPDATE merchants
     SET password_hash = extensions.crypt(p_password, extensions.gen_salt('bf')), updated_at = now_utc()
   WHERE id = p_merchant_id;
  IF NOT FOUND THEN RAISE EXCEPTION 'MERCHANT_NOT_FOUND'; END IF;
  INSERT INTO audit.event_log(action, object_type, object_id, context)
    VALUES ('PASSWORD_CHANGED', 'merchants', p_merchant_id, '{}'::jsonb);
  RETURN TRUE;
END $$;

-- ---------------------------------------------------------------------------------------------
-- 4.2 members and bindings
-- ---------------------------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION public.create_member_profile(
  p_name text, p_phone text, p_email text, p_password text DEFAULT NULL,
  p_binding_user_org text DEFAULT NULL, p_binding_org_id text DEFAULT NULL,
  p_default_card_type card_type DEFAULT 'standard') RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, extensions, pg_temp AS $$
DECLARE v_member_id uuid := extensions.gen_random_uuid(); v_card_id uuid := extensions.gen_random_uuid();
        v_hash text;
BEGIN
  -- no authorization check (W6)
  IF p_password IS NOT NULL AND length(p_password) >= 6 THEN
    v_hash := extensions.crypt(p_password, extensions.gen_salt('bf'));
  END IF;   -- shorter passwords silently dropped
  INSERT INTO member_profiles(id, name, phone, email, password_hash, status)
    VALUES (v_member_id, p_name, p_phone, p_email, v_hash, 'active');
  INSERT INTO member_cards(id, card_no, card_type, owner_member_id, level, discount, points, balance,
                           status, binding_password_hash)
    VALUES (v_card_id, gen_card_no('standard'), 'standard', v_member_id, 0, compute_discount(0), 0, 0,
            'active', NULL);
  INSERT INTO card_bindings(card_id, member_id, role) VALUES (v_card_id, v_member_id, 'owner');
  IF p_binding_user_org IS NOT NULL AND p_binding_org_id IS NOT NULL THEN
    BEGIN
      INSERT INTO member_external_identities(member_id, provider, external_id, meta)
        VALUES (v_member_id, p_binding_user_org, p_binding_org_id, '{}'::jsonb);
    EXCEPTION WHEN unique_violation THEN
      RAISE EXCEPTION 'EXTERNAL_ID_ALREADY_BOUND';
    END;
  END IF;
  INSERT INTO audit.event_log(action, object_type, object_id, context)
    VALUES ('CREATE_MEMBER', 'member_profiles', v_member_id,
            jsonb_build_object('name', p_name, 'phone', p_phone, 'email', p_email));
  RETURN v_member_id;
END $$;

CREATE OR REPLACE FUNCTION public.bind_member_to_card(
  p_card_id uuid, p_member_id uuid, p_role bind_role DEFAULT 'member',
  p_binding_password text DEFAULT NULL, p_session_id text DEFAULT NULL) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, extensions, pg_temp AS $$
DECLARE c member_cards%ROWTYPE;
BEGIN
  IF p_session_id IS NOT NULL THEN PERFORM load_session(p_session_id); END IF;
  -- no caller check (W4)
  SELECT * INTO c FROM member_cards WHERE id = p_card_id;
  IF NOT FOUND OR c.status <> 'active' THEN RAISE EXCEPTION 'CARD_NOT_FOUND_OR_INACTIVE'; END IF;
  IF c.card_type IN ('standard','voucher') AND p_member_id <> c.owner_member_id THEN
    RAISE EXCEPTION 'CARD_TYPE_NOT_SHAREABLE';
  END IF;
  IF c.card_type = 'corporate' THEN
    IF NOT EXISTS (SELECT 1 FROM card_bindings WHERE card_id = p_card_id AND role = 'owner') THEN
      RAISE EXCEPTION 'CARD_OWNER_NOT_DEFINED';
    END IF;
    IF c.binding_password_hash IS NOT NULL THEN
      IF p_binding_password IS NULL
         OR extensions.crypt(p_binding_password, c.binding_password_hash) <> c.binding_password_hash THEN
        RAISE EXCEPTION 'INVALID_BINDING_PASSWORD';
      END IF;
    END IF;
  END IF;
  INSERT INTO card_bindings(card_id, member_id, role) VALUES (p_card_id, p_member_id, p_role)
    ON CONFLICT (card_id, member_id) DO UPDATE SET role = EXCLUDED.role;
  IF c.card_type = 'corporate' AND c.fixed_discount IS NOT NULL THEN
    UPDATE member_cards SET corporate_discount = c.fixed_discount
     WHERE owner_member_id = p_member_id AND card_type = 'standard' AND status = 'active';
  END IF;
  INSERT INTO audit.event_log(action, object_type, object_id, context)
    VALUES ('BIND_CARD', 'member_cards', p_card_id, jsonb_build_object('member_id', p_member_id, 'role', p_role));
  RETURN TRUE;
END $$;

CREATE OR REPLACE FUNCTION public.unbind_member_from_card(
  p_card_id uuid, p_member_id uuid, p_session_id text DEFAULT NULL) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, extensions, pg_temp AS $$
DECLARE c member_cards%ROWTYPE;
BEGIN
  IF p_session_id IS NOT NULL THEN PERFORM load_session(p_session_id); END IF;
  SELECT * INTO c FROM member_cards WHERE id = p_card_id;
  DELETE FROM card_bindings WHERE card_id = p_card_id AND member_id = p_member_id;
  IF NOT EXISTS (SELECT 1 FROM card_bindings WHERE card_id = p_card_id AND role = 'owner') THEN
    RAISE EXCEPTION 'CANNOT_REMOVE_LAST_OWNER';
  END IF;
  IF c.card_type = 'corporate' THEN
    UPDATE member_cards SET corporate_discount = NULL
     WHERE owner_member_id = p_member_id AND card_type = 'standard' AND status = 'active';
  END IF;
  INSERT INTO audit.event_log(action, object_type, object_id, context)
    VALUES ('UNBIND_CARD', 'member_cards', p_card_id, jsonb_build_object('member_id', p_member_id));
  RETURN TRUE;
END $$;

-- ---------------------------------------------------------------------------------------------
-- 4.3 QR codes
-- ---------------------------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION public.rotate_card_qr(
  p_card_id uuid, p_ttl_seconds integer DEFAULT 900, p_session_id text DEFAULT NULL)
  RETURNS TABLE(qr_plain text, qr_expires_at timestamptz)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, extensions, pg_temp AS $$
DECLARE v_role text; v_uid text; v_token text; v_hash text; v_exp timestamptz;
BEGIN
  IF p_session_id IS NOT NULL THEN PERFORM load_session(p_session_id); END IF;
  v_role := get_user_role();
  v_uid := current_setting('app.user_id', true);
  IF v_role = 'super_admin' THEN
    NULL;
  ELSIF v_role = 'member' THEN
    IF NOT EXISTS (SELECT 1 FROM member_cards mc JOIN member_profiles mp ON mp.id = mc.owner_member_id
                    WHERE mc.id = p_card_id AND mp.id::text = v_uid)
       AND NOT EXISTS (SELECT 1 FROM card_bindings cb
                        WHERE cb.card_id = p_card_id AND cb.status = 'active' AND cb.member_id::text = v_uid) THEN
      RAISE EXCEPTION 'PERMISSION_DENIED: 您沒有權限為此卡片生成 QR 碼';
    END IF;
  ELSIF v_role = 'merchant' THEN
    RAISE EXCEPTION 'PERMISSION_DENIED: 商戶不能生成 QR 碼';
  ELSE
    RAISE EXCEPTION 'PERMISSION_DENIED: 需要登入才能生成 QR 碼';
  END IF;
  v_token := encode(extensions.gen_random_bytes(32), 'base64');
  v_hash := extensions.crypt(v_token, extensions.gen_salt('bf'));
  v_exp := now_utc() + make_interval(secs => GREATEST(p_ttl_seconds, 60));
  INSERT INTO card_qr_state(card_id, token_hash, updated_at, expires_at)
    VALUES (p_card_id, v_hash, now_utc(), v_exp)
    ON CONFLICT (card_id) DO UPDATE
      SET token_hash = EXCLUDED.token_hash, updated_at = EXCLUDED.updated_at, expires_at = EXCLUDED.expires_at;
  INSERT INTO card_qr_history(card_id, token_hash, issued_at, expires_at) VALUES (p_card_id, v_hash, now_utc(), v_exp);
  INSERT INTO audit.event_log(action, object_type, object_id, context)
    VALUES ('QR_ROTATE', 'member_cards', p_card_id, jsonb_build_object('ttl', p_ttl_seconds));
  RETURN QUERY SELECT v_token, v_exp;
END $$;

CREATE OR REPLACE FUNCTION public.revoke_card_qr(p_card_id uuid, p_session_id text DEFAULT NULL) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, extensions, pg_temp AS $$
DECLARE v_role text; v_uid text;
BEGIN
  IF p_session_id IS NOT NULL THEN PERFORM load_session(p_session_id); END IF;
  v_role := get_user_role();
  v_uid := current_setting('app.user_id', true);
  IF v_role = 'super_admin' THEN
    NULL;
  ELSIF v_role = 'member' THEN
    IF NOT EXISTS (SELECT 1 FROM member_cards mc WHERE mc.id = p_card_id AND mc.owner_member_id::text = v_uid)
       AND NOT EXISTS (SELECT 1 FROM card_bindings cb
                        WHERE cb.card_id = p_card_id AND cb.status = 'active' AND cb.member_id::text = v_uid) THEN
      RAISE EXCEPTION 'PERMISSION_DENIED: 您沒有權限撤銷此卡片的 QR 碼';
    END IF;
  ELSIF v_role = 'merchant' THEN
    RAISE EXCEPTION 'PERMISSION_DENIED: 商戶不能撤銷 QR 碼';
  ELSE
    RAISE EXCEPTION 'PERMISSION_DENIED: 需要登入才能撤銷 QR 碼';
  END IF;
  UPDATE card_qr_state SET expires_at = now_utc() WHERE card_id = p_card_id;
  INSERT INTO audit.event_log(action, object_type, object_id, context)
    VALUES ('QR_REVOKE', 'member_cards', p_card_id, '{}'::jsonb);
  RETURN TRUE;
END $$;

CREATE OR REPLACE FUNCTION public.validate_qr_plain(p_qr_plain text) RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, extensions, pg_temp AS $$
DECLARE v_card uuid;
BEGIN
  IF p_qr_plain IS NULL OR length(p_qr_plain) < 16 THEN RAISE EXCEPTION 'INVALID_QR'; END IF;
  SELECT card_id INTO v_card FROM card_qr_state
   WHERE expires_at > now_utc() AND token_hash = extensions.crypt(p_qr_plain, token_hash) LIMIT 1;
  IF v_card IS NULL THEN RAISE EXCEPTION 'QR_EXPIRED_OR_INVALID'; END IF;
  RETURN v_card;
END $$;

-- ---------------------------------------------------------------------------------------------
-- 4.4 money movements
-- ---------------------------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION public.merchant_charge_by_qr(
  p_merchant_code text, p_qr_plain text, p_raw_amount numeric, p_idempotency_key text DEFAULT NULL,
  p_tag jsonb DEFAULT '{}'::jsonb, p_external_order_id text DEFAULT NULL, p_session_id text DEFAULT NULL)
  RETURNS TABLE (tx_id uuid, tx_no text, card_id uuid, final_amount numeric, discount numeric)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, extensions, pg_temp AS $$
DECLARE m merchants%ROWTYPE; c member_cards%ROWTYPE; v_role text; v_card_id uuid;
        v_tx_id uuid := extensions.gen_random_uuid(); v_tx_no text; v_disc numeric(4,3); v_final numeric;
        v_pts int; v_new_pts int;
BEGIN
  IF p_session_id IS NOT NULL THEN PERFORM load_session(p_session_id); END IF;
  IF p_raw_amount IS NULL OR p_raw_amount <= 0 THEN RAISE EXCEPTION 'INVALID_PRICE'; END IF;
  SELECT * INTO m FROM merchants WHERE code = p_merchant_code AND status = 'active';
  IF NOT FOUND THEN RAISE EXCEPTION 'MERCHANT_NOT_FOUND_OR_INACTIVE'; END IF;
  v_role := get_user_role();
  IF NOT (v_role = 'super_admin'
          OR (v_role = 'merchant' AND current_setting('app.merchant_id', true) = m.id::text)) THEN
    RAISE EXCEPTION 'NOT_AUTHORIZED_FOR_THIS_MERCHANT';
  END IF;
  v_card_id := validate_qr_plain(p_qr_plain);
  SELECT * INTO c FROM member_cards WHERE id = v_card_id FOR UPDATE;
  IF c.status <> 'active' THEN RAISE EXCEPTION 'CARD_NOT_ACTIVE'; END IF;
  IF c.expires_at IS NOT NULL AND c.expires_at < now_utc() THEN RAISE EXCEPTION 'CARD_EXPIRED'; END IF;

  IF p_idempotency_key IS NOT NULL THEN
    BEGIN
      INSERT INTO idempotency_registry(idempotency_key, tx_id) VALUES (p_idempotency_key, v_tx_id);
    EXCEPTION WHEN unique_violation THEN
      RETURN QUERY SELECT t.id, t.tx_no, t.card_id, t.final_amount, t.discount_applied
        FROM idempotency_registry r JOIN transactions t ON t.id = r.tx_id
       WHERE r.idempotency_key = p_idempotency_key AND t.status = 'completed';
      RETURN;
    END;
  END IF;
  IF p_external_order_id IS NOT NULL THEN
    BEGIN
      INSERT INTO merchant_order_registry(merchant_id, external_order_id, tx_id)
        VALUES (m.id, p_external_order_id, v_tx_id);
    EXCEPTION WHEN unique_violation THEN
      -- defect B7: a key inserted above stays committed, pointing at a tx that never exists
      RETURN QUERY SELECT t.id, t.tx_no, t.card_id, t.final_amount, t.discount_applied
        FROM merchant_order_registry r JOIN transactions t ON t.id = r.tx_id
       WHERE r.merchant_id = m.id AND r.external_order_id = p_external_order_id AND t.status = 'completed';
      RETURN;
    END;
  END IF;

  IF c.card_type = 'standard' THEN
    v_disc := LEAST(c.discount, COALESCE(c.corporate_discount, 1.000));
  ELSIF c.card_type = 'corporate' THEN
    RAISE EXCEPTION 'CORPORATE_CARD_CANNOT_PAY';
  ELSE
    RAISE EXCEPTION 'UNSUPPORTED_CARD_TYPE_FOR_PAYMENT';
  END IF;
  v_final := round(p_raw_amount * v_disc, 2);
  IF c.balance < v_final THEN RAISE EXCEPTION 'INSUFFICIENT_BALANCE'; END IF;

  v_tx_no := gen_tx_no('payment');
  INSERT INTO tx_registry(tx_no, tx_id) VALUES (v_tx_no, v_tx_id) ON CONFLICT DO NOTHING;
  v_pts := floor(p_raw_amount)::int;
  INSERT INTO transactions(id, tx_no, card_id, merchant_id, tx_type, raw_amount, discount_applied,
                           final_amount, points_earned, status, tag, payment_method)
    VALUES (v_tx_id, v_tx_no, c.id, m.id, 'payment', p_raw_amount, v_disc, v_final, v_pts,
            'processing', COALESCE(p_tag, '{}'::jsonb), 'balance');
  v_new_pts := c.points + v_pts;
  UPDATE member_cards
     SET balance = balance - v_final, points = v_new_pts, level = compute_level(v_new_pts),
         discount = compute_discount(v_new_pts), updated_at = now_utc()
   WHERE id = c.id;
  INSERT INTO point_ledger(card_id, tx_id, change, balance_before, balance_after, reason)
    VALUES (c.id, v_tx_id, v_pts, c.points, v_new_pts, 'payment_earn');
  UPDATE transactions SET status = 'completed', updated_at = now_utc() WHERE id = v_tx_id;
  INSERT INTO audit.event_log(action, object_type, object_id, context)
    VALUES ('PAYMENT', 'transactions', v_tx_id, jsonb_build_object('merchant', p_merchant_code, 'final', v_final));
  RETURN QUERY SELECT v_tx_id, v_tx_no, c.id, v_final, v_disc::numeric;
END $$;

CREATE OR REPLACE FUNCTION public.merchant_refund_tx(
  p_merchant_code text, p_original_tx_no text, p_refund_amount numeric,
  p_tag jsonb DEFAULT '{}'::jsonb, p_session_id text DEFAULT NULL)
  RETURNS TABLE (refund_tx_id uuid, refund_tx_no text, refunded_amount numeric)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, extensions, pg_temp AS $$
DECLARE m merchants%ROWTYPE; o transactions%ROWTYPE; v_role text; v_remaining numeric;
        v_id uuid := extensions.gen_random_uuid(); v_no text;
BEGIN
  IF p_session_id IS NOT NULL THEN PERFORM load_session(p_session_id); END IF;
  IF p_refund_amount IS NULL OR p_refund_amount <= 0 THEN RAISE EXCEPTION 'INVALID_REFUND_AMOUNT'; END IF;
  SELECT * INTO m FROM merchants WHERE code = p_merchant_code AND status = 'active';
  IF NOT FOUND THEN RAISE EXCEPTION 'MERCHANT_NOT_FOUND_OR_INACTIVE'; END IF;
  v_role := get_user_role();
  IF NOT (v_role = 'super_admin'
          OR (v_role = 'merchant' AND current_setting('app.merchant_id', true) = m.id::text)) THEN
    RAISE EXCEPTION 'NOT_AUTHORIZED_FOR_THIS_MERCHANT';
  END IF;
  -- NOT locked (race §6.3)
  SELECT * INTO o FROM transactions t WHERE t.tx_no = p_original_tx_no AND t.merchant_id = m.id;
  IF NOT FOUND THEN RAISE EXCEPTION 'ORIGINAL_TX_NOT_FOUND'; END IF;
  IF o.tx_type <> 'payment' OR o.status NOT IN ('completed','refunded') THEN
    RAISE EXCEPTION 'ONLY_COMPLETED_PAYMENT_REFUNDABLE';
  END IF;
  SELECT o.final_amount - COALESCE(sum(t.final_amount), 0) INTO v_remaining
    FROM transactions t
   WHERE t.tx_type = 'refund' AND t.card_id = o.card_id AND t.reason = o.tx_no
     AND t.status IN ('processing','completed');
  IF p_refund_amount > v_remaining THEN RAISE EXCEPTION 'REFUND_EXCEEDS_REMAINING'; END IF;
  v_no := gen_tx_no('refund');
  INSERT INTO tx_registry(tx_no, tx_id) VALUES (v_no, v_id) ON CONFLICT DO NOTHING;
  INSERT INTO transactions(id, tx_no, card_id, merchant_id, tx_type, raw_amount, discount_applied,
                           final_amount, points_earned, status, tag, reason, payment_method)
    VALUES (v_id, v_no, o.card_id, m.id, 'refund', p_refund_amount, 1.000, p_refund_amount, 0,
            'processing', COALESCE(p_tag, '{}'::jsonb), o.tx_no, o.payment_method);
  UPDATE member_cards SET balance = balance + p_refund_amount, updated_at = now_utc() WHERE id = o.card_id;
  UPDATE transactions SET status = 'completed', updated_at = now_utc() WHERE id = v_id;
  IF p_refund_amount >= v_remaining THEN
    UPDATE transactions SET status = 'refunded', updated_at = now_utc() WHERE id = o.id;
  END IF;
  INSERT INTO audit.event_log(action, object_type, object_id, context)
    VALUES ('REFUND', 'transactions', v_id, jsonb_build_object('merchant', p_merchant_code, 'amount', p_refund_amount));
  RETURN QUERY SELECT v_id, v_no, p_refund_amount;
END $$;

CREATE OR REPLACE FUNCTION public.user_recharge_card(
  p_card_id uuid, p_amount numeric, p_payment_method pay_method DEFAULT 'wechat',
  p_tag jsonb DEFAULT '{}'::jsonb, p_idempotency_key text DEFAULT NULL,
  p_external_order_id text DEFAULT NULL, p_session_id text DEFAULT NULL)
  RETURNS TABLE (tx_id uuid, tx_no text, card_id uuid, amount numeric)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, extensions, pg_temp AS $$
DECLARE c member_cards%ROWTYPE; v_id uuid := extensions.gen_random_uuid(); v_no text;
BEGIN
  IF p_session_id IS NOT NULL THEN PERFORM load_session(p_session_id); END IF;
  -- no caller check (W1)
  IF p_amount IS NULL OR p_amount <= 0 THEN RAISE EXCEPTION 'INVALID_RECHARGE_AMOUNT'; END IF;
  SELECT * INTO c FROM member_cards mc WHERE mc.id = p_card_id FOR UPDATE;
  IF NOT FOUND OR c.status <> 'active' THEN RAISE EXCEPTION 'CARD_NOT_FOUND_OR_INACTIVE'; END IF;
  IF c.card_type <> 'standard' THEN RAISE EXCEPTION 'UNSUPPORTED_CARD_TYPE_FOR_RECHARGE'; END IF;
  IF p_idempotency_key IS NOT NULL THEN
    BEGIN
      INSERT INTO idempotency_registry(idempotency_key, tx_id) VALUES (p_idempotency_key, v_id);
    EXCEPTION WHEN unique_violation THEN
      RETURN QUERY SELECT t.id, t.tx_no, t.card_id, t.final_amount
        FROM idempotency_registry r JOIN transactions t ON t.id = r.tx_id
       WHERE r.idempotency_key = p_idempotency_key AND t.status = 'completed';
      RETURN;
    END;
  END IF;
  IF p_external_order_id IS NOT NULL THEN
    BEGIN
      -- merchant_id NULL: never conflicts (B7)
      INSERT INTO merchant_order_registry(merchant_id, external_order_id, tx_id)
        VALUES (NULL, p_external_order_id, v_id);
    EXCEPTION WHEN unique_violation THEN
      RETURN QUERY SELECT t.id, t.tx_no, t.card_id, t.final_amount
        FROM merchant_order_registry r JOIN transactions t ON t.id = r.tx_id
       WHERE r.merchant_id IS NULL AND r.external_order_id = p_external_order_id AND t.status = 'completed';
      RETURN;
    END;
  END IF;
  v_no := gen_tx_no('recharge');
  INSERT INTO tx_registry(tx_no, tx_id) VALUES (v_no, v_id) ON CONFLICT DO NOTHING;
  INSERT INTO transactions(id, tx_no, card_id, merchant_id, tx_type, raw_amount, discount_applied,
                           final_amount, points_earned, status, tag, reason, payment_method)
    VALUES (v_id, v_no, c.id, NULL, 'recharge', p_amount, 1.000, p_amount, 0, 'processing',
            COALESCE(p_tag, '{}'::jsonb), 'recharge', p_payment_method);
  UPDATE member_cards SET balance = balance + p_amount, updated_at = now_utc() WHERE id = c.id;
  UPDATE transactions SET status = 'completed', updated_at = now_utc() WHERE id = v_id;
  INSERT INTO audit.event_log(action, object_type, object_id, context)
    VALUES ('RECHARGE', 'transactions', v_id, jsonb_build_object('amount', p_amount, 'method', p_payment_method));
  RETURN QUERY SELECT v_id, v_no, c.id, p_amount;
END $$;

-- ---------------------------------------------------------------------------------------------
-- 4.5 points
-- ---------------------------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION public.update_points_and_level(
  p_card_id uuid, p_delta_points int, p_reason text DEFAULT 'manual_adjust') RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, extensions, pg_temp AS $$
DECLARE c member_cards%ROWTYPE; v_new int;
BEGIN
  IF p_reason = 'manual_adjust' THEN PERFORM check_permission('super_admin'); END IF;  -- W3
  SELECT * INTO c FROM member_cards WHERE id = p_card_id FOR UPDATE;
  IF NOT FOUND THEN RAISE EXCEPTION 'CARD_NOT_FOUND_OR_INACTIVE'; END IF;
  IF c.card_type <> 'standard' THEN RAISE EXCEPTION 'UNSUPPORTED_CARD_TYPE_FOR_POINTS'; END IF;
  v_new := GREATEST(0, c.points + p_delta_points);
  UPDATE member_cards SET points = v_new, level = compute_level(v_new), discount = compute_discount(v_new),
         updated_at = now_utc()
   WHERE id = p_card_id;
  -- the REQUESTED delta is logged, not the clamped one
  INSERT INTO point_ledger(card_id, tx_id, change, balance_before, balance_after, reason)
    VALUES (p_card_id, NULL, p_delta_points, c.points, v_new, p_reason);
  INSERT INTO audit.event_log(action, object_type, object_id, context)
    VALUES ('POINTS_ADJUST', 'member_cards', p_card_id, jsonb_build_object('delta', p_delta_points, 'reason', p_reason));
  RETURN TRUE;
END $$;

-- ---------------------------------------------------------------------------------------------
-- 4.6 administration
-- ---------------------------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION public.freeze_card(p_card_id uuid) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, extensions, pg_temp AS $$
BEGIN
  PERFORM check_permission('super_admin');
  UPDATE member_cards SET status = 'inactive', updated_at = now_utc() WHERE id = p_card_id;
  INSERT INTO audit.event_log(action, object_type, object_id) VALUES ('CARD_FREEZE', 'member_cards', p_card_id);
  RETURN TRUE;
END $$;

CREATE OR REPLACE FUNCTION public.unfreeze_card(p_card_id uuid) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, extensions, pg_temp AS $$
BEGIN
  PERFORM check_permission('super_admin');
  UPDATE member_cards SET status = 'active', updated_at = now_utc() WHERE id = p_card_id;
  INSERT INTO audit.event_log(action, object_type, object_id) VALUES ('CARD_UNFREEZE', 'member_cards', p_card_id);
  RETURN TRUE;
END $$;

CREATE OR REPLACE FUNCTION public.admin_suspend_member(p_member_id uuid) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, extensions, pg_temp AS $$
BEGIN
  PERFORM check_permission('super_admin');
  UPDATE member_profiles SET status = 'suspended', updated_at = now_utc() WHERE id = p_member_id;
  INSERT INTO audit.event_log(action, object_type, object_id) VALUES ('MEMBER_SUSPEND', 'member_profiles', p_member_id);
  RETURN TRUE;
END $$;

CREATE OR REPLACE FUNCTION public.admin_activate_member(p_member_id uuid) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, extensions, pg_temp AS $$
BEGIN
  PERFORM check_permission('super_admin');
  UPDATE member_profiles SET status = 'active', updated_at = now_utc() WHERE id = p_member_id;
  INSERT INTO audit.event_log(action, object_type, object_id) VALUES ('MEMBER_ACTIVATE', 'member_profiles', p_member_id);
  RETURN TRUE;
END $$;

CREATE OR REPLACE FUNCTION public.admin_suspend_merchant(p_merchant_id uuid) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, extensions, pg_temp AS $$
BEGIN
  PERFORM check_permission('super_admin');
  UPDATE merchants SET status = 'inactive', updated_at = now_utc() WHERE id = p_merchant_id;
  INSERT INTO audit.event_log(action, object_type, object_id) VALUES ('MERCHANT_SUSPEND', 'merchants', p_merchant_id);
  RETURN TRUE;
END $$;

CREATE OR REPLACE FUNCTION public.admin_activate_merchant(p_merchant_id uuid) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, extensions, pg_temp AS $$
BEGIN
  PERFORM check_permission('super_admin');
  UPDATE merchants SET status = 'active', updated_at = now_utc() WHERE id = p_merchant_id;
  INSERT INTO audit.event_log(action, object_type, object_id) VALUES ('MERCHANT_ACTIVATE', 'merchants', p_merchant_id);
  RETURN TRUE;
END $$;

CREATE OR REPLACE FUNCTION public.create_merchant(
  p_code text, p_name text, p_contact text DEFAULT NULL, p_password text DEFAULT NULL) RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, extensions, pg_temp AS $$
DECLARE v_id uuid := extensions.gen_random_uuid(); v_hash text;
BEGIN
  PERFORM check_permission('super_admin');
  IF p_password IS NOT NULL AND length(p_password) >= 6 THEN
    v_hash := extensions.crypt(p_password, extensions.gen_salt('bf'));
  END IF;
  INSERT INTO merchants(id, code, name, contact, status, password_hash)
    VALUES (v_id, p_code, p_name, p_contact, 'active', v_hash);
  INSERT INTO audit.event_log(action, object_type, object_id, context)
    VALUES ('CREATE_MERCHANT', 'merchants', v_id, jsonb_build_object('code', p_code, 'name', p_name));
  RETURN v_id;
END $$;

CREATE OR REPLACE FUNCTION public.create_corporate_card(
  p_owner_member_id uuid, p_name text DEFAULT NULL, p_initial_balance numeric(12,2) DEFAULT 0,
  p_fixed_discount numeric(4,3) DEFAULT NULL) RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, extensions, pg_temp AS $$
DECLARE v_id uuid := extensions.gen_random_uuid();
BEGIN
  PERFORM check_permission('super_admin');
  IF NOT EXISTS (SELECT 1 FROM member_profiles WHERE id = p_owner_member_id) THEN
    RAISE EXCEPTION 'MEMBER_NOT_FOUND';
  END IF;
  INSERT INTO member_cards(id, card_no, card_type, owner_member_id, name, balance, points, level, discount,
                           fixed_discount, status)
    VALUES (v_id, gen_card_no('corporate'), 'corporate', p_owner_member_id, p_name, p_initial_balance, 0, 0,
            COALESCE(p_fixed_discount, 1.000), p_fixed_discount, 'active');
  INSERT INTO card_bindings(card_id, member_id, role) VALUES (v_id, p_owner_member_id, 'owner');
  INSERT INTO audit.event_log(action, object_type, object_id, context)
    VALUES ('CREATE_CORPORATE_CARD', 'member_cards', v_id,
            jsonb_build_object('owner_member_id', p_owner_member_id, 'name', p_name));
  RETURN v_id;
END $$;

CREATE OR REPLACE FUNCTION public.create_voucher_card(
  p_owner_member_id uuid, p_name text DEFAULT NULL, p_initial_balance numeric(12,2) DEFAULT 0,
  p_expires_at timestamptz DEFAULT NULL) RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, extensions, pg_temp AS $$
DECLARE v_id uuid := extensions.gen_random_uuid();
BEGIN
  PERFORM check_permission('super_admin');
  IF NOT EXISTS (SELECT 1 FROM member_profiles WHERE id = p_owner_member_id) THEN
    RAISE EXCEPTION 'MEMBER_NOT_FOUND';
  END IF;
  INSERT INTO member_cards(id, card_no, card_type, owner_member_id, name, balance, points, level, discount,
                           status, expires_at)
    VALUES (v_id, gen_card_no('voucher'), 'voucher', p_owner_member_id, p_name, p_initial_balance, 0, 0,
            1.000, 'active', p_expires_at);
  INSERT INTO card_bindings(card_id, member_id, role) VALUES (v_id, p_owner_member_id, 'owner');
  INSERT INTO audit.event_log(action, object_type, object_id, context)
    VALUES ('CREATE_VOUCHER_CARD', 'member_cards', v_id,
            jsonb_build_object('owner_member_id', p_owner_member_id, 'name', p_name));
  RETURN v_id;
END $$;

CREATE OR REPLACE FUNCTION public.set_card_binding_password(p_card_id uuid, p_password text) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, extensions, pg_temp AS $$
DECLARE c member_cards%ROWTYPE;
BEGIN
  PERFORM check_permission('super_admin');
  SELECT * INTO c FROM member_cards WHERE id = p_card_id;
  IF NOT FOUND THEN RAISE EXCEPTION 'CARD_NOT_FOUND'; END IF;
  IF c.card_type <> 'corporate' THEN RAISE EXCEPTION 'CARD_TYPE_NOT_SUPPORT_BINDING_PASSWORD'; END IF;
  IF length(p_password) < 6 THEN RAISE EXCEPTION 'PASSWORD_TOO_SHORT'; END IF;
  UPDATE member_cards SET binding_password_hash = extensions.crypt(p_password, extensions.gen_salt('bf')),
         updated_at = now_utc()
   WHERE id = p_card_id;
  INSERT INTO audit.event_log(action, object_type, object_id, context)
    VALUES ('SET_BINDING_PASSWORD', 'member_cards', p_card_id, '{}'::jsonb);
  RETURN TRUE;
END $$;

-- ---------------------------------------------------------------------------------------------
-- 4.7 settlements and transaction readers
-- ---------------------------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION public.generate_settlement(
  p_merchant_id uuid, p_mode settlement_mode, p_period_start timestamptz, p_period_end timestamptz) RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, extensions, pg_temp AS $$
DECLARE v_id uuid := extensions.gen_random_uuid(); v_total numeric(12,2); v_count int;
BEGIN
  -- no authorization check (W6)
  SELECT COALESCE(sum(CASE WHEN tx_type = 'payment' THEN final_amount ELSE -final_amount END), 0), count(*)
    INTO v_total, v_count
    FROM transactions
   WHERE merchant_id = p_merchant_id AND created_at >= p_period_start AND created_at < p_period_end
     AND status IN ('completed','refunded');
  INSERT INTO settlements(id, merchant_id, period_start, period_end, mode, total_amount, total_tx_count,
                          status, payload)
    VALUES (v_id, p_merchant_id, p_period_start, p_period_end, p_mode, v_total, v_count, 'pending', '{}'::jsonb);
  INSERT INTO audit.event_log(action, object_type, object_id, context)
    VALUES ('SETTLEMENT_GENERATE', 'settlements', v_id,
            jsonb_build_object('merchant_id', p_merchant_id, 'total', v_total, 'count', v_count));
  RETURN v_id;
END $$;

CREATE OR REPLACE FUNCTION public.update_settlement_status(p_settlement_id uuid, p_status settlement_status)
  RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, extensions, pg_temp AS $$
BEGIN
  PERFORM check_permission('super_admin');
  UPDATE settlements SET status = p_status, updated_at = now_utc() WHERE id = p_settlement_id;
  IF NOT FOUND THEN RAISE EXCEPTION 'SETTLEMENT_NOT_FOUND'; END IF;
  INSERT INTO audit.event_log(action, object_type, object_id, context)
    VALUES ('SETTLEMENT_STATUS_UPDATE', 'settlements', p_settlement_id, jsonb_build_object('new_status', p_status));
  RETURN TRUE;
END $$;

CREATE OR REPLACE FUNCTION public.get_settlement_detail(p_settlement_id uuid) RETURNS settlements
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, extensions, pg_temp AS $$
DECLARE s settlements%ROWTYPE;
BEGIN
  SELECT * INTO s FROM settlements WHERE id = p_settlement_id;
  IF NOT FOUND THEN RAISE EXCEPTION 'SETTLEMENT_NOT_FOUND'; END IF;
  RETURN s;
END $$;

CREATE OR REPLACE FUNCTION public.get_member_transactions(
  p_member_id uuid, p_limit integer DEFAULT 50, p_offset integer DEFAULT 0,
  p_start_date timestamptz DEFAULT NULL, p_end_date timestamptz DEFAULT NULL, p_session_id text DEFAULT NULL)
  RETURNS TABLE(id uuid, tx_no text, tx_type tx_type, card_id uuid, merchant_id uuid, final_amount numeric,
                status tx_status, created_at timestamptz, total_count bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, extensions, pg_temp AS $$
BEGIN
  IF p_session_id IS NOT NULL THEN PERFORM load_session(p_session_id); END IF;
  RETURN QUERY
    SELECT t.id, t.tx_no, t.tx_type, t.card_id, t.merchant_id, t.final_amount, t.status, t.created_at,
           count(*) OVER ()
      FROM transactions t JOIN member_cards mc ON mc.id = t.card_id
     WHERE mc.owner_member_id = p_member_id
       AND (p_start_date IS NULL OR t.created_at >= p_start_date)
       AND (p_end_date IS NULL OR t.created_at < p_end_date)
     ORDER BY t.created_at DESC LIMIT p_limit OFFSET p_offset;
END $$;

CREATE OR REPLACE FUNCTION public.get_merchant_transactions(
  p_merchant_id uuid, p_limit integer DEFAULT 50, p_offset integer DEFAULT 0,
  p_start_date timestamptz DEFAULT NULL, p_end_date timestamptz DEFAULT NULL, p_session_id text DEFAULT NULL)
  RETURNS TABLE(id uuid, tx_no text, tx_type tx_type, card_id uuid, final_amount numeric,
                status tx_status, created_at timestamptz, total_count bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, extensions, pg_temp AS $$
BEGIN
  IF p_session_id IS NOT NULL THEN PERFORM load_session(p_session_id); END IF;
  RETURN QUERY
    SELECT t.id, t.tx_no, t.tx_type, t.card_id, t.final_amount, t.status, t.created_at, count(*) OVER ()
      FROM transactions t
     WHERE t.merchant_id = p_merchant_id
       AND (p_start_date IS NULL OR t.created_at >= p_start_date)
       AND (p_end_date IS NULL OR t.created_at < p_end_date)
     ORDER BY t.created_at DESC LIMIT p_limit OFFSET p_offset;
END $$;

CREATE OR REPLACE FUNCTION public.get_transaction_detail(p_tx_no text) RETURNS transactions
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, extensions, pg_temp AS $$
DECLARE t transactions%ROWTYPE;
BEGIN
  SELECT * INTO t FROM transactions WHERE tx_no = p_tx_no;
  IF NOT FOUND THEN RAISE EXCEPTION 'TX_NOT_FOUND'; END IF;
  RETURN t;
END $$;

CREATE OR REPLACE FUNCTION public.get_point_ledger(p_card_id uuid, p_limit integer DEFAULT 50, p_offset integer DEFAULT 0)
  RETURNS TABLE(id uuid, change int, balance_before int, balance_after int, reason text, tx_id uuid,
                created_at timestamptz)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, extensions, pg_temp AS $$
BEGIN
  RETURN QUERY SELECT l.id, l.change, l.balance_before, l.balance_after, l.reason, l.tx_id, l.created_at
    FROM point_ledger l WHERE l.card_id = p_card_id ORDER BY l.created_at DESC LIMIT p_limit OFFSET p_offset;
END $$;

CREATE OR REPLACE FUNCTION public.get_card_detail(p_card_id uuid) RETURNS member_cards
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, extensions, pg_temp AS $$
DECLARE c member_cards%ROWTYPE;
BEGIN
  SELECT * INTO c FROM member_cards WHERE id = p_card_id;
  IF NOT FOUND THEN RAISE EXCEPTION 'CARD_NOT_FOUND'; END IF;
  RETURN c;
END $$;

CREATE OR REPLACE FUNCTION public.get_member_detail(p_member_id uuid) RETURNS member_profiles
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, extensions, pg_temp AS $$
DECLARE m member_profiles%ROWTYPE;
BEGIN
  SELECT * INTO m FROM member_profiles WHERE id = p_member_id;
  IF NOT FOUND THEN RAISE EXCEPTION 'MEMBER_NOT_FOUND'; END IF;
  RETURN m;
END $$;

CREATE OR REPLACE FUNCTION public.get_member_cards(p_member_id uuid DEFAULT NULL)
  RETURNS TABLE(id uuid, card_no text, card_type card_type, name text, balance numeric(12,2), points int,
                level int, discount numeric(4,3), status card_status, expires_at timestamptz, created_at timestamptz)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, extensions, pg_temp AS $$
BEGIN
  IF p_member_id IS NULL THEN RAISE EXCEPTION 'MEMBER_NOT_FOUND'; END IF;  -- no Supabase link here
  RETURN QUERY SELECT c.id, c.card_no, c.card_type, c.name, c.balance, c.points, c.level, c.discount,
                      c.status, c.expires_at, c.created_at
    FROM member_cards c
   WHERE c.owner_member_id = p_member_id
      OR c.id IN (SELECT b.card_id FROM card_bindings b WHERE b.member_id = p_member_id)
   ORDER BY c.created_at DESC;
END $$;
