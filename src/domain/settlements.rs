//! Settlement rules: periods, totals and the status machine.

use crate::enums::SettlementStatus;
use crate::error::{ErrorCode, MpsError, MpsResult};
use rust_decimal::Decimal;

/// A settlement covers [start, end); the start must come before the end.
pub fn check_period(start_before_end: bool) -> MpsResult<()> {
    if start_before_end {
        Ok(())
    } else {
        Err(MpsError::new(ErrorCode::InvalidPeriod, "p_period_start must be before p_period_end"))
    }
}

/// A settled period must have ended: movements still to come must never fall into it.
pub fn check_period_ended(end_is_past: bool) -> MpsResult<()> {
    if end_is_past {
        Ok(())
    } else {
        Err(MpsError::new(ErrorCode::InvalidPeriod, "the period has not ended: p_period_end is later than now"))
    }
}

/// The advisory-lock name of a merchant's settlement history. Every movement of the
/// merchant holds it shared while it is recorded; a settlement run holds it exclusively, so
/// it waits for the movements in flight and holds off new ones until it commits.
pub fn lock_name(merchant_id: &str) -> String {
    format!("mps:settlement:{merchant_id}")
}

/// The total to settle: payments minus refunds; an empty or net-negative period is refused.
pub fn check_totals(tx_count: i64, total: Decimal) -> MpsResult<()> {
    if tx_count == 0 {
        return Err(MpsError::new(
            ErrorCode::NoTransactionsInPeriod,
            "the merchant has no settled movement in the period",
        ));
    }
    if total < Decimal::ZERO {
        return Err(MpsError::new(
            ErrorCode::NegativeSettlementAmount,
            format!("refunds exceed payments by {} in the period", -total),
        ));
    }
    Ok(())
}

/// pending → settled | failed, settled → paid; nothing else.
pub fn check_transition(from: SettlementStatus, to: SettlementStatus) -> MpsResult<()> {
    use SettlementStatus::*;
    match (from, to) {
        (Pending, Settled | Failed) | (Settled, Paid) => Ok(()),
        _ => Err(MpsError::new(ErrorCode::InvalidStatusTransition, format!("a {from} settlement cannot become {to}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn transitions() {
        use SettlementStatus::*;
        assert!(check_transition(Pending, Settled).is_ok());
        assert!(check_transition(Pending, Failed).is_ok());
        assert!(check_transition(Settled, Paid).is_ok());
        for (from, to) in [(Pending, Paid), (Paid, Pending), (Failed, Settled), (Settled, Pending), (Pending, Pending)]
        {
            assert_eq!(
                check_transition(from, to).unwrap_err().code,
                ErrorCode::InvalidStatusTransition,
                "{from}->{to}"
            );
        }
    }

    #[test]
    fn totals_and_periods() {
        assert_eq!(check_period(false).unwrap_err().code, ErrorCode::InvalidPeriod);
        assert!(check_period(true).is_ok());
        assert_eq!(check_period_ended(false).unwrap_err().code, ErrorCode::InvalidPeriod);
        assert!(check_period_ended(true).is_ok());
        assert_eq!(check_totals(0, Decimal::ZERO).unwrap_err().code, ErrorCode::NoTransactionsInPeriod);
        assert_eq!(
            check_totals(2, Decimal::from_str("-0.01").unwrap()).unwrap_err().code,
            ErrorCode::NegativeSettlementAmount
        );
        assert!(check_totals(4, Decimal::from_str("0.40").unwrap()).is_ok());
        assert!(check_totals(2, Decimal::ZERO).is_ok());
    }
}
