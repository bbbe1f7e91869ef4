//! Cards and shared-card bindings: create_corporate_card, create_voucher_card,
//! set_card_binding_password, bind_member_to_card, unbind_member_from_card,
//! get_card_bindings, freeze_card, unfreeze_card, get_member_cards, get_card_detail.

use super::required;
use crate::auth::guard::{self, Verdict};
use crate::auth::login;
use crate::auth::{self, Caller};
use crate::datum::{numeric_arg, Enum};
use crate::domain::cards::{self, CardRole};
use crate::domain::enums::{CardStatus, CardType};
use crate::domain::error::{ErrorCode, MpsError, MpsResult};
use crate::domain::money::NumericArg;
use crate::domain::policy::{self, Action, BindingActor};
use crate::domain::DbEnum;
use crate::domain::{events, money, password};
use crate::error::rpc;
use crate::settings;
use crate::store;
use crate::store::cards::{Card, NewCard};
use crate::store::events::NewEvent;
use pgrx::datum::{AnyNumeric, TimestampWithTimeZone, Uuid};
use pgrx::prelude::*;
use rust_decimal::Decimal;
use serde_json::json;

fn card_not_found(card_id: Uuid) -> MpsError {
    MpsError::new(ErrorCode::CardNotFound, format!("no card with id {card_id}"))
}

fn member_not_found(member_id: Uuid) -> MpsError {
    MpsError::new(ErrorCode::MemberNotFound, format!("no member with id {member_id}"))
}

/// The caller's own role on the card, if the caller is a member with access to it.
pub(super) fn caller_role(caller: &Caller, card_id: Uuid) -> Option<CardRole> {
    match *caller {
        Caller::Member { member_id, .. } => store::cards::member_role(card_id, member_id),
        _ => None,
    }
}

/// Reading a card, its bindings or its ledger (policy: `ReadCard`). Checked before the card
/// is looked up: a member asking for a card that is not theirs gets the same answer as for a
/// card that does not exist.
pub(super) fn require_card_access(caller: &Caller, card_id: Uuid) -> MpsResult<()> {
    caller
        .allow(Action::ReadCard { role: &|| caller_role(caller, card_id) })
        .map_err(|denial| denial.or_not_found(|| card_not_found(card_id)))
}

/// Recomputes the member's best corporate discount onto their standard cards
/// (docs/contract.md B11).
fn refresh_corporate_discount(member_id: Uuid) {
    let best = cards::best_corporate_discount(&store::cards::bound_corporate_discounts(member_id));
    store::cards::set_corporate_discount(member_id, best);
}

/// After a corporate card's status changed: its bound members gain or lose its discount.
pub(super) fn refresh_bound_members(card_id: Uuid) {
    refresh_members(&store::cards::bound_members(card_id));
}

/// Each member, row-locked, gets their best corporate discount recomputed.
pub(super) fn refresh_members(members: &[Uuid]) {
    for &member_id in members {
        store::members::lock(member_id);
        refresh_corporate_discount(member_id);
    }
}

fn issue_card(
    caller: &Caller,
    card_type: CardType,
    owner: Option<Uuid>,
    name: Option<&str>,
    initial_balance: Option<AnyNumeric>,
    fixed_discount: Option<Decimal>,
    expires_at: Option<TimestampWithTimeZone>,
) -> MpsResult<Uuid> {
    let owner = required(owner, "p_owner_member_id")?;
    // NULL opens the card empty, like the default
    let initial_balance = initial_balance.map_or(NumericArg::Exact(Decimal::ZERO), numeric_arg);
    let balance = money::amount(Some(initial_balance), ErrorCode::InvalidAmount, "p_initial_balance", true)?;
    if !store::members::exists(owner) {
        return Err(member_not_found(owner));
    }
    let card_id = store::cards::insert_with_owner(&NewCard {
        card_type,
        owner,
        name,
        balance,
        level: 0,
        discount: fixed_discount.unwrap_or(Decimal::ONE),
        fixed_discount,
        expires_at,
    });
    let action = if card_type == CardType::Corporate { "CREATE_CORPORATE_CARD" } else { "CREATE_VOUCHER_CARD" };
    caller.audit(action, "member_cards", Some(card_id), json!({ "owner_member_id": owner.to_string(), "name": name }));
    Ok(card_id)
}

