//! Password rules: bcrypt with a configurable cost, a minimum length in characters and
//! bcrypt's 72-byte maximum.

use crate::error::{ErrorCode, MpsError, MpsResult};

pub const MAX_BYTES: usize = 72;
pub const DEFAULT_MIN_CHARS: usize = 8;
pub const DEFAULT_COST: u32 = 10;

/// Checks a new password against the rules before it is hashed.
pub fn validate_new(password: &str, min_chars: usize) -> MpsResult<()> {
    let chars = password.chars().count();
    if chars < min_chars {
        return Err(MpsError::new(
            ErrorCode::PasswordTooShort,
            format!("a password needs at least {min_chars} characters; this one has {chars}"),
        ));
    }
    if password.len() > MAX_BYTES {
        return Err(MpsError::new(
            ErrorCode::PasswordTooLong,
            format!("a password may be at most {MAX_BYTES} bytes; this one has {}", password.len()),
        ));
    }
    Ok(())
}

pub fn hash(password: &str, cost: u32) -> String {
    bcrypt::hash(password, cost).expect("bcrypt cost is validated by the setting's range")
}

/// Constant-work verification: with no stored hash the password is hashed once at `cost`
/// anyway, so that "no such account" and "wrong password" take the same time.
pub fn verify(password: &str, stored: Option<&str>, cost: u32) -> bool {
    match stored {
        Some(h) => bcrypt::verify(password, h).unwrap_or(false),
        None => {
            let _ = hash(password, cost);
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_rules() {
        assert_eq!(validate_new("1234567", 8).unwrap_err().code, ErrorCode::PasswordTooShort);
        assert!(validate_new("12345678", 8).is_ok());
        // characters, not bytes: eight CJK characters are eight characters
        assert!(validate_new("密碼密碼密碼密碼", 8).is_ok());
        assert_eq!(validate_new(&"x".repeat(73), 8).unwrap_err().code, ErrorCode::PasswordTooLong);
        assert!(validate_new(&"x".repeat(72), 8).is_ok());
        let e = validate_new("abc", 8).unwrap_err();
        assert_eq!(e.detail, "a password needs at least 8 characters; this one has 3");
    }

    #[test]
    fn hash_and_verify() {
        let h = hash("correct horse", 4);
        assert!(h.starts_with("$2b$04$"));
        assert!(verify("correct horse", Some(&h), 4));
        assert!(!verify("wrong horse", Some(&h), 4));
        assert!(!verify("correct horse", None, 4));
        assert!(!verify("x", Some("not a bcrypt hash"), 4));
    }
}
