//! Retention: how long each table that grows with traffic keeps its rows. Money history
//! (transactions and tx_registry, 1:1 with them) is kept forever; what goes is what no live
//! movement needs any more.
//!
//! Times are microseconds on one clock (PostgreSQL's timestamptz counts from 2000-01-01; any
//! epoch works here). A day is 86,400 s, whatever the time zone.

use crate::error::{ErrorCode, MpsError};
use crate::qr;

pub const MICROS_PER_DAY: i64 = 86_400_000_000;

/// The point ledger's opening row for a card: the sum of the detail rows folded into it,
/// dated at the cutoff they were older than. It has no movement (tx_id NULL).
pub const CARRIED_FORWARD: &str = "carried_forward";

/// Rows removed by one statement: bounds each batch, and so how long its row locks last.
pub const DEFAULT_BATCH_ROWS: i32 = 5_000;
pub const MIN_BATCH_ROWS: i32 = 100;
pub const MAX_BATCH_ROWS: i32 = 1_000_000;

/// Why a one-day idempotency window is safe for payments: every charge presents a live QR
/// code, and a code lives at most one day, so a retry made after its key is gone carries a
/// code that has expired and is refused (QR_EXPIRED_OR_INVALID) instead of charging twice.
const _: () = assert!(qr::MAX_TTL_SECS <= 86_400);

/// The tables retention trims, in the order apply_retention reports them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Table {
    AuditLog,
    IdempotencyRegistry,
    MerchantOrderRegistry,
    PointLedger,
    AppSessions,
    CardQrHistory,
    Events,
}

impl Table {
    pub const ALL: [Table; 7] = [
        Table::AuditLog,
        Table::IdempotencyRegistry,
        Table::MerchantOrderRegistry,
        Table::PointLedger,
        Table::AppSessions,
        Table::CardQrHistory,
        Table::Events,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Table::AuditLog => "audit.event_log",
            Table::IdempotencyRegistry => "public.idempotency_registry",
            Table::MerchantOrderRegistry => "public.merchant_order_registry",
            Table::PointLedger => "public.point_ledger",
            Table::AppSessions => "public.app_sessions",
            Table::CardQrHistory => "public.card_qr_history",
            Table::Events => "public.events",
        }
    }
}

/// Days each table keeps (the `mps.retention_*` settings and `mps.qr_history_retention_days`);
/// 0 keeps rows forever.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policy {
    pub audit_days: i32,
    pub idempotency_days: i32,
    pub point_ledger_days: i32,
    pub qr_history_days: i32,
    pub events_days: i32,
}

impl Policy {
    /// Conservative for a payment system: audit seven years (financial records), point detail
    /// three, idempotency keys and external order ids 90 days (a client retries within
    /// minutes; 90 days also covers a merchant's monthly reconciliation), QR history and the
    /// event feed 30 days (a feed is read as it happens; history is in transactions).
    pub const DEFAULT: Policy = Policy {
        audit_days: 2555,
        idempotency_days: 90,
        point_ledger_days: 1095,
        qr_history_days: 30,
        events_days: 30,
    };

    /// The time before which `table`'s rows go, at `now`; None: the table keeps them.
    /// Sessions go as soon as they expire: an expired session can never be used again.
    pub fn cutoff(&self, table: Table, now: i64) -> Option<i64> {
        match table {
            Table::AuditLog => days_before(now, self.audit_days),
            Table::IdempotencyRegistry | Table::MerchantOrderRegistry => days_before(now, self.idempotency_days),
            Table::PointLedger => days_before(now, self.point_ledger_days),
            Table::Events => days_before(now, self.events_days),
            Table::CardQrHistory => days_before(now, self.qr_history_days.max(1)),
            Table::AppSessions => Some(now),
        }
    }
}

fn days_before(now: i64, days: i32) -> Option<i64> {
    (days > 0).then(|| now.saturating_sub(i64::from(days).saturating_mul(MICROS_PER_DAY)))
}

/// The batch size of a run: the setting, kept within [100, 1,000,000].
pub fn batch_rows(setting: i32) -> i64 {
    i64::from(setting.clamp(MIN_BATCH_ROWS, MAX_BATCH_ROWS))
}

/// Whether a table is done: its batch took fewer rows than it could, so nothing older than
/// the cutoff is left. (A full batch may have taken the last ones: the next run finds none.)
pub fn is_done(rows_taken: i64, batch: i64) -> bool {
    rows_taken < batch
}

