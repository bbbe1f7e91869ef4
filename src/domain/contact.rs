//! Member contact values. A phone or email is also a login and support identifier
//! (member_login, the *_by_identifier RPCs), so its shape is checked: a phone can never
//! look like an email or a member number, and an email can never look like a phone.

use crate::error::{ErrorCode, MpsError, MpsResult};

/// Longest accepted phone (E.164 has at most 15 digits; separators take the rest).
const PHONE_MAX_CHARS: usize = 32;
/// RFC 5321's limit on an address.
const EMAIL_MAX_CHARS: usize = 254;

/// A phone number: digits, with an optional leading `+` and spaces or dashes between them.
pub fn check_phone(phone: &str) -> MpsResult<()> {
    let invalid = |why: &str| MpsError::new(ErrorCode::InvalidPhone, format!("p_phone {why}"));
    if phone.chars().count() > PHONE_MAX_CHARS {
        return Err(invalid(&format!("is longer than {PHONE_MAX_CHARS} characters")));
    }
    let body = phone.strip_prefix('+').unwrap_or(phone);
    if let Some(c) = body.chars().find(|c| !(c.is_ascii_digit() || *c == ' ' || *c == '-')) {
        return Err(invalid(&format!(
            "contains {c:?}; a phone number has digits, an optional leading '+', spaces and dashes"
        )));
    }
    if !body.starts_with(|c: char| c.is_ascii_digit()) || !body.ends_with(|c: char| c.is_ascii_digit()) {
        return Err(invalid("must start and end with a digit (after an optional leading '+')"));
    }
    Ok(())
}

/// An email address: one `@` with text on both sides, no spaces.
pub fn check_email(email: &str) -> MpsResult<()> {
    let invalid = |why: &str| MpsError::new(ErrorCode::InvalidEmail, format!("p_email {why}"));
    if email.chars().count() > EMAIL_MAX_CHARS {
        return Err(invalid(&format!("is longer than {EMAIL_MAX_CHARS} characters")));
    }
    if email.chars().any(char::is_whitespace) {
        return Err(invalid("contains white space"));
    }
    match email.split_once('@') {
        None => Err(invalid("has no '@'")),
        Some((_, domain)) if domain.contains('@') => Err(invalid("has more than one '@'")),
        Some((local, domain)) if local.is_empty() || domain.is_empty() => {
            Err(invalid("needs text before and after the '@'"))
        }
        Some(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phone_error(p: &str) -> String {
        let e = check_phone(p).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidPhone);
        e.detail
    }

    fn email_error(e: &str) -> String {
        let e = check_email(e).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidEmail);
        e.detail
    }

    #[test]
    fn phones_with_digits_plus_spaces_and_dashes_pass() {
        for p in ["0912345678", "+886 912 345 678", "0912-345-678", "+1-202-555-0143", "0933", "1-2-3"] {
            assert_eq!(check_phone(p), Ok(()), "{p}");
        }
    }

    #[test]
    fn phones_that_look_like_other_identifiers_fail() {
        assert_eq!(
            phone_error("bob@example.com"),
            "p_phone contains 'b'; a phone number has digits, an optional leading '+', spaces and dashes"
        );
        assert!(phone_error("M00000001").starts_with("p_phone contains 'M'"));
        assert!(phone_error("09+12345").starts_with("p_phone contains '+'"));
        assert_eq!(phone_error("-0912345"), "p_phone must start and end with a digit (after an optional leading '+')");
        assert_eq!(phone_error("0912345 "), "p_phone must start and end with a digit (after an optional leading '+')");
        assert_eq!(phone_error("+"), "p_phone must start and end with a digit (after an optional leading '+')");
        assert_eq!(phone_error(&"1".repeat(33)), "p_phone is longer than 32 characters");
    }

    #[test]
    fn emails_need_exactly_one_at_with_text_around_it() {
        for e in ["dora@example.com", "a@b", "first.last+tag@mail.example.org"] {
            assert_eq!(check_email(e), Ok(()), "{e}");
        }
        assert_eq!(email_error("0912345678"), "p_email has no '@'");
        assert_eq!(email_error("a@b@c"), "p_email has more than one '@'");
        assert_eq!(email_error("@example.com"), "p_email needs text before and after the '@'");
        assert_eq!(email_error("dora@"), "p_email needs text before and after the '@'");
        assert_eq!(email_error("dora @example.com"), "p_email contains white space");
        assert_eq!(email_error(&format!("{}@x", "a".repeat(253))), "p_email is longer than 254 characters");
    }
}
