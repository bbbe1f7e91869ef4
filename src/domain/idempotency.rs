//! Idempotent retries: a request is identified by its key (or external order id) within
//! its scope (operation + merchant for payments, operation + card for recharges), and the
//! parameters it carried are kept as a fingerprint. A retry with the same fingerprint gets
//! the original result; the same key with other parameters is an error.

use crate::legacy::IMPORTED_FINGERPRINT;
use sha2::{Digest, Sha256};

/// Hex SHA-256 over the request's parameters, unambiguously separated.
pub fn fingerprint(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part.as_bytes());
    }
    crate::tokens::hex(&hasher.finalize())
}

/// Whether a retry with `fingerprint` is the request recorded with `earlier` (a movement
/// imported from the original replays any retry with its key, as the original did).
pub fn is_same_request(earlier: Option<&str>, fingerprint: &str) -> bool {
    earlier == Some(fingerprint) || earlier == Some(IMPORTED_FINGERPRINT)
}

/// The advisory-lock name that serializes concurrent requests with the same key in the
/// same scope, so the second waits for the first and then replays it.
pub fn lock_name(operation: &str, scope: &str, key_kind: &str, key: &str) -> String {
    format!("mps:{operation}:{scope}:{key_kind}:{key}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_separate_their_parts() {
        assert_eq!(fingerprint(&["ab", "c"]), fingerprint(&["ab", "c"]));
        assert_ne!(fingerprint(&["ab", "c"]), fingerprint(&["a", "bc"]));
        assert_ne!(fingerprint(&["100.00", "x"]), fingerprint(&["100.01", "x"]));
        assert_eq!(fingerprint(&[]).len(), 64);
    }

    #[test]
    fn legacy_movements_replay_any_retry() {
        let asked = fingerprint(&["payment", "100.00"]);
        assert!(is_same_request(Some(&asked), &asked));
        assert!(is_same_request(Some(IMPORTED_FINGERPRINT), &asked));
        assert!(!is_same_request(Some(&fingerprint(&["payment", "99.00"])), &asked));
        assert!(!is_same_request(None, &asked));
    }

    #[test]
    fn lock_names_are_scoped() {
        assert_ne!(lock_name("payment", "m1", "key", "k"), lock_name("recharge", "m1", "key", "k"));
        assert_ne!(lock_name("payment", "m1", "key", "k"), lock_name("payment", "m2", "key", "k"));
        assert_ne!(lock_name("payment", "m1", "key", "k"), lock_name("payment", "m1", "order", "k"));
    }
}
