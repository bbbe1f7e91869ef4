//! QR payment codes: lifetime rules and the shape check done before any lookup.

use crate::error::{ErrorCode, MpsError, MpsResult};

pub const DEFAULT_TTL_SECS: i32 = 900;
pub const MIN_TTL_SECS: i32 = 60;
pub const MAX_TTL_SECS: i32 = 24 * 60 * 60;
/// Shorter input is not even a candidate (the contract's INVALID_QR threshold).
pub const MIN_TOKEN_CHARS: usize = 16;

/// The lifetime of a new code: the requested TTL clamped into [60 s, 24 h]; none → 900 s.
pub fn effective_ttl(requested: Option<i32>) -> i32 {
    requested.unwrap_or(DEFAULT_TTL_SECS).clamp(MIN_TTL_SECS, MAX_TTL_SECS)
}

/// Rejects input that cannot be a QR token at all.
pub fn check_candidate(plain: Option<&str>) -> MpsResult<&str> {
    match plain {
        Some(p) if p.chars().count() >= MIN_TOKEN_CHARS => Ok(p),
        Some(p) => Err(MpsError::new(
            ErrorCode::InvalidQr,
            format!("a QR token has 44 characters; this one has {}", p.chars().count()),
        )),
        None => Err(MpsError::new(ErrorCode::InvalidQr, "p_qr_plain is required")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttl_is_clamped() {
        assert_eq!(effective_ttl(None), 900);
        assert_eq!(effective_ttl(Some(300)), 300);
        assert_eq!(effective_ttl(Some(1)), 60);
        assert_eq!(effective_ttl(Some(-5)), 60);
        assert_eq!(effective_ttl(Some(10_000_000)), 86_400);
        assert_eq!(effective_ttl(Some(86_400)), 86_400);
    }

    #[test]
    fn candidates() {
        assert_eq!(check_candidate(None).unwrap_err().code, ErrorCode::InvalidQr);
        assert_eq!(check_candidate(Some("short")).unwrap_err().code, ErrorCode::InvalidQr);
        assert!(check_candidate(Some("0123456789abcdef")).is_ok());
    }
}
