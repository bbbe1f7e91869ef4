//! The event feed's rows (public.events; ids by mps_internal.next_event_id, the column's
//! default). A payment's, refund's or recharge's event is written by the movement's own
//! statement (transactions::record), a hold's and a settlement's by theirs (holds.rs,
//! settlements.rs); these are the others. Each carries the card's owner and balance as they
//! are now, in this transaction.

use super::{execute, value};
use crate::domain::events::EventType;
use crate::domain::events::CHANNEL;
use pgrx::datum::{JsonB, Uuid};
use pgrx::IntoDatum;
use rust_decimal::Decimal;

pub struct NewEvent<'a> {
    pub event_type: EventType,
    pub card_id: Option<Uuid>,
    pub merchant_id: Option<Uuid>,
    pub tx_no: Option<&'a str>,
    pub amount: Option<Decimal>,
    pub payload: serde_json::Value,
}

/// Writes the events of a statement's `ev` rows (event_type, card_id, merchant_id, tx_no,
/// amount, payload), with the card's owner and balance joined in: for statements that do not
/// change the card themselves (they would see its balance from before the change).
pub(super) const FROM_EV: &str = "INSERT INTO public.events (event_type, card_id, member_id, merchant_id, tx_no,
                                                            amount, balance_after, payload)
                                  SELECT ev.event_type::public.event_type, ev.card_id, c.owner_member_id, ev.merchant_id, ev.tx_no,
                                         ev.amount, c.balance, ev.payload
                                    FROM ev LEFT JOIN public.member_cards c ON c.id = ev.card_id";

pub fn record(event: &NewEvent) {
    execute(
        &format!(
            "WITH ev AS (SELECT $1::text AS event_type, $2::uuid AS card_id, $3::uuid AS merchant_id,
                                $4::text AS tx_no, $5::numeric AS amount, $6::jsonb AS payload)
             {FROM_EV}"
        ),
        &[
            event.event_type.label().into(),
            event.card_id.into(),
            event.merchant_id.into(),
            event.tx_no.into(),
            event.amount.map(crate::datum::numeric).into(),
            JsonB(event.payload.clone()).into(),
        ],
    );
}

/// A member's pending recharge, credited now (confirm_recharge): its event, from its row.
pub fn recharge_credited(tx_id: Uuid) {
    execute(
        &format!(
            "WITH ev AS (SELECT 'recharge' AS event_type, card_id, merchant_id, tx_no, final_amount AS amount,
                                pg_catalog.jsonb_build_object('tag', tag) AS payload
                           FROM public.transactions WHERE id = $1)
             {FROM_EV}"
        ),
        &[tx_id.into()],
    );
}

/// Adds public.events to the publication supabase_realtime (sql/38_api_events.sql): whether
/// it was added now.
pub fn publish_to_realtime() -> bool {
    value::<bool>("SELECT mps_internal.add_events_to_publication()", &[]).unwrap_or(false)
}

/// `NOTIFY mps_events, payload`, sent if and when the transaction commits.
pub fn notify(payload: &str) {
    // SAFETY: pg_notify takes two text arguments.
    unsafe {
        pgrx::direct_function_call_as_datum(pgrx::pg_sys::pg_notify, &[CHANNEL.into_datum(), payload.into_datum()]);
    }
}

/// The newest event get_events can return now (its horizon), if the database has the feed.
pub fn newest_readable() -> Option<i64> {
    let has_feed = value::<bool>(
        "SELECT pg_catalog.to_regclass('public.events') IS NOT NULL
                AND pg_catalog.to_regprocedure('mps_internal.event_horizon(bigint)') IS NOT NULL",
        &[],
    )?;
    if !has_feed {
        return None;
    }
    value::<i64>(
        "SELECT max(id) FROM public.events
          WHERE id < mps_internal.event_horizon(pg_catalog.pg_snapshot_xmin(pg_catalog.pg_current_snapshot())::text::bigint)",
        &[],
    )
}
