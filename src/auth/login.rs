//! Password checks of accounts, through the attempt guard (`auth::guard`): logins and the
//! current password a member or merchant gives to change their own credentials.

use super::guard::{self, Verdict};
use crate::domain::error::{ErrorCode, MpsError, MpsResult};
use crate::domain::password;
use crate::settings;
use crate::store::members::LoginAccount;
use pgrx::datum::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountKind {
    Member,
    Merchant,
}

impl AccountKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountKind::Member => "member",
            AccountKind::Merchant => "merchant",
        }
    }
}

/// The DETAIL of a lock, the same for every subject of a kind.
pub fn locked_detail(what: &str, seconds_left: i64) -> String {
    let minutes = (seconds_left + 59) / 60;
    format!("too many failed {what}; try again in {minutes} minute{}", if minutes == 1 { "" } else { "s" })
}

/// Checks a password for the account found by `identifier`. Unknown accounts, accounts
/// without a password and wrong passwords all fail alike with INVALID_PASSWORD after the
/// same work, and unknown identifiers are counted and locked exactly like accounts, so
/// neither the answer nor its timing tells whether an account exists.
pub fn authenticate(
    kind: AccountKind,
    identifier: &str,
    account: Option<LoginAccount>,
    password: &str,
) -> MpsResult<Uuid> {
    // An account is counted under its id, whichever identifier named it (member number or
    // phone), so it gets five guesses per window in all.
    let subject = match &account {
        Some(a) => a.id.to_string(),
        None => format!("identifier {identifier}"),
    };
    // A login writes a session: on a hot standby it cannot succeed, so no password is
    // checked there (a standby's own attempt counts would otherwise be extra guesses).
    crate::store::refuse_writes_in_recovery();
    let cost = settings::bcrypt_cost();
    let stored = account.as_ref().and_then(|a| a.password_hash.as_deref());
    let verdict = guard::check(kind.as_str(), &subject, || password::verify(password, stored, cost))?;
    match (verdict, account) {
        (Verdict::Right, Some(account)) => Ok(account.id),
        (Verdict::Locked { seconds_left }, _) => {
            Err(MpsError::new(ErrorCode::AccountLocked, locked_detail("password attempts", seconds_left)))
        }
        _ => Err(MpsError::new(ErrorCode::InvalidPassword, "unknown account or wrong password")),
    }
}
