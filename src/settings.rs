//! Server settings. They are SUSET: only a superuser (postgresql.conf, ALTER SYSTEM/DATABASE)
//! can change them, so no API client can weaken them for itself.

use crate::domain::login::Policy;
use crate::domain::password;
use crate::domain::retention::{self, Policy as Retention};
use pgrx::guc::{GucContext, GucFlags, GucRegistry, GucSetting};

static BCRYPT_COST: GucSetting<i32> = GucSetting::<i32>::new(password::DEFAULT_COST as i32);
static QR_SINGLE_USE: GucSetting<bool> = GucSetting::<bool>::new(false);
static QR_HISTORY_RETENTION_DAYS: GucSetting<i32> = GucSetting::<i32>::new(Retention::DEFAULT.qr_history_days);
static PASSWORD_MIN_LENGTH: GucSetting<i32> = GucSetting::<i32>::new(password::DEFAULT_MIN_CHARS as i32);
static ALLOW_DROP_WITH_DATA: GucSetting<bool> = GucSetting::<bool>::new(false);
static ALLOW_TEST_CLEANUP: GucSetting<bool> = GucSetting::<bool>::new(false);
static LOGIN_MAX_FAILURES: GucSetting<i32> = GucSetting::<i32>::new(Policy::DEFAULT.max_failures as i32);
static LOGIN_WINDOW_SECONDS: GucSetting<i32> = GucSetting::<i32>::new(Policy::DEFAULT.window_secs as i32);
static RETENTION_AUDIT_DAYS: GucSetting<i32> = GucSetting::<i32>::new(Retention::DEFAULT.audit_days);
static RETENTION_IDEMPOTENCY_DAYS: GucSetting<i32> = GucSetting::<i32>::new(Retention::DEFAULT.idempotency_days);
static RETENTION_POINT_LEDGER_DAYS: GucSetting<i32> = GucSetting::<i32>::new(Retention::DEFAULT.point_ledger_days);
static RETENTION_EVENTS_DAYS: GucSetting<i32> = GucSetting::<i32>::new(Retention::DEFAULT.events_days);
static EVENTS_NOTIFY: GucSetting<bool> = GucSetting::<bool>::new(true);
static EVENTS_NOTIFIER_DATABASES: GucSetting<Option<std::ffi::CString>> =
    GucSetting::<Option<std::ffi::CString>>::new(None);
static RETENTION_BATCH_ROWS: GucSetting<i32> = GucSetting::<i32>::new(retention::DEFAULT_BATCH_ROWS);
static LOGIN_LOCK_SECONDS: GucSetting<i32> = GucSetting::<i32>::new(Policy::DEFAULT.lock_secs as i32);

