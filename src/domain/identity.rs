//! Who is calling, decided from facts about the request that a client cannot forge:
//! the role the connection really runs as, and the JWT claims PostgREST set for it.
//! Client-settable GUCs such as `app.user_role` are never consulted.

use uuid::Uuid;

/// What the database reports about the current request.
#[derive(Debug, Clone, Default)]
pub struct RequestFacts<'a> {
    /// The role the caller runs as: `SET ROLE` target, else the session user.
    pub outer_role: &'a str,
    /// The outer role is a superuser or a member of `mps_admin`.
    pub outer_role_is_admin: bool,
    /// `request.jwt.claims` (PostgREST ≥ 9).
    pub jwt_claims: Option<&'a str>,
    /// `request.jwt.claim.sub` / `.role` (legacy per-claim settings).
    pub legacy_sub: Option<&'a str>,
    pub legacy_role: Option<&'a str>,
}

/// Where the caller's identity comes from (the session id path is decided before this).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Supabase's server-side key: a super admin. `sub` is kept for the audit trail.
    ServiceRole {
        sub: Option<Uuid>,
    },
    /// A JWT user, to be looked up in admin_users, merchant_users and member_profiles.
    JwtUser(Uuid),
    /// psql as a superuser or a member of `mps_admin`, without claims: a super admin.
    AdminRole,
    Anonymous,
}

pub fn identify(facts: &RequestFacts) -> Source {
    let claims = facts
        .jwt_claims
        .filter(|c| !c.trim().is_empty())
        .and_then(|c| serde_json::from_str::<serde_json::Value>(c).ok())
        .filter(|v| v.is_object());
    let claim = |key: &str, legacy: Option<&str>| -> Option<String> {
        claims
            .as_ref()
            .and_then(|c| c.get(key))
            .and_then(|v| v.as_str())
            .map(str::to_owned)
            .or_else(|| legacy.filter(|s| !s.is_empty()).map(str::to_owned))
    };
    let claim_role = claim("role", facts.legacy_role);
    let claim_sub = claim("sub", facts.legacy_sub);
    let sub = claim_sub.as_deref().and_then(|s| Uuid::parse_str(s).ok());

    if facts.outer_role == "service_role" {
        return Source::ServiceRole { sub };
    }
    if claim_role.is_none() && claim_sub.is_none() {
        return if facts.outer_role_is_admin { Source::AdminRole } else { Source::Anonymous };
    }
    // Claims count only for the role the connection really has switched to (PostgREST does
    // `SET ROLE <claims.role>`), so a caller running as anon cannot claim to be someone
    // else. An admin role may impersonate, as in Supabase's own RLS tests.
    let role = claim_role.as_deref().unwrap_or("authenticated");
    let trusted = facts.outer_role_is_admin || role == facts.outer_role;
    match (trusted, role, sub) {
        (true, "service_role", _) => Source::ServiceRole { sub },
        // anon is the role of whoever holds no verified JWT: a direct database login that may
        // only become anon (a POS as mps_pos) can set any claims it likes, so an anon
        // request's `sub` names nobody.
        (true, "anon", _) => Source::Anonymous,
        (true, _, Some(sub)) => Source::JwtUser(sub),
        _ => Source::Anonymous,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUB: &str = "3f2a8a4e-8f1b-4c1e-9a55-0f2c3d4e5f60";

    fn facts<'a>(role: &'a str, admin: bool, claims: Option<&'a str>) -> RequestFacts<'a> {
        RequestFacts { outer_role: role, outer_role_is_admin: admin, jwt_claims: claims, ..Default::default() }
    }

    #[test]
    fn postgrest_authenticated_user() {
        let c = format!(r#"{{"role":"authenticated","sub":"{SUB}"}}"#);
        assert_eq!(identify(&facts("authenticated", false, Some(&c))), Source::JwtUser(Uuid::parse_str(SUB).unwrap()));
    }

    #[test]
    fn postgrest_anon_and_service_role() {
        assert_eq!(identify(&facts("anon", false, Some(r#"{"role":"anon"}"#))), Source::Anonymous);
        assert_eq!(
            identify(&facts("service_role", false, Some(r#"{"role":"service_role"}"#))),
            Source::ServiceRole { sub: None }
        );
    }

    #[test]
    fn anon_cannot_claim_another_role() {
        let c = format!(r#"{{"role":"authenticated","sub":"{SUB}"}}"#);
        assert_eq!(identify(&facts("anon", false, Some(&c))), Source::Anonymous);
        assert_eq!(identify(&facts("anon", false, Some(r#"{"role":"service_role"}"#))), Source::Anonymous);
        assert_eq!(identify(&facts("authenticated", false, Some(r#"{"role":"service_role"}"#))), Source::Anonymous);
    }

    #[test]
    fn anon_claims_name_nobody_whatever_their_sub() {
        let c = format!(r#"{{"role":"anon","sub":"{SUB}"}}"#);
        assert_eq!(identify(&facts("anon", false, Some(&c))), Source::Anonymous);
        let legacy =
            RequestFacts { outer_role: "anon", legacy_role: Some("anon"), legacy_sub: Some(SUB), ..Default::default() };
        assert_eq!(identify(&legacy), Source::Anonymous);
    }

    #[test]
    fn psql_admin_without_claims_is_admin_and_others_anonymous() {
        assert_eq!(identify(&facts("postgres", true, None)), Source::AdminRole);
        assert_eq!(identify(&facts("postgres", true, Some(""))), Source::AdminRole);
        assert_eq!(identify(&facts("app_user", false, None)), Source::Anonymous);
    }

    #[test]
    fn admin_may_impersonate_a_jwt_user() {
        let c = format!(r#"{{"role":"authenticated","sub":"{SUB}"}}"#);
        assert!(matches!(identify(&facts("postgres", true, Some(&c))), Source::JwtUser(_)));
    }

    #[test]
    fn legacy_claim_settings() {
        let f = RequestFacts { outer_role: "authenticated", legacy_sub: Some(SUB), ..Default::default() };
        assert!(matches!(identify(&f), Source::JwtUser(_)));
    }

    #[test]
    fn garbage_claims_grant_nothing() {
        assert_eq!(identify(&facts("authenticated", false, Some("not json"))), Source::Anonymous);
        assert_eq!(identify(&facts("authenticated", false, Some(r#"{"sub":"not-a-uuid"}"#))), Source::Anonymous);
        assert_eq!(identify(&facts("authenticated", false, Some("[1,2]"))), Source::Anonymous);
    }
}
