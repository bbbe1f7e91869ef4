//! The one error type of mps_ext. Every failure an RPC reports is an `MpsError`; the
//! extension turns it into `ereport` in exactly one place (`crate::error::raise`).

use std::fmt;

/// The SQLSTATE class a caller sees. PostgREST maps P0001 to HTTP 400 and 42501 to 401/403.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SqlState {
    /// `P0001` (raise_exception): a business rule refused the call.
    Business,
    /// `42501` (insufficient_privilege): the caller may not do this.
    Permission,
}

impl SqlState {
    pub fn code(self) -> &'static str {
        match self {
            SqlState::Business => "P0001",
            SqlState::Permission => "42501",
        }
    }
}

macro_rules! error_codes {
    ($( $variant:ident => $token:literal, $state:ident, $hint:expr; )*) => {
        /// Contract error tokens. Clients match on the token as a substring of the message,
        /// so the spelling is API.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum ErrorCode { $( $variant, )* }

        impl ErrorCode {
            pub const ALL: &'static [ErrorCode] = &[ $( ErrorCode::$variant, )* ];

            pub fn token(self) -> &'static str {
                match self { $( ErrorCode::$variant => $token, )* }
            }

            pub fn sql_state(self) -> SqlState {
                match self { $( ErrorCode::$variant => SqlState::$state, )* }
            }

            /// What the caller can do about it, when there is something to say.
            pub fn hint(self) -> Option<&'static str> {
                match self { $( ErrorCode::$variant => $hint, )* }
            }
        }
    };
}

