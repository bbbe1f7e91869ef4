-- tests/legacy/original_schema.sql
--
-- Test fixture: a faithful re-creation of the ORIGINAL MPS schema (mps_schema.sql on Supabase),
-- written from docs/contract reference §1/§2 (mps-original-contract.md). Vanilla PostgreSQL 15.
-- Run on an empty database:  psql -v ON_ERROR_STOP=1 -f original_schema.sql
--
-- Deliberate differences from the original script:
--  * Supabase's auth.users / auth.uid() / anon roles do not exist here: FKs to auth.users and the
--    policies that call auth.uid() are created only when those objects exist (DO blocks).
--  * The install-order bug (B5) is NOT reproduced: the admin_users policy that calls get_user_role()
--    is created in original_functions.sql, right after get_user_role() exists.

SET client_min_messages = warning;

-- ---------------------------------------------------------------------------------------------
-- Schemas / extensions
-- ---------------------------------------------------------------------------------------------
CREATE SCHEMA IF NOT EXISTS extensions;
CREATE EXTENSION IF NOT EXISTS pgcrypto SCHEMA extensions;

DROP SCHEMA IF EXISTS audit CASCADE;
CREATE SCHEMA audit;
REVOKE ALL ON SCHEMA audit FROM public;

CREATE SCHEMA IF NOT EXISTS sec;

-- ---------------------------------------------------------------------------------------------
-- 1.2 Enum types (public). Each inside a DO block swallowing duplicate_object.
-- ---------------------------------------------------------------------------------------------
DO $$ BEGIN CREATE TYPE public.card_type AS ENUM ('standard','voucher','corporate');
EXCEPTION WHEN duplicate_object THEN NULL; END $$;
DO $$ BEGIN CREATE TYPE public.card_status AS ENUM ('active','inactive','lost','expired','suspended','closed');
EXCEPTION WHEN duplicate_object THEN NULL; END $$;
DO $$ BEGIN CREATE TYPE public.tx_type AS ENUM ('payment','refund','recharge');
EXCEPTION WHEN duplicate_object THEN NULL; END $$;
DO $$ BEGIN CREATE TYPE public.tx_status AS ENUM ('processing','completed','failed','cancelled','refunded');
EXCEPTION WHEN duplicate_object THEN NULL; END $$;
DO $$ BEGIN CREATE TYPE public.pay_method AS ENUM ('balance','cash','wechat','alipay');
EXCEPTION WHEN duplicate_object THEN NULL; END $$;
DO $$ BEGIN CREATE TYPE public.bind_role AS ENUM ('owner','admin','member','viewer');
EXCEPTION WHEN duplicate_object THEN NULL; END $$;
COMMENT ON TYPE public.bind_role IS 'Card-level role: owner/admin/member/viewer';
DO $$ BEGIN CREATE TYPE public.binding_status AS ENUM ('active','inactive','suspended');
EXCEPTION WHEN duplicate_object THEN NULL; END $$;
DO $$ BEGIN CREATE TYPE public.member_status AS ENUM ('active','inactive','suspended','deleted');
EXCEPTION WHEN duplicate_object THEN NULL; END $$;
DO $$ BEGIN CREATE TYPE public.settlement_status AS ENUM ('pending','settled','failed','paid');
EXCEPTION WHEN duplicate_object THEN NULL; END $$;
DO $$ BEGIN CREATE TYPE public.settlement_mode AS ENUM ('realtime','t_plus_1','monthly');
EXCEPTION WHEN duplicate_object THEN NULL; END $$;

-- ---------------------------------------------------------------------------------------------
-- 1.3 Utility functions and sequences
-- ---------------------------------------------------------------------------------------------
-- Faithful defect B6: timestamp without tz, cast back through the session TimeZone.
CREATE OR REPLACE FUNCTION public.now_utc() RETURNS timestamptz
LANGUAGE sql STABLE AS $$ SELECT (now() AT TIME ZONE 'utc')::timestamptz $$;

CREATE OR REPLACE FUNCTION public.set_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := now_utc();
  RETURN NEW;
