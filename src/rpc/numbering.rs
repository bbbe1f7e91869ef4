//! Number formatting for column defaults and the card_no trigger.

use crate::domain::numbering;
use pgrx::prelude::*;

#[pg_extern(schema = "mps_internal", immutable, parallel_safe)]
fn member_no(seq: i64) -> String {
    numbering::member_no(seq)
}

#[pg_extern(schema = "mps_internal", immutable, parallel_safe)]
fn card_no(card_type: &str, seq: i64) -> Option<String> {
    numbering::card_no(card_type, seq)
}

#[pg_extern(schema = "mps_internal", immutable, parallel_safe)]
fn tx_no(tx_type: &str, seq: i64) -> Option<String> {
    numbering::tx_no(tx_type, seq)
}
