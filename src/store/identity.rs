use super::{query_one, required};
use pgrx::datum::{JsonB, Uuid};

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
    // target (PostgREST's set_config('role', …)) or else the session user.
    let row = query_one(
        "SELECT r.rolname::text,
                r.rolsuper OR pg_catalog.pg_has_role(r.oid, 'mps_admin', 'MEMBER'),
                pg_catalog.current_setting('request.jwt.claims', true),
                pg_catalog.current_setting('request.jwt.claim.sub', true),
                pg_catalog.current_setting('request.jwt.claim.role', true)
           FROM pg_catalog.pg_roles r
          WHERE r.rolname = COALESCE(NULLIF(pg_catalog.current_setting('role'), 'none'), SESSION_USER)",
        &[],
        |r| Ok((r.get::<String>(1)?, r.get::<bool>(2)?, r.get::<String>(3)?, r.get::<String>(4)?, r.get::<String>(5)?)),
    );
    let (role, is_admin, claims, sub, claim_role) = required(row, "pg_roles of the current role");
    RequestContext {
        outer_role: required(role, "pg_roles.rolname"),
        outer_role_is_admin: is_admin.unwrap_or(false),
        jwt_claims: claims,
        legacy_sub: sub,
        legacy_role: claim_role,
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