error_codes! {
    NotAuthenticated => "NOT_AUTHENTICATED", Permission,
        Some("log in (member_login / merchant_login) and pass p_session_id, or call with a valid JWT");
    PermissionDenied => "PERMISSION_DENIED", Permission, None;
    NotAuthorizedForThisMerchant => "NOT_AUTHORIZED_FOR_THIS_MERCHANT", Permission,
        Some("log in as this merchant and pass its p_session_id");
    SessionInvalid => "SESSION_INVALID", Permission,
        Some("the session is unknown, expired or logged out: log in again");
    InvalidPassword => "INVALID_PASSWORD", Business, None;
    CurrentPasswordRequired => "CURRENT_PASSWORD_REQUIRED", Business,
        Some("pass p_current_password: changing your own password, phone or email needs it");
    AccountLocked => "ACCOUNT_LOCKED", Business,
        Some("too many failed password attempts: wait until the lock expires");
    PasswordTooShort => "PASSWORD_TOO_SHORT", Business, None;
    PasswordTooLong => "PASSWORD_TOO_LONG", Business, Some("bcrypt uses at most 72 bytes of a password");
    InvalidArgument => "INVALID_ARGUMENT", Business, None;
    MemberNotFound => "MEMBER_NOT_FOUND", Business, None;
    MerchantNotFound => "MERCHANT_NOT_FOUND", Business, None;
    InvalidPhone => "INVALID_PHONE", Business,
        Some("a phone number has digits, an optional leading '+', spaces and dashes");
    InvalidEmail => "INVALID_EMAIL", Business, Some("an email address has one '@' with text on both sides");
    DuplicatePhone => "DUPLICATE_PHONE", Business, Some("each member needs a phone number of their own");
    DuplicateEmail => "DUPLICATE_EMAIL", Business, Some("each member needs an email address of their own");
    DuplicateMerchantCode => "DUPLICATE_MERCHANT_CODE", Business, Some("choose another merchant code");
    ExternalIdAlreadyBound => "EXTERNAL_ID_ALREADY_BOUND", Business, None;
    ExtensionUpdateRequired => "EXTENSION_UPDATE_REQUIRED", Business,
        Some("a superuser runs ALTER EXTENSION mps_ext UPDATE in this database");
    LoginGuardUnavailable => "LOGIN_TEMPORARILY_UNAVAILABLE", Business,
        Some("the server's attempt guard is not loaded: add mps_ext to shared_preload_libraries and restart");
    InvalidAmount => "INVALID_AMOUNT", Business, Some("amounts are positive, in currency units with at most 2 decimals");
    InvalidDiscount => "INVALID_DISCOUNT", Business, Some("a discount is a multiplier between 0.000 and 1.000");
    CardNotFound => "CARD_NOT_FOUND", Business, None;
    CardNotFoundOrInactive => "CARD_NOT_FOUND_OR_INACTIVE", Business, None;
    CardNotActive => "CARD_NOT_ACTIVE", Business, None;
    CardNotFrozen => "CARD_NOT_FROZEN", Business, Some("only a card frozen with freeze_card can be unfrozen");
    CardExpired => "CARD_EXPIRED", Business, None;
    CardTypeNotShareable => "CARD_TYPE_NOT_SHAREABLE", Business, Some("only corporate cards can be shared");
    CardOwnerNotDefined => "CARD_OWNER_NOT_DEFINED", Business, None;
    CardTypeNotSupportBindingPassword => "CARD_TYPE_NOT_SUPPORT_BINDING_PASSWORD", Business,
        Some("only corporate cards have a binding password");
    InvalidBindingPassword => "INVALID_BINDING_PASSWORD", Business, None;
    BindingPasswordRequired => "BINDING_PASSWORD_REQUIRED", Business,
        Some("the card's owner sets a binding password (set_card_binding_password), or an owner or admin binds you");
    BindingPasswordLocked => "BINDING_PASSWORD_LOCKED", Business,
        Some("too many wrong binding passwords for this card: wait until the lock expires");
    CannotRemoveLastOwner => "CANNOT_REMOVE_LAST_OWNER", Business, Some("a card always keeps its owner");
    CardBindingNotFound => "CARD_BINDING_NOT_FOUND", Business, None;
    CorporateCardCannotPay => "CORPORATE_CARD_CANNOT_PAY", Business,
        Some("a corporate card gives its discount to the members bound to it; pay with their standard cards");
    InvalidQr => "INVALID_QR", Business, None;
    InvalidPrice => "INVALID_PRICE", Business, Some("the price is a positive amount with at most 2 decimals");
    InvalidRefundAmount => "INVALID_REFUND_AMOUNT", Business, Some("the refund is a positive amount with at most 2 decimals");
    InvalidRechargeAmount => "INVALID_RECHARGE_AMOUNT", Business, Some("the recharge is a positive amount with at most 2 decimals");
    MerchantNotFoundOrInactive => "MERCHANT_NOT_FOUND_OR_INACTIVE", Business, None;
    MemberNotActive => "MEMBER_NOT_ACTIVE", Business, Some("a suspended member's cards move no money");
    InsufficientBalance => "INSUFFICIENT_BALANCE", Business,
        Some("recharge the card first, or release its holds (merchant_void_hold)");
    HoldNotFound => "HOLD_NOT_FOUND", Business, None;
    HoldNotActive => "HOLD_NOT_ACTIVE", Business, None;
    HoldExpired => "HOLD_EXPIRED", Business, Some("authorize again: an expired hold reserves nothing");
    CaptureExceedsHold => "CAPTURE_EXCEEDS_HOLD", Business,
        Some("capture at most the authorized amount, or authorize a new hold for the difference");
    OriginalTxNotFound => "ORIGINAL_TX_NOT_FOUND", Business, None;
    OnlyCompletedPaymentRefundable => "ONLY_COMPLETED_PAYMENT_REFUNDABLE", Business, None;
    RefundExceedsRemaining => "REFUND_EXCEEDS_REMAINING", Business, None;
    UnsupportedCardTypeForRecharge => "UNSUPPORTED_CARD_TYPE_FOR_RECHARGE", Business, Some("only standard cards are recharged");
    UnsupportedCardTypeForPoints => "UNSUPPORTED_CARD_TYPE_FOR_POINTS", Business, Some("only standard cards hold points");
    IdempotencyKeyReused => "IDEMPOTENCY_KEY_REUSED", Business,
        Some("use a fresh idempotency key for a different request");
    InvalidPeriod => "INVALID_PERIOD", Business, Some("a period is [start, end) with start before end");
    NoTransactionsInPeriod => "NO_TRANSACTIONS_IN_PERIOD", Business, None;
    SettlementAlreadyExists => "SETTLEMENT_ALREADY_EXISTS", Business,
        Some("settle the remaining part of the period, or mark the earlier settlement failed first");
    NegativeSettlementAmount => "NEGATIVE_SETTLEMENT_AMOUNT", Business,
        Some("refunds exceed payments in this period; settle a longer period");
    SettlementNotFound => "SETTLEMENT_NOT_FOUND", Business, None;
    InvalidStatusTransition => "INVALID_STATUS_TRANSITION", Business, None;
    TxNotFound => "TX_NOT_FOUND", Business, None;
    PgCronNotInstalled => "PG_CRON_NOT_INSTALLED", Business,
        Some("install pg_cron (shared_preload_libraries) and CREATE EXTENSION pg_cron in this database");
    ExternalOrderIdReused => "EXTERNAL_ORDER_ID_REUSED", Business,
        Some("this external order id was already used for a different request");
    QrExpiredOrInvalid => "QR_EXPIRED_OR_INVALID", Business, Some("ask the member to show a fresh QR code");
    MovementInSettledPeriod => "MOVEMENT_IN_SETTLED_PERIOD", Business,
        Some("the database clock is behind the merchant's latest settlement; retry once it has passed its period end");
    TestCleanupDisabled => "TEST_CLEANUP_DISABLED", Business,
        Some("only on a test database: a superuser runs ALTER DATABASE <db> SET mps.allow_test_cleanup = on");
}

