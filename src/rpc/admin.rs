//! Administration: suspending and activating members and merchants, editing members, and the
//! identifier-based writers (toggle_card_status_by_card_no, update_member_by_identifier,
//! set_member_password_by_identifier, toggle_member_status_by_identifier). Unlike the
//! original, every one of them writes an audit row.

use super::accounts::{change_member_password, checked_contact, claim_contact, require_current_password};
use super::{optional_text, required, scopes::find_member};
use crate::auth::login::AccountKind;
use crate::auth::{self, Caller};
use crate::datum::Enum;
use crate::domain::enums::{CardStatus, CardType, MemberStatus};
use crate::domain::error::{ErrorCode, MpsError, MpsResult};
use crate::domain::policy::Action;
use crate::error::rpc;
use crate::settings;
use crate::store;
use pgrx::datum::Uuid;
use pgrx::prelude::*;
use serde_json::json;

fn member_not_found(member_id: Uuid) -> MpsError {
    MpsError::new(ErrorCode::MemberNotFound, format!("no member with id {member_id}"))
}

fn merchant_not_found(merchant_id: Uuid) -> MpsError {
    MpsError::new(ErrorCode::MerchantNotFound, format!("no merchant with id {merchant_id}"))
}

/// Any status but active ends every session of the member at once: a session must not come
/// back to life when the member is activated again.
fn set_member_status(caller: &Caller, member_id: Uuid, status: MemberStatus, action: &str) -> MpsResult<bool> {
    if !store::members::set_status(member_id, status) {
        return Err(member_not_found(member_id));
    }
    if status != MemberStatus::Active {
        store::sessions::delete_for_account(member_id, None);
    }
    caller.audit(action, "member_profiles", Some(member_id), json!({ "status": status }));
    Ok(true)
}

fn set_merchant_status(
    p_merchant_id: Option<Uuid>,
    status: &str,
    action: &str,
    p_session_id: Option<&str>,
) -> MpsResult<bool> {
    let caller = auth::resolve(p_session_id)?;
    caller.allow(Action::Administer)?;
    let merchant_id = required(p_merchant_id, "p_merchant_id")?;
    if !store::merchants::set_status(merchant_id, status) {
        return Err(merchant_not_found(merchant_id));
    }
    if status != "active" {
        store::sessions::delete_for_account(merchant_id, None);
    }
    caller.audit(action, "merchants", Some(merchant_id), json!({ "status": status }));
    Ok(true)
}

fn admin_member_status(
    p_member_id: Option<Uuid>,
    status: MemberStatus,
    action: &str,
    p_session_id: Option<&str>,
) -> MpsResult<bool> {
    let caller = auth::resolve(p_session_id)?;
    caller.allow(Action::Administer)?;
    set_member_status(&caller, required(p_member_id, "p_member_id")?, status, action)
}

/// A suspended member can neither log in nor move money; their sessions end.
#[pg_extern(name = "admin_suspend_member", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn rpc_admin_suspend_member(p_member_id: Option<Uuid>, p_session_id: default!(Option<&str>, "NULL")) -> bool {
    rpc(|| admin_member_status(p_member_id, MemberStatus::Suspended, "MEMBER_SUSPEND", p_session_id))
}

#[pg_extern(name = "admin_activate_member", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn rpc_admin_activate_member(p_member_id: Option<Uuid>, p_session_id: default!(Option<&str>, "NULL")) -> bool {
    rpc(|| admin_member_status(p_member_id, MemberStatus::Active, "MEMBER_ACTIVATE", p_session_id))
}

#[pg_extern(name = "admin_suspend_merchant", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn rpc_admin_suspend_merchant(p_merchant_id: Option<Uuid>, p_session_id: default!(Option<&str>, "NULL")) -> bool {
    rpc(|| set_merchant_status(p_merchant_id, "inactive", "MERCHANT_SUSPEND", p_session_id))
}

#[pg_extern(name = "admin_activate_merchant", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn rpc_admin_activate_merchant(p_merchant_id: Option<Uuid>, p_session_id: default!(Option<&str>, "NULL")) -> bool {
    rpc(|| set_merchant_status(p_merchant_id, "active", "MERCHANT_ACTIVATE", p_session_id))
}

/// Changes the given fields (NULL or blank keeps one). Phone and email must have their
/// shape and must not be another member's phone, email or member number.
fn update_member(
    caller: &Caller,
    member_id: Uuid,
    name: Option<&str>,
    phone: Option<&str>,
    email: Option<&str>,
) -> MpsResult<bool> {
    let name = optional_text(name);
    let (phone, email) = checked_contact(phone, email)?;
    claim_contact(Some(member_id), phone, email)?;
    if !store::members::update_contact(member_id, name, phone, email) {
        return Err(member_not_found(member_id));
    }
    caller.audit(
        "UPDATE_MEMBER",
        "member_profiles",
        Some(member_id),
        json!({ "name": name, "phone": phone, "email": email }),
    );
    Ok(true)
}

/// Super admins, or the member themself; a member changing their phone or email (both are
/// login and support identifiers) gives their current password.
#[pg_extern(name = "update_member_profile", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn rpc_update_member_profile(
    p_member_id: Option<Uuid>,
    p_name: default!(Option<&str>, "NULL"),
    p_phone: default!(Option<&str>, "NULL"),
    p_email: default!(Option<&str>, "NULL"),
    p_session_id: default!(Option<&str>, "NULL"),
    p_current_password: default!(Option<&str>, "NULL"),
) -> bool {
    rpc(|| {
        let caller = auth::resolve(p_session_id)?;
        let member_id = required(p_member_id, "p_member_id")?;
        caller.allow(Action::ActForMember { member: member_id })?;
        if optional_text(p_phone).is_some() || optional_text(p_email).is_some() {
            require_current_password(&caller, AccountKind::Member, member_id, p_current_password)?;
        }
        update_member(&caller, member_id, p_name, p_phone, p_email)
    })
}

