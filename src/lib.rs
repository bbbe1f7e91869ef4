//! mps_ext: the Member Payment System RPC layer as a PostgreSQL extension.
//!
//! Layout: `domain` (pure rules, its own crate), `auth` (who is calling), `store` (all SQL
//! text), `rpc` (the functions, one file per capability), `datum` (enum and numeric values
//! at the function boundary). Every RPC is declared once: a `#[pg_extern]` in schema public,
//! SECURITY DEFINER with a fixed search_path, with the contract's argument names, types and
//! defaults; pgrx binds it as `LANGUAGE c`. Only the readers that project table rows are SQL
//! (`sql/31–35`), calling Rust scope functions in `mps_internal` by named arguments.

use pgrx::prelude::*;

mod auth;
mod datum;
mod error;
mod events_notifier;
mod rpc;
mod settings;
mod store;
mod superseded;
mod version;

pub use mps_domain as domain;

pgrx::pg_module_magic!();

// Schemas the Rust functions live in (created in sql/00_bootstrap.sql; declared here so
// that `#[pg_extern(schema = …)]` can name them).
#[pg_schema]
mod mps_internal {}
#[pg_schema]
mod mps_auth {}

#[pg_guard]
pub extern "C-unwind" fn _PG_init() {
    // A Rust backtrace must never reach a caller, whatever the server was started with:
    // std decides once, on first use, whether to capture backtraces.
    std::env::remove_var("RUST_BACKTRACE");
    std::env::remove_var("RUST_LIB_BACKTRACE");
    settings::init();
    auth::guard::init();
    events_notifier::init();
    error::init_log_hook();
}

extension_sql_file!("../sql/00_bootstrap.sql", name = "bootstrap", bootstrap);
extension_sql_file!(
    "../sql/10_tables.sql",
    name = "tables",
    requires = [
        "bootstrap",
        rpc::numbering::member_no,
        rpc::numbering::hold_no,
        rpc::numbering::tx_no_of_type,
        rpc::events::next_event_id
    ]
);
extension_sql_file!("../sql/11_indexes.sql", name = "indexes", requires = ["tables"]);
extension_sql_file!(
    "../sql/12_triggers.sql",
    name = "triggers",
    requires = ["tables", rpc::numbering::card_no_of_type]
);
extension_sql_file!("../sql/13_seed.sql", name = "seed", requires = ["tables"]);
extension_sql_file!(
    "../sql/14_partitions.sql",
    name = "partitions",
    requires = ["tables", "indexes", "triggers", rpc::numbering::tx_no_of_type]
);
extension_sql_file!("../sql/15_drop_guard.sql", name = "drop_guard", requires = ["tables", "partitions"]);
extension_sql_file!("../sql/16_backups.sql", name = "backups", requires = ["tables", "seed", "partitions"]);
extension_sql_file!("../sql/17_retention.sql", name = "retention", requires = ["tables", "indexes"]);
extension_sql_file!("../sql/18_references.sql", name = "references", requires = ["tables", "partitions"]);
extension_sql_file!(
    "../sql/20_rls.sql",
    name = "rls",
    requires = [
        "tables",
        "partitions",
        rpc::rls::caller_member_id,
        rpc::rls::caller_merchant_id,
        rpc::rls::caller_is_super_admin
    ]
);
// The readers that project table rows (sql/31–35) call the Rust scope functions they name;
// every other RPC is a #[pg_extern] in src/rpc/ and needs no SQL of its own.
extension_sql_file!(
    "../sql/31_api_cards.sql",
    name = "api_cards",
    requires = ["tables", rpc::cards::get_card_bindings, rpc::cards::get_member_cards, rpc::cards::get_card_detail]
);
extension_sql_file!(
    "../sql/32_api_money.sql",
    name = "api_money",
    requires = ["tables", rpc::points::get_point_ledger, rpc::cards::get_card_detail, rpc::scopes::merchant_scope]
);
extension_sql_file!(
    "../sql/33_api_settlements.sql",
    name = "api_settlements",
    requires = ["tables", rpc::scopes::merchant_scope, rpc::scopes::settlement_scope]
);
extension_sql_file!(
    "../sql/34_api_queries.sql",
    name = "api_queries",
    requires = [
        "tables",
        rpc::scopes::admin_page,
        rpc::scopes::contains_pattern,
        rpc::scopes::member_scope,
        rpc::scopes::member_history_scope,
        rpc::scopes::merchant_scope,
        rpc::scopes::transaction_scope,
        rpc::scopes::caller_member,
        rpc::scopes::caller_merchant,
        rpc::scopes::card_no_scope,
        rpc::scopes::member_identifier_scope,
        rpc::scopes::merchant_code_scope,
    ]
);
extension_sql_file!(
    "../sql/35_api_reports.sql",
    name = "api_reports",
    requires = ["tables", rpc::scopes::admin_page, rpc::scopes::report_scope, rpc::scopes::trend_scope]
);
extension_sql_file!("../sql/37_api_schedules.sql", name = "api_schedules", requires = ["tables"]);
extension_sql_file!(
    "../sql/38_api_events.sql",
    name = "api_events",
    requires = ["tables", "indexes", rpc::events::event_scope, rpc::events::event_horizon]
);
extension_sql_file!("../sql/90_grants.sql", name = "grants", finalize);
