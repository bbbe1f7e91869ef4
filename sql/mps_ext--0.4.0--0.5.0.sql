-- mps_ext 0.4.0 → 0.5.0: architecture (every RPC declared once, one authorization policy).
-- The statements mirror the 0.5.0 install script; tests/db/test_upgrade_and_partitions.py checks
-- that an upgraded database and a fresh one have the same schema.

-- ---------------------------------------------------------------------------------------
-- One way to expose an RPC (issue 13 §1). Every RPC that was a SQL pass-through to
-- mps_internal.<name> is now the Rust function itself (LANGUAGE c, symbol rpc_<name>_wrapper:
-- src/superseded.rs), with the same signature; CREATE OR REPLACE keeps its owner and grants. The readers that project rows stay SQL and now
-- call their scopes by named arguments; every RPC runs with search_path pg_catalog, pg_temp.

CREATE OR REPLACE FUNCTION public."admin_activate_member"(
	"p_member_id" uuid, /* Option < Uuid > */
	"p_session_id" TEXT DEFAULT NULL /* Option < & str > */
) RETURNS bool /* bool */
SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'rpc_admin_activate_member_wrapper';

CREATE OR REPLACE FUNCTION public."admin_activate_merchant"(
	"p_merchant_id" uuid, /* Option < Uuid > */
	"p_session_id" TEXT DEFAULT NULL /* Option < & str > */
) RETURNS bool /* bool */
SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'rpc_admin_activate_merchant_wrapper';

CREATE OR REPLACE FUNCTION public."admin_suspend_member"(
	"p_member_id" uuid, /* Option < Uuid > */
	"p_session_id" TEXT DEFAULT NULL /* Option < & str > */
) RETURNS bool /* bool */
SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'rpc_admin_suspend_member_wrapper';

CREATE OR REPLACE FUNCTION public."admin_suspend_merchant"(
	"p_merchant_id" uuid, /* Option < Uuid > */
	"p_session_id" TEXT DEFAULT NULL /* Option < & str > */
) RETURNS bool /* bool */
SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'rpc_admin_suspend_merchant_wrapper';

CREATE OR REPLACE FUNCTION public."apply_retention"(
	"p_session_id" TEXT DEFAULT NULL /* Option < & str > */
) RETURNS TABLE (
	"table_name" TEXT,  /* String */
	"cutoff" timestamp with time zone,  /* Option < TimestampWithTimeZone > */
	"rows_removed" bigint,  /* i64 */
	"done" bool  /* bool */
)
SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'rpc_apply_retention_wrapper';

CREATE OR REPLACE FUNCTION public."bind_member_to_card"(
	"p_card_id" uuid, /* Option < Uuid > */
	"p_member_id" uuid, /* Option < Uuid > */
	"p_role" public.bind_role DEFAULT 'member', /* Option < Enum < CardRole > > */
	"p_binding_password" TEXT DEFAULT NULL, /* Option < & str > */
	"p_session_id" TEXT DEFAULT NULL /* Option < & str > */
) RETURNS bool /* bool */
SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'rpc_bind_member_to_card_wrapper';

CREATE OR REPLACE FUNCTION public."cancel_recharge"(
	"p_tx_no" TEXT, /* Option < & str > */
	"p_reason" TEXT DEFAULT NULL, /* Option < & str > */
	"p_session_id" TEXT DEFAULT NULL /* Option < & str > */
) RETURNS bool /* bool */
SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'rpc_cancel_recharge_wrapper';

CREATE OR REPLACE FUNCTION public."check_permission"(
	"required_role" TEXT, /* Option < & str > */
	"p_session_id" TEXT DEFAULT NULL /* Option < & str > */
) RETURNS void
SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'rpc_check_permission_wrapper';

CREATE OR REPLACE FUNCTION public."cleanup_expired_sessions"(
	"p_session_id" TEXT DEFAULT NULL /* Option < & str > */
) RETURNS INT /* i32 */
SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'rpc_cleanup_expired_sessions_wrapper';

CREATE OR REPLACE FUNCTION public."compute_discount"(
	"p_points" INT, /* Option < i32 > */
	"p_session_id" TEXT DEFAULT NULL /* Option < & str > */
) RETURNS NUMERIC /* AnyNumeric */
STABLE SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'rpc_compute_discount_wrapper';

CREATE OR REPLACE FUNCTION public."compute_level"(
	"p_points" INT, /* Option < i32 > */
	"p_session_id" TEXT DEFAULT NULL /* Option < & str > */
) RETURNS INT /* i32 */
STABLE SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'rpc_compute_level_wrapper';

CREATE OR REPLACE FUNCTION public."confirm_recharge"(
	"p_tx_no" TEXT, /* Option < & str > */
	"p_session_id" TEXT DEFAULT NULL /* Option < & str > */
) RETURNS TABLE (
	"tx_id" uuid,  /* Uuid */
	"tx_no" TEXT,  /* String */
	"card_id" uuid,  /* Uuid */
	"amount" NUMERIC  /* AnyNumeric */
)
SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'rpc_confirm_recharge_wrapper';

CREATE OR REPLACE FUNCTION public."create_corporate_card"(
	"p_owner_member_id" uuid, /* Option < Uuid > */
	"p_name" TEXT DEFAULT NULL, /* Option < & str > */
	"p_initial_balance" NUMERIC DEFAULT 0, /* Option < AnyNumeric > */
	"p_fixed_discount" NUMERIC DEFAULT NULL, /* Option < AnyNumeric > */
	"p_session_id" TEXT DEFAULT NULL /* Option < & str > */
) RETURNS uuid /* Uuid */
SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'rpc_create_corporate_card_wrapper';

CREATE OR REPLACE FUNCTION public."create_member_profile"(
	"p_name" TEXT, /* Option < & str > */
	"p_phone" TEXT, /* Option < & str > */
	"p_email" TEXT, /* Option < & str > */
	"p_password" TEXT DEFAULT NULL, /* Option < & str > */
	"p_binding_user_org" TEXT DEFAULT NULL, /* Option < & str > */
	"p_binding_org_id" TEXT DEFAULT NULL, /* Option < & str > */
	"p_default_card_type" public.card_type DEFAULT 'standard', /* Option < Enum < CardType > > */
	"p_session_id" TEXT DEFAULT NULL /* Option < & str > */
) RETURNS uuid /* Uuid */
SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'rpc_create_member_profile_wrapper';

CREATE OR REPLACE FUNCTION public."create_merchant"(
	"p_code" TEXT, /* Option < & str > */
	"p_name" TEXT, /* Option < & str > */
	"p_contact" TEXT DEFAULT NULL, /* Option < & str > */
	"p_password" TEXT DEFAULT NULL, /* Option < & str > */
	"p_session_id" TEXT DEFAULT NULL /* Option < & str > */
) RETURNS uuid /* Uuid */
SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'rpc_create_merchant_wrapper';

CREATE OR REPLACE FUNCTION public."create_transaction_partitions"(
	"p_months_ahead" INT DEFAULT 3, /* Option < i32 > */
	"p_session_id" TEXT DEFAULT NULL /* Option < & str > */
) RETURNS INT /* i32 */
SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'rpc_create_transaction_partitions_wrapper';

