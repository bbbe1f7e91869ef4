//! Holds: an amount reserved on a card (authorize), then charged at the rate recorded then
//! (capture) or released (void). An active hold counts against the card's available balance
//! until it expires; an expired one reserves nothing, whatever its stored status says.

use crate::enums::HoldStatus;
use crate::error::{ErrorCode, MpsError, MpsResult};
use rust_decimal::Decimal;

/// Hold lifetimes: a minute to a week; 15 minutes when not given.
pub const DEFAULT_TTL_SECONDS: i32 = 900;
const MIN_TTL_SECONDS: i32 = 60;
const MAX_TTL_SECONDS: i32 = 7 * 24 * 3600;

pub fn ttl_seconds(requested: Option<i32>) -> i32 {
    requested.unwrap_or(DEFAULT_TTL_SECONDS).clamp(MIN_TTL_SECONDS, MAX_TTL_SECONDS)
}

/// A hold as the rules see it when it is captured or voided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HoldState {
    Active,
    Captured,
    Voided,
    /// Active in the table, but past its expiry (or already marked expired).
    Expired,
}

impl HoldStatus {
    /// The state the rules see: an active hold past its expiry is expired.
    pub fn state(self, past_expiry: bool) -> HoldState {
        match self {
            HoldStatus::Active if past_expiry => HoldState::Expired,
            HoldStatus::Active => HoldState::Active,
            HoldStatus::Captured => HoldState::Captured,
            HoldStatus::Voided => HoldState::Voided,
            HoldStatus::Expired => HoldState::Expired,
        }
    }
}

/// What a capture of `raw` (None: all of it) takes, given the authorized raw amount.
pub fn capture_raw(state: HoldState, authorized_raw: Decimal, raw: Option<Decimal>) -> MpsResult<Decimal> {
    match state {
        HoldState::Active => {}
        HoldState::Expired => {
            return Err(MpsError::new(ErrorCode::HoldExpired, "the hold expired before it was captured"))
        }
        HoldState::Captured | HoldState::Voided => {
            let what = if state == HoldState::Captured { "captured" } else { "voided" };
            return Err(MpsError::new(ErrorCode::HoldNotActive, format!("the hold was already {what}")));
        }
    }
    let raw = raw.unwrap_or(authorized_raw);
    if raw > authorized_raw {
        return Err(MpsError::new(
            ErrorCode::CaptureExceedsHold,
            format!("capturing {raw} of a hold authorized for {authorized_raw}"),
        ));
    }
    Ok(raw)
}

/// Whether a void releases the hold now (true), finds it released already (false), or may
/// not touch it (a captured hold moved money: refund the payment instead).
pub fn void_releases(state: HoldState) -> MpsResult<bool> {
    match state {
        HoldState::Active => Ok(true),
        HoldState::Voided | HoldState::Expired => Ok(false),
        HoldState::Captured => Err(MpsError::new(
            ErrorCode::HoldNotActive,
            "the hold was captured: refund its payment (merchant_refund_tx) instead",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn lifetimes_are_clamped() {
        assert_eq!(ttl_seconds(None), 900);
        assert_eq!(ttl_seconds(Some(10)), 60);
        assert_eq!(ttl_seconds(Some(-5)), 60);
        assert_eq!(ttl_seconds(Some(10_000_000)), 604_800);
        assert_eq!(ttl_seconds(Some(3600)), 3600);
    }

    #[test]
    fn captures() {
        use HoldState::*;
        assert_eq!(capture_raw(Active, d("50.00"), None).unwrap(), d("50.00"));
        assert_eq!(capture_raw(Active, d("50.00"), Some(d("42.10"))).unwrap(), d("42.10"));
        assert_eq!(capture_raw(Active, d("50.00"), Some(d("50.01"))).unwrap_err().code, ErrorCode::CaptureExceedsHold);
        assert_eq!(capture_raw(Expired, d("50.00"), None).unwrap_err().code, ErrorCode::HoldExpired);
        assert_eq!(capture_raw(Captured, d("50.00"), None).unwrap_err().code, ErrorCode::HoldNotActive);
        assert_eq!(capture_raw(Voided, d("50.00"), None).unwrap_err().code, ErrorCode::HoldNotActive);
    }

    #[test]
    fn voids() {
        use HoldState::*;
        assert!(void_releases(Active).unwrap());
        assert!(!void_releases(Voided).unwrap());
        assert!(!void_releases(Expired).unwrap());
        assert_eq!(void_releases(Captured).unwrap_err().code, ErrorCode::HoldNotActive);
    }
}
