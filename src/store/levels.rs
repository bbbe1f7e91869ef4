use super::{required, value};
use crate::domain::levels::Level;
use pgrx::datum::JsonB;
use rust_decimal::Decimal;
use std::str::FromStr;

/// The active levels as one JSON value (`[[level, min_points, max_points, "discount"], …]`):
/// a scalar subquery, so that a statement that reads something else anyway (the card a
/// movement locks, `cards::MONEY_CARD`) brings them along instead of a statement of their own.
pub(super) const ACTIVE_LEVELS: &str = "SELECT COALESCE(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_array(
                                  l.level, l.min_points, l.max_points, l.discount::text) ORDER BY l.level), '[]')
                              FROM public.membership_levels l WHERE l.is_active";

pub fn active() -> Vec<Level> {
    read(value::<JsonB>(&format!("SELECT ({ACTIVE_LEVELS})"), &[]))
}

/// Reads `ACTIVE_LEVELS`' value.
pub(super) fn read(levels: Option<JsonB>) -> Vec<Level> {
    let levels = required(levels, "membership_levels");
    levels
        .0
        .as_array()
        .unwrap_or_else(|| malformed())
        .iter()
        .map(|row| {
            let int = |i: usize| row.get(i).and_then(serde_json::Value::as_i64).and_then(|v| i32::try_from(v).ok());
            let discount = row.get(3).and_then(serde_json::Value::as_str).and_then(|d| Decimal::from_str(d).ok());
            match (int(0), int(1), row.get(2), discount) {
                (Some(level), Some(min_points), Some(max), Some(discount)) if max.is_null() || int(2).is_some() => {
                    Level { level, min_points, max_points: int(2), discount }
                }
                _ => malformed(),
            }
        })
        .collect()
}

fn malformed() -> ! {
    pgrx::error!("mps_ext: membership_levels read as malformed JSON")
}
