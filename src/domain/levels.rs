//! Membership levels: the active level whose `[min_points, max_points]` range contains the
//! points (open-ended when `max_points` is NULL) decides level and discount; if several
//! ranges match the highest level wins; if none does, level 0 at discount 1.000.

use rust_decimal::Decimal;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Level {
    pub level: i32,
    pub min_points: i32,
    pub max_points: Option<i32>,
    pub discount: Decimal,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    pub level: i32,
    pub discount: Decimal,
}

/// `active_levels` are the rows of `membership_levels` with `is_active`.
pub fn standing(points: i64, active_levels: &[Level]) -> Standing {
    active_levels
        .iter()
        .filter(|l| i64::from(l.min_points) <= points && l.max_points.is_none_or(|max| points <= i64::from(max)))
        .max_by_key(|l| l.level)
        .map_or(Standing { level: 0, discount: Decimal::ONE }, |l| Standing { level: l.level, discount: l.discount })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::prelude::FromStr;

    fn seed() -> Vec<Level> {
        let l = |level, min, max, d: &str| Level {
            level,
            min_points: min,
            max_points: max,
            discount: Decimal::from_str(d).unwrap(),
        };
        vec![
            l(0, 0, Some(999), "1.000"),
            l(1, 1000, Some(4999), "0.950"),
            l(2, 5000, Some(9999), "0.900"),
            l(3, 10000, None, "0.850"),
        ]
    }

    #[test]
    fn contract_table() {
        let levels = seed();
        for (points, level, discount) in [
            (999, 0, "1.000"),
            (1000, 1, "0.950"),
            (4999, 1, "0.950"),
            (5000, 2, "0.900"),
            (10000, 3, "0.850"),
            (-5, 0, "1"),
        ] {
            let s = standing(points, &levels);
            assert_eq!(s.level, level, "points {points}");
            assert_eq!(s.discount, Decimal::from_str(discount).unwrap(), "points {points}");
        }
    }

    #[test]
    fn deactivated_level_falls_back_to_zero_not_to_the_level_below() {
        let levels: Vec<_> = seed().into_iter().filter(|l| l.level != 2).collect();
        assert_eq!(standing(6000, &levels), Standing { level: 0, discount: Decimal::ONE });
    }
}
