//! Caller resolution for the RLS policies of sql/20_rls.sql
//! (`USING (owner = (SELECT mps_auth.caller_member_id()))`), the same resolution the RPCs
//! use; whether the caller is a super admin is the policy's answer (`Caller::is_super_admin`). The table API carries no session id, so these see JWT
//! and database-role identities only.

use crate::auth::{self, Caller};
use pgrx::datum::Uuid;
use pgrx::prelude::*;

fn request_caller() -> Caller {
    auth::resolve(None).unwrap_or(Caller::Anonymous)
}

#[pg_extern(schema = "mps_auth", stable, security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn caller_member_id() -> Option<Uuid> {
    match request_caller() {
        Caller::Member { member_id, .. } => Some(member_id),
        _ => None,
    }
}

#[pg_extern(schema = "mps_auth", stable, security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn caller_merchant_id() -> Option<Uuid> {
    match request_caller() {
        Caller::Merchant { merchant_id, .. } => Some(merchant_id),
        _ => None,
    }
}

#[pg_extern(schema = "mps_auth", stable, security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn caller_is_super_admin() -> bool {
    request_caller().is_super_admin()
}