#[pg_extern(name = "create_corporate_card", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn rpc_create_corporate_card(
    p_owner_member_id: Option<Uuid>,
    p_name: default!(Option<&str>, "NULL"),
    p_initial_balance: default!(Option<AnyNumeric>, "0"),
    p_fixed_discount: default!(Option<AnyNumeric>, "NULL"),
    p_session_id: default!(Option<&str>, "NULL"),
) -> Uuid {
    rpc(|| {
        let caller = auth::resolve(p_session_id)?;
        caller.allow(Action::Administer)?;
        let fixed = p_fixed_discount.map(|d| money::discount(numeric_arg(d), "p_fixed_discount")).transpose()?;
        issue_card(&caller, CardType::Corporate, p_owner_member_id, p_name, p_initial_balance, fixed, None)
    })
}

#[pg_extern(name = "create_voucher_card", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn rpc_create_voucher_card(
    p_owner_member_id: Option<Uuid>,
    p_name: default!(Option<&str>, "NULL"),
    p_initial_balance: default!(Option<AnyNumeric>, "0"),
    p_expires_at: default!(Option<TimestampWithTimeZone>, "NULL"),
    p_session_id: default!(Option<&str>, "NULL"),
) -> Uuid {
    rpc(|| {
        let caller = auth::resolve(p_session_id)?;
        caller.allow(Action::Administer)?;
        if p_expires_at.is_some_and(store::is_past) {
            return Err(MpsError::new(ErrorCode::InvalidArgument, "p_expires_at is in the past"));
        }
        issue_card(&caller, CardType::Voucher, p_owner_member_id, p_name, p_initial_balance, None, p_expires_at)
    })
}

/// Super admin or the corporate card's owner/admin.
#[pg_extern(name = "set_card_binding_password", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn rpc_set_card_binding_password(
    p_card_id: Option<Uuid>,
    p_password: Option<&str>,
    p_session_id: default!(Option<&str>, "NULL"),
) -> bool {
    rpc(|| {
        let caller = auth::resolve(p_session_id)?;
        let card_id = required(p_card_id, "p_card_id")?;
        caller.allow(Action::SetBindingPassword { role: &|| caller_role(&caller, card_id) })?;
        let card = store::cards::lock(card_id).ok_or_else(|| card_not_found(card_id))?;
        if card.card_type != CardType::Corporate {
            return Err(MpsError::new(
                ErrorCode::CardTypeNotSupportBindingPassword,
                format!("the card is a {} card", card.card_type),
            ));
        }
        let new_password = p_password.unwrap_or_default();
        cards::check_binding_password(new_password)?;
        store::cards::set_binding_password_hash(card_id, &password::hash(new_password, settings::bcrypt_cost()));
        caller.audit("SET_BINDING_PASSWORD", "member_cards", Some(card_id), json!({}));
        Ok(true)
    })
}

#[pg_extern(name = "bind_member_to_card", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn rpc_bind_member_to_card(
    p_card_id: Option<Uuid>,
    p_member_id: Option<Uuid>,
    p_role: default!(Option<Enum<CardRole>>, "'member'"),
    p_binding_password: default!(Option<&str>, "NULL"),
    p_session_id: default!(Option<&str>, "NULL"),
) -> bool {
    rpc(|| {
        let caller = auth::resolve(p_session_id)?;
        let card_id = required(p_card_id, "p_card_id")?;
        let member_id = required(p_member_id, "p_member_id")?;
        let Enum(role) = p_role.unwrap_or(Enum(CardRole::Member)); // NULL: the default
        let my_role = caller_role(&caller, card_id);
        caller.allow(Action::ChangeBinding { member: member_id, role: &|| my_role, grant: Some(role) })?;
        let actor = policy::binding_actor(caller.principal(), member_id, &|| my_role)?;

        let card = store::cards::lock(card_id).filter(|c| c.status == CardStatus::Active).ok_or_else(|| {
            MpsError::new(ErrorCode::CardNotFoundOrInactive, format!("no active card with id {card_id}"))
        })?;
        if !store::members::lock(member_id) {
            return Err(member_not_found(member_id));
        }
        check_shareable(&card, member_id, actor, p_binding_password)?;
        if let Some(existing) = store::cards::binding_role(card_id, member_id) {
            cards::check_removal(existing)?;
        }
        store::cards::upsert_binding(card_id, member_id, role);
        refresh_corporate_discount(member_id);
        caller.audit(
            "BIND_CARD",
            "member_cards",
            Some(card_id),
            json!({ "member_id": member_id.to_string(), "role": role.label() }),
        );
        Ok(true)
    })
}

