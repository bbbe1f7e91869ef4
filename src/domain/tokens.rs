//! Session ids and QR tokens: 32 random bytes as 44-char standard base64 (as in the
//! contract). Only a SHA-256 digest is ever stored. These are high-entropy secrets, so a
//! fast one-way hash is right (NIST SP 800-63B 5.1.2.2) and allows an indexed lookup.

use base64::Engine;
use sha2::{Digest, Sha256};

pub const TOKEN_BYTES: usize = 32;
pub const TOKEN_LEN: usize = 44;

/// Bytes from the operating system's CSPRNG.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).expect("the OS random source failed");
    bytes
}

/// A fresh token from the operating system's CSPRNG.
pub fn generate() -> String {
    base64::engine::general_purpose::STANDARD.encode(random_bytes::<TOKEN_BYTES>())
}

/// Lower-case hex SHA-256 of the token's text: what the database stores and indexes.
pub fn digest(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// Lower-case hex of bytes (digests, fingerprints).
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    bytes.iter().flat_map(|b| [DIGITS[usize::from(b >> 4)], DIGITS[usize::from(b & 15)]]).map(char::from).collect()
}

/// Whether `s` has the shape of a token this system issues. Lets callers reject junk
/// before touching the database.
pub fn is_well_formed(s: &str) -> bool {
    s.len() == TOKEN_LEN && base64::engine::general_purpose::STANDARD.decode(s).is_ok_and(|b| b.len() == TOKEN_BYTES)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_is_44_char_base64_of_32_bytes() {
        let t = generate();
        assert_eq!(t.len(), 44);
        assert!(t.ends_with('='));
        assert!(is_well_formed(&t));
        assert_ne!(generate(), t);
    }

    #[test]
    fn digest_is_sha256_hex() {
        // sha256("abc")
        assert_eq!(digest("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_eq!(digest(&generate()).len(), 64);
        assert_eq!(hex(&[0x00, 0x0f, 0xa5, 0xff]), "000fa5ff");
    }

    #[test]
    fn malformed_tokens_are_rejected() {
        assert!(!is_well_formed(""));
        assert!(!is_well_formed("short"));
        assert!(!is_well_formed(&"A".repeat(44)));
        assert!(!is_well_formed(&"é".repeat(22)));
    }
}
