//! A database runs the RPCs of the schema version it has installed, and the server runs the
//! library it has loaded. When a new package is installed before `ALTER EXTENSION mps_ext
//! UPDATE` has run, the two differ, and the new code would meet old tables and functions
//! (raw SQL errors at best). Every RPC first checks that they agree, and otherwise refuses
//! with one clear error naming the fix.

use crate::domain::error::{ErrorCode, MpsError, MpsResult};
use crate::store;
use std::cell::Cell;

const LIBRARY: &str = env!("CARGO_PKG_VERSION");

thread_local! {
    /// Whether this backend's database was found at the library's version. Versions only go
    /// up, so once it agrees it stays so for the life of the backend.
    static AGREES: Cell<bool> = const { Cell::new(false) };
}

pub fn require_current_schema() -> MpsResult<()> {
    if AGREES.get() {
        return Ok(());
    }
    let installed = store::installed_version().unwrap_or_default();
    if installed != LIBRARY {
        return Err(MpsError::new(
            ErrorCode::ExtensionUpdateRequired,
            format!("this database has mps_ext {installed}, the server's library is {LIBRARY}"),
        ));
    }
    AGREES.set(true);
    Ok(())
}