END $$;

CREATE SEQUENCE public.seq_member_no START 1;
CREATE SEQUENCE public.seq_card_no START 1;
CREATE SEQUENCE public.seq_tx_no START 1;

CREATE OR REPLACE FUNCTION public.gen_member_no() RETURNS text
LANGUAGE sql VOLATILE AS $$ SELECT 'M' || lpad(nextval('public.seq_member_no')::text, 8, '0') $$;

CREATE OR REPLACE FUNCTION public.gen_card_no(p_type public.card_type) RETURNS text
LANGUAGE plpgsql VOLATILE AS $$
DECLARE v_prefix text;
BEGIN
  v_prefix := CASE p_type WHEN 'standard' THEN 'STD' WHEN 'voucher' THEN 'VCH'
                          WHEN 'corporate' THEN 'COR' ELSE 'CARD' END;
  RETURN v_prefix || lpad(nextval('public.seq_card_no')::text, 8, '0');
END $$;

CREATE OR REPLACE FUNCTION public.gen_tx_no(p_type public.tx_type) RETURNS text
LANGUAGE plpgsql VOLATILE AS $$
DECLARE v_prefix text;
BEGIN
  v_prefix := CASE p_type WHEN 'payment' THEN 'PAY' WHEN 'refund' THEN 'REF'
                          WHEN 'recharge' THEN 'RCG' ELSE 'TX' END;
  RETURN v_prefix || lpad(nextval('public.seq_tx_no')::text, 10, '0');
END $$;

-- ---------------------------------------------------------------------------------------------
-- 1.4 Tables
-- ---------------------------------------------------------------------------------------------
CREATE TABLE public.member_profiles (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  member_no        text NOT NULL DEFAULT public.gen_member_no() UNIQUE,
  name             text NOT NULL,
  phone            text UNIQUE,
  email            text UNIQUE,
  binding_user_org text,
  binding_org_id   text,
  role             text NOT NULL DEFAULT 'member',
  status           public.member_status NOT NULL DEFAULT 'active',
  owner_info       jsonb NOT NULL DEFAULT '{}',
  auth_user_id     uuid,
  password_hash    text,
  created_at       timestamptz NOT NULL DEFAULT now_utc(),
  updated_at       timestamptz NOT NULL DEFAULT now_utc(),
  UNIQUE (binding_user_org, binding_org_id)
);
CREATE INDEX idx_member_profiles_auth_user ON public.member_profiles(auth_user_id);

CREATE TABLE public.member_external_identities (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  member_id   uuid NOT NULL REFERENCES public.member_profiles(id) ON DELETE CASCADE,
  provider    text NOT NULL,
  external_id text NOT NULL,
  meta        jsonb NOT NULL DEFAULT '{}',
  created_at  timestamptz NOT NULL DEFAULT now_utc(),
  updated_at  timestamptz NOT NULL DEFAULT now_utc(),
  UNIQUE (provider, external_id),
  UNIQUE (member_id, provider)
);

CREATE TABLE public.membership_levels (
  id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  level      int UNIQUE NOT NULL,
  name       text NOT NULL,
  min_points int NOT NULL,
  max_points int,
  discount   numeric(4,3) NOT NULL DEFAULT 1.000,
  is_active  boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now_utc(),
  updated_at timestamptz NOT NULL DEFAULT now_utc()
);
CREATE INDEX idx_levels_level ON public.membership_levels(level);

