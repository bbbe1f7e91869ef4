//! Number formatting for column defaults and the card_no trigger (rules: domain::numbering).
//! card_no and tx_no took text before 0.5.0; their Rust names differ from the SQL ones so
//! that their symbols are new (src/superseded.rs).

use crate::datum::Enum;
use crate::domain::enums::{CardType, TxType};
use crate::domain::numbering;
use pgrx::prelude::*;

#[pg_extern(schema = "mps_internal", immutable, parallel_safe)]
fn member_no(seq: i64) -> String {
    numbering::member_no(seq)
}

#[pg_extern(name = "card_no", schema = "mps_internal", immutable, parallel_safe)]
fn card_no_of_type(card_type: Enum<CardType>, seq: i64) -> String {
    numbering::card_no(card_type.0, seq)
}

#[pg_extern(schema = "mps_internal", immutable, parallel_safe)]
fn hold_no(seq: i64) -> String {
    numbering::hold_no(seq)
}

#[pg_extern(name = "tx_no", schema = "mps_internal", immutable, parallel_safe)]
fn tx_no_of_type(tx_type: Enum<TxType>, seq: i64) -> String {
    numbering::tx_no(tx_type.0, seq)
}