/// Only corporate cards take other members; a member binding themself gives the card's
/// binding password, and cannot while the card has none.
fn check_shareable(card: &Card, member_id: Uuid, actor: BindingActor, binding_password: Option<&str>) -> MpsResult<()> {
    if card.card_type != CardType::Corporate {
        return Err(MpsError::new(
            ErrorCode::CardTypeNotShareable,
            format!("a {} card belongs to its owner only", card.card_type),
        ));
    }
    if !store::cards::has_owner_binding(card.id) {
        return Err(MpsError::new(ErrorCode::CardOwnerNotDefined, "the corporate card has no owner binding"));
    }
    if actor != BindingActor::SelfMember || card.owner_member_id == Some(member_id) {
        return Ok(());
    }
    let Some(hash) = store::cards::binding_password_hash(card.id) else {
        return Err(MpsError::new(
            ErrorCode::BindingPasswordRequired,
            "the card has no binding password, so members cannot bind themselves to it",
        ));
    };
    // Counted per card like logins: five wrong passwords lock the card for every binder.
    let given = binding_password.unwrap_or_default();
    match guard::check("card binding", &card.id.to_string(), || {
        password::verify(given, Some(&hash), settings::bcrypt_cost())
    })? {
        Verdict::Right => Ok(()),
        Verdict::Wrong => {
            Err(MpsError::new(ErrorCode::InvalidBindingPassword, "the binding password is wrong or missing"))
        }
        Verdict::Locked { seconds_left } => Err(MpsError::new(
            ErrorCode::BindingPasswordLocked,
            login::locked_detail("binding password attempts", seconds_left),
        )),
    }
}

/// A stranger is refused before anything is read or locked; a member unbinding themself
/// from a card they are not bound to gets the same answer whether the card exists or not.
#[pg_extern(name = "unbind_member_from_card", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn rpc_unbind_member_from_card(
    p_card_id: Option<Uuid>,
    p_member_id: Option<Uuid>,
    p_session_id: default!(Option<&str>, "NULL"),
) -> bool {
    rpc(|| {
        let caller = auth::resolve(p_session_id)?;
        let card_id = required(p_card_id, "p_card_id")?;
        let member_id = required(p_member_id, "p_member_id")?;
        let my_role = caller_role(&caller, card_id);
        caller.allow(Action::ChangeBinding { member: member_id, role: &|| my_role, grant: None })?;
        let actor = policy::binding_actor(caller.principal(), member_id, &|| my_role)?;
        let not_bound = || {
            MpsError::new(ErrorCode::CardBindingNotFound, format!("member {member_id} is not bound to card {card_id}"))
        };
        if actor == BindingActor::SelfMember && store::cards::binding_role(card_id, member_id).is_none() {
            return Err(not_bound());
        }
        store::cards::lock(card_id).ok_or_else(|| card_not_found(card_id))?;
        let bound = store::cards::binding_role(card_id, member_id).ok_or_else(not_bound)?;
        cards::check_removal(bound)?;
        store::members::lock(member_id);
        store::cards::delete_binding(card_id, member_id);
        refresh_corporate_discount(member_id);
        caller.audit("UNBIND_CARD", "member_cards", Some(card_id), json!({ "member_id": member_id.to_string() }));
        Ok(true)
    })
}