/// A manual points adjustment may not pose as retention's opening row: verify_ledger()
/// trusts that row's date as the point before which detail was folded.
pub fn check_adjustment_reason(reason: &str) -> Result<(), MpsError> {
    if reason == CARRIED_FORWARD {
        return Err(MpsError::new(
            ErrorCode::InvalidArgument,
            format!("the reason {CARRIED_FORWARD:?} is reserved for the point ledger's retention"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_000 * MICROS_PER_DAY;

    #[test]
    fn each_table_goes_back_its_own_number_of_days() {
        let p =
            Policy { audit_days: 10, idempotency_days: 3, point_ledger_days: 7, qr_history_days: 2, events_days: 5 };
        assert_eq!(p.cutoff(Table::AuditLog, NOW), Some(990 * MICROS_PER_DAY));
        assert_eq!(p.cutoff(Table::IdempotencyRegistry, NOW), Some(997 * MICROS_PER_DAY));
        assert_eq!(p.cutoff(Table::MerchantOrderRegistry, NOW), Some(997 * MICROS_PER_DAY));
        assert_eq!(p.cutoff(Table::PointLedger, NOW), Some(993 * MICROS_PER_DAY));
        assert_eq!(p.cutoff(Table::CardQrHistory, NOW), Some(998 * MICROS_PER_DAY));
        assert_eq!(p.cutoff(Table::Events, NOW), Some(995 * MICROS_PER_DAY));
    }

    #[test]
    fn zero_days_keeps_rows_forever() {
        let p =
            Policy { audit_days: 0, idempotency_days: 0, point_ledger_days: 0, qr_history_days: 30, events_days: 0 };
        assert_eq!(p.cutoff(Table::AuditLog, NOW), None);
        assert_eq!(p.cutoff(Table::IdempotencyRegistry, NOW), None);
        assert_eq!(p.cutoff(Table::MerchantOrderRegistry, NOW), None);
        assert_eq!(p.cutoff(Table::PointLedger, NOW), None);
        assert_eq!(p.cutoff(Table::Events, NOW), None);
    }

    #[test]
    fn qr_history_keeps_at_least_a_day_and_sessions_go_when_they_expire() {
        let p = Policy { qr_history_days: 0, ..Policy::DEFAULT };
        assert_eq!(p.cutoff(Table::CardQrHistory, NOW), Some(999 * MICROS_PER_DAY));
        assert_eq!(Policy::DEFAULT.cutoff(Table::AppSessions, NOW), Some(NOW));
    }

    #[test]
    fn defaults() {
        assert_eq!(Policy::DEFAULT.cutoff(Table::AuditLog, NOW), Some(NOW - 2555 * MICROS_PER_DAY));
        assert_eq!(Policy::DEFAULT.cutoff(Table::IdempotencyRegistry, NOW), Some(NOW - 90 * MICROS_PER_DAY));
        assert_eq!(Policy::DEFAULT.cutoff(Table::PointLedger, NOW), Some(NOW - 1095 * MICROS_PER_DAY));
        assert_eq!(Policy::DEFAULT.cutoff(Table::CardQrHistory, NOW), Some(NOW - 30 * MICROS_PER_DAY));
        assert_eq!(Policy::DEFAULT.cutoff(Table::Events, NOW), Some(NOW - 30 * MICROS_PER_DAY));
    }

    #[test]
    fn a_cutoff_far_in_the_past_does_not_overflow() {
        let p = Policy { audit_days: i32::MAX, ..Policy::DEFAULT };
        assert_eq!(p.cutoff(Table::AuditLog, i64::MIN + 1), Some(i64::MIN));
    }

    #[test]
    fn batches_are_bounded() {
        assert_eq!(batch_rows(DEFAULT_BATCH_ROWS), 5_000);
        assert_eq!(batch_rows(1), 100);
        assert_eq!(batch_rows(i32::MAX), 1_000_000);
        assert!(is_done(4_999, 5_000));
        assert!(!is_done(5_000, 5_000));
    }

    #[test]
    fn every_table_is_reported_once_with_its_name() {
        let names: Vec<_> = Table::ALL.iter().map(|t| t.name()).collect();
        assert_eq!(
            names,
            [
                "audit.event_log",
                "public.idempotency_registry",
                "public.merchant_order_registry",
                "public.point_ledger",
                "public.app_sessions",
                "public.card_qr_history",
                "public.events"
            ]
        );
    }

    #[test]
    fn the_carried_forward_reason_is_reserved() {
        assert_eq!(check_adjustment_reason("carried_forward").unwrap_err().code, ErrorCode::InvalidArgument);
        assert!(check_adjustment_reason("manual_adjust").is_ok());
        assert!(check_adjustment_reason("Carried_Forward").is_ok());
    }
}
