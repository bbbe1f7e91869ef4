//! The attempt guard in shared memory: one table for the whole server, counted before any
//! password is checked (rules in `domain::login`). Shared memory is not transactional, so
//! a count survives the rollback of the failing call without any extra transaction, worker
//! or lock held across calls; an LWLock held for a few instructions serializes attempts.
//!
//! It needs `shared_preload_libraries = 'mps_ext'`. Without it there is no table, and every
//! password check is refused before the password is looked at
//! (`LOGIN_TEMPORARILY_UNAVAILABLE`): an unguarded check would let anyone guess freely.

use crate::domain::error::{ErrorCode, MpsError, MpsResult};
use crate::domain::login::{guard_key, Admission, AttemptTable};
use crate::settings;
use pgrx::prelude::*;
use pgrx::{pg_shmem_init, PGRXSharedMemory, PgLwLock};
use std::sync::atomic::{AtomicBool, Ordering};

/// Subjects with failures in the last 15 minutes the table can hold (about 56 bytes each).
const SLOTS: usize = 16_384;

struct Guard {
    /// Random per server start, so that no client can predict where a key lands.
    salt: [u8; 32],
    table: AttemptTable<SLOTS>,
}

// Plain data (arrays of integers), no pointers: the same in every process.
unsafe impl PGRXSharedMemory for Guard {}

static GUARD: PgLwLock<Guard> = unsafe { PgLwLock::new(c"mps_ext attempt guard") };
static PRELOADED: AtomicBool = AtomicBool::new(false);

/// Called from `_PG_init`: reserves the table when the library is being preloaded.
pub fn init() {
    if unsafe { pg_sys::process_shared_preload_libraries_in_progress } {
        pg_shmem_init!(GUARD = Guard { salt: crate::domain::tokens::random_bytes(), table: AttemptTable::new() });
        PRELOADED.store(true, Ordering::Relaxed);
    }
}

/// The outcome of a guarded password check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Right,
    Wrong,
    /// Refused without checking; the lock ends in this many seconds.
    Locked {
        seconds_left: i64,
    },
}

fn unix_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

/// Counts one attempt on (`kind`, `subject`) in this database, then runs `check` (the
/// password check) unless the subject is locked. A right password takes the count back.
pub fn check(kind: &str, subject: &str, check: impl FnOnce() -> bool) -> MpsResult<Verdict> {
    if !PRELOADED.load(Ordering::Relaxed) {
        return Err(MpsError::new(
            ErrorCode::LoginGuardUnavailable,
            "mps_ext is not in shared_preload_libraries, so attempts cannot be counted; nothing was checked",
        ));
    }
    let database = u32::from(unsafe { pg_sys::MyDatabaseId });
    let policy = settings::login_policy();
    let now = unix_now();
    let (key, admission) = {
        let mut guard = GUARD.exclusive();
        let key = guard_key(&guard.salt, database, kind, subject);
        let admission = guard.table.admit(&key, now, &policy);
        (key, admission)
    };
    if let Admission::Locked { until } = admission {
        return Ok(Verdict::Locked { seconds_left: until - now });
    }
    if !check() {
        return Ok(Verdict::Wrong);
    }
    GUARD.exclusive().table.succeeded(&key);
    Ok(Verdict::Right)
}
