//! Entry points of earlier releases. A database that has not run `ALTER EXTENSION mps_ext
//! UPDATE` since a new package was installed still declares its old functions, bound to
//! symbols of this library by name. Where a symbol's argument or result types have changed
//! since, it must never reach the new code (a text argument read as numeric or as an enum
//! value): this library gives each such function a new symbol (the RPCs: `rpc_<name>`), and
//! keeps the old name as a stub that reads no argument and refuses with the version check's
//! error, which names the fix.
//!
//! A release that changes a function's C-level signature adds its old symbol here.

use pgrx::pg_sys;

/// The stub's answer: the version check's error (the schema is older than the library), or,
/// should the current schema ever be bound to a stub, an internal error naming it.
fn refuse(symbol: &str) -> ! {
    match crate::version::require_current_schema() {
        Err(e) => crate::error::raise(e),
        Ok(()) => pgrx::error!("mps_ext: {symbol} is an entry point of an earlier release"),
    }
}

macro_rules! superseded {
    ($($symbol:ident),+ $(,)?) => {
        $(
            #[pgrx::pg_guard]
            #[no_mangle]
            pub unsafe extern "C-unwind" fn $symbol(_fcinfo: pg_sys::FunctionCallInfo) -> pg_sys::Datum {
                refuse(stringify!($symbol))
            }
        )+
        /// The fmgr version-1 records PostgreSQL looks up before calling a C function.
        mod finfo {
            $(
                paste::paste! {
                    #[no_mangle]
                    pub extern "C" fn [<pg_finfo_ $symbol>]() -> &'static pgrx::pg_sys::Pg_finfo_record {
                        const V1: pgrx::pg_sys::Pg_finfo_record = pgrx::pg_sys::Pg_finfo_record { api_version: 1 };
                        &V1
                    }
                }
            )+
        }
    };
}

// The mps_internal functions behind the SQL wrappers of 0.1.0–0.4.0, and the number
// formatters that took text.
superseded!(
    admin_activate_member_wrapper,
    admin_activate_merchant_wrapper,
    admin_suspend_member_wrapper,
    admin_suspend_merchant_wrapper,
    apply_retention_wrapper,
    bind_member_to_card_wrapper,
    cancel_recharge_wrapper,
    card_no_wrapper,
    check_permission_wrapper,
    cleanup_expired_sessions_wrapper,
    compute_discount_wrapper,
    compute_level_wrapper,
    confirm_recharge_wrapper,
    create_corporate_card_wrapper,
    create_member_profile_wrapper,
    create_merchant_wrapper,
    create_transaction_partitions_wrapper,
    create_voucher_card_wrapper,
    cron_rotate_qr_tokens_wrapper,
    delete_test_member_wrapper,
    delete_test_merchant_wrapper,
    freeze_card_wrapper,
    generate_daily_settlements_wrapper,
    generate_settlement_wrapper,
    get_user_profile_wrapper,
    get_user_role_wrapper,
    is_admin_wrapper,
    load_session_wrapper,
    logout_session_wrapper,
    member_login_wrapper,
    merchant_charge_by_qr_wrapper,
    merchant_login_wrapper,
    merchant_refund_tx_wrapper,
    revoke_card_qr_wrapper,
    rotate_card_qr_wrapper,
    schedule_maintenance_wrapper,
    set_card_binding_password_wrapper,
    set_member_password_wrapper,
    set_member_password_by_identifier_wrapper,
    set_merchant_password_wrapper,
    test_connection_wrapper,
    toggle_card_status_by_card_no_wrapper,
    toggle_member_status_by_identifier_wrapper,
    tx_no_wrapper,
    unbind_member_from_card_wrapper,
    unfreeze_card_wrapper,
    update_member_by_identifier_wrapper,
    update_member_profile_wrapper,
    update_points_and_level_wrapper,
    update_settlement_status_wrapper,
    user_recharge_card_wrapper,
    validate_qr_plain_wrapper,
    verify_ledger_wrapper,
);
