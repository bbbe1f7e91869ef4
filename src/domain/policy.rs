//! Who may do what: the one place that decides. An RPC resolves its caller (a `Principal`),
//! names what it is about to do (an `Action`, carrying the facts about the object that the
//! decision needs) and asks `allow`. Facts that cost a database read are passed as closures
//! and read only for the callers whose answer depends on them.
//!
//! A refusal is either an error to show (`Denial::Refused`: not signed in, the wrong role,
//! not this merchant) or `Denial::Hidden`: the caller is not told the object exists, and the
//! RPC answers with its own not-found error, exactly as for an object that does not exist.
//! The callers each RPC lets through are listed in src/rpc/manifest.tsv and checked by
//! tests/db/test_rpc_matrix.py.

use crate::enums::CardRole;
use crate::error::{ErrorCode, MpsError};
use std::fmt::Display;

/// The caller, as far as authorization cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Principal<Id> {
    Anonymous,
    SuperAdmin,
    Merchant(Id),
    Member(Id),
}

impl<Id> Principal<Id> {
    /// The contract's role names.
    pub fn role_name(&self) -> Option<&'static str> {
        match self {
            Principal::Anonymous => None,
            Principal::SuperAdmin => Some("super_admin"),
            Principal::Merchant(_) => Some("merchant"),
            Principal::Member(_) => Some("member"),
        }
    }
}

/// A fact about the object, read when the decision needs it.
pub type Fact<'a, T> = &'a dyn Fn() -> T;

/// The two QR operations a card holder performs; each has the contract's own messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QrOperation {
    Rotate,
    Revoke,
}

/// How a caller stands to a binding they change (bind_member_to_card, unbind_member_from_card).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BindingActor {
    SuperAdmin,
    /// A member holding an active owner/admin binding on the card.
    CardManager,
    /// A member binding or unbinding themself.
    SelfMember,
}

