//! Accounts: create_member_profile, create_merchant, set_member_password,
//! set_merchant_password.

use super::{optional_text, required, required_text, scopes::require_merchant_access};
use crate::auth::login::{self, AccountKind};
use crate::auth::{self, to_pg_uuid, Caller};
use crate::datum::Enum;
use crate::domain::enums::CardType;
use crate::domain::error::{ErrorCode, MpsError, MpsResult};
use crate::domain::policy::Action;
use crate::domain::{contact, levels, password, tokens};
use crate::error::rpc;
use crate::settings;
use crate::store;
use crate::store::cards::NewCard;
use crate::store::members::{NewMember, Taken};
use pgrx::datum::Uuid;
use pgrx::prelude::*;
use rust_decimal::Decimal;
use serde_json::json;

/// The provider name under which `p_binding_org_id` is a Supabase auth user id.
const SUPABASE_PROVIDER: &str = "supabase";

fn new_password_hash(password: &str) -> MpsResult<String> {
    password::validate_new(password, settings::password_min_length())?;
    Ok(password::hash(password, settings::bcrypt_cost()))
}

/// A new member with a standard card (owner binding, level of 0 points), optionally a
/// password and an external identity. `p_default_card_type` is accepted and, as in the
/// original, reserved: the automatic card is always standard.
#[pg_extern(name = "create_member_profile", security_definer)]
#[search_path(pg_catalog, pg_temp)]
#[allow(clippy::too_many_arguments)]
fn rpc_create_member_profile(
    p_name: Option<&str>,
    p_phone: Option<&str>,
    p_email: Option<&str>,
    p_password: default!(Option<&str>, "NULL"),
    p_binding_user_org: default!(Option<&str>, "NULL"),
    p_binding_org_id: default!(Option<&str>, "NULL"),
    p_default_card_type: default!(Option<Enum<CardType>>, "'standard'"),
    p_session_id: default!(Option<&str>, "NULL"),
) -> Uuid {
    let _ = p_default_card_type; // reserved, as in the original
    rpc(|| {
        let caller = auth::resolve(p_session_id)?;
        caller.allow(Action::Administer)?;

        let name = required_text(p_name, "p_name")?;
        let (phone, email) = checked_contact(p_phone, p_email)?;
        let password_hash = p_password.map(new_password_hash).transpose()?;
        let external = optional_text(p_binding_user_org).zip(optional_text(p_binding_org_id));
        let auth_user_id = match external {
            Some((SUPABASE_PROVIDER, id)) => Some(supabase_user(id)?),
            _ => None,
        };
        let member = NewMember {
            name,
            phone,
            email,
            password_hash,
            binding_user_org: external.map(|(org, _)| org),
            binding_org_id: external.map(|(_, id)| id),
            auth_user_id,
        };
        claim_contact(None, phone, email)?;
        let member_id =
            store::members::insert(&member).ok_or_else(|| duplicate_error(store::members::taken(&member)))?;

        let standing = levels::standing(0, &store::levels::active());
        store::cards::insert_with_owner(&NewCard {
            card_type: CardType::Standard,
            owner: member_id,
            name: None,
            balance: Decimal::ZERO,
            level: standing.level,
            discount: standing.discount,
            fixed_discount: None,
            expires_at: None,
        });
        if let Some((provider, external_id)) = external {
            if !store::members::insert_external_identity(member_id, provider, external_id) {
                return Err(MpsError::new(
                    ErrorCode::ExternalIdAlreadyBound,
                    format!("{provider} identity {external_id} is already bound to another member"),
                ));
            }
        }
        caller.audit(
            "CREATE_MEMBER",
            "member_profiles",
            Some(member_id),
            json!({ "name": name, "phone": member.phone, "email": member.email }),
        );
        Ok(member_id)
    })
}

fn supabase_user(id: &str) -> MpsResult<Uuid> {
    let user = uuid::Uuid::parse_str(id)
        .map(to_pg_uuid)
        .map_err(|_| MpsError::new(ErrorCode::InvalidArgument, format!("Supabase user id {id:?} is not a uuid")))?;
    if !store::members::auth_user_exists(user) {
        return Err(MpsError::new(ErrorCode::InvalidArgument, format!("no Supabase user with id {id}")));
    }
    Ok(user)
}

/// The phone and email a call sets (blank counts as not given), checked for shape.
pub(super) fn checked_contact<'a>(
    phone: Option<&'a str>,
    email: Option<&'a str>,
) -> MpsResult<(Option<&'a str>, Option<&'a str>)> {
    let (phone, email) = (optional_text(phone), optional_text(email));
    phone.map(contact::check_phone).transpose()?;
    email.map(contact::check_email).transpose()?;
    Ok((phone, email))
}

/// Claims a phone and email for `member_id` (None: the member being created), or refuses
/// one that another member uses as phone, email or member number. Creations and updates
/// claiming the same value are serialized by one advisory lock per value (one namespace for
/// both columns, taken in sorted order), so the loser gets DUPLICATE_PHONE /
/// DUPLICATE_EMAIL rather than a raw unique violation.
pub(super) fn claim_contact(member_id: Option<Uuid>, phone: Option<&str>, email: Option<&str>) -> MpsResult<()> {
    let mut values: Vec<&str> = phone.into_iter().chain(email).collect();
    values.sort_unstable();
    for value in values {
        store::lock_name(&format!("mps:member-contact:{value}"));
    }
    match store::members::contact_taken(member_id, phone, email) {
        Some(taken) => Err(duplicate_error(Some(taken))),
        None => Ok(()),
    }
}

