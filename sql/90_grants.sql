-- Privileges: first nothing for anyone on anything this extension owns (this also undoes
-- Supabase's default privileges, which grant new public functions and tables to anon and
-- authenticated), then exactly the role matrix below.

DO $revoke$
DECLARE
    obj record;
BEGIN
    FOR obj IN
        SELECT d.classid::regclass AS catalog, d.objid
          FROM pg_catalog.pg_depend d
         WHERE d.refclassid = 'pg_catalog.pg_extension'::regclass
           AND d.refobjid = (SELECT oid FROM pg_catalog.pg_extension WHERE extname = 'mps_ext')
           AND d.deptype = 'e'
    LOOP
        IF obj.catalog = 'pg_catalog.pg_proc'::regclass THEN
            EXECUTE pg_catalog.format('REVOKE ALL ON ROUTINE %s FROM PUBLIC, anon, authenticated, service_role',
                                      obj.objid::regprocedure);
        ELSIF obj.catalog = 'pg_catalog.pg_class'::regclass THEN
            IF (SELECT relkind FROM pg_catalog.pg_class WHERE oid = obj.objid) = 'S' THEN
                EXECUTE pg_catalog.format('REVOKE ALL ON SEQUENCE %s FROM PUBLIC, anon, authenticated, service_role',
                                          obj.objid::regclass);
            ELSIF (SELECT relkind FROM pg_catalog.pg_class WHERE oid = obj.objid) IN ('r', 'p', 'v') THEN
                EXECUTE pg_catalog.format('REVOKE ALL ON TABLE %s FROM PUBLIC, anon, authenticated, service_role',
                                          obj.objid::regclass);
            END IF;
        END IF;
    END LOOP;
END
$revoke$;

-- psql administrators: members of mps_admin may call every RPC (as super admins).
DO $admin$
DECLARE
    f regprocedure;
BEGIN
    FOR f IN
        SELECT p.oid::regprocedure
          FROM pg_catalog.pg_proc p
          JOIN pg_catalog.pg_depend d ON d.objid = p.oid AND d.classid = 'pg_catalog.pg_proc'::regclass
         WHERE d.refobjid = (SELECT oid FROM pg_catalog.pg_extension WHERE extname = 'mps_ext')
           AND d.deptype = 'e'
           AND p.pronamespace = 'public'::regnamespace
    LOOP
        EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION %s TO mps_admin', f);
    END LOOP;
END
$admin$;

-- Caller resolution for RLS policies: evaluated as the querying role.
GRANT USAGE ON SCHEMA mps_auth TO anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION mps_auth.caller_member_id(), mps_auth.caller_merchant_id(),
    mps_auth.caller_is_super_admin() TO anon, authenticated, service_role;

-- RPCs anyone may call: logins, role helpers, and the calls a member or merchant makes
-- with the anon key plus p_session_id. Each function authorizes its caller itself.
GRANT EXECUTE ON FUNCTION
    public.get_user_role(text),
    public.check_permission(text, text),
    public.is_admin(text),
    public.get_user_profile(text),
    public.test_connection(text),
    public.member_login(text, text, text),
    public.merchant_login(text, text, text),
    public.load_session(text),
    public.logout_session(text),
    public.reset_session_variables(text),
    public.set_member_password(uuid, text, text, text),
    public.set_merchant_password(uuid, text, text, text),
    public.bind_member_to_card(uuid, uuid, public.bind_role, text, text),
    public.unbind_member_from_card(uuid, uuid, text),
    public.get_card_bindings(uuid, text),
    public.set_card_binding_password(uuid, text, text),
    public.get_member_cards(uuid, text),
    public.get_card_detail(uuid, text),
    public.rotate_card_qr(uuid, integer, text),
    public.revoke_card_qr(uuid, text),
    public.validate_qr_plain(text, text),
    public.merchant_charge_by_qr(text, text, numeric, text, jsonb, text, text),
    public.merchant_refund_tx(text, text, numeric, jsonb, text),
    public.user_recharge_card(uuid, numeric, public.pay_method, jsonb, text, text, text),
    public.cancel_recharge(text, text, text),
    public.compute_discount(integer, text),
    public.compute_level(integer, text),
    public.get_point_ledger(uuid, integer, integer, text),
    public.generate_settlement(uuid, public.settlement_mode, timestamptz, timestamptz, text),
    public.list_settlements(uuid, integer, integer, text),
    public.get_settlement_detail(uuid, text),
    public.get_member_transactions(uuid, integer, integer, timestamptz, timestamptz, text),
    public.get_merchant_transactions(uuid, integer, integer, timestamptz, timestamptz, text),
    public.get_transaction_detail(text, text),
    public.get_member_detail(uuid, text),
    public.get_merchant_detail(uuid, text),
    public.get_member_by_auth_user(text),
    public.get_merchant_by_auth_user(text),
    public.update_member_profile(uuid, text, text, text, text, text),
    public.get_today_transaction_stats(uuid, text),
    public.get_transaction_trends(timestamptz, timestamptz, uuid, text, text),
    public.get_card_by_identifier(text, text),
    public.get_card_details_by_card_no(text, text)
TO anon, authenticated, service_role;

-- Admin-only RPCs: never anon.
GRANT EXECUTE ON FUNCTION
    public.cleanup_expired_sessions(text),
    public.create_member_profile(text, text, text, text, text, text, public.card_type, text),
    public.create_merchant(text, text, text, text, text),
    public.create_corporate_card(uuid, text, numeric, numeric, text),
    public.create_voucher_card(uuid, text, numeric, timestamptz, text),
    public.freeze_card(uuid, text),
    public.unfreeze_card(uuid, text),
    public.cron_rotate_qr_tokens(integer, text),
    public.update_points_and_level(uuid, integer, text, text),
    public.confirm_recharge(text, text),
    public.verify_ledger(text),
    public.update_settlement_status(uuid, public.settlement_status, text),
    public.admin_suspend_member(uuid, text),
    public.admin_activate_member(uuid, text),
    public.admin_suspend_merchant(uuid, text),
    public.admin_activate_merchant(uuid, text),
    public.delete_test_member(uuid, text),
    public.delete_test_merchant(uuid, text),
    public.get_all_members(integer, integer, public.member_status, text),
    public.search_members(text, integer, text),
    public.search_members_advanced(text, text, text, text, public.member_status, integer, text),
    public.search_merchants(text, integer, text),
    public.get_all_cards(integer, integer, public.card_type, public.card_status, text, text),
    public.search_cards(text, integer, text),
    public.get_system_statistics(text),
    public.system_health_check(text),
    public.get_member_by_identifier(text, text),
    public.get_merchant_by_identifier(text, text),
    public.update_member_by_identifier(text, text, text, text, text),
    public.set_member_password_by_identifier(text, text, text),
    public.toggle_member_status_by_identifier(text, public.member_status, text),
    public.toggle_card_status_by_card_no(text, public.card_status, text),
    public.generate_daily_settlements(date, text),
    public.schedule_maintenance(text),
    public.create_transaction_partitions(integer, text),
    public.apply_retention(text)
TO authenticated, service_role;

-- Table API: SELECT only, whole rows (`select=*`), filtered by RLS. The secrets live in
-- mps_internal, where no API role has any privilege. anon reads no table at all (a POS or
-- app with the anon key works through the RPCs and its session).
GRANT SELECT ON public.membership_levels, public.merchants, public.member_profiles, public.member_cards,
    public.card_qr_state, public.card_qr_history, public.member_external_identities, public.card_bindings,
    public.merchant_users, public.admin_users, public.transactions, public.point_ledger, public.settlements
    TO authenticated, service_role;
