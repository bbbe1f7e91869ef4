//! Prices, discounts and points.
//!
//! * standard cards pay `final = round(raw × min(level discount, corporate discount), 2)`
//!   and earn `floor(raw)` points (raw already rounded to cents);
//! * voucher cards pay the raw price and earn nothing;
//! * corporate cards cannot pay;
//! * a refund reverses the original's points in proportion to the refunded share, and a
//!   full refund reverses all of them.

use crate::enums::CardType;
use crate::error::{ErrorCode, MpsError, MpsResult};
use crate::money::round_cents;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Charge {
    pub discount: Decimal,
    pub final_amount: Decimal,
    pub points: i32,
}

/// What a payment of `raw` costs the card and earns it. `current_points` bounds the
/// earned points so that the card's int4 points never overflow.
pub fn charge(
    card_type: CardType,
    raw: Decimal,
    level_discount: Decimal,
    corporate_discount: Option<Decimal>,
    current_points: i32,
) -> MpsResult<Charge> {
    let discount = match card_type {
        CardType::Standard => level_discount.min(corporate_discount.unwrap_or(Decimal::ONE)),
        CardType::Voucher | CardType::Corporate => Decimal::new(1000, 3),
    };
    at_rate(card_type, raw, discount, current_points)
}

/// What a payment of `raw` costs at a given rate: a hold's capture pays the rate recorded
/// when it was authorized, whatever the card's level or discounts are by then.
pub fn at_rate(card_type: CardType, raw: Decimal, discount: Decimal, current_points: i32) -> MpsResult<Charge> {
    let earns = match card_type {
        CardType::Standard => true,
        CardType::Voucher => false,
        CardType::Corporate => {
            return Err(MpsError::new(
                ErrorCode::CorporateCardCannotPay,
                "a corporate card gives a discount to bound members; it cannot pay",
            ))
        }
    };
    let final_amount = round_cents(raw * discount);
    let points = if earns { add_points(current_points, whole_units(raw)) - current_points } else { 0 };
    Ok(Charge { discount, final_amount, points })
}

/// floor(amount) as i64 (amounts are non-negative and below 10^10).
fn whole_units(amount: Decimal) -> i64 {
    amount.floor().to_i64().unwrap_or(i64::MAX)
}

/// `current + delta`, kept within [0, i32::MAX].
pub fn add_points(current: i32, delta: i64) -> i32 {
    (i64::from(current).saturating_add(delta)).clamp(0, i64::from(i32::MAX)) as i32
}

/// Points a refund takes back: the share of the original's earned points that the refunds
/// so far (this one included) cover, minus what earlier refunds already took back. When
/// the refunds reach the original's final amount, all remaining points go.
pub fn points_to_reverse(
    earned: i32,
    original_final: Decimal,
    refunded_before: Decimal,
    refund: Decimal,
    reversed_before: i32,
) -> i32 {
    if earned <= 0 || original_final <= Decimal::ZERO {
        return 0;
    }
    let refunded = refunded_before + refund;
    let target = if refunded >= original_final {
        i64::from(earned)
    } else {
        (Decimal::from(earned) * refunded / original_final).floor().to_i64().unwrap_or(0)
    };
    (target - i64::from(reversed_before)).clamp(0, i64::from(earned)) as i32
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn contract_examples() {
        let level0 = d("1.000");
        let c = |raw, corp: Option<&str>, level: Decimal| {
            charge(CardType::Standard, d(raw), level, corp.map(d), 0).unwrap()
        };
        assert_eq!(c("100", None, level0).final_amount, d("100.00"));
        assert_eq!(c("100", Some("0.800"), level0).final_amount, d("80.00"));
        assert_eq!(c("33.33", Some("0.800"), level0).final_amount, d("26.66"));
        assert_eq!(c("100", None, d("0.850")).final_amount, d("85.00"));
        assert_eq!(c("200", Some("0.750"), level0).final_amount, d("150.00"));
        assert_eq!(c("150", Some("0.750"), level0).final_amount, d("112.50"));
        assert_eq!(c("150", None, d("0.750")).final_amount, d("112.50"));
        // best of level and corporate discount
        assert_eq!(c("100", Some("0.900"), d("0.850")).discount, d("0.850"));
        assert_eq!(c("100", Some("0.800"), d("0.950")).discount, d("0.800"));
        // points are whole units of the undiscounted (rounded) price
        assert_eq!(c("299.99", Some("0.800"), level0).points, 299);
        assert_eq!(c("300.00", None, level0).points, 300);
    }

    #[test]
    fn a_recorded_rate_is_kept() {
        let c = at_rate(CardType::Standard, d("40.00"), d("0.950"), 0).unwrap();
        assert_eq!((c.final_amount, c.discount, c.points), (d("38.00"), d("0.950"), 40));
        assert_eq!(at_rate(CardType::Voucher, d("10.05"), d("1.000"), 0).unwrap().points, 0);
        assert_eq!(
            at_rate(CardType::Corporate, d("1"), d("1.000"), 0).unwrap_err().code,
            ErrorCode::CorporateCardCannotPay
        );
    }

    #[test]
    fn final_amount_rounds_half_away_from_zero() {
        // 10.05 × 0.950 = 9.5475 → 9.55
        assert_eq!(charge(CardType::Standard, d("10.05"), d("0.950"), None, 0).unwrap().final_amount, d("9.55"));
        // 0.01 × 0.850 = 0.0085 → 0.01
        assert_eq!(charge(CardType::Standard, d("0.01"), d("0.850"), None, 0).unwrap().final_amount, d("0.01"));
    }

    #[test]
    fn card_types() {
        let v = charge(CardType::Voucher, d("50"), d("0.850"), Some(d("0.5")), 0).unwrap();
        assert_eq!((v.discount, v.final_amount, v.points), (d("1.000"), d("50.00"), 0));
        assert_eq!(
            charge(CardType::Corporate, d("50"), d("1"), None, 0).unwrap_err().code,
            ErrorCode::CorporateCardCannotPay
        );
    }

    #[test]
    fn points_never_overflow() {
        let c = charge(CardType::Standard, d("9999999999.99"), d("1"), None, 5).unwrap();
        assert_eq!(c.points, i32::MAX - 5);
        assert_eq!(add_points(10, -50), 0);
        assert_eq!(add_points(i32::MAX, 1), i32::MAX);
    }

    #[test]
    fn refunds_reverse_points_proportionally_and_fully_at_the_end() {
        // payment of 300 (final 240 at 0.8) earned 300 points
        let (earned, fin) = (300, d("240.00"));
        let first = points_to_reverse(earned, fin, d("0"), d("80.00"), 0);
        assert_eq!(first, 100);
        let second = points_to_reverse(earned, fin, d("80.00"), d("0.01"), first);
        assert_eq!(second, 0); // 300 × 80.01/240 = 100.0125 → 100
        let last = points_to_reverse(earned, fin, d("80.01"), d("159.99"), first + second);
        assert_eq!(first + second + last, 300);
        assert_eq!(points_to_reverse(0, fin, d("0"), d("10"), 0), 0);
        assert_eq!(points_to_reverse(10, d("0.00"), d("0"), d("0"), 0), 0);
    }
}