pub fn init() {
    GucRegistry::define_int_guc(
        c"mps.bcrypt_cost",
        c"bcrypt cost factor for new password hashes.",
        c"Each step doubles the work of hashing and verifying a password.",
        &BCRYPT_COST,
        4,
        16,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_int_guc(
        c"mps.password_min_length",
        c"Minimum number of characters of a new password.",
        c"Shorter passwords are refused with PASSWORD_TOO_SHORT.",
        &PASSWORD_MIN_LENGTH,
        6,
        72,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_bool_guc(
        c"mps.qr_single_use",
        c"Whether a QR code is used up by the payment it pays for.",
        c"Off (the contract's behaviour): a code pays any number of times within its TTL.",
        &QR_SINGLE_USE,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_int_guc(
        c"mps.qr_history_retention_days",
        c"Days of QR code history kept by cron_rotate_qr_tokens.",
        c"Older card_qr_history rows are deleted by the maintenance job.",
        &QR_HISTORY_RETENTION_DAYS,
        1,
        3650,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_bool_guc(
        c"mps.allow_drop_with_data",
        c"Lets DROP EXTENSION mps_ext go ahead while members, cards or transactions exist.",
        c"Read by the event trigger of sql/15_drop_guard.sql; set it only to drop data deliberately.",
        &ALLOW_DROP_WITH_DATA,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_bool_guc(
        c"mps.allow_test_cleanup",
        c"Lets delete_test_member and delete_test_merchant hard-delete members and merchants.",
        c"For test databases only: the deletes take the movements, ledger rows and audit events with them.",
        &ALLOW_TEST_CLEANUP,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_int_guc(
        c"mps.login_max_failures",
        c"Failed password attempts within mps.login_window_seconds that lock an account.",
        c"Also counts current-password checks and corporate-card binding passwords.",
        &LOGIN_MAX_FAILURES,
        1,
        100,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_int_guc(
        c"mps.login_window_seconds",
        c"The window, in seconds, in which failed password attempts are counted.",
        c"",
        &LOGIN_WINDOW_SECONDS,
        1,
        86_400,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_int_guc(
        c"mps.login_lock_seconds",
        c"How long, in seconds, a lock after too many failed password attempts lasts.",
        c"",
        &LOGIN_LOCK_SECONDS,
        1,
        86_400,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_int_guc(
        c"mps.retention_audit_days",
        c"Days audit.event_log keeps its rows; 0 keeps them forever.",
        c"Older rows are deleted by apply_retention (the daily mps-retention job).",
        &RETENTION_AUDIT_DAYS,
        0,
        36_500,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_int_guc(
        c"mps.retention_idempotency_days",
        c"Days an idempotency key or external order id keeps answering retries; 0 keeps them forever.",
        c"Older idempotency_registry and merchant_order_registry rows are deleted by apply_retention.",
        &RETENTION_IDEMPOTENCY_DAYS,
        0,
        36_500,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_int_guc(
        c"mps.retention_point_ledger_days",
        c"Days of point ledger detail kept per card; 0 keeps all of it.",
        c"apply_retention folds older rows of a card into one carried_forward row with their sum.",
        &RETENTION_POINT_LEDGER_DAYS,
        0,
        36_500,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_int_guc(
        c"mps.retention_events_days",
        c"Days the event feed (public.events) keeps its rows; 0 keeps them forever.",
        c"Older events are deleted by apply_retention (the daily mps-retention job).",
        &RETENTION_EVENTS_DAYS,
        0,
        36_500,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_bool_guc(
        c"mps.events_notify",
        c"Whether a transaction that writes events sends NOTIFY mps_events when it commits.",
        c"On by default. NOTIFY makes committing transactions that send it take turns; with it off, clients poll get_events.",
        &EVENTS_NOTIFY,
        GucContext::Suset,
        GucFlags::default(),
    );
    // A server-start setting exists only when the library is preloaded (PostgreSQL refuses
    // to define one later); without it no database has a notifier worker.
    if unsafe { pgrx::pg_sys::process_shared_preload_libraries_in_progress } {
        GucRegistry::define_string_guc(
            c"mps.events_notifier_databases",
            c"Databases (comma-separated) whose event notifications a background worker sends.",
            c"In these databases transactions that write events do not NOTIFY themselves; the worker announces the newest readable event every 50 ms. Needs a restart.",
            &EVENTS_NOTIFIER_DATABASES,
            GucContext::Postmaster,
            GucFlags::default(),
        );
    }
    GucRegistry::define_int_guc(
        c"mps.retention_batch_rows",
        c"Rows one retention statement removes at most.",
        c"Bounds each batch of apply_retention, and so how long it holds its row locks.",
        &RETENTION_BATCH_ROWS,
        retention::MIN_BATCH_ROWS,
        retention::MAX_BATCH_ROWS,
        GucContext::Suset,
        GucFlags::default(),
    );
    // `mps.` names are ours: setting one this library does not define is an error, not a
    // placeholder that silently changes nothing (a misspelt setting).
    // SAFETY: called from _PG_init, in the backend's main thread, with a static C string.
    unsafe { pgrx::pg_sys::MarkGUCPrefixReserved(c"mps".as_ptr()) };
}

pub fn login_policy() -> Policy {
    Policy {
        max_failures: LOGIN_MAX_FAILURES.get() as u16,
        window_secs: LOGIN_WINDOW_SECONDS.get().into(),
        lock_secs: LOGIN_LOCK_SECONDS.get().into(),
    }
}

pub fn allow_test_cleanup() -> bool {
    ALLOW_TEST_CLEANUP.get()
}

pub fn qr_single_use() -> bool {
    QR_SINGLE_USE.get()
}

pub fn retention_policy() -> Retention {
    Retention {
        audit_days: RETENTION_AUDIT_DAYS.get(),
        idempotency_days: RETENTION_IDEMPOTENCY_DAYS.get(),
        point_ledger_days: RETENTION_POINT_LEDGER_DAYS.get(),
        qr_history_days: QR_HISTORY_RETENTION_DAYS.get(),
        events_days: RETENTION_EVENTS_DAYS.get(),
    }
}

pub fn events_notify() -> bool {
    EVENTS_NOTIFY.get()
}

/// The databases named in mps.events_notifier_databases.
pub fn events_notifier_databases() -> Vec<String> {
    EVENTS_NOTIFIER_DATABASES.get().map_or_else(Vec::new, |list| {
        list.to_string_lossy().split(',').map(str::trim).filter(|d| !d.is_empty()).map(String::from).collect()
    })
}

pub fn retention_batch_rows() -> i64 {
    retention::batch_rows(RETENTION_BATCH_ROWS.get())
}

pub fn bcrypt_cost() -> u32 {
    BCRYPT_COST.get() as u32
}

pub fn password_min_length() -> usize {
    PASSWORD_MIN_LENGTH.get() as usize
}