CREATE TABLE public.member_cards (
  id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  card_no               text NOT NULL UNIQUE,
  card_type             public.card_type NOT NULL,
  owner_member_id       uuid REFERENCES public.member_profiles(id),
  name                  text,
  balance               numeric(12,2) NOT NULL DEFAULT 0,
  points                int NOT NULL DEFAULT 0,
  level                 int,
  discount              numeric(4,3) NOT NULL DEFAULT 1.000,
  corporate_discount    numeric(4,3),
  fixed_discount        numeric(4,3),
  binding_password_hash text,
  status                public.card_status NOT NULL DEFAULT 'active',
  expires_at            timestamptz,
  created_at            timestamptz NOT NULL DEFAULT now_utc(),
  updated_at            timestamptz NOT NULL DEFAULT now_utc(),
  CHECK ((card_type = 'standard' AND discount BETWEEN 0.000 AND 1.000)
         OR card_type IN ('voucher','corporate')),
  CONSTRAINT ck_card_balance_nonneg CHECK (balance >= 0),
  CONSTRAINT ck_card_points_nonneg CHECK (points >= 0),
  CONSTRAINT ck_card_fixed_discount_range
    CHECK (fixed_discount IS NULL OR (fixed_discount >= 0 AND fixed_discount <= 1))
);
CREATE INDEX idx_cards_status ON public.member_cards(status);
CREATE INDEX idx_cards_owner_type ON public.member_cards(owner_member_id, card_type);

CREATE OR REPLACE FUNCTION public.before_insert_member_cards_fill_card_no() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.card_no IS NULL OR NEW.card_no = '' THEN
    NEW.card_no := gen_card_no(NEW.card_type);
  END IF;
  RETURN NEW;
END $$;

CREATE TABLE public.card_bindings (
  id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  card_id    uuid NOT NULL REFERENCES public.member_cards(id) ON DELETE CASCADE,
  member_id  uuid NOT NULL REFERENCES public.member_profiles(id) ON DELETE CASCADE,
  role       public.bind_role NOT NULL DEFAULT 'member',
  status     public.binding_status NOT NULL DEFAULT 'active',
  created_at timestamptz NOT NULL DEFAULT now_utc(),
  UNIQUE (card_id, member_id)
);
CREATE INDEX idx_bindings_member ON public.card_bindings(member_id);
CREATE INDEX idx_bindings_status ON public.card_bindings(status);
CREATE INDEX idx_bindings_card_status ON public.card_bindings(card_id, status);

CREATE TABLE public.merchants (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  code          text UNIQUE,
  name          text NOT NULL,
  contact       text,
  status        text NOT NULL DEFAULT 'active',
  password_hash text,
  created_at    timestamptz NOT NULL DEFAULT now_utc(),
  updated_at    timestamptz NOT NULL DEFAULT now_utc()
);

CREATE TABLE public.admin_users (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  auth_user_id uuid NOT NULL UNIQUE,
  name         text NOT NULL,
  role         text NOT NULL DEFAULT 'super_admin',
  permissions  jsonb DEFAULT '[]',
  is_active    boolean NOT NULL DEFAULT true,
  created_at   timestamptz NOT NULL DEFAULT now_utc(),
  updated_at   timestamptz NOT NULL DEFAULT now_utc(),
  CONSTRAINT ck_admin_role CHECK (role = 'super_admin')
);
CREATE INDEX idx_admin_users_auth_user ON public.admin_users(auth_user_id);
CREATE INDEX idx_admin_users_active ON public.admin_users(is_active);

CREATE TABLE public.merchant_users (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  merchant_id  uuid NOT NULL REFERENCES public.merchants(id) ON DELETE CASCADE,
  auth_user_id uuid NOT NULL,
  role         text NOT NULL DEFAULT 'staff',
  created_at   timestamptz NOT NULL DEFAULT now_utc(),
  UNIQUE (merchant_id, auth_user_id)
);

CREATE TABLE public.app_sessions (
  session_id       text PRIMARY KEY,
  user_role        text NOT NULL CHECK (user_role IN ('super_admin','merchant','member')),
  user_id          uuid NOT NULL,
  merchant_id      uuid REFERENCES public.merchants(id) ON DELETE CASCADE,
  member_id        uuid REFERENCES public.member_profiles(id) ON DELETE CASCADE,
  expires_at       timestamptz NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now_utc(),
  last_accessed_at timestamptz NOT NULL DEFAULT now_utc()
);
CREATE INDEX idx_app_sessions_expires ON public.app_sessions(expires_at);
CREATE INDEX idx_app_sessions_user ON public.app_sessions(user_id);

