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

/// The owner binding is never removed or changed.
pub fn check_removal(bound_role: CardRole) -> MpsResult<()> {
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
    fn owner_binding_is_never_removed() {
        assert_eq!(check_removal(CardRole::Owner).unwrap_err().code, ErrorCode::CannotRemoveLastOwner);
        assert!(check_removal(CardRole::Member).is_ok());
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
