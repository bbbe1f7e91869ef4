//! All SQL text of mps_ext lives in this module: typed reads and writes per table. Every
//! name is schema-qualified: nothing may depend on a search_path (the RPCs run with
//! pg_catalog, pg_temp).

pub mod audit;
pub mod cards;
pub mod events;
pub mod holds;
pub mod identity;
pub mod ledger;
pub mod levels;
pub mod members;
pub mod merchants;
pub mod qr;
pub mod retention;
pub mod schedules;
pub mod sessions;
pub mod settlements;
pub mod test_cleanup;
pub mod transactions;

use crate::domain::DbEnum;
use pgrx::datum::{AnyNumeric, DatumWithOid};
use pgrx::pg_sys::PgOid;
use pgrx::prelude::*;
use pgrx::spi::{OwnedPreparedStatement, SpiHeapTupleData, SpiResult, SpiTupleTable};
use rust_decimal::Decimal;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::time::{Duration, Instant};

/// A kept plan is prepared again after a while: PostgreSQL re-plans kept plans after schema
/// changes and ANALYZE, but a generic plan made while a table was nearly empty (a fresh
/// install, a new partition) would otherwise go on scanning it as it grows, until autovacuum
/// gets round to analyzing it. The interval starts short and doubles up to a minute, so a
/// young table is re-planned often and a settled one rarely.
const FIRST_REPLAN: Duration = Duration::from_secs(1);
const MAX_REPLAN: Duration = Duration::from_secs(60);

/// A kept plan, whether its statement only reads (`only_reads`), when it was prepared, and
/// how long it may be used.
type Plan = (Rc<OwnedPreparedStatement>, bool, Instant, Duration);

thread_local! {
    /// Plans of this backend's statements, prepared once and kept (SPI_keepplan): a call
    /// then skips parsing and planning. Keyed by text and argument types.
    static PLANS: RefCell<HashMap<(String, Vec<u32>), Plan>> = RefCell::new(HashMap::new());
}

/// Runs one statement through its kept plan and hands the result to `read`. A statement
/// that only reads runs read-only (SPI `select`), which assigns no transaction id: a hot
/// standby can serve it, and a read on the primary burns no xid and writes no WAL. (Once
/// the transaction has written, pgrx runs reads read-write too, so they see the writes.)
fn run<T>(sql: &str, args: &[DatumWithOid<'_>], read: impl FnOnce(SpiTupleTable<'_>) -> SpiResult<T>) -> T {
    let key = (sql.to_owned(), args.iter().map(|a| u32::from(a.oid())).collect::<Vec<_>>());
    let cached = PLANS.with(|plans| plans.borrow().get(&key).cloned());
    let reads = cached.as_ref().map_or_else(|| only_reads(sql), |&(_, reads, _, _)| reads);
    if !reads {
        refuse_writes_in_recovery();
    }
    Spi::connect_mut(|client| {
        let plan = match cached {
            Some((plan, _, prepared, lifetime)) if prepared.elapsed() < lifetime => plan,
            stale => {
                let lifetime = stale.map_or(FIRST_REPLAN, |(_, _, _, lifetime)| (lifetime * 2).min(MAX_REPLAN));
                let types: Vec<PgOid> = args.iter().map(|a| PgOid::from(a.oid())).collect();
                let prepared = if reads { client.prepare(sql, &types)? } else { client.prepare_mut(sql, &types)? };
                let plan = Rc::new(prepared.keep());
                PLANS.with(|plans| plans.borrow_mut().insert(key, (plan.clone(), reads, Instant::now(), lifetime)));
                plan
            }
        };
        read(if reads { client.select(&*plan, None, args)? } else { client.update(&*plan, None, args)? })
    })
    .unwrap_or_else(|e| pgrx::error!("mps_ext: SPI failure: {e}"))
}

/// Whether a statement of ours only reads: a SELECT (or WITH) that neither locks (rows:
/// FOR …; advisory locks), modifies anything, nor calls a function that may write
/// (sequences, our own mps_internal functions, pg_cron's). Our SQL spells keywords in
/// capitals.
///
/// Locks count as writes for a second reason: a read-only SPI statement reads with the
/// snapshot of the statement that called us, a read-write one (READ COMMITTED) with a
/// fresh one. Whatever follows a lock wait must see what the holder committed, and once a
/// statement has run read-write (and the transaction has its id) pgrx runs every later
/// one read-write too.
fn only_reads(sql: &str) -> bool {
    let mut words = sql.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).filter(|w| !w.is_empty());
    matches!(words.next(), Some("SELECT" | "WITH"))
        && !words.any(|w| {
            matches!(
                w,
                "INSERT"
                    | "UPDATE"
                    | "DELETE"
                    | "MERGE"
                    | "FOR"
                    | "pg_advisory_xact_lock"
                    | "pg_advisory_xact_lock_shared"
                    | "nextval"
                    | "setval"
                    | "cron"
            )
        })
        && !calls_internal_function(sql)
}

