use super::{execute, value};

pub fn pg_cron_installed() -> bool {
    value::<bool>("SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'pg_cron')", &[]) == Some(true)
}

/// Creates or updates the named pg_cron job (pg_cron matches jobs by name).
pub fn schedule(name: &str, schedule: &str, command: &str) {
    execute("SELECT cron.schedule($1, $2, $3)", &[name.into(), schedule.into(), command.into()]);
}
