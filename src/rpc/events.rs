//! The event feed: ids for its rows (next_event_id, the column default, which also sends
//! the NOTIFY), what a caller may read of it (event_scope, for the SQL reader get_events in
//! sql/38_api_events.sql) and its Supabase Realtime publication.

use crate::auth::{self, Caller};
use crate::domain::events;
use crate::domain::policy::Action;
use crate::error::rpc;
use crate::settings;
use crate::store;
use pgrx::datum::Uuid;
use pgrx::prelude::*;
use std::cell::Cell;

thread_local! {
    /// The transaction that wrote this backend's last event, and how many it has written.
    static WRITTEN: Cell<(u64, u32)> = const { Cell::new((0, 0)) };
}

/// The id of the next event of this transaction (domain::events::event_id). The first one
/// also queues `NOTIFY mps_events, '<its id>'`, delivered if and when the transaction
/// commits (unless mps.events_notify is off, or the database's notifier worker announces
/// events instead: events_notifier.rs).
#[pg_extern(schema = "mps_internal", volatile, parallel_unsafe)]
fn next_event_id() -> i64 {
    rpc(|| {
        // SAFETY: called inside a transaction (a column default); assigns its id if it has none.
        let xid = unsafe { pg_sys::GetTopFullTransactionId() }.value;
        let index = WRITTEN.with(|written| {
            let (last, count) = written.get();
            let index = if last == xid { count } else { 0 };
            written.set((xid, index + 1));
            index
        });
        let id = events::event_id(xid, index)?;
        if index == 0 && settings::events_notify() && !crate::events_notifier::serves_this_database() {
            store::events::notify(&id.to_string());
        }
        Ok(id)
    })
}

/// The first event id get_events may not return yet, for a snapshot whose oldest running
/// transaction is `p_xmin` (pg_snapshot_xmin).
#[pg_extern(schema = "mps_internal", immutable, parallel_safe)]
fn event_horizon(p_xmin: i64) -> i64 {
    events::horizon(p_xmin.max(0) as u64)
}

/// What the caller reads of the feed: a member the events of their cards, a merchant its
/// own, a super admin (or service_role) all; the page size.
#[pg_extern(schema = "mps_internal", stable)]
#[allow(clippy::type_complexity)] // pgrx reads the result columns from the tuple written out here
fn event_scope(
    p_limit: Option<i32>,
    p_session_id: Option<&str>,
) -> TableIterator<
    'static,
    (name!(member_id, Option<Uuid>), name!(merchant_id, Option<Uuid>), name!(all_events, bool), name!(page_limit, i32)),
> {
    rpc(|| {
        let caller = auth::resolve(p_session_id)?;
        caller.allow(Action::ReadEvents)?;
        let (member, merchant) = match caller {
            Caller::Member { member_id, .. } => (Some(member_id), None),
            Caller::Merchant { merchant_id, .. } => (None, Some(merchant_id)),
            Caller::SuperAdmin { .. } | Caller::Anonymous => (None, None),
        };
        Ok(TableIterator::once((member, merchant, caller.is_super_admin(), events::page_limit(p_limit))))
    })
}

/// Adds public.events to the publication supabase_realtime, so that Supabase clients can
/// subscribe to it (postgres_changes, filtered by its RLS policy). True if it was added
/// now; false if it was there already or there is no such publication. Super admins.
#[pg_extern(name = "add_events_to_realtime", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn rpc_add_events_to_realtime(p_session_id: default!(Option<&str>, "NULL")) -> bool {
    rpc(|| {
        let caller = auth::resolve(p_session_id)?;
        caller.allow(Action::Administer)?;
        let added = store::events::publish_to_realtime();
        if added {
            caller.audit("EVENTS_PUBLISHED", "system", None, serde_json::json!({ "publication": "supabase_realtime" }));
        }
        Ok(added)
    })
}
