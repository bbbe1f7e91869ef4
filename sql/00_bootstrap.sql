-- Schemas, roles, enum types and number sequences: everything the tables stand on.
-- Runs first in the extension script (search_path = public).

-- API roles. On Supabase they exist already; on vanilla PostgreSQL the extension creates
-- them (NOLOGIN, as on Supabase) so that its grants have somewhere to go. Roles are
-- cluster-wide, so they survive DROP EXTENSION; the guards make re-creation harmless.
DO $roles$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'anon') THEN
        CREATE ROLE anon NOLOGIN NOINHERIT;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'authenticated') THEN
        CREATE ROLE authenticated NOLOGIN NOINHERIT;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'service_role') THEN
        CREATE ROLE service_role NOLOGIN NOINHERIT BYPASSRLS;
    END IF;
    -- Members of mps_admin calling from psql (no JWT claims) act as super admin.
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'mps_admin') THEN
        CREATE ROLE mps_admin NOLOGIN;
    END IF;
END
$roles$;

-- Internal machinery (Rust functions, triggers, bookkeeping): no API role has USAGE.
CREATE SCHEMA mps_internal;
REVOKE ALL ON SCHEMA mps_internal FROM PUBLIC;
-- Caller resolution used by RLS policies: API roles need USAGE, PostgREST does not expose it.
CREATE SCHEMA mps_auth;
REVOKE ALL ON SCHEMA mps_auth FROM PUBLIC;
-- The audit log: unreachable for API roles.
CREATE SCHEMA audit;
REVOKE ALL ON SCHEMA audit FROM PUBLIC;

CREATE TYPE public.card_type AS ENUM ('standard', 'voucher', 'corporate');
CREATE TYPE public.card_status AS ENUM ('active', 'inactive', 'lost', 'expired', 'suspended', 'closed');
CREATE TYPE public.tx_type AS ENUM ('payment', 'refund', 'recharge');
CREATE TYPE public.tx_status AS ENUM ('processing', 'completed', 'failed', 'cancelled', 'refunded');
CREATE TYPE public.pay_method AS ENUM ('balance', 'cash', 'wechat', 'alipay');
CREATE TYPE public.bind_role AS ENUM ('owner', 'admin', 'member', 'viewer');
COMMENT ON TYPE public.bind_role IS 'Card-level role: owner/admin/member/viewer';
CREATE TYPE public.binding_status AS ENUM ('active', 'inactive', 'suspended');
CREATE TYPE public.member_status AS ENUM ('active', 'inactive', 'suspended', 'deleted');
CREATE TYPE public.settlement_status AS ENUM ('pending', 'settled', 'failed', 'paid');
CREATE TYPE public.settlement_mode AS ENUM ('realtime', 't_plus_1', 'monthly');
CREATE TYPE public.hold_status AS ENUM ('active', 'captured', 'voided', 'expired');
-- Beyond the contract: the words of the event feed and of the idempotency registry. Enum
-- types rather than CHECK (... IN (...)) lists: PostgreSQL reads and plans a table's CHECK
-- expressions anew in every statement that writes the table, and these are written by
-- every money movement (CHANGELOG 0.6.0: charges 2-8 % faster).
CREATE TYPE public.event_type AS ENUM (
    'payment', 'refund', 'recharge', 'points_adjusted', 'card_frozen', 'card_unfrozen',
    'settlement_generated', 'hold_authorized', 'hold_captured', 'hold_voided', 'hold_expired');
CREATE TYPE public.request_operation AS ENUM ('payment', 'recharge', 'refund', 'capture');
CREATE TYPE public.request_key_kind AS ENUM ('key', 'order');

-- One counter per kind of number, shared across prefixes as in the contract. bigint and
-- NO CYCLE: numbers never wrap or repeat (formatting is mps_internal.*_no, in Rust).
CREATE SEQUENCE public.seq_member_no AS bigint START 1 NO CYCLE;
CREATE SEQUENCE public.seq_card_no AS bigint START 1 NO CYCLE;
CREATE SEQUENCE public.seq_tx_no AS bigint START 1 NO CYCLE;
CREATE SEQUENCE public.seq_hold_no AS bigint START 1 NO CYCLE;
