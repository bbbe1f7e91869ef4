//! mps_ext: the Member Payment System RPC layer as a PostgreSQL extension.
//!
//! Layout: `domain` (pure rules, its own crate), `auth` (who is calling), `store` (all SQL
//! text), `rpc` (the functions, one file per capability). The public API is declared in
//! `sql/3x_api_*.sql` as thin SECURITY DEFINER SQL functions with the contract's exact
//! signatures; each calls the Rust function of the same name in schema `mps_internal`.

use pgrx::prelude::*;

mod auth;
mod error;
mod rpc;
mod settings;
mod store;
mod version;

pub use mps_domain as domain;

pgrx::pg_module_magic!();

// Schemas the Rust functions live in (created in sql/00_bootstrap.sql; declared here so
// that `#[pg_extern(schema = …)]` can name them).
#[pg_schema]
mod mps_internal {}
#[pg_schema]
mod mps_auth {}

#[pg_guard]
pub extern "C-unwind" fn _PG_init() {
    // A Rust backtrace must never reach a caller, whatever the server was started with:
    // std decides once, on first use, whether to capture backtraces.
    std::env::remove_var("RUST_BACKTRACE");
    std::env::remove_var("RUST_LIB_BACKTRACE");
    settings::init();
    auth::guard::init();
    error::init_log_hook();
}

extension_sql_file!("../sql/00_bootstrap.sql", name = "bootstrap", bootstrap);
extension_sql_file!(
    "../sql/10_tables.sql",
    name = "tables",
    requires = ["bootstrap", rpc::numbering::member_no, rpc::numbering::tx_no]
);
extension_sql_file!("../sql/11_indexes.sql", name = "indexes", requires = ["tables"]);
extension_sql_file!("../sql/12_triggers.sql", name = "triggers", requires = ["tables", rpc::numbering::card_no]);
extension_sql_file!("../sql/13_seed.sql", name = "seed", requires = ["tables"]);
extension_sql_file!(
    "../sql/14_partitions.sql",
    name = "partitions",
    requires = ["tables", "indexes", "triggers", rpc::numbering::tx_no]
);
extension_sql_file!("../sql/15_drop_guard.sql", name = "drop_guard", requires = ["tables", "partitions"]);
extension_sql_file!("../sql/16_backups.sql", name = "backups", requires = ["tables", "seed", "partitions"]);
extension_sql_file!("../sql/17_retention.sql", name = "retention", requires = ["tables", "indexes"]);
extension_sql_file!(
    "../sql/20_rls.sql",
    name = "rls",
    requires = [
        "tables",
        "partitions",
        rpc::policy::caller_member_id,
        rpc::policy::caller_merchant_id,
        rpc::policy::caller_is_super_admin
    ]
);
extension_sql_file!(
    "../sql/30_api_identity.sql",
    name = "api_identity",
    requires = [
        "tables",
        rpc::identity::get_user_role,
        rpc::identity::check_permission,
        rpc::identity::is_admin,
        rpc::identity::get_user_profile,
        rpc::identity::test_connection,
        rpc::sessions::member_login,
        rpc::sessions::merchant_login,
        rpc::sessions::load_session,
        rpc::sessions::logout_session,
        rpc::sessions::cleanup_expired_sessions,
        rpc::accounts::create_member_profile,
        rpc::accounts::create_merchant,
        rpc::accounts::set_member_password,
        rpc::accounts::set_merchant_password,
    ]
);
extension_sql_file!(
    "../sql/31_api_cards.sql",
    name = "api_cards",
    requires = [
        "tables",
        rpc::cards::create_corporate_card,
        rpc::cards::create_voucher_card,
        rpc::cards::set_card_binding_password,
        rpc::cards::bind_member_to_card,
        rpc::cards::unbind_member_from_card,
        rpc::cards::get_card_bindings,
        rpc::cards::freeze_card,
        rpc::cards::unfreeze_card,
        rpc::cards::get_member_cards,
        rpc::cards::get_card_detail,
        rpc::qr::rotate_card_qr,
        rpc::qr::revoke_card_qr,
        rpc::qr::validate_qr_plain,
        rpc::qr::cron_rotate_qr_tokens,
    ]
);
extension_sql_file!(
    "../sql/32_api_money.sql",
    name = "api_money",
    requires = [
        "tables",
        rpc::payments::merchant_charge_by_qr,
        rpc::payments::merchant_refund_tx,
        rpc::payments::user_recharge_card,
        rpc::payments::confirm_recharge,
        rpc::payments::cancel_recharge,
        rpc::points::update_points_and_level,
        rpc::points::compute_discount,
        rpc::points::compute_level,
        rpc::points::get_point_ledger,
        rpc::points::verify_ledger,
    ]
);
extension_sql_file!(
    "../sql/33_api_settlements.sql",
    name = "api_settlements",
    requires = [
        "tables",
        rpc::settlements::generate_settlement,
        rpc::settlements::update_settlement_status,
        rpc::scopes::merchant_scope,
        rpc::scopes::settlement_scope,
    ]
);
extension_sql_file!(
    "../sql/34_api_queries.sql",
    name = "api_queries",
    requires = [
        "tables",
        rpc::scopes::admin_page,
        rpc::scopes::contains_pattern,
        rpc::scopes::member_scope,
        rpc::scopes::merchant_scope,
        rpc::scopes::transaction_scope,
        rpc::scopes::caller_member,
        rpc::scopes::caller_merchant,
        rpc::scopes::card_no_scope,
        rpc::scopes::member_identifier_scope,
        rpc::scopes::merchant_code_scope,
    ]
);
extension_sql_file!(
    "../sql/35_api_reports.sql",
    name = "api_reports",
    requires = ["tables", rpc::scopes::admin_page, rpc::scopes::report_scope, rpc::scopes::trend_scope]
);
extension_sql_file!(
    "../sql/36_api_admin.sql",
    name = "api_admin",
    requires = [
        "tables",
        rpc::admin::admin_suspend_member,
        rpc::admin::admin_activate_member,
        rpc::admin::admin_suspend_merchant,
        rpc::admin::admin_activate_merchant,
        rpc::admin::delete_test_member,
        rpc::admin::delete_test_merchant,
        rpc::admin::update_member_profile,
        rpc::admin::update_member_by_identifier,
        rpc::admin::set_member_password_by_identifier,
        rpc::admin::toggle_member_status_by_identifier,
        rpc::admin::toggle_card_status_by_card_no,
    ]
);
extension_sql_file!(
    "../sql/37_api_schedules.sql",
    name = "api_schedules",
    requires = [
        "tables",
        "partitions",
        rpc::schedules::generate_daily_settlements,
        rpc::schedules::schedule_maintenance,
        rpc::schedules::create_transaction_partitions,
        rpc::retention::apply_retention,
    ]
);
extension_sql_file!("../sql/90_grants.sql", name = "grants", finalize);