/// Whether the statement calls one of our `mps_internal` functions (`mps_internal.f(`);
/// reading an `mps_internal` table is a read like any other.
fn calls_internal_function(sql: &str) -> bool {
    sql.match_indices("mps_internal.").any(|(at, prefix)| {
        let rest = sql[at + prefix.len()..].trim_start_matches(|c: char| c.is_ascii_alphanumeric() || c == '_');
        rest.trim_start().starts_with('(')
    })
}

/// A write on a hot standby would fail deep inside SPI with "cannot assign TransactionIds
/// during recovery" (XX000). Say what it is instead: SQLSTATE 25006, like any write there.
pub fn refuse_writes_in_recovery() {
    if unsafe { pg_sys::RecoveryInProgress() } {
        pgrx::ereport!(
            ERROR,
            PgSqlErrorCode::ERRCODE_READ_ONLY_SQL_TRANSACTION,
            "cannot write on a read-only server",
            "this server is a hot standby: call the primary for logins and money movements"
        );
    }
}

/// Runs one statement and maps every row it returns.
fn query<R>(
    sql: &str,
    args: &[DatumWithOid<'_>],
    mut map: impl FnMut(&SpiHeapTupleData<'_>) -> SpiResult<R>,
) -> Vec<R> {
    run(sql, args, |table| table.map(|row| map(&row)).collect())
}

/// Runs one statement and maps its first row, if any.
fn query_one<R>(
    sql: &str,
    args: &[DatumWithOid<'_>],
    map: impl FnMut(&SpiHeapTupleData<'_>) -> SpiResult<R>,
) -> Option<R> {
    query(sql, args, map).into_iter().next()
}

/// Runs one statement that returns a single value in a single row.
fn value<T: FromDatum + IntoDatum>(sql: &str, args: &[DatumWithOid<'_>]) -> Option<T> {
    query_one(sql, args, |row| row.get::<T>(1)).flatten()
}

/// Runs one statement and returns how many rows it touched (or returned).
fn execute(sql: &str, args: &[DatumWithOid<'_>]) -> usize {
    run(sql, args, |table| Ok(table.len()))
}

/// A column the schema declares NOT NULL.
fn required<T>(v: Option<T>, column: &str) -> T {
    v.unwrap_or_else(|| pgrx::error!("mps_ext: NOT NULL column {column} read as NULL"))
}

/// A numeric column (money, discounts) as a Decimal; they always fit.
fn decimal(v: Option<AnyNumeric>, column: &str) -> Decimal {
    let value = required(v, column);
    crate::datum::numeric_arg(value)
        .exact()
        .unwrap_or_else(|| pgrx::error!("mps_ext: {column} holds a value beyond Decimal"))
}

/// A Decimal bound as a numeric parameter.
fn numeric(d: Decimal) -> DatumWithOid<'static> {
    crate::datum::numeric(d).into()
}

/// An enum column read as its label (`column::text`).
fn label<T: DbEnum>(v: Option<String>, column: &str) -> T {
    let text = required(v, column);
    T::from_label(&text).unwrap_or_else(|| pgrx::error!("mps_ext: {column} holds unknown label {text:?}"))
}

/// Serializes transactions that take the same named lock, until they end.
pub fn lock_name(name: &str) {
    lock_names(&[], &[name]);
}

/// Takes named locks until the transaction ends, in one statement and in this order: the
/// shared ones (their holders never wait for each other, only for a holder of the exclusive
/// lock of that name), then the exclusive ones. Each is an advisory lock on a hash of the
/// name: a collision only makes unrelated requests queue briefly.
pub fn lock_names(shared: &[&str], exclusive: &[&str]) {
    if shared.is_empty() && exclusive.is_empty() {
        return;
    }
    let names: Vec<&str> = shared.iter().chain(exclusive).copied().collect();
    let modes: Vec<bool> = shared.iter().map(|_| true).chain(exclusive.iter().map(|_| false)).collect();
    execute(
        "SELECT CASE WHEN l.shared
                     THEN pg_catalog.pg_advisory_xact_lock_shared(pg_catalog.hashtextextended(l.name, 0))
                     ELSE pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended(l.name, 0)) END
           FROM ROWS FROM (pg_catalog.unnest($1::text[]), pg_catalog.unnest($2::bool[])) AS l (name, shared)",
        &[names.into(), modes.into()],
    );
}

/// The version of mps_ext this database has installed.
pub fn installed_version() -> Option<String> {
    value("SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'mps_ext'", &[])
}

/// Whether a point in time is already past (by the database clock).
pub fn is_past(at: pgrx::datum::TimestampWithTimeZone) -> bool {
    value::<bool>("SELECT $1 <= pg_catalog.now()", &[at.into()]) == Some(true)
}
