//! Authorization for readers. Each function here checks the caller and returns what the
//! caller may read (an id, page bounds); the public SQL function then projects the rows,
//! so result types stay exactly the tables'.

use super::{cards::caller_role, required};
use crate::auth::{self, Caller};
use crate::domain::enums::CardRole;
use crate::domain::error::{ErrorCode, MpsError, MpsResult};
use crate::domain::policy::Action;
use crate::domain::{paging, reports, settlements};
use crate::error::rpc;
use crate::store;
use pgrx::datum::{TimestampWithTimeZone, Uuid};
use pgrx::prelude::*;

/// Super admins only: the page bounds.
#[pg_extern(schema = "mps_internal", stable)]
fn admin_page(
    p_limit: Option<i32>,
    p_offset: Option<i32>,
    p_session_id: Option<&str>,
) -> TableIterator<'static, (name!(page_limit, i32), name!(page_offset, i32))> {
    rpc(|| {
        auth::resolve(p_session_id)?.allow(Action::Administer)?;
        let (limit, offset) = paging::page(p_limit, p_offset);
        Ok(TableIterator::once((limit, offset)))
    })
}

/// ILIKE pattern for a keyword search; NULL (matches nothing) for a blank keyword.
#[pg_extern(schema = "mps_internal", immutable, parallel_safe)]
fn contains_pattern(p_keyword: Option<&str>) -> Option<String> {
    paging::contains_pattern(p_keyword)
}

fn member_not_found(member_id: Uuid) -> MpsError {
    MpsError::new(ErrorCode::MemberNotFound, format!("no member with id {member_id}"))
}

/// A member's data: super admins, or the member themself (NULL = the calling member).
#[pg_extern(schema = "mps_internal", stable)]
fn member_scope(
    p_member_id: Option<Uuid>,
    p_limit: Option<i32>,
    p_offset: Option<i32>,
    p_session_id: Option<&str>,
) -> TableIterator<'static, (name!(member_id, Uuid), name!(page_limit, i32), name!(page_offset, i32))> {
    rpc(|| {
        let (member_id, limit, offset) = member_access(p_member_id, p_limit, p_offset, p_session_id)?;
        if !store::members::exists(member_id) {
            return Err(member_not_found(member_id));
        }
        Ok(TableIterator::once((member_id, limit, offset)))
    })
}

/// member_scope without the look-up of the member: for get_member_transactions, whose page
/// is empty when the member does not exist and which asks member_scope only then (a
/// statement fewer in every call that finds movements).
#[pg_extern(schema = "mps_internal", stable)]
fn member_history_scope(
    p_member_id: Option<Uuid>,
    p_limit: Option<i32>,
    p_offset: Option<i32>,
    p_session_id: Option<&str>,
) -> TableIterator<'static, (name!(member_id, Uuid), name!(page_limit, i32), name!(page_offset, i32))> {
    rpc(|| Ok(TableIterator::once(member_access(p_member_id, p_limit, p_offset, p_session_id)?)))
}

/// The member the caller may read (checked against the policy) and the page bounds.
fn member_access(
    p_member_id: Option<Uuid>,
    p_limit: Option<i32>,
    p_offset: Option<i32>,
    p_session_id: Option<&str>,
) -> MpsResult<(Uuid, i32, i32)> {
    let caller = auth::resolve(p_session_id)?;
    let member_id = match (p_member_id, caller) {
        (Some(id), _) => id,
        (None, Caller::Member { member_id, .. }) => member_id,
        _ => required(p_member_id, "p_member_id")?,
    };
    caller.allow(Action::ActForMember { member: member_id })?;
    let (limit, offset) = paging::page(p_limit, p_offset);
    Ok((member_id, limit, offset))
}

/// Super admins for any merchant, a merchant for itself (policy: `ActForMerchant`).
pub(super) fn require_merchant_access(caller: &Caller, merchant_id: Uuid) -> MpsResult<()> {
    Ok(caller.allow(Action::ActForMerchant { merchant: Some(merchant_id), named: &merchant_id.to_string() })?)
}