#[pg_extern(name = "update_member_by_identifier", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn rpc_update_member_by_identifier(
    p_identifier: Option<&str>,
    p_name: default!(Option<&str>, "NULL"),
    p_phone: default!(Option<&str>, "NULL"),
    p_email: default!(Option<&str>, "NULL"),
    p_session_id: default!(Option<&str>, "NULL"),
) -> bool {
    rpc(|| {
        let caller = auth::resolve(p_session_id)?;
        caller.allow(Action::Administer)?;
        update_member(&caller, find_member(p_identifier)?, p_name, p_phone, p_email)
    })
}

/// Password rules apply here too (the original accepted one-character passwords:
/// docs/contract.md W13).
#[pg_extern(name = "set_member_password_by_identifier", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn rpc_set_member_password_by_identifier(
    p_identifier: Option<&str>,
    p_new_password: Option<&str>,
    p_session_id: default!(Option<&str>, "NULL"),
) -> bool {
    rpc(|| {
        let caller = auth::resolve(p_session_id)?;
        caller.allow(Action::Administer)?;
        change_member_password(&caller, find_member(p_identifier)?, p_new_password, p_session_id)
    })
}

#[pg_extern(name = "toggle_member_status_by_identifier", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn rpc_toggle_member_status_by_identifier(
    p_identifier: Option<&str>,
    p_new_status: Option<Enum<MemberStatus>>,
    p_session_id: default!(Option<&str>, "NULL"),
) -> bool {
    rpc(|| {
        let caller = auth::resolve(p_session_id)?;
        caller.allow(Action::Administer)?;
        let Enum(status) = required(p_new_status, "p_new_status")?;
        set_member_status(&caller, find_member(p_identifier)?, status, "MEMBER_STATUS_CHANGE")
    })
}

/// Sets any card status (an administrator's override); corporate discounts follow.
#[pg_extern(name = "toggle_card_status_by_card_no", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn rpc_toggle_card_status_by_card_no(
    p_card_no: Option<&str>,
    p_new_status: Option<Enum<CardStatus>>,
    p_session_id: default!(Option<&str>, "NULL"),
) -> bool {
    rpc(|| {
        let caller = auth::resolve(p_session_id)?;
        caller.allow(Action::Administer)?;
        let Enum(status) = required(p_new_status, "p_new_status")?;
        let card_no = p_card_no.unwrap_or_default();
        let card_id = store::cards::find_by_card_no(card_no)
            .ok_or_else(|| MpsError::new(ErrorCode::CardNotFound, format!("no card {card_no:?}")))?;
        let card =
            store::cards::lock(card_id).ok_or_else(|| MpsError::new(ErrorCode::CardNotFound, "the card is gone"))?;
        store::cards::set_status(card_id, status);
        super::cards::record_status_event(card_id, card.status, status);
        if card.card_type == CardType::Corporate {
            super::cards::refresh_bound_members(card_id);
        }
        caller.audit("CARD_STATUS_CHANGE", "member_cards", Some(card_id), json!({ "from": card.status, "to": status }));
        Ok(true)
    })
}

/// The original's test clean-up, for test databases only: refused unless a superuser has
/// turned `mps.allow_test_cleanup` on, so a production database never loses history here.
fn require_test_cleanup(caller: &Caller) -> MpsResult<()> {
    caller.allow(Action::Administer)?;
    if !settings::allow_test_cleanup() {
        return Err(MpsError::new(
            ErrorCode::TestCleanupDisabled,
            "mps.allow_test_cleanup is off for this database: test clean-up would delete real history",
        ));
    }
    Ok(())
}

/// Hard-deletes a member with their cards and everything that hangs off them (movements,
/// ledger rows, keys, QR codes, bindings, sessions, audit and feed events); members bound to the
/// member's corporate cards lose their discount.
#[pg_extern(name = "delete_test_member", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn rpc_delete_test_member(p_member_id: Option<Uuid>, p_session_id: default!(Option<&str>, "NULL")) -> bool {
    rpc(|| {
        let caller = auth::resolve(p_session_id)?;
        require_test_cleanup(&caller)?;
        let member_id = required(p_member_id, "p_member_id")?;
        let removed = store::test_cleanup::delete_member(member_id).ok_or_else(|| member_not_found(member_id))?;
        super::cards::refresh_members(&removed.bound_members);
        caller.audit(
            "DELETE_TEST_MEMBER",
            "member_profiles",
            Some(member_id),
            json!({ "cards": removed.cards, "movements": removed.movements }),
        );
        Ok(true)
    })
}

/// Hard-deletes a merchant with its movements, settlements, staff and sessions. The cards
/// those movements touched keep their balance and points (verify_ledger() stays clean).
#[pg_extern(name = "delete_test_merchant", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn rpc_delete_test_merchant(p_merchant_id: Option<Uuid>, p_session_id: default!(Option<&str>, "NULL")) -> bool {
    rpc(|| {
        let caller = auth::resolve(p_session_id)?;
        require_test_cleanup(&caller)?;
        let merchant_id = required(p_merchant_id, "p_merchant_id")?;
        let removed =
            store::test_cleanup::delete_merchant(merchant_id).ok_or_else(|| merchant_not_found(merchant_id))?;
        caller.audit(
            "DELETE_TEST_MERCHANT",
            "merchants",
            Some(merchant_id),
            json!({ "cards": removed.cards, "movements": removed.movements }),
        );
        Ok(true)
    })
}