CREATE OR REPLACE FUNCTION public."create_voucher_card"(
	"p_owner_member_id" uuid, /* Option < Uuid > */
	"p_name" TEXT DEFAULT NULL, /* Option < & str > */
	"p_initial_balance" NUMERIC DEFAULT 0, /* Option < AnyNumeric > */
	"p_expires_at" timestamp with time zone DEFAULT NULL, /* Option < TimestampWithTimeZone > */
	"p_session_id" TEXT DEFAULT NULL /* Option < & str > */
) RETURNS uuid /* Uuid */
SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'rpc_create_voucher_card_wrapper';

CREATE OR REPLACE FUNCTION public."cron_rotate_qr_tokens"(
	"p_ttl_seconds" INT DEFAULT 300, /* Option < i32 > */
	"p_session_id" TEXT DEFAULT NULL /* Option < & str > */
) RETURNS INT /* i32 */
SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'rpc_cron_rotate_qr_tokens_wrapper';

CREATE OR REPLACE FUNCTION public."delete_test_member"(
	"p_member_id" uuid, /* Option < Uuid > */
	"p_session_id" TEXT DEFAULT NULL /* Option < & str > */
) RETURNS bool /* bool */
SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'rpc_delete_test_member_wrapper';

CREATE OR REPLACE FUNCTION public."delete_test_merchant"(
	"p_merchant_id" uuid, /* Option < Uuid > */
	"p_session_id" TEXT DEFAULT NULL /* Option < & str > */
) RETURNS bool /* bool */
SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'rpc_delete_test_merchant_wrapper';

CREATE OR REPLACE FUNCTION public."freeze_card"(
	"p_card_id" uuid, /* Option < Uuid > */
	"p_session_id" TEXT DEFAULT NULL /* Option < & str > */
) RETURNS bool /* bool */
SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'rpc_freeze_card_wrapper';

CREATE OR REPLACE FUNCTION public."generate_daily_settlements"(
	"p_day" date DEFAULT NULL, /* Option < Date > */
	"p_session_id" TEXT DEFAULT NULL /* Option < & str > */
) RETURNS INT /* i32 */
SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'rpc_generate_daily_settlements_wrapper';

CREATE OR REPLACE FUNCTION public."generate_settlement"(
	"p_merchant_id" uuid, /* Option < Uuid > */
	"p_mode" public.settlement_mode, /* Option < Enum < SettlementMode > > */
	"p_period_start" timestamp with time zone, /* Option < TimestampWithTimeZone > */
	"p_period_end" timestamp with time zone, /* Option < TimestampWithTimeZone > */
	"p_session_id" TEXT DEFAULT NULL /* Option < & str > */
) RETURNS uuid /* Uuid */
SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'rpc_generate_settlement_wrapper';

CREATE OR REPLACE FUNCTION public."get_user_profile"(
	"p_session_id" TEXT DEFAULT NULL /* Option < & str > */
) RETURNS jsonb /* Option < JsonB > */
STABLE SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'rpc_get_user_profile_wrapper';

CREATE OR REPLACE FUNCTION public."get_user_role"(
	"p_session_id" TEXT DEFAULT NULL /* Option < & str > */
) RETURNS TEXT /* Option < String > */
STABLE SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'rpc_get_user_role_wrapper';

CREATE OR REPLACE FUNCTION public."is_admin"(
	"p_session_id" TEXT DEFAULT NULL /* Option < & str > */
) RETURNS bool /* bool */
STABLE SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'rpc_is_admin_wrapper';

CREATE OR REPLACE FUNCTION public."load_session"(
	"p_session_id" TEXT /* Option < & str > */
) RETURNS bool /* bool */
SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'rpc_load_session_wrapper';

CREATE OR REPLACE FUNCTION public."logout_session"(
	"p_session_id" TEXT /* Option < & str > */
) RETURNS bool /* bool */
SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'rpc_logout_session_wrapper';

CREATE OR REPLACE FUNCTION public."member_login"(
	"p_identifier" TEXT, /* Option < & str > */
	"p_password" TEXT, /* Option < & str > */
	"p_session_id" TEXT DEFAULT NULL /* Option < & str > */
) RETURNS jsonb /* JsonB */
SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'rpc_member_login_wrapper';

CREATE OR REPLACE FUNCTION public."merchant_charge_by_qr"(
	"p_merchant_code" TEXT, /* Option < & str > */
	"p_qr_plain" TEXT, /* Option < & str > */
	"p_raw_amount" NUMERIC, /* Option < AnyNumeric > */
	"p_idempotency_key" TEXT DEFAULT NULL, /* Option < & str > */
	"p_tag" jsonb DEFAULT '{}'::jsonb, /* Option < JsonB > */
	"p_external_order_id" TEXT DEFAULT NULL, /* Option < & str > */
	"p_session_id" TEXT DEFAULT NULL /* Option < & str > */
) RETURNS TABLE (
	"tx_id" uuid,  /* Uuid */
	"tx_no" TEXT,  /* String */
	"card_id" uuid,  /* Uuid */
	"final_amount" NUMERIC,  /* AnyNumeric */
	"discount" NUMERIC  /* AnyNumeric */
)
SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'rpc_merchant_charge_by_qr_wrapper';

CREATE OR REPLACE FUNCTION public."merchant_login"(
	"p_merchant_code" TEXT, /* Option < & str > */
	"p_password" TEXT, /* Option < & str > */
	"p_session_id" TEXT DEFAULT NULL /* Option < & str > */
) RETURNS jsonb /* JsonB */
SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'rpc_merchant_login_wrapper';

CREATE OR REPLACE FUNCTION public."reset_session_variables"(
	"p_session_id" TEXT DEFAULT NULL /* Option < & str > */
) RETURNS void
SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'rpc_reset_session_variables_wrapper';

CREATE OR REPLACE FUNCTION public."revoke_card_qr"(
	"p_card_id" uuid, /* Option < Uuid > */
	"p_session_id" TEXT DEFAULT NULL /* Option < & str > */
) RETURNS bool /* bool */
SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'rpc_revoke_card_qr_wrapper';

CREATE OR REPLACE FUNCTION public."rotate_card_qr"(
	"p_card_id" uuid, /* Option < Uuid > */
	"p_ttl_seconds" INT DEFAULT 900, /* Option < i32 > */
	"p_session_id" TEXT DEFAULT NULL /* Option < & str > */
) RETURNS TABLE (
	"qr_plain" TEXT,  /* String */
	"qr_expires_at" timestamp with time zone  /* TimestampWithTimeZone */
)
SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'rpc_rotate_card_qr_wrapper';

CREATE OR REPLACE FUNCTION public."schedule_maintenance"(
	"p_session_id" TEXT DEFAULT NULL /* Option < & str > */
) RETURNS TABLE (
	"job_name" TEXT,  /* String */
	"schedule" TEXT,  /* String */
	"command" TEXT  /* String */
)
SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'rpc_schedule_maintenance_wrapper';

CREATE OR REPLACE FUNCTION public."set_card_binding_password"(
	"p_card_id" uuid, /* Option < Uuid > */
	"p_password" TEXT, /* Option < & str > */
	"p_session_id" TEXT DEFAULT NULL /* Option < & str > */
) RETURNS bool /* bool */
SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'rpc_set_card_binding_password_wrapper';

