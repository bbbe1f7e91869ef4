use super::{execute, value};

pub fn pg_cron_installed() -> bool {
    value::<bool>("SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'pg_cron')", &[]) == Some(true)
}

/// Creates or updates the named pg_cron job (pg_cron matches jobs by name).
pub fn schedule(name: &str, schedule: &str, command: &str) {
    execute("SELECT cron.schedule($1, $2, $3)", &[name.into(), schedule.into(), command.into()]);
}

pub fn ensure_transaction_partitions(months_ahead: i32) -> i32 {
    value::<i32>("SELECT mps_internal.ensure_transaction_partitions($1)", &[months_ahead.into()]).unwrap_or(0)
}