/// get_card_bindings' scope: the card, and the one member whose binding the caller may see
/// (NULL: all of them). Super admins and the card's owner/admin see all; a bound member
/// sees their own.
#[pg_extern(schema = "mps_internal", stable)]
fn get_card_bindings(
    p_card_id: Option<Uuid>,
    p_session_id: Option<&str>,
) -> TableIterator<'static, (name!(card_id, Uuid), name!(only_member_id, Option<Uuid>))> {
    rpc(|| {
        let caller = auth::resolve(p_session_id)?;
        let card_id = required(p_card_id, "p_card_id")?;
        require_card_access(&caller, card_id)?;
        store::cards::get(card_id).ok_or_else(|| card_not_found(card_id))?;
        let only = match caller {
            Caller::Member { member_id, .. } if !caller_role(&caller, card_id).is_some_and(CardRole::manages) => {
                Some(member_id)
            }
            _ => None,
        };
        Ok(TableIterator::once((card_id, only)))
    })
}

fn change_status(p_card_id: Option<Uuid>, p_session_id: Option<&str>, freeze: bool) -> MpsResult<bool> {
    let caller = auth::resolve(p_session_id)?;
    caller.allow(Action::Administer)?;
    let card_id = required(p_card_id, "p_card_id")?;
    let card = store::cards::lock(card_id).ok_or_else(|| card_not_found(card_id))?;
    let next = if freeze { cards::frozen_status(card.status)? } else { cards::unfrozen_status(card.status)? };
    store::cards::set_status(card_id, next);
    record_status_event(card_id, card.status, next);
    if card.card_type == CardType::Corporate {
        refresh_bound_members(card_id);
    }
    let action = if freeze { "CARD_FREEZE" } else { "CARD_UNFREEZE" };
    caller.audit(action, "member_cards", Some(card_id), json!({ "from": card.status, "to": next }));
    Ok(true)
}

/// The feed's event for a card's status change, if it makes one (`card_frozen` when it
/// leaves active, `card_unfrozen` when it comes back).
pub(super) fn record_status_event(card_id: Uuid, from: CardStatus, to: CardStatus) {
    if let Some(event_type) = events::status_change(from, to) {
        store::events::record(&NewEvent {
            event_type,
            card_id: Some(card_id),
            merchant_id: None,
            tx_no: None,
            amount: None,
            payload: json!({ "status": to.label() }),
        });
    }
}

#[pg_extern(name = "freeze_card", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn rpc_freeze_card(p_card_id: Option<Uuid>, p_session_id: default!(Option<&str>, "NULL")) -> bool {
    rpc(|| change_status(p_card_id, p_session_id, true))
}

#[pg_extern(name = "unfreeze_card", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn rpc_unfreeze_card(p_card_id: Option<Uuid>, p_session_id: default!(Option<&str>, "NULL")) -> bool {
    rpc(|| change_status(p_card_id, p_session_id, false))
}

/// get_member_cards' scope: the member whose cards the caller may list. NULL means the
/// caller themself.
#[pg_extern(schema = "mps_internal", stable)]
fn get_member_cards(p_member_id: Option<Uuid>, p_session_id: Option<&str>) -> Uuid {
    rpc(|| {
        let caller = auth::resolve(p_session_id)?;
        let member_id = match (p_member_id, caller) {
            (Some(id), _) => id,
            (None, Caller::Member { member_id, .. }) => member_id,
            (None, Caller::Anonymous) => {
                return Err(MpsError::new(ErrorCode::NotAuthenticated, "log in to list your cards"))
            }
            (None, _) => {
                return Err(MpsError::new(ErrorCode::MemberNotFound, "p_member_id is required for this caller"))
            }
        };
        caller.allow(Action::ActForMember { member: member_id })?;
        if !store::members::exists(member_id) {
            return Err(member_not_found(member_id));
        }
        Ok(member_id)
    })
}

/// get_card_detail's scope: the card, if the caller may see it.
#[pg_extern(schema = "mps_internal", stable)]
fn get_card_detail(p_card_id: Option<Uuid>, p_session_id: Option<&str>) -> Uuid {
    rpc(|| {
        let caller = auth::resolve(p_session_id)?;
        let card_id = required(p_card_id, "p_card_id")?;
        require_card_access(&caller, card_id)?;
        store::cards::get(card_id).ok_or_else(|| card_not_found(card_id))?;
        Ok(card_id)
    })
}
