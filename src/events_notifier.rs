//! The event feed's notifier: one background worker for each database named in
//! `mps.events_notifier_databases`, which sends `NOTIFY mps_events, '<id>'` whenever the
//! newest event get_events can return there has grown (it looks every 50 ms). In those
//! databases the transactions that write events do not notify themselves.
//!
//! Why: PostgreSQL makes committing transactions that sent a NOTIFY take turns until each
//! commit is flushed, which cost charges a third of their throughput at 16 clients
//! (bench/results). The worker's notification also says more: events up to that id can be
//! read now, none is still held back behind an older transaction.

use crate::store;
use pgrx::bgworkers::{BackgroundWorker, BackgroundWorkerBuilder, SignalWakeFlags};
use pgrx::prelude::*;
use std::cell::Cell;
use std::ffi::CStr;
use std::time::Duration;

const LOOK_EVERY: Duration = Duration::from_millis(50);
/// After an error (a database that does not exist yet, a server starting up).
const RESTART_AFTER: Duration = Duration::from_secs(10);

/// Registers the workers (at server start, from shared_preload_libraries).
pub fn init() {
    if !unsafe { pg_sys::process_shared_preload_libraries_in_progress } {
        return;
    }
    for database in crate::settings::events_notifier_databases() {
        BackgroundWorkerBuilder::new(&format!("mps_ext events notifier for {database}"))
            .set_type("mps_ext events notifier")
            .set_library("mps_ext")
            .set_function("mps_events_notifier_main")
            .set_extra(&database)
            .enable_spi_access()
            .set_restart_time(Some(RESTART_AFTER))
            .load();
    }
}

thread_local! {
    /// Whether a worker notifies for this backend's database (None: not looked up yet).
    static SERVED: Cell<Option<bool>> = const { Cell::new(None) };
}

/// Whether this backend's database has a notifier, so its writers need not notify.
pub fn serves_this_database() -> bool {
    SERVED.with(|served| {
        served.get().unwrap_or_else(|| {
            // SAFETY: MyDatabaseId is set for a backend connected to a database.
            let name = unsafe { pg_sys::get_database_name(pg_sys::MyDatabaseId) };
            let name =
                if name.is_null() { String::new() } else { unsafe { CStr::from_ptr(name) }.to_string_lossy().into() };
            let answer = crate::settings::events_notifier_databases().contains(&name);
            served.set(Some(answer));
            answer
        })
    })
}

#[pg_guard]
#[no_mangle]
pub extern "C-unwind" fn mps_events_notifier_main(_arg: pg_sys::Datum) {
    BackgroundWorker::attach_signal_handlers(SignalWakeFlags::SIGHUP | SignalWakeFlags::SIGTERM);
    BackgroundWorker::connect_worker_to_spi(Some(BackgroundWorker::get_extra()), None);
    let mut announced = 0_i64;
    while BackgroundWorker::wait_latch(Some(LOOK_EVERY)) {
        announced = BackgroundWorker::transaction(|| {
            let newest = store::events::newest_readable().unwrap_or(0);
            if newest > announced {
                store::events::notify(&newest.to_string());
                newest
            } else {
                announced
            }
        });
    }
}