pub enum Action<'a, Id> {
    /// An administrator's RPC.
    Administer,
    /// check_permission: the caller has `role` (a super admin has every role).
    HaveRole(&'a str),
    /// The member's own account or data (`member`: whose).
    ActForMember { member: Id },
    /// The merchant's own account, money or data. `merchant`: the one the request names,
    /// None if it names none that exists; `named`: how the request named it.
    ActForMerchant { merchant: Option<Id>, named: &'a str },
    /// A card: its details, bindings, point ledger. `role`: the calling member's role on it.
    ReadCard { role: Fact<'a, Option<CardRole>> },
    /// Issue or kill a card's QR code.
    ManageQr { operation: QrOperation, role: Fact<'a, Option<CardRole>> },
    /// Resolve a presented QR code to its card (a POS checking a code).
    CheckQr,
    /// Set a corporate card's binding password.
    SetBindingPassword { role: Fact<'a, Option<CardRole>> },
    /// Bind `member` to a card with role `grant`, or unbind them (`grant` None). `role`: the
    /// calling member's role on the card.
    ChangeBinding { member: Id, role: Fact<'a, Option<CardRole>>, grant: Option<CardRole> },
    /// Recharge a card (`owner`: its owning member).
    Recharge { owner: Fact<'a, Option<Id>> },
    /// Cancel a pending recharge (`owner`: the owning member of its card).
    CancelRecharge { owner: Fact<'a, Option<Id>> },
    /// A movement: made at `merchant`; `on_card` says whether the calling member owns or is
    /// bound to its card.
    ReadTransaction { merchant: Option<Id>, on_card: Fact<'a, bool> },
    /// A settlement of `merchant` (None: no such settlement).
    ReadSettlement { merchant: Option<Id> },
    /// The event feed: each signed-in caller reads its own part of it (get_events).
    ReadEvents,
}

/// Why `allow` said no.
#[derive(Debug, Clone, PartialEq)]
pub enum Denial {
    Refused(MpsError),
    /// Answer as if the object did not exist.
    Hidden,
}

impl Denial {
    /// The error the caller sees: the refusal, or the RPC's own not-found error.
    pub fn or_not_found(self, not_found: impl FnOnce() -> MpsError) -> MpsError {
        match self {
            Denial::Refused(e) => e,
            Denial::Hidden => not_found(),
        }
    }
}

impl From<Denial> for MpsError {
    /// For actions that never hide (their refusals are always errors to show).
    fn from(denial: Denial) -> MpsError {
        denial.or_not_found(|| MpsError::new(ErrorCode::PermissionDenied, "not allowed"))
    }
}

fn refused(code: ErrorCode, detail: impl Into<String>) -> Result<(), Denial> {
    Err(Denial::Refused(MpsError::new(code, detail)))
}

fn needs_role(required: &str, who_role: Option<&str>) -> Result<(), Denial> {
    match who_role {
        None => {
            refused(ErrorCode::NotAuthenticated, format!("this call needs role {required}; the caller is anonymous"))
        }
        Some(role) => Err(Denial::Refused(MpsError::role_required(required, role))),
    }
}

fn qr_refusal(operation: QrOperation, to: QrRefusal) -> Result<(), Denial> {
    use QrOperation::*;
    use QrRefusal::*;
    // The contract's fixed messages (生成: rotate, 撤銷: revoke).
    let (message, detail) = match (operation, to) {
        (Rotate, Merchant) => ("PERMISSION_DENIED: 商戶不能生成 QR 碼", "merchants cannot manage QR codes"),
        (Rotate, Anonymous) => ("PERMISSION_DENIED: 需要登入才能生成 QR 碼", "log in first"),
        (Rotate, NotYours) => {
            ("PERMISSION_DENIED: 您沒有權限為此卡片生成 QR 碼", "the card is neither yours nor bound to you")
        }
        (Revoke, Merchant) => ("PERMISSION_DENIED: 商戶不能撤銷 QR 碼", "merchants cannot manage QR codes"),
        (Revoke, Anonymous) => ("PERMISSION_DENIED: 需要登入才能撤銷 QR 碼", "log in first"),
        (Revoke, NotYours) => {
            ("PERMISSION_DENIED: 您沒有權限撤銷此卡片的 QR 碼", "the card is neither yours nor bound to you")
        }
    };
    Err(Denial::Refused(MpsError::permission(message, detail)))
}

#[derive(Clone, Copy)]
enum QrRefusal {
    Merchant,
    Anonymous,
    NotYours,
}

/// How the caller stands to a binding of `member` they change: a stranger (anonymous, a
/// merchant, a member neither managing the card nor binding themself) is refused.
pub fn binding_actor<Id: Copy + Eq>(
    who: Principal<Id>,
    member: Id,
    role: Fact<'_, Option<CardRole>>,
) -> Result<BindingActor, Denial> {
    match who {
        Principal::SuperAdmin => Ok(BindingActor::SuperAdmin),
        Principal::Anonymous => {
            Err(Denial::Refused(MpsError::new(ErrorCode::NotAuthenticated, "log in to change card bindings")))
        }
        Principal::Member(_) if role().is_some_and(CardRole::manages) => Ok(BindingActor::CardManager),
        Principal::Member(me) if me == member => Ok(BindingActor::SelfMember),
        _ => Err(Denial::Refused(MpsError::new(
            ErrorCode::PermissionDenied,
            "only the member themself, the card's owner or admin, or a super admin may do this",
        ))),
    }
}

/// May `who` do `action`? Checked before the object is locked or changed.
pub fn allow<Id: Copy + Eq + Display>(who: Principal<Id>, action: Action<'_, Id>) -> Result<(), Denial> {
    use Action::*;
    use Principal::*;
    match (action, who) {
        (ChangeBinding { member, role, grant }, _) => binding_actor(who, member, role).and_then(|actor| match grant {
            Some(CardRole::Owner) => {
                refused(ErrorCode::PermissionDenied, "role owner is given only when a card is created")
            }
            Some(CardRole::Admin) if actor == BindingActor::SelfMember => {
                refused(ErrorCode::PermissionDenied, "a member binding themself gets at most role member")
            }
            _ => Ok(()),
        }),
        (_, SuperAdmin) => Ok(()),

        (Administer, _) => needs_role("super_admin", who.role_name()),
        (HaveRole(required), _) if who.role_name() == Some(required) => Ok(()),
        (HaveRole(required), _) => needs_role(required, who.role_name()),

        (ActForMember { member }, Member(me)) if me == member => Ok(()),
        (ActForMember { .. }, Anonymous) => refused(
            ErrorCode::NotAuthenticated,
            "this call needs role super_admin or the member; the caller is anonymous",
        ),
        (ActForMember { .. }, _) => {
            refused(ErrorCode::PermissionDenied, "only a super admin or the member themself may do this")
        }

        (ActForMerchant { merchant, .. }, Merchant(mine)) if merchant == Some(mine) => Ok(()),
        (ActForMerchant { .. }, Anonymous) => refused(ErrorCode::NotAuthenticated, "log in as the merchant"),
        (ActForMerchant { named, .. }, _) => {
            refused(ErrorCode::NotAuthorizedForThisMerchant, format!("the caller may not act for merchant {named}"))
        }

        (ReadCard { .. }, Anonymous) => refused(ErrorCode::NotAuthenticated, "log in to see this card"),
        (ReadCard { .. }, Merchant(_)) => refused(ErrorCode::PermissionDenied, "merchants do not read member cards"),
        (ReadCard { role }, Member(_)) => role().map(|_| ()).ok_or(Denial::Hidden),

        (ManageQr { operation, .. }, Merchant(_)) => qr_refusal(operation, QrRefusal::Merchant),
        (ManageQr { operation, .. }, Anonymous) => qr_refusal(operation, QrRefusal::Anonymous),
        (ManageQr { operation, role }, Member(_)) => match role() {
            Some(_) => Ok(()),
            None => qr_refusal(operation, QrRefusal::NotYours),
        },

        (CheckQr, Merchant(_)) => Ok(()),
        (CheckQr, Anonymous) => refused(ErrorCode::NotAuthenticated, "log in as a merchant to check QR codes"),
        (CheckQr, _) => refused(ErrorCode::PermissionDenied, "only merchants and super admins check QR codes"),

        (SetBindingPassword { role }, Member(_)) if role().is_some_and(CardRole::manages) => Ok(()),
        (SetBindingPassword { .. }, _) => needs_role("super_admin", who.role_name()),

        (Recharge { .. }, Anonymous) => refused(ErrorCode::NotAuthenticated, "log in to recharge a card"),
        (Recharge { owner }, Member(me)) => (owner() == Some(me)).then_some(()).ok_or(Denial::Hidden),
        (Recharge { .. }, _) => {
            refused(ErrorCode::PermissionDenied, "only a super admin or the card's owner may recharge it")
        }

        (CancelRecharge { .. }, Anonymous) => refused(ErrorCode::NotAuthenticated, "log in to cancel a recharge"),
        (CancelRecharge { owner }, Member(me)) => (owner() == Some(me)).then_some(()).ok_or(Denial::Hidden),
        (CancelRecharge { .. }, _) => {
            refused(ErrorCode::PermissionDenied, "only a super admin or the card's owner may cancel a recharge")
        }

        (ReadTransaction { .. }, Anonymous) => refused(ErrorCode::NotAuthenticated, "log in to read a transaction"),
        (ReadTransaction { merchant, .. }, Merchant(mine)) => {
            (merchant == Some(mine)).then_some(()).ok_or(Denial::Hidden)
        }
        (ReadTransaction { on_card, .. }, _) => on_card().then_some(()).ok_or(Denial::Hidden),

        (ReadSettlement { merchant }, Merchant(mine)) => (merchant == Some(mine)).then_some(()).ok_or(Denial::Hidden),
        (ReadSettlement { .. }, _) => needs_role("merchant", who.role_name()),

        (ReadEvents, Anonymous) => refused(ErrorCode::NotAuthenticated, "log in to read events"),
        (ReadEvents, _) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Principal::*;

    const ME: u8 = 1;
    const OTHER: u8 = 2;

    fn code(result: Result<(), Denial>) -> Option<ErrorCode> {
        match result {
            Ok(()) => None,
            Err(Denial::Refused(e)) => Some(e.code),
            Err(Denial::Hidden) => Some(ErrorCode::CardNotFound),
        }
    }

    fn everyone() -> [Principal<u8>; 5] {
        [Anonymous, SuperAdmin, Merchant(ME), Merchant(OTHER), Member(ME)]
    }

    #[test]
    fn super_admins_may_do_everything_but_give_the_owner_role() {
        let owner = || Some(OTHER);
        let none = || None;
        let yes = || true;
        for action in [
            Action::Administer,
            Action::HaveRole("merchant"),
            Action::ActForMember { member: OTHER },
            Action::ActForMerchant { merchant: None, named: "X" },
            Action::ReadCard { role: &none },
            Action::ManageQr { operation: QrOperation::Rotate, role: &none },
            Action::CheckQr,
            Action::SetBindingPassword { role: &none },
            Action::ChangeBinding { member: OTHER, role: &none, grant: Some(CardRole::Admin) },
            Action::Recharge { owner: &owner },
            Action::CancelRecharge { owner: &owner },
            Action::ReadTransaction { merchant: None, on_card: &yes },
            Action::ReadSettlement { merchant: None },
            Action::ReadEvents,
        ] {
            assert_eq!(allow(SuperAdmin, action), Ok(()));
        }
        let grant = Action::ChangeBinding { member: OTHER, role: &none, grant: Some(CardRole::Owner) };
        assert_eq!(code(allow(SuperAdmin, grant)), Some(ErrorCode::PermissionDenied));
    }

    #[test]
    fn roles_accounts_and_merchants() {
        assert_eq!(code(allow(Principal::<u8>::Anonymous, Action::Administer)), Some(ErrorCode::NotAuthenticated));
        assert_eq!(code(allow(Member(ME), Action::Administer)), Some(ErrorCode::PermissionDenied));
        assert_eq!(allow(Member(ME), Action::HaveRole("member")), Ok(()));
        assert_eq!(code(allow(Merchant(ME), Action::HaveRole("member"))), Some(ErrorCode::PermissionDenied));
        assert_eq!(allow(Member(ME), Action::ActForMember { member: ME }), Ok(()));
        assert_eq!(code(allow(Member(OTHER), Action::ActForMember { member: ME })), Some(ErrorCode::PermissionDenied));
        assert_eq!(code(allow(Anonymous, Action::ActForMember { member: ME })), Some(ErrorCode::NotAuthenticated));
        let at = |merchant| Action::ActForMerchant { merchant, named: "M1" };
        assert_eq!(allow(Merchant(ME), at(Some(ME))), Ok(()));
        for who in [Merchant(OTHER), Member(ME)] {
            assert_eq!(code(allow(who, at(Some(ME)))), Some(ErrorCode::NotAuthorizedForThisMerchant));
        }
        // a merchant naming a code that does not exist is told the same as for another's
        assert_eq!(code(allow(Merchant(ME), at(None))), Some(ErrorCode::NotAuthorizedForThisMerchant));
        assert_eq!(code(allow(Anonymous, at(Some(ME)))), Some(ErrorCode::NotAuthenticated));
    }

    #[test]
    fn cards_are_for_the_members_on_them() {
        let bound = || Some(CardRole::Viewer);
        let managing = || Some(CardRole::Admin);
        let stranger = || None;
        assert_eq!(allow(Member(ME), Action::ReadCard { role: &bound }), Ok(()));
        assert_eq!(allow(Member(ME), Action::ReadCard { role: &stranger }), Err(Denial::Hidden));
        assert_eq!(code(allow(Merchant(ME), Action::ReadCard { role: &bound })), Some(ErrorCode::PermissionDenied));
        let rotate = |role| Action::ManageQr { operation: QrOperation::Rotate, role };
        assert_eq!(allow(Member(ME), rotate(&bound)), Ok(()));
        match allow(Member(ME), rotate(&stranger)) {
            Err(Denial::Refused(e)) => assert_eq!(e.message, "PERMISSION_DENIED: 您沒有權限為此卡片生成 QR 碼"),
            other => panic!("{other:?}"),
        }
        assert_eq!(allow(Member(ME), Action::SetBindingPassword { role: &managing }), Ok(()));
        assert_eq!(
            code(allow(Member(ME), Action::SetBindingPassword { role: &bound })),
            Some(ErrorCode::PermissionDenied)
        );
        assert_eq!(allow(Merchant(OTHER), Action::CheckQr), Ok(()));
        assert_eq!(code(allow(Member(ME), Action::CheckQr)), Some(ErrorCode::PermissionDenied));
    }

    #[test]
    fn bindings() {
        let managing = || Some(CardRole::Owner);
        let stranger = || None;
        let change = |member, role, grant| Action::ChangeBinding { member, role, grant };
        assert_eq!(binding_actor(Member(ME), OTHER, &managing), Ok(BindingActor::CardManager));
        assert_eq!(binding_actor(Member(ME), ME, &stranger), Ok(BindingActor::SelfMember));
        assert_eq!(allow(Member(ME), change(OTHER, &managing, Some(CardRole::Admin))), Ok(()));
        assert_eq!(allow(Member(ME), change(ME, &stranger, Some(CardRole::Viewer))), Ok(()));
        assert_eq!(allow(Member(ME), change(ME, &stranger, None)), Ok(()));
        assert_eq!(
            code(allow(Member(ME), change(ME, &stranger, Some(CardRole::Admin)))),
            Some(ErrorCode::PermissionDenied)
        );
        assert_eq!(code(allow(Member(ME), change(OTHER, &stranger, None))), Some(ErrorCode::PermissionDenied));
        assert_eq!(code(allow(Merchant(ME), change(ME, &stranger, None))), Some(ErrorCode::PermissionDenied));
        assert_eq!(code(allow(Anonymous, change(ME, &stranger, None))), Some(ErrorCode::NotAuthenticated));
    }

    #[test]
    fn money_and_history() {
        let mine = || Some(ME);
        let theirs = || Some(OTHER);
        assert_eq!(allow(Member(ME), Action::Recharge { owner: &mine }), Ok(()));
        assert_eq!(allow(Member(ME), Action::Recharge { owner: &theirs }), Err(Denial::Hidden));
        assert_eq!(code(allow(Merchant(ME), Action::Recharge { owner: &mine })), Some(ErrorCode::PermissionDenied));
        assert_eq!(allow(Member(ME), Action::CancelRecharge { owner: &theirs }), Err(Denial::Hidden));
        let on = || true;
        let off = || false;
        assert_eq!(allow(Merchant(ME), Action::ReadTransaction { merchant: Some(ME), on_card: &off }), Ok(()));
        assert_eq!(
            allow(Merchant(OTHER), Action::ReadTransaction { merchant: Some(ME), on_card: &on }),
            Err(Denial::Hidden)
        );
        assert_eq!(allow(Member(ME), Action::ReadTransaction { merchant: Some(ME), on_card: &on }), Ok(()));
        assert_eq!(allow(Merchant(ME), Action::ReadSettlement { merchant: Some(ME) }), Ok(()));
        assert_eq!(allow(Merchant(OTHER), Action::ReadSettlement { merchant: Some(ME) }), Err(Denial::Hidden));
        assert_eq!(
            code(allow(Member(ME), Action::ReadSettlement { merchant: None })),
            Some(ErrorCode::PermissionDenied)
        );
        for who in everyone() {
            let anonymous = who == Anonymous;
            let refused_anonymous = code(allow(who, Action::ReadTransaction { merchant: None, on_card: &on }))
                == Some(ErrorCode::NotAuthenticated);
            assert_eq!(anonymous, refused_anonymous, "{who:?}");
            let events = code(allow(who, Action::ReadEvents));
            assert_eq!(events, anonymous.then_some(ErrorCode::NotAuthenticated), "{who:?}");
        }
    }
}
