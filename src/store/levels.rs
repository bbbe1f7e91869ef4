use super::{query, required};
use crate::domain::levels::Level;
use rust_decimal::Decimal;
use std::str::FromStr;

pub fn active() -> Vec<Level> {
    query(
        "SELECT level, min_points, max_points, discount::text
           FROM public.membership_levels WHERE is_active ORDER BY level",
        &[],
        |r| {
            let discount = required(r.get::<String>(4)?, "membership_levels.discount");
            Ok(Level {
                level: required(r.get::<i32>(1)?, "membership_levels.level"),
                min_points: required(r.get::<i32>(2)?, "membership_levels.min_points"),
                max_points: r.get::<i32>(3)?,
                discount: Decimal::from_str(&discount).expect("numeric text is a decimal"),
            })
        },
    )
}