/// A merchant's data: super admins, or the merchant itself (NULL = the calling merchant).
#[pg_extern(schema = "mps_internal", stable)]
fn merchant_scope(
    p_merchant_id: Option<Uuid>,
    p_limit: Option<i32>,
    p_offset: Option<i32>,
    p_session_id: Option<&str>,
) -> TableIterator<'static, (name!(merchant_id, Uuid), name!(page_limit, i32), name!(page_offset, i32))> {
    rpc(|| {
        let caller = auth::resolve(p_session_id)?;
        let merchant_id = match (p_merchant_id, caller) {
            (Some(id), _) => id,
            (None, Caller::Merchant { merchant_id, .. }) => merchant_id,
            _ => required(p_merchant_id, "p_merchant_id")?,
        };
        require_merchant_access(&caller, merchant_id)?;
        if !store::merchants::exists(merchant_id) {
            return Err(MpsError::new(ErrorCode::MerchantNotFound, format!("no merchant with id {merchant_id}")));
        }
        let (limit, offset) = paging::page(p_limit, p_offset);
        Ok(TableIterator::once((merchant_id, limit, offset)))
    })
}

/// Reports: a super admin may ask for one merchant or all (None); a merchant gets its own.
fn report_merchant(p_merchant_id: Option<Uuid>, p_session_id: Option<&str>) -> MpsResult<Option<Uuid>> {
    let caller = auth::resolve(p_session_id)?;
    match (p_merchant_id, caller) {
        (None, Caller::Merchant { merchant_id, .. }) => Ok(Some(merchant_id)),
        (None, _) => Ok(caller.allow(Action::Administer).map(|_| None)?),
        (Some(id), _) => require_merchant_access(&caller, id).map(|_| Some(id)),
    }
}

#[pg_extern(schema = "mps_internal", stable)]
fn report_scope(
    p_merchant_id: Option<Uuid>,
    p_session_id: Option<&str>,
) -> TableIterator<'static, (name!(merchant_id, Option<Uuid>),)> {
    rpc(|| Ok(TableIterator::once((report_merchant(p_merchant_id, p_session_id)?,))))
}

/// get_transaction_trends: the report scope, a forward period and the bucket unit.
#[pg_extern(schema = "mps_internal", stable)]
fn trend_scope(
    p_start_date: Option<TimestampWithTimeZone>,
    p_end_date: Option<TimestampWithTimeZone>,
    p_merchant_id: Option<Uuid>,
    p_group_by: Option<&str>,
    p_session_id: Option<&str>,
) -> TableIterator<'static, (name!(merchant_id, Option<Uuid>), name!(unit, String))> {
    rpc(|| {
        let merchant_id = report_merchant(p_merchant_id, p_session_id)?;
        let start = required(p_start_date, "p_start_date")?;
        let end = required(p_end_date, "p_end_date")?;
        settlements::check_period(start.into_inner() < end.into_inner())?;
        let unit = reports::trend_unit(p_group_by)?;
        Ok(TableIterator::once((merchant_id, unit.to_string())))
    })
}

/// get_transaction_detail: super admins; the merchant it was made at; the member owning or
/// bound to its card. Anonymous callers are refused before the look-up, and a transaction
/// the caller may not read looks exactly like one that does not exist.
#[pg_extern(schema = "mps_internal", stable)]
fn transaction_scope(p_tx_no: Option<&str>, p_session_id: Option<&str>) -> Uuid {
    rpc(|| {
        let caller = auth::resolve(p_session_id)?;
        let tx_no = p_tx_no.unwrap_or_default();
        let not_found = || MpsError::new(ErrorCode::TxNotFound, format!("no transaction {tx_no:?}"));
        let found = store::transactions::find_by_no(tx_no);
        let on_card = || found.is_some_and(|(_, card_id, _)| caller_role(&caller, card_id).is_some());
        caller
            .allow(Action::ReadTransaction { merchant: found.and_then(|(_, _, merchant)| merchant), on_card: &on_card })
            .map_err(|denial| denial.or_not_found(not_found))?;
        found.map(|(tx_id, _, _)| tx_id).ok_or_else(not_found)
    })
}

