use super::{required, value};
use crate::domain::levels::Level;
use pgrx::datum::JsonB;
use rust_decimal::Decimal;
use std::str::FromStr;

/// The active levels as one JSON value (`[[level, min_points, max_points, "discount"], …]`):
/// a scalar subquery, so that a statement that reads something else anyway (the card a
/// movement locks, `cards::money_card`) brings them along instead of a statement of their own.
pub(super) const ACTIVE_LEVELS: &str = "SELECT COALESCE(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_array(
                                  l.level, l.min_points, l.max_points, l.discount::text) ORDER BY l.level), '[]')
                              FROM public.membership_levels l WHERE l.is_active";

pub fn active() -> Vec<Level> {
    read(value::<JsonB>(&format!("SELECT ({ACTIVE_LEVELS})"), &[]))
}

/// Reads `ACTIVE_LEVELS`' value.
pub(super) fn read(levels: Option<JsonB>) -> Vec<Level> {
    let rows: Vec<(i32, i32, Option<i32>, String)> = serde_json::from_value(required(levels, "membership_levels").0)
        .unwrap_or_else(|e| pgrx::error!("mps_ext: membership_levels read as malformed JSON: {e}"));
    rows.into_iter()
        .map(|(level, min_points, max_points, discount)| Level {
            level,
            min_points,
            max_points,
            discount: Decimal::from_str(&discount).expect("numeric text is a decimal"),
        })
        .collect()
}
