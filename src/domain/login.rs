//! Login throttling: 5 failed logins within 15 minutes lock the account for 15 minutes.
//! Times are Unix seconds.

pub const MAX_FAILURES: i32 = 5;
pub const WINDOW_SECS: i64 = 15 * 60;
pub const LOCK_SECS: i64 = 15 * 60;

/// The failure record of one account as stored in `login_attempts`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Attempts {
    pub failed_count: i32,
    pub window_started_at: i64,
    pub locked_until: Option<i64>,
}

impl Attempts {
    pub fn is_locked(&self, now: i64) -> bool {
        self.locked_until.is_some_and(|t| now < t)
    }

    /// The record after one more failure at `now`.
    pub fn after_failure(self, now: i64) -> Attempts {
        let fresh_window = self.failed_count == 0 || now - self.window_started_at >= WINDOW_SECS;
        let (failed_count, window_started_at) =
            if fresh_window { (1, now) } else { (self.failed_count + 1, self.window_started_at) };
        let locked_until =
            if failed_count >= MAX_FAILURES { Some(now + LOCK_SECS) } else { self.locked_until.filter(|&t| now < t) };
        Attempts { failed_count, window_started_at, locked_until }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_failures_in_window_lock_for_fifteen_minutes() {
        let mut a = Attempts::default();
        for i in 0..4 {
            a = a.after_failure(1000 + i * 60);
            assert!(!a.is_locked(1000 + i * 60));
        }
        a = a.after_failure(1300);
        assert_eq!(a.failed_count, 5);
        assert_eq!(a.locked_until, Some(1300 + LOCK_SECS));
        assert!(a.is_locked(1300 + LOCK_SECS - 1));
        assert!(!a.is_locked(1300 + LOCK_SECS));
    }

    #[test]
    fn failures_spread_beyond_the_window_do_not_lock() {
        let mut a = Attempts::default();
        for i in 0..10 {
            a = a.after_failure(i * (WINDOW_SECS / 4 + 1));
            assert!(!a.is_locked(i * (WINDOW_SECS / 4 + 1)), "locked after failure {i}");
        }
    }

    #[test]
    fn window_restarts_after_expiry() {
        let a = Attempts { failed_count: 4, window_started_at: 0, locked_until: None };
        let b = a.after_failure(WINDOW_SECS);
        assert_eq!(b, Attempts { failed_count: 1, window_started_at: WINDOW_SECS, locked_until: None });
    }
}

/// A custom-login session lives 24 hours from login, with no sliding renewal.
pub const SESSION_TTL_SECS: i64 = 24 * 60 * 60;