/// The refusal for a taken unique value. It never repeats the value: the caller learns only
/// that it is taken, not whose it is or in which column.
fn duplicate_error(taken: Option<Taken>) -> MpsError {
    match taken {
        Some(Taken::Phone) => MpsError::new(ErrorCode::DuplicatePhone, "p_phone is already used by another member"),
        Some(Taken::Email) => MpsError::new(ErrorCode::DuplicateEmail, "p_email is already used by another member"),
        Some(Taken::ExternalLink | Taken::AuthUser) | None => {
            MpsError::new(ErrorCode::ExternalIdAlreadyBound, "the external identity is already bound to another member")
        }
    }
}

/// A member or merchant changing their own password, phone or email proves it with their
/// current password, so a stolen session alone cannot take the account over for good.
/// Super admins need none. A wrong password counts toward the login lockout exactly like a
/// failed login (and a locked account answers ACCOUNT_LOCKED).
pub(super) fn require_current_password(
    caller: &Caller,
    kind: AccountKind,
    account_id: Uuid,
    current_password: Option<&str>,
) -> MpsResult<()> {
    if caller.is_super_admin() {
        return Ok(());
    }
    let current_password = current_password.filter(|p| !p.is_empty()).ok_or_else(|| {
        MpsError::new(
            ErrorCode::CurrentPasswordRequired,
            "p_current_password is required to change your own credentials",
        )
    })?;
    let account = match kind {
        AccountKind::Member => store::members::login_account(account_id),
        AccountKind::Merchant => store::merchants::login_account(account_id),
    };
    // Counted under the account, like its logins: a stolen session gets no extra guesses.
    login::authenticate(kind, &account_id.to_string(), account, current_password).map(|_| ())
}

#[pg_extern(name = "create_merchant", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn rpc_create_merchant(
    p_code: Option<&str>,
    p_name: Option<&str>,
    p_contact: default!(Option<&str>, "NULL"),
    p_password: default!(Option<&str>, "NULL"),
    p_session_id: default!(Option<&str>, "NULL"),
) -> Uuid {
    rpc(|| {
        let caller = auth::resolve(p_session_id)?;
        caller.allow(Action::Administer)?;

        let code = required_text(p_code, "p_code")?;
        let name = required_text(p_name, "p_name")?;
        let password_hash = p_password.map(new_password_hash).transpose()?;
        let merchant_id = store::merchants::insert(code, name, optional_text(p_contact), password_hash.as_deref())
            .ok_or_else(|| MpsError::new(ErrorCode::DuplicateMerchantCode, format!("merchant code {code} is taken")))?;
        caller.audit("CREATE_MERCHANT", "merchants", Some(merchant_id), json!({ "code": code, "name": name }));
        Ok(merchant_id)
    })
}

/// A super admin, or the member themself with their current password. Other sessions of
/// the member end.
#[pg_extern(name = "set_member_password", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn rpc_set_member_password(
    p_member_id: Option<Uuid>,
    p_password: Option<&str>,
    p_session_id: default!(Option<&str>, "NULL"),
    p_current_password: default!(Option<&str>, "NULL"),
) -> bool {
    rpc(|| {
        let caller = auth::resolve(p_session_id)?;
        let member_id = required(p_member_id, "p_member_id")?;
        caller.allow(Action::ActForMember { member: member_id })?;
        require_current_password(&caller, AccountKind::Member, member_id, p_current_password)?;
        change_member_password(&caller, member_id, p_password, p_session_id)
    })
}

/// Sets a member's password (rules checked) and ends their other sessions.
pub(super) fn change_member_password(
    caller: &Caller,
    member_id: Uuid,
    password: Option<&str>,
    session_id: Option<&str>,
) -> MpsResult<bool> {
    let hash = new_password_hash(password.unwrap_or_default())?;
    if !store::members::set_password_hash(member_id, &hash) {
        return Err(MpsError::new(ErrorCode::MemberNotFound, format!("no member with id {member_id}")));
    }
    end_other_sessions(member_id, caller, session_id);
    caller.audit("PASSWORD_CHANGED", "member_profiles", Some(member_id), json!({}));
    Ok(true)
}

/// A super admin, or the merchant itself (its session or staff) with its current password.
/// Other sessions of the merchant end.
#[pg_extern(name = "set_merchant_password", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn rpc_set_merchant_password(
    p_merchant_id: Option<Uuid>,
    p_password: Option<&str>,
    p_session_id: default!(Option<&str>, "NULL"),
    p_current_password: default!(Option<&str>, "NULL"),
) -> bool {
    rpc(|| {
        let caller = auth::resolve(p_session_id)?;
        let merchant_id = required(p_merchant_id, "p_merchant_id")?;
        require_merchant_access(&caller, merchant_id)?;
        require_current_password(&caller, AccountKind::Merchant, merchant_id, p_current_password)?;
        let hash = new_password_hash(p_password.unwrap_or_default())?;
        if !store::merchants::set_password_hash(merchant_id, &hash) {
            return Err(MpsError::new(ErrorCode::MerchantNotFound, format!("no merchant with id {merchant_id}")));
        }
        end_other_sessions(merchant_id, &caller, p_session_id);
        caller.audit("PASSWORD_CHANGED", "merchants", Some(merchant_id), json!({}));
        Ok(true)
    })
}

/// A password change ends the account's sessions, except the one making the change.
fn end_other_sessions(account_id: Uuid, caller: &Caller, session_id: Option<&str>) {
    let own = matches!(caller, Caller::Member { .. } | Caller::Merchant { .. })
        .then_some(session_id)
        .flatten()
        .map(tokens::digest);
    store::sessions::delete_for_account(account_id, own.as_deref());
}
