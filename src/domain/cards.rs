//! Card rules: who may bind whom with which role, status transitions, corporate discounts.

use crate::error::{ErrorCode, MpsError, MpsResult};
use rust_decimal::Decimal;

/// Minimum length of a corporate card's binding password (the contract's rule; binding
/// passwords are shared codes, not account passwords).
pub const BINDING_PASSWORD_MIN_CHARS: usize = 6;

pub use crate::enums::CardRole;
use crate::enums::CardStatus;

impl CardRole {
    /// Owners and admins manage a card's bindings.
    pub fn manages(self) -> bool {
        matches!(self, CardRole::Owner | CardRole::Admin)
    }
}

/// How the caller of a bind/unbind stands to the card and the member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BindingActor {
    SuperAdmin,
    /// A member holding an active owner/admin binding on the card.
    CardManager,
    /// A member binding or unbinding themself.
    SelfMember,
    Other,
}

fn not_allowed() -> MpsError {
    MpsError::new(
        ErrorCode::PermissionDenied,
        "only the member themself, the card's owner or admin, or a super admin may do this",
    )
}

/// May `actor` change a binding at all? Checked before any row is read or locked, so a
/// stranger learns nothing about the card or the member and holds up nobody.
pub fn check_actor(actor: BindingActor) -> MpsResult<()> {
    match actor {
        BindingActor::Other => Err(not_allowed()),
        _ => Ok(()),
    }
}

/// May `actor` give `role` to a member? Nobody gets `owner` except at card creation, and a
/// member binding themself gets at most `member`.
pub fn check_grant(actor: BindingActor, role: CardRole) -> MpsResult<()> {
    check_actor(actor)?;
    let denied = |detail: &str| Err(MpsError::new(ErrorCode::PermissionDenied, detail));
    match (actor, role) {
        (_, CardRole::Owner) => denied("role owner is given only when a card is created"),
        (BindingActor::SelfMember, CardRole::Admin) => denied("a member binding themself gets at most role member"),
        _ => Ok(()),
    }
}

/// May `actor` remove a binding? The owner binding is never removed.
pub fn check_removal(actor: BindingActor, bound_role: CardRole) -> MpsResult<()> {
    check_actor(actor)?;
    if bound_role == CardRole::Owner {
        return Err(MpsError::new(
            ErrorCode::CannotRemoveLastOwner,
            "the owner's binding cannot be removed or changed",
        ));
    }
    Ok(())
}

/// The corporate discount a member pays with: the best (lowest) fixed discount among the
/// corporate cards they are actively bound to as admin, member or viewer (docs/contract.md
/// B11). The card's owner holds it for the organisation and gets no discount from it, as the
/// original's own test expects (docs/contract.md, "Corporate discount 0.800").
pub fn best_corporate_discount(bound_fixed_discounts: &[Decimal]) -> Option<Decimal> {
    bound_fixed_discounts.iter().copied().min()
}

/// freeze_card: only an active card freezes (to `inactive`); freezing a frozen card is a no-op.
pub fn frozen_status(current: CardStatus) -> MpsResult<CardStatus> {
    match current {
        CardStatus::Active | CardStatus::Inactive => Ok(CardStatus::Inactive),
        other => Err(MpsError::new(ErrorCode::CardNotActive, format!("a {other} card cannot be frozen"))),
    }
}

/// unfreeze_card: only a card frozen by freeze_card (`inactive`) comes back (docs/contract.md B18).
pub fn unfrozen_status(current: CardStatus) -> MpsResult<CardStatus> {
    match current {
        CardStatus::Inactive => Ok(CardStatus::Active),
        other => Err(MpsError::new(ErrorCode::CardNotFrozen, format!("the card is {other}, not frozen"))),
    }
}

/// A new binding password: at least 6 characters, at most bcrypt's 72 bytes.
pub fn check_binding_password(password: &str) -> MpsResult<()> {
    crate::password::validate_new(password, BINDING_PASSWORD_MIN_CHARS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn grants() {
        use BindingActor::*;
        use CardRole::*;
        for actor in [SuperAdmin, CardManager, SelfMember, Other] {
            assert_eq!(check_grant(actor, Owner).unwrap_err().code, ErrorCode::PermissionDenied);
        }
        assert_eq!(
            check_grant(Other, Owner).unwrap_err().detail,
            "only the member themself, the card's owner or admin, or a super admin may do this"
        );
        assert!(check_grant(SuperAdmin, Admin).is_ok());
        assert!(check_grant(CardManager, Admin).is_ok());
        assert!(check_grant(SelfMember, Member).is_ok());
        assert!(check_grant(SelfMember, Viewer).is_ok());
        assert_eq!(check_grant(SelfMember, Admin).unwrap_err().code, ErrorCode::PermissionDenied);
        assert_eq!(check_grant(Other, Member).unwrap_err().code, ErrorCode::PermissionDenied);
    }

    #[test]
    fn owner_binding_is_never_removed() {
        assert_eq!(
            check_removal(BindingActor::SuperAdmin, CardRole::Owner).unwrap_err().code,
            ErrorCode::CannotRemoveLastOwner
        );
        assert!(check_removal(BindingActor::SelfMember, CardRole::Member).is_ok());
        assert_eq!(check_removal(BindingActor::Other, CardRole::Member).unwrap_err().code, ErrorCode::PermissionDenied);
        assert_eq!(check_removal(BindingActor::Other, CardRole::Owner).unwrap_err().code, ErrorCode::PermissionDenied);
        assert!(check_actor(BindingActor::SelfMember).is_ok());
        assert_eq!(check_actor(BindingActor::Other).unwrap_err().code, ErrorCode::PermissionDenied);
    }

    #[test]
    fn best_discount_is_the_lowest_multiplier() {
        let d = |s| Decimal::from_str(s).unwrap();
        assert_eq!(best_corporate_discount(&[d("0.800"), d("0.750")]), Some(d("0.750")));
        assert_eq!(best_corporate_discount(&[d("0.900")]), Some(d("0.900")));
        assert_eq!(best_corporate_discount(&[]), None);
    }

    #[test]
    fn status_transitions() {
        use CardStatus::*;
        assert_eq!(frozen_status(Active).unwrap(), Inactive);
        assert_eq!(frozen_status(Inactive).unwrap(), Inactive);
        assert_eq!(frozen_status(Lost).unwrap_err().code, ErrorCode::CardNotActive);
        assert_eq!(unfrozen_status(Inactive).unwrap(), Active);
        for s in [Lost, Closed, Expired, Active, Suspended] {
            assert_eq!(unfrozen_status(s).unwrap_err().code, ErrorCode::CardNotFrozen, "{s}");
        }
    }

    #[test]
    fn binding_passwords_follow_the_contract_minimum() {
        assert!(check_binding_password("bind123").is_ok());
        assert_eq!(check_binding_password("12345").unwrap_err().code, ErrorCode::PasswordTooShort);
    }
}
