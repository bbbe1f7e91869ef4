//! Pure business rules of mps_ext. No pgrx, no SQL: everything here is plain Rust,
//! unit-tested with `cargo test -p mps-domain`.

pub mod cards;
pub mod contact;
pub mod enums;
pub mod error;
pub mod events;
pub mod holds;
pub mod idempotency;
pub mod identity;
pub mod legacy;
pub mod levels;
pub mod login;
pub mod manifest;
pub mod money;
pub mod numbering;
pub mod paging;
pub mod partitions;
pub mod password;
pub mod policy;
pub mod pricing;
pub mod qr;
pub mod reports;
pub mod retention;
pub mod settlements;
pub mod tokens;

pub use enums::DbEnum;
pub use error::{ErrorCode, MpsError, SqlState};
