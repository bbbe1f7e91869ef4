//! The event feed (get_events): one event per money movement and card event, written in the
//! transaction that made it.
//!
//! Gap-free reading. An event's id is its writer's transaction id shifted left by
//! `INDEX_BITS`, plus the event's number within that transaction. A reader returns only
//! events of transactions older than every transaction still in flight (ids below
//! `horizon(xmin)`, where `xmin` is the oldest transaction id its snapshot still sees
//! running). Every transaction that can still write or commit an event has an id at or
//! above that xmin, so all its events get ids above everything already returned: a reader
//! that passes back the largest id it has received never misses one and never gets one
//! twice, however commits interleave. The price is that an event waits until every older
//! writing transaction has ended.

use crate::enums::CardStatus;
use crate::error::{ErrorCode, MpsError};

/// Bits of an event id that number the events within one transaction.
pub const INDEX_BITS: u32 = 20;
/// Events one transaction may write.
pub const MAX_PER_TRANSACTION: u32 = 1 << INDEX_BITS;
/// Transaction ids (64-bit, with epoch) that still fit once shifted: 2^43, millennia of
/// transactions at any rate PostgreSQL sustains.
const MAX_XID: u64 = 1 << (63 - INDEX_BITS);

/// The NOTIFY channel told when a transaction that wrote events commits.
pub const CHANNEL: &str = "mps_events";

/// Rows of one get_events call: 100 unless asked, at most 1,000.
pub fn page_limit(asked: Option<i32>) -> i32 {
    asked.unwrap_or(100).clamp(1, 1_000)
}

/// The `index`-th event (from 0) of the transaction `xid`.
pub fn event_id(xid: u64, index: u32) -> Result<i64, MpsError> {
    if index >= MAX_PER_TRANSACTION {
        return Err(MpsError::new(
            ErrorCode::InvalidArgument,
            format!("one transaction may write at most {MAX_PER_TRANSACTION} events"),
        ));
    }
    if xid >= MAX_XID {
        return Err(MpsError::new(
            ErrorCode::InvalidArgument,
            format!("transaction id {xid} is past the event id range"),
        ));
    }
    Ok(((xid << INDEX_BITS) | u64::from(index)) as i64)
}

/// The lowest id a reader may not return yet: the first of the oldest transaction in flight.
pub fn horizon(xmin: u64) -> i64 {
    (xmin.min(MAX_XID) << INDEX_BITS) as i64
}

/// The event types, as stored in `events.event_type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventType {
    Payment,
    Refund,
    Recharge,
    PointsAdjusted,
    CardFrozen,
    CardUnfrozen,
    SettlementGenerated,
    HoldAuthorized,
    HoldCaptured,
    HoldVoided,
    HoldExpired,
}

impl EventType {
    pub const ALL: [EventType; 11] = [
        EventType::Payment,
        EventType::Refund,
        EventType::Recharge,
        EventType::PointsAdjusted,
        EventType::CardFrozen,
        EventType::CardUnfrozen,
        EventType::SettlementGenerated,
        EventType::HoldAuthorized,
        EventType::HoldCaptured,
        EventType::HoldVoided,
        EventType::HoldExpired,
    ];

    pub fn label(self) -> &'static str {
        match self {
            EventType::Payment => "payment",
            EventType::Refund => "refund",
            EventType::Recharge => "recharge",
            EventType::PointsAdjusted => "points_adjusted",
            EventType::CardFrozen => "card_frozen",
            EventType::CardUnfrozen => "card_unfrozen",
            EventType::SettlementGenerated => "settlement_generated",
            EventType::HoldAuthorized => "hold_authorized",
            EventType::HoldCaptured => "hold_captured",
            EventType::HoldVoided => "hold_voided",
            EventType::HoldExpired => "hold_expired",
        }
    }
}

/// The event a card's status change makes: leaving `active` freezes the card (it can no
/// longer move money), coming back unfreezes it; other changes make none.
pub fn status_change(from: CardStatus, to: CardStatus) -> Option<EventType> {
    match (from == CardStatus::Active, to == CardStatus::Active) {
        (true, false) => Some(EventType::CardFrozen),
        (false, true) => Some(EventType::CardUnfrozen),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_order_by_transaction_then_index() {
        assert_eq!(event_id(1, 0).unwrap(), 1 << 20);
        assert!(event_id(7, 5).unwrap() < event_id(7, 6).unwrap());
        assert!(event_id(7, MAX_PER_TRANSACTION - 1).unwrap() < event_id(8, 0).unwrap());
        assert_eq!(event_id(7, MAX_PER_TRANSACTION).unwrap_err().code, ErrorCode::InvalidArgument);
        assert_eq!(event_id(MAX_XID, 0).unwrap_err().code, ErrorCode::InvalidArgument);
        assert!(event_id(MAX_XID - 1, MAX_PER_TRANSACTION - 1).unwrap() > 0);
    }

    #[test]
    fn the_horizon_holds_back_every_event_of_transactions_in_flight() {
        // in flight: xid 100 (and anything later); finished: everything before
        assert!(event_id(99, MAX_PER_TRANSACTION - 1).unwrap() < horizon(100));
        assert_eq!(event_id(100, 0).unwrap(), horizon(100));
        assert!(event_id(101, 0).unwrap() > horizon(100));
    }

    #[test]
    fn pages_hold_100_unless_asked_and_at_most_1000() {
        assert_eq!(page_limit(None), 100);
        assert_eq!(page_limit(Some(0)), 1);
        assert_eq!(page_limit(Some(5_000)), 1_000);
        assert_eq!(page_limit(Some(250)), 250);
    }

    #[test]
    fn leaving_and_coming_back_to_active_freeze_and_unfreeze() {
        use CardStatus::*;
        assert_eq!(status_change(Active, Inactive), Some(EventType::CardFrozen));
        assert_eq!(status_change(Active, Lost), Some(EventType::CardFrozen));
        assert_eq!(status_change(Suspended, Active), Some(EventType::CardUnfrozen));
        assert_eq!(status_change(Active, Active), None);
        assert_eq!(status_change(Lost, Closed), None);
    }

    #[test]
    fn labels_are_distinct() {
        let labels: std::collections::HashSet<_> = EventType::ALL.iter().map(|t| t.label()).collect();
        assert_eq!(labels.len(), EventType::ALL.len());
    }
}