CREATE TABLE public.card_qr_state (
  card_id    uuid PRIMARY KEY REFERENCES public.member_cards(id) ON DELETE CASCADE,
  token_hash text NOT NULL,
  expires_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now_utc()
);
CREATE INDEX idx_qr_state_expires ON public.card_qr_state(expires_at);

CREATE TABLE public.card_qr_history (
  id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  card_id    uuid NOT NULL REFERENCES public.member_cards(id) ON DELETE CASCADE,
  token_hash text NOT NULL,
  expires_at timestamptz NOT NULL,
  issued_by  uuid,
  issued_at  timestamptz NOT NULL DEFAULT now_utc()
);
CREATE INDEX idx_qr_hist_card_time ON public.card_qr_history(card_id, issued_at DESC);

-- Registries
CREATE TABLE public.tx_registry (
  tx_no      text PRIMARY KEY,
  tx_id      uuid UNIQUE NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now_utc()
);

CREATE TABLE public.idempotency_registry (
  idempotency_key text PRIMARY KEY,
  tx_id           uuid UNIQUE NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now_utc()
);

CREATE TABLE public.merchant_order_registry (
  merchant_id       uuid REFERENCES public.merchants(id) ON DELETE CASCADE,
  external_order_id text NOT NULL,
  tx_id             uuid UNIQUE NOT NULL,
  created_at        timestamptz NOT NULL DEFAULT now_utc(),
  UNIQUE (merchant_id, external_order_id)
);

CREATE TABLE public.transactions (
  id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tx_no               text NOT NULL,
  tx_type             public.tx_type NOT NULL,
  card_id             uuid NOT NULL REFERENCES public.member_cards(id),
  merchant_id         uuid REFERENCES public.merchants(id),
  raw_amount          numeric(12,2) NOT NULL,
  discount_applied    numeric(4,3) NOT NULL DEFAULT 1.000,
  final_amount        numeric(12,2) NOT NULL,
  points_earned       int NOT NULL DEFAULT 0,
  status              public.tx_status NOT NULL DEFAULT 'processing',
  reason              text,
  payment_method      public.pay_method DEFAULT 'balance',
  external_order_id   text,
  idempotency_key     text,
  original_tx_id      uuid REFERENCES public.transactions(id),
  processed_by_user_id uuid,
  tag                 jsonb NOT NULL DEFAULT '{}',
  created_at          timestamptz NOT NULL DEFAULT now_utc(),
  updated_at          timestamptz NOT NULL DEFAULT now_utc(),
  CHECK (raw_amount > 0 AND final_amount >= 0)
);
CREATE UNIQUE INDEX uq_tx_tx_no ON public.transactions(tx_no);
CREATE INDEX idx_tx_card_time ON public.transactions(card_id, created_at DESC);
CREATE INDEX idx_tx_merchant_time ON public.transactions(merchant_id, created_at DESC);
CREATE INDEX idx_tx_status ON public.transactions(status);
CREATE INDEX idx_tx_type_time ON public.transactions(tx_type, created_at DESC);
CREATE INDEX idx_tx_created_at ON public.transactions(created_at);
CREATE INDEX idx_tx_tag_gin ON public.transactions USING gin(tag);
CREATE INDEX idx_tx_original ON public.transactions(original_tx_id);

CREATE TABLE public.point_ledger (
  id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  card_id        uuid NOT NULL REFERENCES public.member_cards(id) ON DELETE CASCADE,
  tx_id          uuid REFERENCES public.transactions(id),
  change         int NOT NULL,
  balance_before int NOT NULL,
  balance_after  int NOT NULL,
  reason         text,
  created_at     timestamptz NOT NULL DEFAULT now_utc()
);