/// A refused call: the contract token (optionally with the contract's fixed suffix, as in
/// `PERMISSION_DENIED: Required super_admin, but user is member`), a DETAIL that says what
/// was wrong and a HINT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MpsError {
    pub code: ErrorCode,
    pub message: String,
    pub detail: String,
}

impl MpsError {
    pub fn new(code: ErrorCode, detail: impl Into<String>) -> Self {
        MpsError { code, message: code.token().to_string(), detail: detail.into() }
    }

    /// A permission error whose whole message is fixed by the contract, such as
    /// `PERMISSION_DENIED: 商戶不能生成 QR 碼`.
    pub fn permission(message: &str, detail: impl Into<String>) -> Self {
        MpsError { code: ErrorCode::PermissionDenied, message: message.to_string(), detail: detail.into() }
    }

    /// The contract's `check_permission` text: `PERMISSION_DENIED: Required %, but user is %`.
    pub fn role_required(required: &str, actual: &str) -> Self {
        MpsError {
            code: ErrorCode::PermissionDenied,
            message: format!("PERMISSION_DENIED: Required {required}, but user is {actual}"),
            detail: format!("this call needs role {required}; the caller's role is {actual}"),
        }
    }

    pub fn sql_state(&self) -> SqlState {
        self.code.sql_state()
    }

    pub fn hint(&self) -> Option<&'static str> {
        self.code.hint()
    }
}

impl fmt::Display for MpsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.detail)
    }
}

impl std::error::Error for MpsError {}

pub type MpsResult<T> = Result<T, MpsError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_upper_snake_and_unique() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            let t = code.token();
            assert!(t.chars().all(|c| c.is_ascii_uppercase() || c == '_'), "{t}");
            assert!(seen.insert(t), "duplicate token {t}");
        }
    }

    #[test]
    fn permission_errors_map_to_42501_and_business_to_p0001() {
        assert_eq!(ErrorCode::NotAuthenticated.sql_state().code(), "42501");
        assert_eq!(ErrorCode::PermissionDenied.sql_state().code(), "42501");
        assert_eq!(ErrorCode::NotAuthorizedForThisMerchant.sql_state().code(), "42501");
        assert_eq!(ErrorCode::SessionInvalid.sql_state().code(), "42501");
        assert_eq!(ErrorCode::InvalidPassword.sql_state().code(), "P0001");
        assert_eq!(ErrorCode::PasswordTooShort.sql_state().code(), "P0001");
        assert_eq!(ErrorCode::MemberNotFound.sql_state().code(), "P0001");
    }

    #[test]
    fn message_starts_with_token() {
        let e = MpsError::new(ErrorCode::MemberNotFound, "no member with id x");
        assert_eq!(e.message, "MEMBER_NOT_FOUND");
        assert_eq!(e.detail, "no member with id x");
        let e = MpsError::role_required("super_admin", "member");
        assert_eq!(e.message, "PERMISSION_DENIED: Required super_admin, but user is member");
        assert_eq!(e.sql_state(), SqlState::Permission);
    }
}
