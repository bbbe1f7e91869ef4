//! Custom logins and sessions: member_login, merchant_login, load_session, logout_session,
//! cleanup_expired_sessions.

use crate::auth::login::{self, AccountKind};
use crate::auth::{self, Caller};
use crate::domain::login::SESSION_TTL_SECS;
use crate::domain::policy::Action;
use crate::domain::retention::Table;
use crate::domain::tokens;
use crate::error::rpc;
use crate::store;
use pgrx::datum::{JsonB, Uuid};
use pgrx::prelude::*;
use serde_json::{json, Value};

/// Login by member number or phone (a member-number match wins).
#[pg_extern(name = "member_login", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn rpc_member_login(
    p_identifier: Option<&str>,
    p_password: Option<&str>,
    p_session_id: default!(Option<&str>, "NULL"),
) -> JsonB {
    let _ = p_session_id; // a login starts a session; any other is irrelevant
    rpc(|| {
        let identifier = p_identifier.unwrap_or_default();
        let account = store::members::find_active_for_login(identifier);
        let member_id = login::authenticate(AccountKind::Member, identifier, account, p_password.unwrap_or_default())?;
        let caller = Caller::Member { member_id, auth_user: None };
        caller.audit("LOGIN_SUCCESS", "member_profiles", Some(member_id), json!({ "identifier": identifier }));
        Ok(JsonB(open_session("member", member_id, store::members::login_profile(member_id))))
    })
}

/// Login by merchant code. The session carries the merchant (docs/contract.md B12).
#[pg_extern(name = "merchant_login", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn rpc_merchant_login(
    p_merchant_code: Option<&str>,
    p_password: Option<&str>,
    p_session_id: default!(Option<&str>, "NULL"),
) -> JsonB {
    let _ = p_session_id; // a login starts a session; any other is irrelevant
    rpc(|| {
        let code = p_merchant_code.unwrap_or_default();
        let account = store::merchants::find_active_for_login(code);
        let merchant_id = login::authenticate(AccountKind::Merchant, code, account, p_password.unwrap_or_default())?;
        let caller = Caller::Merchant { merchant_id, auth_user: None };
        caller.audit("LOGIN_SUCCESS", "merchants", Some(merchant_id), json!({ "code": code }));
        Ok(JsonB(open_session("merchant", merchant_id, store::merchants::login_profile(merchant_id))))
    })
}

/// Creates the session and returns the login answer: the account's fields plus
/// `success`, `role`, `session_id` (the only time the id is ever shown) and `expires_at`.
fn open_session(role: &str, account_id: Uuid, mut answer: Value) -> Value {
    let (member, merchant) = if role == "member" { (Some(account_id), None) } else { (None, Some(account_id)) };
    let session_id = tokens::generate();
    let expires_at =
        store::sessions::create(&tokens::digest(&session_id), role, account_id, member, merchant, SESSION_TTL_SECS);
    answer["success"] = json!(true);
    answer["role"] = json!(role);
    answer["session_id"] = json!(session_id);
    answer["expires_at"] = expires_at;
    answer
}

/// Whether the id names a live session (and marks it used). Sets nothing: identity is
/// resolved inside every call from its own p_session_id.
#[pg_extern(name = "load_session", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn rpc_load_session(p_session_id: Option<&str>) -> bool {
    p_session_id.is_some_and(|sid| tokens::is_well_formed(sid) && store::sessions::touch(&tokens::digest(sid)))
}

/// Ends the session at once. Knowing the id is the authority to end it.
#[pg_extern(name = "logout_session", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn rpc_logout_session(p_session_id: Option<&str>) -> bool {
    p_session_id.is_some_and(|sid| tokens::is_well_formed(sid) && store::sessions::delete(&tokens::digest(sid)))
}

#[pg_extern(name = "cleanup_expired_sessions", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn rpc_cleanup_expired_sessions(p_session_id: default!(Option<&str>, "NULL")) -> i32 {
    rpc(|| {
        auth::resolve(p_session_id)?.allow(Action::Administer)?;
        Ok(super::retention::sweep_all(Table::AppSessions) as i32)
    })
}