CREATE TABLE public.settlements (
  id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  merchant_id    uuid NOT NULL REFERENCES public.merchants(id) ON DELETE CASCADE,
  mode           public.settlement_mode NOT NULL DEFAULT 'realtime',
  period_start   timestamptz NOT NULL,
  period_end     timestamptz NOT NULL,
  total_amount   numeric(12,2) NOT NULL,
  total_tx_count int NOT NULL,
  status         public.settlement_status NOT NULL DEFAULT 'pending',
  payload        jsonb NOT NULL DEFAULT '{}',
  created_at     timestamptz NOT NULL DEFAULT now_utc(),
  updated_at     timestamptz NOT NULL DEFAULT now_utc(),
  CHECK (total_amount >= 0 AND total_tx_count >= 0)
);

CREATE TABLE audit.event_log (
  id            bigserial PRIMARY KEY,
  happened_at   timestamptz NOT NULL DEFAULT now_utc(),
  actor_user_id uuid,
  action        text NOT NULL,
  object_type   text NOT NULL,
  object_id     uuid,
  context       jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX idx_event_object ON audit.event_log(object_type, object_id);

-- FKs to Supabase's auth.users, only where it exists (it does not on vanilla PostgreSQL).
DO $$
BEGIN
  IF to_regclass('auth.users') IS NOT NULL THEN
    ALTER TABLE public.member_profiles ADD CONSTRAINT member_profiles_auth_user_id_fkey
      FOREIGN KEY (auth_user_id) REFERENCES auth.users(id) ON DELETE SET NULL;
    ALTER TABLE public.admin_users ADD CONSTRAINT admin_users_auth_user_id_fkey
      FOREIGN KEY (auth_user_id) REFERENCES auth.users(id) ON DELETE CASCADE;
    ALTER TABLE public.merchant_users ADD CONSTRAINT merchant_users_auth_user_id_fkey
      FOREIGN KEY (auth_user_id) REFERENCES auth.users(id) ON DELETE CASCADE;
    ALTER TABLE public.transactions ADD CONSTRAINT transactions_processed_by_user_id_fkey
      FOREIGN KEY (processed_by_user_id) REFERENCES auth.users(id);
  END IF;
END $$;

-- ---------------------------------------------------------------------------------------------
-- 1.5 Triggers (9)
-- ---------------------------------------------------------------------------------------------
CREATE TRIGGER trg_member_profiles_updated_at BEFORE UPDATE ON public.member_profiles
  FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();
CREATE TRIGGER trg_member_ext_ids_updated_at BEFORE UPDATE ON public.member_external_identities
  FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();
CREATE TRIGGER trg_membership_levels_updated_at BEFORE UPDATE ON public.membership_levels
  FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();
CREATE TRIGGER trg_member_cards_updated_at BEFORE UPDATE ON public.member_cards
  FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();
CREATE TRIGGER trg_member_cards_fill_card_no BEFORE INSERT ON public.member_cards
  FOR EACH ROW EXECUTE FUNCTION public.before_insert_member_cards_fill_card_no();
CREATE TRIGGER trg_merchants_updated_at BEFORE UPDATE ON public.merchants
  FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();
CREATE TRIGGER trg_transactions_updated_at BEFORE UPDATE ON public.transactions
  FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();
CREATE TRIGGER trg_settlements_updated_at BEFORE UPDATE ON public.settlements
  FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();
CREATE TRIGGER trg_admin_users_updated_at BEFORE UPDATE ON public.admin_users
  FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();

-- ---------------------------------------------------------------------------------------------
-- 1.6 Seed levels
-- ---------------------------------------------------------------------------------------------
INSERT INTO public.membership_levels (level, name, min_points, max_points, discount, is_active) VALUES
  (0, '普通會員', 0,     999,  1.000, true),
  (1, '銀卡會員', 1000,  4999, 0.950, true),
  (2, '金卡會員', 5000,  9999, 0.900, true),
  (3, '鑽石會員', 10000, NULL, 0.850, true)
ON CONFLICT DO NOTHING;

-- ---------------------------------------------------------------------------------------------
-- 2.2 RLS: enabled on 17 public tables (not FORCE); audit.event_log stays off.
-- ---------------------------------------------------------------------------------------------
ALTER TABLE public.member_profiles            ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.member_external_identities ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.membership_levels          ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.member_cards               ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.card_bindings              ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.merchants                  ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.merchant_users             ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.admin_users                ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.app_sessions               ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.card_qr_state              ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.card_qr_history            ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.tx_registry                ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.idempotency_registry       ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.merchant_order_registry    ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.transactions               ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.point_ledger               ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.settlements                ENABLE ROW LEVEL SECURITY;

-- Policies that do not need auth.uid()
CREATE POLICY "Restrict app_sessions access" ON public.app_sessions FOR SELECT USING (false);
CREATE POLICY "Membership levels are public" ON public.membership_levels FOR SELECT USING (true);
CREATE POLICY "Public merchant info" ON public.merchants FOR SELECT USING (true);
CREATE POLICY "Restrict tx_registry access" ON public.tx_registry FOR SELECT USING (false);
CREATE POLICY "Restrict idempotency_registry access" ON public.idempotency_registry FOR SELECT USING (false);
CREATE POLICY "Restrict merchant_order_registry access" ON public.merchant_order_registry FOR SELECT USING (false);

-- Policies that call auth.uid(): only on a Supabase-like database.
DO $$
DECLARE
  t text;
  sa text := 'EXISTS (SELECT 1 FROM public.admin_users au WHERE au.auth_user_id = auth.uid() '
             'AND au.role = ''super_admin'' AND au.is_active)';
  me text := '(binding_user_org = ''supabase'' AND binding_org_id = auth.uid()::text)';
BEGIN
  IF to_regprocedure('auth.uid()') IS NULL THEN
    RETURN;
  END IF;
  FOREACH t IN ARRAY ARRAY['app_sessions','member_profiles','membership_levels','member_cards',
                           'card_bindings','merchants','transactions','point_ledger','settlements'] LOOP
    EXECUTE format('CREATE POLICY %I ON public.%I FOR ALL USING (%s)',
                   'Super admins bypass all restrictions on ' || t, t, sa);
  END LOOP;
  EXECUTE 'CREATE POLICY "Users can view own member profile" ON public.member_profiles FOR SELECT USING ' || me;
  EXECUTE 'CREATE POLICY "Users can update own member profile" ON public.member_profiles FOR UPDATE USING ' || me;
  EXECUTE 'CREATE POLICY "Allow member registration" ON public.member_profiles FOR INSERT TO authenticated WITH CHECK ' || me;
  EXECUTE 'CREATE POLICY "Users can view own external identities" ON public.member_external_identities FOR SELECT USING '
       || '(member_id IN (SELECT id FROM public.member_profiles WHERE ' || me || '))';
  EXECUTE 'CREATE POLICY "Users can view own cards" ON public.member_cards FOR SELECT USING '
       || '(owner_member_id IN (SELECT id FROM public.member_profiles WHERE ' || me || ') OR id IN '
       || '(SELECT cb.card_id FROM public.card_bindings cb JOIN public.member_profiles mp ON mp.id = cb.member_id '
       || 'WHERE mp.binding_user_org = ''supabase'' AND mp.binding_org_id = auth.uid()::text))';
  EXECUTE 'CREATE POLICY "Users can update own cards" ON public.member_cards FOR UPDATE USING '
       || '(owner_member_id IN (SELECT id FROM public.member_profiles WHERE ' || me || '))';
  EXECUTE 'CREATE POLICY "Users can view own card bindings" ON public.card_bindings FOR SELECT USING '
       || '(member_id IN (SELECT id FROM public.member_profiles WHERE ' || me || '))';
  EXECUTE 'CREATE POLICY "Users can view own merchant associations" ON public.merchant_users FOR SELECT USING (auth_user_id = auth.uid())';
  EXECUTE 'CREATE POLICY "Authenticated users can view admin_users" ON public.admin_users FOR SELECT USING (auth.uid() IS NOT NULL)';
END $$;

-- ---------------------------------------------------------------------------------------------
-- 2.1 Grants actually present in the SQL
-- ---------------------------------------------------------------------------------------------
GRANT ALL ON ALL TABLES IN SCHEMA public TO postgres;
GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO postgres;
GRANT ALL ON ALL FUNCTIONS IN SCHEMA public TO postgres;