CREATE OR REPLACE FUNCTION public."set_member_password"(
	"p_member_id" uuid, /* Option < Uuid > */
	"p_password" TEXT, /* Option < & str > */
	"p_session_id" TEXT DEFAULT NULL, /* Option < & str > */
	"p_current_password" TEXT DEFAULT NULL /* Option < & str > */
) RETURNS bool /* bool */
SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'rpc_set_member_password_wrapper';

CREATE OR REPLACE FUNCTION public."set_member_password_by_identifier"(
	"p_identifier" TEXT, /* Option < & str > */
	"p_new_password" TEXT, /* Option < & str > */
	"p_session_id" TEXT DEFAULT NULL /* Option < & str > */
) RETURNS bool /* bool */
SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'rpc_set_member_password_by_identifier_wrapper';

CREATE OR REPLACE FUNCTION public."set_merchant_password"(
	"p_merchant_id" uuid, /* Option < Uuid > */
	"p_password" TEXT, /* Option < & str > */
	"p_session_id" TEXT DEFAULT NULL, /* Option < & str > */
	"p_current_password" TEXT DEFAULT NULL /* Option < & str > */
) RETURNS bool /* bool */
SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'rpc_set_merchant_password_wrapper';

CREATE OR REPLACE FUNCTION public."test_connection"(
	"p_session_id" TEXT DEFAULT NULL /* Option < & str > */
) RETURNS jsonb /* JsonB */
STABLE SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'rpc_test_connection_wrapper';

CREATE OR REPLACE FUNCTION public."toggle_card_status_by_card_no"(
	"p_card_no" TEXT, /* Option < & str > */
	"p_new_status" public.card_status, /* Option < Enum < CardStatus > > */
	"p_session_id" TEXT DEFAULT NULL /* Option < & str > */
) RETURNS bool /* bool */
SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'rpc_toggle_card_status_by_card_no_wrapper';

CREATE OR REPLACE FUNCTION public."toggle_member_status_by_identifier"(
	"p_identifier" TEXT, /* Option < & str > */
	"p_new_status" public.member_status, /* Option < Enum < MemberStatus > > */
	"p_session_id" TEXT DEFAULT NULL /* Option < & str > */
) RETURNS bool /* bool */
SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'rpc_toggle_member_status_by_identifier_wrapper';

CREATE OR REPLACE FUNCTION public."unbind_member_from_card"(
	"p_card_id" uuid, /* Option < Uuid > */
	"p_member_id" uuid, /* Option < Uuid > */
	"p_session_id" TEXT DEFAULT NULL /* Option < & str > */
) RETURNS bool /* bool */
SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'rpc_unbind_member_from_card_wrapper';

CREATE OR REPLACE FUNCTION public."unfreeze_card"(
	"p_card_id" uuid, /* Option < Uuid > */
	"p_session_id" TEXT DEFAULT NULL /* Option < & str > */
) RETURNS bool /* bool */
SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'rpc_unfreeze_card_wrapper';

CREATE OR REPLACE FUNCTION public."update_member_by_identifier"(
	"p_identifier" TEXT, /* Option < & str > */
	"p_name" TEXT DEFAULT NULL, /* Option < & str > */
	"p_phone" TEXT DEFAULT NULL, /* Option < & str > */
	"p_email" TEXT DEFAULT NULL, /* Option < & str > */
	"p_session_id" TEXT DEFAULT NULL /* Option < & str > */
) RETURNS bool /* bool */
SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'rpc_update_member_by_identifier_wrapper';

CREATE OR REPLACE FUNCTION public."update_member_profile"(
	"p_member_id" uuid, /* Option < Uuid > */
	"p_name" TEXT DEFAULT NULL, /* Option < & str > */
	"p_phone" TEXT DEFAULT NULL, /* Option < & str > */
	"p_email" TEXT DEFAULT NULL, /* Option < & str > */
	"p_session_id" TEXT DEFAULT NULL, /* Option < & str > */
	"p_current_password" TEXT DEFAULT NULL /* Option < & str > */
) RETURNS bool /* bool */
SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'rpc_update_member_profile_wrapper';

CREATE OR REPLACE FUNCTION public."update_points_and_level"(
	"p_card_id" uuid, /* Option < Uuid > */
	"p_delta_points" INT, /* Option < i32 > */
	"p_reason" TEXT DEFAULT 'manual_adjust', /* Option < & str > */
	"p_session_id" TEXT DEFAULT NULL /* Option < & str > */
) RETURNS bool /* bool */
SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'rpc_update_points_and_level_wrapper';

CREATE OR REPLACE FUNCTION public."update_settlement_status"(
	"p_settlement_id" uuid, /* Option < Uuid > */
	"p_status" public.settlement_status, /* Option < Enum < SettlementStatus > > */
	"p_session_id" TEXT DEFAULT NULL /* Option < & str > */
) RETURNS bool /* bool */
SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'rpc_update_settlement_status_wrapper';

CREATE OR REPLACE FUNCTION public."user_recharge_card"(
	"p_card_id" uuid, /* Option < Uuid > */
	"p_amount" NUMERIC, /* Option < AnyNumeric > */
	"p_payment_method" public.pay_method DEFAULT 'wechat', /* Option < Enum < PayMethod > > */
	"p_tag" jsonb DEFAULT '{}'::jsonb, /* Option < JsonB > */
	"p_idempotency_key" TEXT DEFAULT NULL, /* Option < & str > */
	"p_external_order_id" TEXT DEFAULT NULL, /* Option < & str > */
	"p_session_id" TEXT DEFAULT NULL /* Option < & str > */
) RETURNS TABLE (
	"tx_id" uuid,  /* Uuid */
	"tx_no" TEXT,  /* String */
	"card_id" uuid,  /* Uuid */
	"amount" NUMERIC  /* AnyNumeric */
)
SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'rpc_user_recharge_card_wrapper';

CREATE OR REPLACE FUNCTION public."validate_qr_plain"(
	"p_qr_plain" TEXT, /* Option < & str > */
	"p_session_id" TEXT DEFAULT NULL /* Option < & str > */
) RETURNS uuid /* Uuid */
STABLE SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'rpc_validate_qr_plain_wrapper';

CREATE OR REPLACE FUNCTION public."verify_ledger"(
	"p_session_id" TEXT DEFAULT NULL /* Option < & str > */
) RETURNS TABLE (
	"card_id" uuid,  /* Option < Uuid > */
	"card_no" TEXT,  /* Option < String > */
	"check_name" TEXT,  /* String */
	"expected" TEXT,  /* String */
	"actual" TEXT  /* String */
)
STABLE SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'rpc_verify_ledger_wrapper';

-- The readers (sql/31–35).

