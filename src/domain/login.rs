//! The attempt guard: 5 failed password checks within 15 minutes lock a subject (an
//! account, an unknown identifier, a card's binding password) for 15 minutes.
//!
//! Every attempt is counted as a failure *before* its password is checked, and only a
//! correct password takes it back. So however many attempts run at once, at most
//! `MAX_FAILURES` wrong passwords are ever checked per window: the attempt that fills the
//! window locks the subject at once, and every later one is refused without a check.
//!
//! The table is a fixed-size open-addressing hash table (it lives in shared memory, see
//! `src/auth/guard.rs`). Keys are salted digests, so nobody can aim a flood of identifiers
//! at a chosen slot; when a probe run is full, the least valuable entry is reused (free,
//! then lapsed, then unlocked with the fewest failures, then the oldest lock). Times are
//! Unix seconds.

use sha2::{Digest, Sha256};

/// How many failures within how long lock a subject, and for how long. Operators may
/// tighten it (settings `mps.login_*`); the default is the contract's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub max_failures: u16,
    pub window_secs: i64,
    pub lock_secs: i64,
}

impl Policy {
    pub const DEFAULT: Policy = Policy { max_failures: 5, window_secs: 15 * 60, lock_secs: 15 * 60 };
}

/// A custom-login session lives 24 hours from login, with no sliding renewal.
pub const SESSION_TTL_SECS: i64 = 24 * 60 * 60;

/// How many consecutive slots a key may occupy, starting at its hash.
const PROBE_RUN: usize = 32;

pub type GuardKey = [u8; 32];

/// The digest that names a subject in the table: `salt` is random per server start, `scope`
/// separates databases, `kind` and `subject` name what is guarded ("member", an account id).
pub fn guard_key(salt: &[u8; 32], scope: u32, kind: &str, subject: &str) -> GuardKey {
    let mut h = Sha256::new();
    h.update(salt);
    h.update(scope.to_le_bytes());
    h.update(kind.as_bytes());
    h.update([0]);
    h.update(subject.as_bytes());
    h.finalize().into()
}

/// The failures of one subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    key: GuardKey,
    failures: u16,
    window_started_at: i64,
    locked_until: i64,
}

impl Slot {
    const FREE: Slot = Slot { key: [0; 32], failures: 0, window_started_at: 0, locked_until: 0 };

    fn is_free(&self) -> bool {
        self.failures == 0
    }

    fn is_locked(&self, now: i64) -> bool {
        now < self.locked_until
    }

    /// Neither locked nor holding failures of a live window: as good as free.
    fn has_lapsed(&self, now: i64, policy: &Policy) -> bool {
        !self.is_locked(now) && now - self.window_started_at >= policy.window_secs
    }

    /// Which slot of a full probe run to reuse first: the lowest rank. Among unlocked
    /// subjects the one with the fewest failures goes first, so a flood of single guesses
    /// cannot wash out the count of an account under attack.
    fn eviction_rank(&self, now: i64, policy: &Policy) -> (u8, u16, i64) {
        if self.is_free() {
            (0, 0, 0)
        } else if self.has_lapsed(now, policy) {
            (1, 0, 0)
        } else if !self.is_locked(now) {
            (2, self.failures, self.window_started_at)
        } else {
            (3, 0, self.locked_until)
        }
    }
}

/// What the guard says about an attempt before its password is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Check the password; the attempt is already counted as a failure.
    Check,
    /// Refuse without checking: too many failures; the lock ends at `until`.
    Locked { until: i64 },
}

pub struct AttemptTable<const N: usize> {
    slots: [Slot; N],
}

impl<const N: usize> Default for AttemptTable<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> AttemptTable<N> {
    pub const fn new() -> Self {
        AttemptTable { slots: [Slot::FREE; N] }
    }

    fn probe_run(key: &GuardKey) -> impl Iterator<Item = usize> {
        let start = u64::from_le_bytes(key[..8].try_into().expect("8 bytes")) as usize % N;
        (0..PROBE_RUN.min(N)).map(move |i| (start + i) % N)
    }

    fn find(&self, key: &GuardKey) -> Option<usize> {
        Self::probe_run(key).find(|&i| !self.slots[i].is_free() && self.slots[i].key == *key)
    }

    /// The slot holding `key`, or the one to reuse for it.
    fn find_or_claim(&mut self, key: &GuardKey, now: i64, policy: &Policy) -> usize {
        if let Some(i) = self.find(key) {
            return i;
        }
        let i = Self::probe_run(key).min_by_key(|&i| self.slots[i].eviction_rank(now, policy)).expect("N > 0");
        self.slots[i] = Slot { key: *key, ..Slot::FREE };
        i
    }

