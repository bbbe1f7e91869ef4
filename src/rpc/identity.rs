//! Role helpers: get_user_role, check_permission, is_admin, get_user_profile,
//! reset_session_variables, test_connection.

use super::required_text;
use crate::auth::{self, Caller};
use crate::domain::error::{ErrorCode, MpsError};
use crate::domain::policy::Action;
use crate::error::rpc;
use crate::store;
use pgrx::datum::JsonB;
use pgrx::prelude::*;
use serde_json::json;

#[pg_extern(name = "get_user_role", security_definer, stable)]
#[search_path(pg_catalog, pg_temp)]
fn rpc_get_user_role(p_session_id: default!(Option<&str>, "NULL")) -> Option<String> {
    rpc(|| Ok(auth::resolve(p_session_id)?.role_name().map(String::from)))
}

#[pg_extern(name = "check_permission", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn rpc_check_permission(required_role: Option<&str>, p_session_id: default!(Option<&str>, "NULL")) {
    rpc(|| {
        let required_role = required_text(required_role, "required_role")?;
        if !matches!(required_role, "super_admin" | "merchant" | "member") {
            return Err(MpsError::new(
                ErrorCode::InvalidArgument,
                format!("required_role must be super_admin, merchant or member, not {required_role:?}"),
            ));
        }
        Ok(auth::resolve(p_session_id)?.allow(Action::HaveRole(required_role))?)
    })
}

#[pg_extern(name = "is_admin", security_definer, stable)]
#[search_path(pg_catalog, pg_temp)]
fn rpc_is_admin(p_session_id: default!(Option<&str>, "NULL")) -> bool {
    rpc(|| Ok(auth::resolve(p_session_id)?.is_super_admin()))
}

/// The caller's profile, for custom-session users too (the original returned NULL:
/// docs/contract.md B14).
#[pg_extern(name = "get_user_profile", security_definer, stable)]
#[search_path(pg_catalog, pg_temp)]
fn rpc_get_user_profile(p_session_id: default!(Option<&str>, "NULL")) -> Option<JsonB> {
    rpc(|| {
        let profile = match auth::resolve(p_session_id)? {
            Caller::Anonymous => return Ok(None),
            Caller::SuperAdmin { auth_user } => store::identity::admin_profile(auth_user),
            Caller::Merchant { merchant_id, auth_user } => store::identity::merchant_profile(merchant_id, auth_user),
            Caller::Member { member_id, .. } => {
                let mut profile = store::members::login_profile(member_id);
                profile["role"] = json!("member");
                profile
            }
        };
        Ok(Some(JsonB(profile)))
    })
}

/// Kept for clients that call it before login and at logout. Identity never lives in
/// session variables here, so there is nothing to reset.
#[pg_extern(name = "reset_session_variables", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn rpc_reset_session_variables(p_session_id: default!(Option<&str>, "NULL")) {
    let _ = p_session_id;
}

/// `{status:'success', timestamp}`; row counts only for a super admin (docs/contract.md W5).
#[pg_extern(name = "test_connection", security_definer, stable)]
#[search_path(pg_catalog, pg_temp)]
fn rpc_test_connection(p_session_id: default!(Option<&str>, "NULL")) -> JsonB {
    rpc(|| {
        let caller = auth::resolve(p_session_id)?;
        Ok(JsonB(store::identity::connection_report(caller.is_super_admin())))
    })
}
