//! Who is calling. Resolved once per call, inside the call, from (1) `p_session_id`, (2) the
//! JWT claims PostgREST set for the request, (3) the database role for psql callers.
//! Nothing a client can SET is trusted and nothing survives the call.

pub mod guard;
pub mod login;

use crate::domain::error::{ErrorCode, MpsError, MpsResult};
use crate::domain::identity::{self, RequestFacts, Source};
use crate::domain::policy::{self, Action, Denial, Principal};
use crate::domain::tokens;
use crate::store;
use pgrx::datum::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    Anonymous,
    /// `auth_user` is the JWT user, if the admin came through one.
    SuperAdmin {
        auth_user: Option<Uuid>,
    },
    /// `auth_user` is the staff member's JWT user; None for the merchant's own session.
    Merchant {
        merchant_id: Uuid,
        auth_user: Option<Uuid>,
    },
    Member {
        member_id: Uuid,
        auth_user: Option<Uuid>,
    },
}

impl Caller {
    /// The caller as the authorization policy sees it.
    pub fn principal(&self) -> Principal<Uuid> {
        match *self {
            Caller::Anonymous => Principal::Anonymous,
            Caller::SuperAdmin { .. } => Principal::SuperAdmin,
            Caller::Merchant { merchant_id, .. } => Principal::Merchant(merchant_id),
            Caller::Member { member_id, .. } => Principal::Member(member_id),
        }
    }

    /// Asks the policy (domain::policy::allow, the one place that decides) whether this
    /// caller may do `action`.
    pub fn allow(&self, action: Action<'_, Uuid>) -> Result<(), Denial> {
        policy::allow(self.principal(), action)
    }

    /// The contract's role names.
    pub fn role_name(&self) -> Option<&'static str> {
        self.principal().role_name()
    }

    /// Who did it, for the audit log: the JWT user, else the session's member or merchant.
    pub fn actor_id(&self) -> Option<Uuid> {
        match *self {
            Caller::Anonymous => None,
            Caller::SuperAdmin { auth_user } => auth_user,
            Caller::Merchant { merchant_id, auth_user } => auth_user.or(Some(merchant_id)),
            Caller::Member { member_id, auth_user } => auth_user.or(Some(member_id)),
        }
    }

    /// The JWT (Supabase auth) user behind the call, if any.
    pub fn auth_user(&self) -> Option<Uuid> {
        match *self {
            Caller::Anonymous => None,
            Caller::SuperAdmin { auth_user }
            | Caller::Merchant { auth_user, .. }
            | Caller::Member { auth_user, .. } => auth_user,
        }
    }

    /// Whether the caller may administer (and so sees and may do everything).
    pub fn is_super_admin(&self) -> bool {
        self.allow(Action::Administer).is_ok()
    }

    /// The role recorded in the audit log.
    pub fn audit_role(&self) -> &'static str {
        self.role_name().unwrap_or("anonymous")
    }

    pub fn audit(&self, action: &str, object_type: &str, object_id: Option<Uuid>, context: serde_json::Value) {
        store::audit::record(self.actor_id(), self.audit_role(), action, object_type, object_id, context);
    }
}

/// The caller of the current RPC. An empty `session_id` counts as none; any other value
/// must name a live session.
pub fn resolve(session_id: Option<&str>) -> MpsResult<Caller> {
    match session_id.filter(|s| !s.is_empty()) {
        Some(sid) => resolve_session(sid),
        None => Ok(resolve_request()),
    }
}

fn resolve_session(session_id: &str) -> MpsResult<Caller> {
    let invalid = || MpsError::new(ErrorCode::SessionInvalid, "p_session_id does not name a live session");
    if !tokens::is_well_formed(session_id) {
        return Err(invalid());
    }
    let s = store::sessions::find_live(&tokens::digest(session_id)).ok_or_else(invalid)?;
    match (s.user_role.as_str(), s.member_id, s.merchant_id) {
        ("member", Some(member_id), _) => Ok(Caller::Member { member_id, auth_user: None }),
        ("merchant", _, Some(merchant_id)) => Ok(Caller::Merchant { merchant_id, auth_user: None }),
        ("super_admin", _, _) => Ok(Caller::SuperAdmin { auth_user: Some(s.user_id) }),
        _ => Err(invalid()),
    }
}

fn resolve_request() -> Caller {
    let ctx = store::identity::request_context();
    let facts = RequestFacts {
        outer_role: &ctx.outer_role,
        outer_role_is_admin: ctx.outer_role_is_admin,
        jwt_claims: ctx.jwt_claims.as_deref(),
        legacy_sub: ctx.legacy_sub.as_deref(),
        legacy_role: ctx.legacy_role.as_deref(),
    };
    match identity::identify(&facts) {
        Source::ServiceRole { sub } => Caller::SuperAdmin { auth_user: sub.map(to_pg_uuid) },
        Source::AdminRole => Caller::SuperAdmin { auth_user: None },
        Source::Anonymous => Caller::Anonymous,
        Source::JwtUser(sub) => {
            let auth_user = to_pg_uuid(sub);
            let account = store::identity::jwt_account(auth_user);
            if account.is_admin {
                Caller::SuperAdmin { auth_user: Some(auth_user) }
            } else if let Some(merchant_id) = account.merchant_id {
                Caller::Merchant { merchant_id, auth_user: Some(auth_user) }
            } else if let Some(member_id) = account.member_id {
                Caller::Member { member_id, auth_user: Some(auth_user) }
            } else {
                Caller::Anonymous
            }
        }
    }
}

pub fn to_pg_uuid(u: uuid::Uuid) -> Uuid {
    Uuid::from_bytes(*u.as_bytes())
}