/// get_settlement_detail: super admins, or the settlement's merchant. Another merchant's
/// settlement looks exactly like one that does not exist.
#[pg_extern(schema = "mps_internal", stable)]
fn settlement_scope(p_settlement_id: Option<Uuid>, p_session_id: Option<&str>) -> Uuid {
    rpc(|| {
        let caller = auth::resolve(p_session_id)?;
        let id = required(p_settlement_id, "p_settlement_id")?;
        let not_found = || MpsError::new(ErrorCode::SettlementNotFound, format!("no settlement with id {id}"));
        let merchant = store::settlements::merchant_of(id);
        caller.allow(Action::ReadSettlement { merchant }).map_err(|denial| denial.or_not_found(not_found))?;
        merchant.map(|_| id).ok_or_else(not_found)
    })
}

/// The calling member (get_member_by_auth_user).
#[pg_extern(schema = "mps_internal", stable)]
fn caller_member(p_session_id: Option<&str>) -> Uuid {
    rpc(|| match auth::resolve(p_session_id)? {
        Caller::Member { member_id, .. } => Ok(member_id),
        _ => Err(MpsError::new(ErrorCode::MemberNotFound, "the caller is not a member")),
    })
}

/// The calling merchant (get_merchant_by_auth_user).
#[pg_extern(schema = "mps_internal", stable)]
fn caller_merchant(p_session_id: Option<&str>) -> Uuid {
    rpc(|| match auth::resolve(p_session_id)? {
        Caller::Merchant { merchant_id, .. } => Ok(merchant_id),
        _ => Err(MpsError::new(ErrorCode::MerchantNotFound, "the caller is not a merchant")),
    })
}

/// get_card_details_by_card_no / get_card_by_identifier: super admins, or a member owning or
/// bound to the card; anyone else gets the answer for a card that does not exist.
/// `owner_contact` says whether the caller may see the owner's phone and email: super
/// admins, the owner and the card's admins may; members and viewers of a shared card see
/// the owner's name only.
#[pg_extern(schema = "mps_internal", stable)]
fn card_no_scope(
    p_card_no: Option<&str>,
    p_session_id: Option<&str>,
) -> TableIterator<'static, (name!(card_id, Uuid), name!(owner_contact, bool))> {
    rpc(|| {
        let caller = auth::resolve(p_session_id)?;
        let card_no = p_card_no.unwrap_or_default();
        let not_found = || MpsError::new(ErrorCode::CardNotFound, format!("no card {card_no:?}"));
        let card_id = store::cards::find_by_card_no(card_no);
        let role = card_id.and_then(|card_id| caller_role(&caller, card_id));
        caller.allow(Action::ReadCard { role: &|| role }).map_err(|denial| denial.or_not_found(not_found))?;
        let card_id = card_id.ok_or_else(not_found)?;
        // super admins, the owner and the card's admins may contact the owner
        let owner_contact = caller.is_super_admin() || role.is_some_and(CardRole::manages);
        Ok(TableIterator::once((card_id, owner_contact)))
    })
}

/// get_member_by_identifier: super admins only.
#[pg_extern(schema = "mps_internal", stable)]
fn member_identifier_scope(p_identifier: Option<&str>, p_session_id: Option<&str>) -> Uuid {
    rpc(|| {
        auth::resolve(p_session_id)?.allow(Action::Administer)?;
        find_member(p_identifier)
    })
}

pub(super) fn find_member(identifier: Option<&str>) -> MpsResult<Uuid> {
    let identifier = identifier.unwrap_or_default();
    store::members::find_by_identifier(identifier).ok_or_else(|| {
        MpsError::new(ErrorCode::MemberNotFound, format!("no member with number, phone or email {identifier:?}"))
    })
}

/// get_merchant_by_identifier: super admins only.
#[pg_extern(schema = "mps_internal", stable)]
fn merchant_code_scope(p_code: Option<&str>, p_session_id: Option<&str>) -> Uuid {
    rpc(|| {
        auth::resolve(p_session_id)?.allow(Action::Administer)?;
        let code = p_code.unwrap_or_default();
        store::merchants::find_by_code(code)
            .ok_or_else(|| MpsError::new(ErrorCode::MerchantNotFound, format!("no merchant with code {code:?}")))
    })
}