CREATE OR REPLACE FUNCTION public.get_all_cards(
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

CREATE OR REPLACE FUNCTION public.get_all_members(
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

CREATE OR REPLACE FUNCTION public.get_card_bindings(p_card_id uuid, p_session_id text DEFAULT NULL)
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

CREATE OR REPLACE FUNCTION public.get_card_by_identifier(p_identifier text, p_session_id text DEFAULT NULL)
RETURNS jsonb LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
    SELECT pg_catalog.to_jsonb(c)
      FROM mps_internal.card_no_scope(p_card_no => p_identifier, p_session_id => p_session_id) s
      LEFT JOIN public.member_cards c ON c.id = s.card_id
$$;

CREATE OR REPLACE FUNCTION public.get_card_detail(p_card_id uuid, p_session_id text DEFAULT NULL)
RETURNS public.member_cards LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
    SELECT c.*
      FROM mps_internal.get_card_detail(p_card_id => p_card_id, p_session_id => p_session_id) AS s(id)
      LEFT JOIN public.member_cards c ON c.id = s.id
$$;

CREATE OR REPLACE FUNCTION public.get_card_details_by_card_no(p_card_no text, p_session_id text DEFAULT NULL)
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

CREATE OR REPLACE FUNCTION public.get_member_by_auth_user(p_session_id text DEFAULT NULL)
RETURNS public.member_profiles LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
    SELECT m.*
      FROM mps_internal.caller_member(p_session_id => p_session_id) AS s(id)
      LEFT JOIN public.member_profiles m ON m.id = s.id
$$;

CREATE OR REPLACE FUNCTION public.get_member_by_identifier(p_identifier text, p_session_id text DEFAULT NULL)
RETURNS jsonb LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
    SELECT pg_catalog.to_jsonb(m)
      FROM mps_internal.member_identifier_scope(p_identifier => p_identifier,
                                                p_session_id => p_session_id) AS s(id)
      LEFT JOIN public.member_profiles m ON m.id = s.id
$$;

CREATE OR REPLACE FUNCTION public.get_member_cards(p_member_id uuid DEFAULT NULL, p_session_id text DEFAULT NULL)
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

CREATE OR REPLACE FUNCTION public.get_member_detail(p_member_id uuid, p_session_id text DEFAULT NULL)
RETURNS public.member_profiles LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
    SELECT m.*
      FROM mps_internal.member_scope(p_member_id => p_member_id,
                                     p_limit => NULL,
                                     p_offset => NULL,
                                     p_session_id => p_session_id) s
      LEFT JOIN public.member_profiles m ON m.id = s.member_id
$$;

CREATE OR REPLACE FUNCTION public.get_member_transactions(
    p_member_id uuid,
    p_limit integer DEFAULT 50,
    p_offset integer DEFAULT 0,
    p_start_date timestamptz DEFAULT NULL,
    p_end_date timestamptz DEFAULT NULL,
    p_session_id text DEFAULT NULL)
RETURNS TABLE (id uuid, tx_no text, tx_type public.tx_type, card_id uuid, merchant_id uuid, final_amount numeric,
               status public.tx_status, created_at timestamptz, total_count bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
    SELECT r.* FROM mps_internal.member_scope(p_member_id => p_member_id,
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
            LIMIT s.page_limit OFFSET s.page_offset) r
$$;

CREATE OR REPLACE FUNCTION public.get_merchant_by_auth_user(p_session_id text DEFAULT NULL)
RETURNS public.merchants LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
    SELECT m.*
      FROM mps_internal.caller_merchant(p_session_id => p_session_id) AS s(id)
      LEFT JOIN public.merchants m ON m.id = s.id
$$;

CREATE OR REPLACE FUNCTION public.get_merchant_by_identifier(p_identifier text, p_session_id text DEFAULT NULL)
RETURNS jsonb LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
    SELECT pg_catalog.to_jsonb(m)
      FROM mps_internal.merchant_code_scope(p_code => p_identifier, p_session_id => p_session_id) AS s(id)
      LEFT JOIN public.merchants m ON m.id = s.id
$$;

CREATE OR REPLACE FUNCTION public.get_merchant_detail(p_merchant_id uuid, p_session_id text DEFAULT NULL)
RETURNS public.merchants LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
    SELECT m.*
      FROM mps_internal.merchant_scope(p_merchant_id => p_merchant_id,
                                       p_limit => NULL,
                                       p_offset => NULL,
                                       p_session_id => p_session_id) s
      LEFT JOIN public.merchants m ON m.id = s.merchant_id
$$;

CREATE OR REPLACE FUNCTION public.get_merchant_transactions(
    p_merchant_id uuid,
    p_limit integer DEFAULT 50,
    p_offset integer DEFAULT 0,
    p_start_date timestamptz DEFAULT NULL,
    p_end_date timestamptz DEFAULT NULL,
    p_session_id text DEFAULT NULL)
RETURNS TABLE (id uuid, tx_no text, tx_type public.tx_type, card_id uuid, final_amount numeric,
               status public.tx_status, created_at timestamptz, total_count bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
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
            LIMIT s.page_limit OFFSET s.page_offset) r
$$;

CREATE OR REPLACE FUNCTION public.get_point_ledger(
    p_card_id uuid,
    p_limit integer DEFAULT 50,
    p_offset integer DEFAULT 0,
    p_session_id text DEFAULT NULL)
RETURNS TABLE (id uuid, change integer, balance_before integer, balance_after integer, reason text, tx_id uuid,
               created_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
    SELECT l.id, l.change, l.balance_before, l.balance_after, l.reason, l.tx_id, l.created_at
      FROM mps_internal.get_point_ledger(p_card_id => p_card_id,
                                         p_limit => p_limit,
                                         p_offset => p_offset,
                                         p_session_id => p_session_id) scope
     CROSS JOIN LATERAL (
           SELECT * FROM public.point_ledger pl
            WHERE pl.card_id = scope.card_id
            ORDER BY pl.created_at DESC, pl.id
            LIMIT scope.page_limit OFFSET scope.page_offset) l
$$;

CREATE OR REPLACE FUNCTION public.get_settlement_detail(p_settlement_id uuid, p_session_id text DEFAULT NULL)
RETURNS public.settlements LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
    SELECT t.* FROM mps_internal.settlement_scope(p_settlement_id => p_settlement_id,
                                                  p_session_id => p_session_id) AS s(id)
      LEFT JOIN public.settlements t ON t.id = s.id
$$;

CREATE OR REPLACE FUNCTION public.get_system_statistics(p_session_id text DEFAULT NULL)
RETURNS TABLE (members_total bigint, members_active bigint, members_inactive bigint, members_suspended bigint,
               cards_total bigint, cards_active bigint, cards_inactive bigint, cards_by_type jsonb,
               merchants_total bigint, merchants_active bigint, merchants_inactive bigint,
               transactions_today bigint, transactions_today_amount numeric, transactions_this_month bigint,
               transactions_this_month_amount numeric)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
    WITH members AS (
             SELECT count(*) AS total, count(*) FILTER (WHERE status = 'active') AS active,
                    count(*) FILTER (WHERE status = 'inactive') AS inactive,
                    count(*) FILTER (WHERE status = 'suspended') AS suspended
               FROM public.member_profiles),
         cards AS (
             SELECT count(*) AS total, count(*) FILTER (WHERE status = 'active') AS active,
                    count(*) FILTER (WHERE status = 'inactive') AS inactive
               FROM public.member_cards),
         card_types AS (
             SELECT pg_catalog.jsonb_object_agg(card_type, n) AS by_type
               FROM (SELECT card_type, count(*) AS n FROM public.member_cards GROUP BY card_type) x),
         merchants AS (
             SELECT count(*) AS total, count(*) FILTER (WHERE status = 'active') AS active,
                    count(*) FILTER (WHERE status = 'inactive') AS inactive
               FROM public.merchants),
         month AS (
             SELECT t.created_at >= pg_catalog.date_trunc('day', pg_catalog.now(), 'UTC') AS today, t.tx_type,
                    t.final_amount
               FROM public.transactions t
              WHERE t.created_at >= pg_catalog.date_trunc('month', pg_catalog.now(), 'UTC')
                AND t.tx_type IN ('payment', 'refund') AND t.status IN ('completed', 'refunded'))
    SELECT members.total, members.active, members.inactive, members.suspended,
           cards.total, cards.active, cards.inactive, card_types.by_type,
           merchants.total, merchants.active, merchants.inactive,
           (SELECT count(*) FROM month WHERE today AND tx_type = 'payment'),
           (SELECT COALESCE(sum(CASE tx_type WHEN 'payment' THEN final_amount ELSE -final_amount END), 0)
              FROM month WHERE today)::numeric(20,2),
           (SELECT count(*) FROM month WHERE tx_type = 'payment'),
           (SELECT COALESCE(sum(CASE tx_type WHEN 'payment' THEN final_amount ELSE -final_amount END), 0)
              FROM month)::numeric(20,2)
      FROM mps_internal.admin_page(p_limit => NULL,
                                   p_offset => NULL,
                                   p_session_id => p_session_id) guard, members, cards, card_types, merchants
$$;

CREATE OR REPLACE FUNCTION public.get_today_transaction_stats(p_merchant_id uuid DEFAULT NULL, p_session_id text DEFAULT NULL)
RETURNS TABLE (transaction_count bigint, payment_amount numeric, refund_amount numeric, net_amount numeric,
               unique_customers bigint, average_transaction numeric)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
    SELECT count(*) FILTER (WHERE t.tx_type = 'payment'),
           COALESCE(sum(t.final_amount) FILTER (WHERE t.tx_type = 'payment'), 0)::numeric(20,2),
           COALESCE(sum(t.final_amount) FILTER (WHERE t.tx_type = 'refund'), 0)::numeric(20,2),
           (COALESCE(sum(t.final_amount) FILTER (WHERE t.tx_type = 'payment'), 0)
            - COALESCE(sum(t.final_amount) FILTER (WHERE t.tx_type = 'refund'), 0))::numeric(20,2),
           count(DISTINCT t.card_id) FILTER (WHERE t.tx_type = 'payment'),
           COALESCE(round(avg(t.final_amount) FILTER (WHERE t.tx_type = 'payment'), 2), 0)::numeric(20,2)
      FROM mps_internal.report_scope(p_merchant_id => p_merchant_id, p_session_id => p_session_id) s
      LEFT JOIN public.transactions t
        ON t.created_at >= pg_catalog.date_trunc('day', pg_catalog.now(), 'UTC')
       AND t.created_at < pg_catalog.date_trunc('day', pg_catalog.now(), 'UTC') + interval '1 day'
       AND t.tx_type IN ('payment', 'refund')
       AND t.status IN ('completed', 'refunded')
       AND (s.merchant_id IS NULL OR t.merchant_id = s.merchant_id)
$$;

CREATE OR REPLACE FUNCTION public.get_transaction_detail(p_tx_no text, p_session_id text DEFAULT NULL)
RETURNS public.transactions LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
    SELECT t.* FROM mps_internal.transaction_scope(p_tx_no => p_tx_no, p_session_id => p_session_id) AS s(id)
      LEFT JOIN public.transactions t ON t.id = s.id
$$;

CREATE OR REPLACE FUNCTION public.get_transaction_trends(
    p_start_date timestamptz,
    p_end_date timestamptz,
    p_merchant_id uuid DEFAULT NULL,
    p_group_by text DEFAULT 'day',
    p_session_id text DEFAULT NULL)
RETURNS TABLE (period_start timestamptz, period_end timestamptz, transaction_count bigint, payment_amount numeric,
               refund_amount numeric, net_amount numeric, unique_customers bigint, average_transaction numeric)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
    SELECT r.* FROM mps_internal.trend_scope(p_start_date => p_start_date,
                                             p_end_date => p_end_date,
                                             p_merchant_id => p_merchant_id,
                                             p_group_by => p_group_by,
                                             p_session_id => p_session_id) s
     CROSS JOIN LATERAL (
           SELECT b.period_start,
                  b.period_start + pg_catalog.make_interval(
                      hours => (s.unit = 'hour')::int, days => (s.unit = 'day')::int,
                      weeks => (s.unit = 'week')::int, months => (s.unit = 'month')::int),
                  count(*) FILTER (WHERE t.tx_type = 'payment'),
                  COALESCE(sum(t.final_amount) FILTER (WHERE t.tx_type = 'payment'), 0)::numeric(20,2),
                  COALESCE(sum(t.final_amount) FILTER (WHERE t.tx_type = 'refund'), 0)::numeric(20,2),
                  (COALESCE(sum(t.final_amount) FILTER (WHERE t.tx_type = 'payment'), 0)
                   - COALESCE(sum(t.final_amount) FILTER (WHERE t.tx_type = 'refund'), 0))::numeric(20,2),
                  count(DISTINCT t.card_id) FILTER (WHERE t.tx_type = 'payment'),
                  COALESCE(round(avg(t.final_amount) FILTER (WHERE t.tx_type = 'payment'), 2), 0)::numeric(20,2)
             FROM public.transactions t
            CROSS JOIN LATERAL (SELECT pg_catalog.date_trunc(s.unit, t.created_at, 'UTC') AS period_start) b
            WHERE t.created_at >= p_start_date AND t.created_at < p_end_date
              AND t.tx_type IN ('payment', 'refund')
              AND t.status IN ('completed', 'refunded')
              AND (s.merchant_id IS NULL OR t.merchant_id = s.merchant_id)
            GROUP BY b.period_start
            ORDER BY b.period_start) r
$$;

CREATE OR REPLACE FUNCTION public.list_settlements(
    p_merchant_id uuid,
    p_limit integer DEFAULT 50,
    p_offset integer DEFAULT 0,
    p_session_id text DEFAULT NULL)
RETURNS TABLE (id uuid, period_start timestamptz, period_end timestamptz, mode public.settlement_mode,
               total_amount numeric, total_tx_count bigint, status public.settlement_status, created_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
    SELECT r.* FROM mps_internal.merchant_scope(p_merchant_id => p_merchant_id,
                                                p_limit => p_limit,
                                                p_offset => p_offset,
                                                p_session_id => p_session_id) s
     CROSS JOIN LATERAL (
           SELECT t.id, t.period_start, t.period_end, t.mode, t.total_amount, t.total_tx_count::bigint, t.status,
                  t.created_at
             FROM public.settlements t
            WHERE t.merchant_id = s.merchant_id
            ORDER BY t.created_at DESC, t.id
            LIMIT s.page_limit OFFSET s.page_offset) r
$$;

CREATE OR REPLACE FUNCTION public.search_cards(p_keyword text, p_limit integer DEFAULT 50, p_session_id text DEFAULT NULL)
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

CREATE OR REPLACE FUNCTION public.search_members(p_keyword text, p_limit integer DEFAULT 50, p_session_id text DEFAULT NULL)
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

CREATE OR REPLACE FUNCTION public.search_members_advanced(
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

CREATE OR REPLACE FUNCTION public.search_merchants(p_keyword text, p_limit integer DEFAULT 50, p_session_id text DEFAULT NULL)
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

CREATE OR REPLACE FUNCTION public.system_health_check(p_session_id text DEFAULT NULL)
RETURNS TABLE (check_name text, status text, details jsonb, recommendation text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
    SELECT c.check_name,
           CASE WHEN c.count > c.threshold THEN 'warning' ELSE 'ok' END,
           CASE WHEN c.check_name = 'database_connection'
                THEN pg_catalog.jsonb_build_object('timestamp', pg_catalog.now())
                ELSE pg_catalog.jsonb_build_object('count', c.count, 'threshold', c.threshold) END,
           CASE WHEN c.count > c.threshold THEN c.advice END
      FROM mps_internal.admin_page(p_limit => NULL, p_offset => NULL, p_session_id => p_session_id) guard
     CROSS JOIN LATERAL (VALUES
           (1, 'database_connection', 0::bigint, 0, NULL::text),
           (2, 'expired_sessions',
               (SELECT count(*) FROM public.app_sessions WHERE expires_at < pg_catalog.now()), 100,
               '建議清理過期 session'),
           (3, 'expiring_qr_codes',
               (SELECT count(*) FROM public.card_qr_state
                 WHERE expires_at BETWEEN pg_catalog.now() AND pg_catalog.now() + interval '1 hour'), 50,
               '建議檢查 QR 碼管理'),
           (4, 'low_balance_cards',
               (SELECT count(*) FROM public.member_cards
                 WHERE status = 'active' AND card_type = 'standard' AND balance < 10), 20,
               '建議提醒用戶充值'),
           (5, 'suspended_members',
               (SELECT count(*) FROM public.member_profiles WHERE status = 'suspended'), 10,
               '建議審核暫停會員'),
           (6, 'inactive_merchants',
               (SELECT count(*) FROM public.merchants WHERE status = 'inactive'), 5,
               '建議審核非活躍商戶')) AS c(ord, check_name, count, threshold, advice)
     ORDER BY c.ord
$$;

-- Numbers: the formatting functions take the enum itself (sql/12_triggers.sql, sql/10_tables.sql).

CREATE OR REPLACE FUNCTION mps_internal.fill_card_no() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NEW.card_no IS NULL OR NEW.card_no = '' THEN
        NEW.card_no := mps_internal.card_no(NEW.card_type, nextval('public.seq_card_no'));
    END IF;
    RETURN NEW;
END
$$;

CREATE  FUNCTION mps_internal."card_no"(
	"card_type" public.card_type, /* Enum < CardType > */
	"seq" bigint /* i64 */
) RETURNS TEXT /* String */
IMMUTABLE STRICT PARALLEL SAFE  
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'card_no_of_type_wrapper';

REVOKE ALL ON FUNCTION mps_internal.card_no(public.card_type,bigint) FROM PUBLIC, anon, authenticated, service_role;

CREATE  FUNCTION mps_internal."tx_no"(
	"tx_type" public.tx_type, /* Enum < TxType > */
	"seq" bigint /* i64 */
) RETURNS TEXT /* String */
IMMUTABLE STRICT PARALLEL SAFE  
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'tx_no_of_type_wrapper';

REVOKE ALL ON FUNCTION mps_internal.tx_no(public.tx_type,bigint) FROM PUBLIC, anon, authenticated, service_role;

-- The Rust bodies behind the old SQL wrappers.

DROP FUNCTION mps_internal.admin_activate_member(uuid,text);
DROP FUNCTION mps_internal.admin_activate_merchant(uuid,text);
DROP FUNCTION mps_internal.admin_suspend_member(uuid,text);
DROP FUNCTION mps_internal.admin_suspend_merchant(uuid,text);
DROP FUNCTION mps_internal.apply_retention(text);
DROP FUNCTION mps_internal.bind_member_to_card(uuid,uuid,text,text,text);
DROP FUNCTION mps_internal.cancel_recharge(text,text,text);
DROP FUNCTION mps_internal.card_no(text,bigint);
DROP FUNCTION mps_internal.check_permission(text,text);
DROP FUNCTION mps_internal.cleanup_expired_sessions(text);
DROP FUNCTION mps_internal.compute_discount(integer);
DROP FUNCTION mps_internal.compute_level(integer);
DROP FUNCTION mps_internal.confirm_recharge(text,text);
DROP FUNCTION mps_internal.create_corporate_card(uuid,text,text,text,text);
DROP FUNCTION mps_internal.create_member_profile(text,text,text,text,text,text,text,text);
DROP FUNCTION mps_internal.create_merchant(text,text,text,text,text);
DROP FUNCTION mps_internal.create_transaction_partitions(integer,text);
DROP FUNCTION mps_internal.create_voucher_card(uuid,text,text,timestamp with time zone,text);
DROP FUNCTION mps_internal.cron_rotate_qr_tokens(integer,text);
DROP FUNCTION mps_internal.delete_test_member(uuid,text);
DROP FUNCTION mps_internal.delete_test_merchant(uuid,text);
DROP FUNCTION mps_internal.freeze_card(uuid,text);
DROP FUNCTION mps_internal.generate_daily_settlements(date,text);
DROP FUNCTION mps_internal.generate_settlement(uuid,text,timestamp with time zone,timestamp with time zone,text);
DROP FUNCTION mps_internal.get_user_profile(text);
DROP FUNCTION mps_internal.get_user_role(text);
DROP FUNCTION mps_internal.is_admin(text);
DROP FUNCTION mps_internal.load_session(text);
DROP FUNCTION mps_internal.logout_session(text);
DROP FUNCTION mps_internal.member_login(text,text);
DROP FUNCTION mps_internal.merchant_login(text,text);
DROP FUNCTION mps_internal.merchant_refund_tx(text,text,text,jsonb,text);
DROP FUNCTION mps_internal.revoke_card_qr(uuid,text);
DROP FUNCTION mps_internal.rotate_card_qr(uuid,integer,text);
DROP FUNCTION mps_internal.schedule_maintenance(text);
DROP FUNCTION mps_internal.set_card_binding_password(uuid,text,text);
DROP FUNCTION mps_internal.set_member_password(uuid,text,text,text);
DROP FUNCTION mps_internal.set_member_password_by_identifier(text,text,text);
DROP FUNCTION mps_internal.set_merchant_password(uuid,text,text,text);
DROP FUNCTION mps_internal.test_connection(text);
DROP FUNCTION mps_internal.toggle_card_status_by_card_no(text,text,text);
DROP FUNCTION mps_internal.toggle_member_status_by_identifier(text,text,text);
DROP FUNCTION mps_internal.tx_no(text,bigint);
DROP FUNCTION mps_internal.unbind_member_from_card(uuid,uuid,text);
DROP FUNCTION mps_internal.unfreeze_card(uuid,text);
DROP FUNCTION mps_internal.update_member_by_identifier(text,text,text,text,text);
DROP FUNCTION mps_internal.update_member_profile(uuid,text,text,text,text,text);
DROP FUNCTION mps_internal.update_points_and_level(uuid,integer,text,text);
DROP FUNCTION mps_internal.update_settlement_status(uuid,text,text);
DROP FUNCTION mps_internal.user_recharge_card(uuid,text,text,jsonb,text,text,text);
DROP FUNCTION mps_internal.validate_qr_plain(text,text);
DROP FUNCTION mps_internal.verify_ledger(text);

-- Refunds take an idempotency key (appended last; a new signature, so the function is made
-- anew: its API grants come from the manifest block below); so do hold captures (below).
ALTER TABLE public.idempotency_registry
    DROP CONSTRAINT idempotency_registry_operation_check,
    ADD CONSTRAINT idempotency_registry_operation_check CHECK (operation IN ('payment', 'recharge', 'refund', 'capture'));
DROP FUNCTION public.merchant_refund_tx(text,text,numeric,jsonb,text);
CREATE FUNCTION public."merchant_refund_tx"(
	"p_merchant_code" TEXT, /* Option < & str > */
	"p_original_tx_no" TEXT, /* Option < & str > */
	"p_refund_amount" NUMERIC, /* Option < AnyNumeric > */
	"p_tag" jsonb DEFAULT '{}'::jsonb, /* Option < JsonB > */
	"p_session_id" TEXT DEFAULT NULL, /* Option < & str > */
	"p_idempotency_key" TEXT DEFAULT NULL /* Option < & str > */
) RETURNS TABLE (
	"refund_tx_id" uuid,  /* Uuid */
	"refund_tx_no" TEXT,  /* String */
	"refunded_amount" NUMERIC  /* AnyNumeric */
)
SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'rpc_merchant_refund_tx_wrapper';
REVOKE ALL ON FUNCTION public.merchant_refund_tx(text,text,numeric,jsonb,text,text) FROM PUBLIC, anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION public.merchant_refund_tx(text,text,numeric,jsonb,text,text) TO mps_admin;

-- ---------------------------------------------------------------------------------------
-- Holds (issue 15): authorize, capture, void; the available balance. Mirrors
-- sql/00_bootstrap.sql, 10–12, 16, 20, 32 and 90.

CREATE TYPE public.hold_status AS ENUM ('active', 'captured', 'voided', 'expired');

CREATE SEQUENCE public.seq_hold_no AS bigint START 1 NO CYCLE;

CREATE  FUNCTION mps_internal."hold_no"(
	"seq" bigint /* i64 */
) RETURNS TEXT /* String */
IMMUTABLE STRICT PARALLEL SAFE 
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'hold_no_wrapper';

CREATE TABLE public.card_holds (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    hold_no             text NOT NULL UNIQUE DEFAULT mps_internal.hold_no(nextval('public.seq_hold_no')),
    card_id             uuid NOT NULL REFERENCES public.member_cards (id) ON DELETE CASCADE,
    merchant_id         uuid NOT NULL REFERENCES public.merchants (id) ON DELETE CASCADE,
    raw_amount          numeric(12,2) NOT NULL CHECK (raw_amount > 0),
    discount            numeric(4,3) NOT NULL CHECK (discount BETWEEN 0 AND 1),
    amount              numeric(12,2) NOT NULL CHECK (amount >= 0),
    status              public.hold_status NOT NULL DEFAULT 'active',
    expires_at          timestamptz NOT NULL,
    capture_tx_id       uuid UNIQUE REFERENCES public.tx_registry (tx_id),
    idempotency_key     text,
    external_order_id   text,
    request_fingerprint text,
    tag                 jsonb NOT NULL DEFAULT '{}',
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CHECK ((status = 'captured') = (capture_tx_id IS NOT NULL))
);

CREATE INDEX idx_card_holds_active ON public.card_holds (card_id) WHERE status = 'active';
CREATE INDEX idx_card_holds_merchant ON public.card_holds (merchant_id, created_at DESC);
CREATE UNIQUE INDEX idx_card_holds_key ON public.card_holds (merchant_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;

CREATE TRIGGER trg_card_holds_updated_at BEFORE UPDATE ON public.card_holds
    FOR EACH ROW EXECUTE FUNCTION mps_internal.set_updated_at();

SELECT pg_catalog.pg_extension_config_dump('public.card_holds', '');

SELECT pg_catalog.pg_extension_config_dump('public.seq_hold_no', '');

ALTER TABLE public.card_holds ENABLE ROW LEVEL SECURITY;

CREATE POLICY card_holds_own ON public.card_holds FOR SELECT TO authenticated
    USING (card_id IN (SELECT c.id FROM public.member_cards c
                        WHERE c.owner_member_id = (SELECT mps_auth.caller_member_id()))
           OR card_id IN (SELECT b.card_id FROM public.card_bindings b
                           WHERE b.member_id = (SELECT mps_auth.caller_member_id()) AND b.status = 'active')
           OR merchant_id = (SELECT mps_auth.caller_merchant_id())
           OR (SELECT mps_auth.caller_is_super_admin()));

REVOKE ALL ON TABLE public.card_holds FROM PUBLIC, anon, authenticated, service_role;
REVOKE ALL ON SEQUENCE public.seq_hold_no FROM PUBLIC, anon, authenticated, service_role;
REVOKE ALL ON FUNCTION mps_internal.hold_no(bigint) FROM PUBLIC, anon, authenticated, service_role;
GRANT SELECT ON public.card_holds TO authenticated, service_role;

CREATE FUNCTION public."merchant_authorize_by_qr"(
	"p_merchant_code" TEXT, /* Option < & str > */
	"p_qr_plain" TEXT, /* Option < & str > */
	"p_raw_amount" NUMERIC, /* Option < AnyNumeric > */
	"p_idempotency_key" TEXT DEFAULT NULL, /* Option < & str > */
	"p_ttl_seconds" INT DEFAULT 900, /* Option < i32 > */
	"p_tag" jsonb DEFAULT '{}'::jsonb, /* Option < JsonB > */
	"p_external_order_id" TEXT DEFAULT NULL, /* Option < & str > */
	"p_session_id" TEXT DEFAULT NULL /* Option < & str > */
) RETURNS TABLE (
	"hold_id" uuid,  /* Uuid */
	"hold_no" TEXT,  /* String */
	"card_id" uuid,  /* Uuid */
	"amount" NUMERIC,  /* AnyNumeric */
	"discount" NUMERIC,  /* AnyNumeric */
	"expires_at" timestamp with time zone  /* TimestampWithTimeZone */
)
SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'rpc_merchant_authorize_by_qr_wrapper';

REVOKE ALL ON FUNCTION public.merchant_authorize_by_qr(text, text, numeric, text, integer, jsonb, text, text) FROM PUBLIC, anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION public.merchant_authorize_by_qr(text, text, numeric, text, integer, jsonb, text, text) TO mps_admin;

CREATE FUNCTION public."merchant_capture_hold"(
	"p_merchant_code" TEXT, /* Option < & str > */
	"p_hold_no" TEXT, /* Option < & str > */
	"p_raw_amount" NUMERIC DEFAULT NULL, /* Option < AnyNumeric > */
	"p_idempotency_key" TEXT DEFAULT NULL, /* Option < & str > */
	"p_tag" jsonb DEFAULT '{}'::jsonb, /* Option < JsonB > */
	"p_session_id" TEXT DEFAULT NULL /* Option < & str > */
) RETURNS TABLE (
	"tx_id" uuid,  /* Uuid */
	"tx_no" TEXT,  /* String */
	"card_id" uuid,  /* Uuid */
	"final_amount" NUMERIC,  /* AnyNumeric */
	"discount" NUMERIC  /* AnyNumeric */
)
SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'rpc_merchant_capture_hold_wrapper';

REVOKE ALL ON FUNCTION public.merchant_capture_hold(text, text, numeric, text, jsonb, text) FROM PUBLIC, anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION public.merchant_capture_hold(text, text, numeric, text, jsonb, text) TO mps_admin;

CREATE FUNCTION public."merchant_void_hold"(
	"p_merchant_code" TEXT, /* Option < & str > */
	"p_hold_no" TEXT, /* Option < & str > */
	"p_session_id" TEXT DEFAULT NULL /* Option < & str > */
) RETURNS bool /* bool */
SECURITY DEFINER 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'rpc_merchant_void_hold_wrapper';

REVOKE ALL ON FUNCTION public.merchant_void_hold(text, text, text) FROM PUBLIC, anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION public.merchant_void_hold(text, text, text) TO mps_admin;

CREATE FUNCTION public.get_card_balance(p_card_id uuid, p_session_id text DEFAULT NULL)
RETURNS TABLE (balance numeric, held numeric, available numeric)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
    SELECT c.balance, h.held, c.balance - h.held
      FROM mps_internal.get_card_detail(p_card_id => p_card_id, p_session_id => p_session_id) AS s(id)
      JOIN public.member_cards c ON c.id = s.id
     CROSS JOIN LATERAL (
           SELECT COALESCE(sum(k.amount), 0)::numeric(12,2) AS held FROM public.card_holds k
            WHERE k.card_id = c.id AND k.status = 'active' AND k.expires_at > now()) h
$$;

REVOKE ALL ON FUNCTION public.get_card_balance(uuid, text) FROM PUBLIC, anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION public.get_card_balance(uuid, text) TO mps_admin;

CREATE FUNCTION public.get_card_holds(p_card_id uuid, p_session_id text DEFAULT NULL)
RETURNS TABLE (hold_id uuid, hold_no text, merchant_id uuid, amount numeric, status public.hold_status,
               expires_at timestamptz, created_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
    SELECT r.* FROM mps_internal.get_card_detail(p_card_id => p_card_id, p_session_id => p_session_id) AS s(id)
     CROSS JOIN LATERAL (
           SELECT k.id, k.hold_no, k.merchant_id, k.amount,
                  CASE WHEN k.status = 'active' AND k.expires_at <= now() THEN 'expired' ELSE k.status END,
                  k.expires_at, k.created_at
             FROM public.card_holds k
            WHERE k.card_id = s.id
            ORDER BY k.created_at DESC, k.id
           OFFSET 0) r
$$;

REVOKE ALL ON FUNCTION public.get_card_holds(uuid, text) FROM PUBLIC, anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION public.get_card_holds(uuid, text) TO mps_admin;

CREATE FUNCTION public.get_merchant_holds(
    p_merchant_id uuid,
    p_limit integer DEFAULT 50,
    p_offset integer DEFAULT 0,
    p_session_id text DEFAULT NULL)
RETURNS TABLE (hold_id uuid, hold_no text, card_id uuid, amount numeric, status public.hold_status,
               expires_at timestamptz, created_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
    SELECT r.* FROM mps_internal.merchant_scope(p_merchant_id => p_merchant_id,
                                                p_limit => p_limit,
                                                p_offset => p_offset,
                                                p_session_id => p_session_id) s
     CROSS JOIN LATERAL (
           SELECT k.id, k.hold_no, k.card_id, k.amount,
                  CASE WHEN k.status = 'active' AND k.expires_at <= now() THEN 'expired' ELSE k.status END,
                  k.expires_at, k.created_at
             FROM public.card_holds k
            WHERE k.merchant_id = s.merchant_id
            ORDER BY k.created_at DESC, k.id
            LIMIT s.page_limit OFFSET s.page_offset) r
$$;

REVOKE ALL ON FUNCTION public.get_merchant_holds(uuid, integer, integer, text) FROM PUBLIC, anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION public.get_merchant_holds(uuid, integer, integer, text) TO mps_admin;

-- ---------------------------------------------------------------------------------------
-- One policy: the RPC manifest (issue 13 §2). mps_internal.rpc_manifest() serves
-- src/rpc/manifest.tsv; the grants are made from it (sql/90_grants.sql), unchanged from 0.4.0.

CREATE  FUNCTION mps_internal."rpc_manifest"() RETURNS TABLE (
	"function" TEXT,  /* String */
	"arguments" TEXT,  /* String */
	"grant" TEXT,  /* String */
	"allowed" TEXT[]  /* Vec < String > */
)
IMMUTABLE STRICT PARALLEL SAFE 
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'rpc_manifest_wrapper';
REVOKE ALL ON FUNCTION mps_internal.rpc_manifest() FROM PUBLIC, anon, authenticated, service_role;

-- The RPCs: exactly the grants of the manifest (src/rpc/manifest.tsv, read by
-- mps_internal.rpc_manifest()). `anon`: the logins, role helpers and the calls a member or
-- merchant makes with the anon key plus p_session_id (each function authorizes its caller
-- itself); `signed_in`: admin-only RPCs, never anon. A public function of the extension
-- missing from the manifest, or a manifest row naming no function, fails the install.
DO $rpc_grants$
DECLARE
    entry record;
    missing text;
BEGIN
    FOR entry IN SELECT function, arguments, "grant" FROM mps_internal.rpc_manifest() LOOP
        -- the manifest is the library's, which may be newer than this script (an install of an
        -- earlier version, an upgrade step): a function a later script creates is granted there.
        -- tests/pgtap/01_catalog.sql checks that a current install grants every manifest row.
        CONTINUE WHEN pg_catalog.to_regprocedure(pg_catalog.format('public.%I(%s)', entry.function,
                                                                   entry.arguments)) IS NULL;
        EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION public.%I(%s) TO %s', entry.function, entry.arguments,
                                  CASE entry."grant" WHEN 'anon' THEN 'anon, authenticated, service_role'
                                                     ELSE 'authenticated, service_role' END);
    END LOOP;
    SELECT pg_catalog.string_agg(p.oid::regprocedure::text, ', ') INTO missing
      FROM pg_catalog.pg_proc p
      JOIN pg_catalog.pg_depend d ON d.objid = p.oid AND d.classid = 'pg_catalog.pg_proc'::regclass
     WHERE d.refobjid = (SELECT oid FROM pg_catalog.pg_extension WHERE extname = 'mps_ext')
       AND d.deptype = 'e'
       AND p.pronamespace = 'public'::regnamespace
       AND NOT EXISTS (SELECT FROM mps_internal.rpc_manifest() m
                        WHERE pg_catalog.to_regprocedure(pg_catalog.format('public.%I(%s)', m.function, m.arguments))
                              = p.oid);
    IF missing IS NOT NULL THEN
        RAISE EXCEPTION 'public functions missing from the rpc manifest: %', missing;
    END IF;
END
$rpc_grants$;
