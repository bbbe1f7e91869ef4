use super::{execute, query_one, required, value};
use pgrx::datum::{JsonB, Uuid};

/// A live custom-login session whose account is still active.
pub struct LiveSession {
    pub user_role: String,
    pub user_id: Uuid,
    pub member_id: Option<Uuid>,
    pub merchant_id: Option<Uuid>,
}

pub fn find_live(digest: &str) -> Option<LiveSession> {
    query_one(
        "SELECT s.user_role, s.user_id, s.member_id, s.merchant_id
           FROM public.app_sessions s
           LEFT JOIN public.member_profiles p ON p.id = s.member_id
           LEFT JOIN public.merchants m ON m.id = s.merchant_id
          WHERE s.session_id = $1
            AND s.expires_at > pg_catalog.now()
            AND (s.member_id IS NULL OR p.status = 'active')
            AND (s.merchant_id IS NULL OR m.status = 'active')",
        &[digest.into()],
        |r| {
            Ok(LiveSession {
                user_role: required(r.get::<String>(1)?, "app_sessions.user_role"),
                user_id: required(r.get::<Uuid>(2)?, "app_sessions.user_id"),
                member_id: r.get::<Uuid>(3)?,
                merchant_id: r.get::<Uuid>(4)?,
            })
        },
    )
}

/// Records that a live session was used; returns whether it is live.
pub fn touch(digest: &str) -> bool {
    execute(
        "UPDATE public.app_sessions SET last_accessed_at = pg_catalog.now()
          WHERE session_id = $1 AND expires_at > pg_catalog.now()",
        &[digest.into()],
    ) == 1
}

/// Stores a new session under its digest; returns `expires_at` as JSON (ISO-8601 with offset).
pub fn create(
    digest: &str,
    user_role: &str,
    user_id: Uuid,
    member_id: Option<Uuid>,
    merchant_id: Option<Uuid>,
    ttl_secs: i64,
) -> serde_json::Value {
    let expires_at: Option<JsonB> = value(
        "INSERT INTO public.app_sessions (session_id, user_role, user_id, member_id, merchant_id, expires_at)
         VALUES ($1, $2, $3, $4, $5, pg_catalog.now() + pg_catalog.make_interval(secs => $6))
         RETURNING pg_catalog.to_jsonb(expires_at)",
        &[
            digest.into(),
            user_role.into(),
            user_id.into(),
            member_id.into(),
            merchant_id.into(),
            (ttl_secs as f64).into(),
        ],
    );
    required(expires_at, "app_sessions.expires_at").0
}

pub fn delete(digest: &str) -> bool {
    execute("DELETE FROM public.app_sessions WHERE session_id = $1", &[digest.into()]) == 1
}

/// Ends every session of a member or merchant account except `keep` (the caller's own;
/// None ends them all).
pub fn delete_for_account(user_id: Uuid, keep: Option<&str>) -> i64 {
    execute(
        "DELETE FROM public.app_sessions WHERE user_id = $1 AND session_id IS DISTINCT FROM $2",
        &[user_id.into(), keep.into()],
    ) as i64
}
