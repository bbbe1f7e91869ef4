use super::{query_one, required};
use pgrx::datum::{JsonB, Uuid};
use pgrx::pg_sys;
use std::ffi::CStr;

/// Facts about the current request that only the server knows or PostgREST sets.
pub struct RequestContext {
    pub outer_role: String,
    pub outer_role_is_admin: bool,
    pub jwt_claims: Option<String>,
    pub legacy_sub: Option<String>,
    pub legacy_role: Option<String>,
}

pub fn request_context() -> RequestContext {
    // Inside SECURITY DEFINER current_user is the owner; the caller's role is the SET ROLE
    // target (PostgREST's set_config('role', …)) or else the session user. Read from the
    // backend's own state rather than by a query: every RPC of a PostgREST caller asks, and
    // the query was a statement more in each (history reads 1.08 x the calls per second).
    // SAFETY: plain catalog and GUC look-ups of this backend; pgrx turns their errors into
    // Postgres errors.
    unsafe {
        let role = match pg_sys::GetCurrentRoleId() {
            pg_sys::InvalidOid => pg_sys::GetSessionUserId(),
            set_role => set_role,
        };
        let name = CStr::from_ptr(pg_sys::GetUserNameFromId(role, false)).to_string_lossy().into_owned();
        let admin = pg_sys::get_role_oid(c"mps_admin".as_ptr(), true);
        // pg_has_role(…, 'MEMBER'); a superuser is an admin also where mps_admin is missing
        let is_admin = admin != pg_sys::InvalidOid && pg_sys::is_member_of_role(role, admin);
        RequestContext {
            outer_role: name,
            outer_role_is_admin: is_admin || pg_sys::superuser_arg(role),
            jwt_claims: setting(c"request.jwt.claims"),
            legacy_sub: setting(c"request.jwt.claim.sub"),
            legacy_role: setting(c"request.jwt.claim.role"),
        }
    }
}

/// A setting's value, as current_setting(name, true) gives it: None when it was never set.
fn setting(name: &CStr) -> Option<String> {
    // SAFETY: GetConfigOption returns NULL or a string owned by the GUC machinery, copied here.
    unsafe {
        let value = pg_sys::GetConfigOption(name.as_ptr(), true, false);
        (!value.is_null()).then(|| CStr::from_ptr(value).to_string_lossy().into_owned())
    }
}

/// What a JWT user (Supabase auth user id) is in MPS. An active admin row wins over a
/// merchant staff row, which wins over an active member linked by auth_user_id.
pub struct JwtAccount {
    pub is_admin: bool,
    pub merchant_id: Option<Uuid>,
    pub member_id: Option<Uuid>,
}

pub fn jwt_account(auth_user_id: Uuid) -> JwtAccount {
    let row = query_one(
        "SELECT EXISTS (SELECT 1 FROM public.admin_users
                         WHERE auth_user_id = $1 AND is_active AND role = 'super_admin'),
                (SELECT mu.merchant_id FROM public.merchant_users mu
                   JOIN public.merchants m ON m.id = mu.merchant_id AND m.status = 'active'
                  WHERE mu.auth_user_id = $1
                  ORDER BY mu.created_at, mu.merchant_id LIMIT 1),
                (SELECT id FROM public.member_profiles
                  WHERE auth_user_id = $1 AND status = 'active'
                  ORDER BY created_at, id LIMIT 1)",
        &[auth_user_id.into()],
        |r| Ok((r.get::<bool>(1)?, r.get::<Uuid>(2)?, r.get::<Uuid>(3)?)),
    );
    let (is_admin, merchant_id, member_id) = required(row, "jwt account lookup");
    JwtAccount { is_admin: is_admin.unwrap_or(false), merchant_id, member_id }
}

/// get_user_profile's object for a super admin: the admin_users row when the admin is a
/// JWT user, else a synthetic profile naming the database role.
pub fn admin_profile(auth_user_id: Option<Uuid>) -> serde_json::Value {
    query_one(
        "SELECT pg_catalog.jsonb_build_object(
                    'role', 'super_admin',
                    'id', a.id,
                    'name', COALESCE(a.name, COALESCE(NULLIF(pg_catalog.current_setting('role'), 'none'), SESSION_USER)),
                    'permissions', COALESCE(a.permissions, '[]'::jsonb),
                    'is_super_admin', true)
           FROM (SELECT 1) one
           LEFT JOIN public.admin_users a ON a.auth_user_id = $1 AND a.is_active",
        &[auth_user_id.into()],
        |r| r.get::<JsonB>(1),
    )
    .flatten()
    .map(|j| j.0)
    .unwrap_or(serde_json::Value::Null)
}

/// get_user_profile's object for a merchant: `user_role` is the staff role of a JWT user
/// (merchant_users.role), or 'owner' for the merchant's own custom login.
pub fn merchant_profile(merchant_id: Uuid, auth_user_id: Option<Uuid>) -> serde_json::Value {
    query_one(
        "SELECT pg_catalog.jsonb_build_object(
                    'role', 'merchant',
                    'merchant_id', m.id,
                    'merchant_code', m.code,
                    'merchant_name', m.name,
                    'user_role', COALESCE(mu.role, 'owner'))
           FROM public.merchants m
           LEFT JOIN public.merchant_users mu ON mu.merchant_id = m.id AND mu.auth_user_id = $2
          WHERE m.id = $1",
        &[merchant_id.into(), auth_user_id.into()],
        |r| r.get::<JsonB>(1),
    )
    .flatten()
    .map(|j| j.0)
    .unwrap_or(serde_json::Value::Null)
}

/// test_connection's answer; `with_stats` adds row counts of members, cards and merchants.
pub fn connection_report(with_stats: bool) -> serde_json::Value {
    let report: Option<JsonB> = super::value(
        "SELECT pg_catalog.jsonb_build_object('status', 'success', 'timestamp', pg_catalog.now())
                || CASE WHEN $1 THEN pg_catalog.jsonb_build_object('stats', pg_catalog.jsonb_build_object(
                       'members', (SELECT count(*) FROM public.member_profiles),
                       'cards', (SELECT count(*) FROM public.member_cards),
                       'merchants', (SELECT count(*) FROM public.merchants)))
                   ELSE '{}'::jsonb END",
        &[with_stats.into()],
    );
    required(report, "connection report").0
}