    /// Counts an attempt as a failure, unless the subject is locked.
    pub fn admit(&mut self, key: &GuardKey, now: i64, policy: &Policy) -> Admission {
        let slot = &mut self.slots[self.find_or_claim(key, now, policy)];
        if slot.is_locked(now) {
            return Admission::Locked { until: slot.locked_until };
        }
        if slot.failures == 0 || now - slot.window_started_at >= policy.window_secs {
            slot.failures = 0;
            slot.window_started_at = now;
        }
        slot.failures = slot.failures.saturating_add(1);
        if slot.failures >= policy.max_failures {
            slot.locked_until = now + policy.lock_secs;
        }
        Admission::Check
    }

    /// The password was right: the subject's failures (and a lock its attempt set) end.
    pub fn succeeded(&mut self, key: &GuardKey) {
        if let Some(i) = self.find(key) {
            self.slots[i] = Slot::FREE;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: Policy = Policy::DEFAULT;

    fn key(n: u32) -> GuardKey {
        guard_key(&[7; 32], 1, "member", &n.to_string())
    }

    #[test]
    fn the_fifth_failure_locks_for_fifteen_minutes() {
        let mut t = AttemptTable::<64>::new();
        for i in 0..5 {
            assert_eq!(t.admit(&key(1), 1000 + i * 60, &P), Admission::Check);
        }
        assert_eq!(t.admit(&key(1), 1300, &P), Admission::Locked { until: 1240 + P.lock_secs });
        assert_eq!(t.admit(&key(1), 1240 + P.lock_secs - 1, &P), Admission::Locked { until: 1240 + P.lock_secs });
        assert_eq!(t.admit(&key(1), 1240 + P.lock_secs, &P), Admission::Check);
    }

    #[test]
    fn concurrent_attempts_beyond_five_are_refused_before_any_result() {
        // Five admitted, none settled yet: the sixth is refused, whatever its password.
        let mut t = AttemptTable::<64>::new();
        for _ in 0..5 {
            assert_eq!(t.admit(&key(1), 1000, &P), Admission::Check);
        }
        assert!(matches!(t.admit(&key(1), 1000, &P), Admission::Locked { .. }));
    }

    #[test]
    fn a_right_password_clears_failures_and_its_own_lock() {
        let mut t = AttemptTable::<64>::new();
        for _ in 0..5 {
            t.admit(&key(1), 1000, &P);
        }
        t.succeeded(&key(1));
        assert_eq!(t.admit(&key(1), 1001, &P), Admission::Check);
        for _ in 0..3 {
            t.admit(&key(1), 1001, &P);
        }
        assert_eq!(t.admit(&key(1), 1001, &P), Admission::Check);
        assert!(matches!(t.admit(&key(1), 1001, &P), Admission::Locked { .. }));
    }

    #[test]
    fn failures_spread_beyond_the_window_do_not_lock() {
        let mut t = AttemptTable::<64>::new();
        for i in 0..20 {
            assert_eq!(t.admit(&key(1), i * (P.window_secs / 4 + 1), &P), Admission::Check, "attempt {i}");
        }
    }

    #[test]
    fn subjects_are_counted_apart() {
        let mut t = AttemptTable::<64>::new();
        for _ in 0..5 {
            t.admit(&key(1), 1000, &P);
        }
        assert_eq!(t.admit(&key(2), 1000, &P), Admission::Check);
        assert_ne!(guard_key(&[7; 32], 1, "member", "x"), guard_key(&[7; 32], 2, "member", "x"));
        assert_ne!(guard_key(&[7; 32], 1, "member", "x"), guard_key(&[8; 32], 1, "member", "x"));
        assert_ne!(guard_key(&[7; 32], 1, "member", "x"), guard_key(&[7; 32], 1, "merchant", "x"));
    }

    #[test]
    fn a_flood_of_other_subjects_does_not_evict_a_lock() {
        // A table much smaller than the flood: fresh failures of other subjects reuse free,
        // lapsed and unlocked slots before any locked one.
        let mut t = AttemptTable::<256>::new();
        for _ in 0..5 {
            t.admit(&key(0), 1000, &P);
        }
        for n in 1..100_000 {
            t.admit(&key(n), 1001, &P);
        }
        assert!(matches!(t.admit(&key(0), 1002, &P), Admission::Locked { .. }));
    }

    #[test]
    fn a_full_table_still_admits_and_counts() {
        let mut t = AttemptTable::<32>::new();
        for n in 0..32 {
            for _ in 0..5 {
                t.admit(&key(n), 1000, &P);
            }
        }
        // Every slot holds a lock: a new subject takes the oldest lock's slot and is counted.
        for _ in 0..5 {
            assert_eq!(t.admit(&key(99), 1001, &P), Admission::Check);
        }
        assert!(matches!(t.admit(&key(99), 1001, &P), Admission::Locked { .. }));
    }
}
