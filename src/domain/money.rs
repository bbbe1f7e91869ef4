//! Money: numeric(12,2) amounts and numeric(4,3) discounts as `Decimal`, never floats.
//! Amounts are rounded to cents half away from zero once, on input; every computation
//! uses the rounded value.

use crate::error::{ErrorCode, MpsError, MpsResult};
use rust_decimal::{Decimal, RoundingStrategy};
use std::str::FromStr;

/// The largest value numeric(12,2) holds.
pub fn max_amount() -> Decimal {
    Decimal::new(999_999_999_999, 2)
}

/// Rounds to cents, half away from zero, and always shows two decimals (100 → 100.00).
pub fn round_cents(d: Decimal) -> Decimal {
    let mut cents = d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    cents.rescale(2);
    cents
}

/// Parses PostgreSQL numeric text (`NaN`, `Infinity` and out-of-range values are refused).
pub fn parse_numeric(text: &str) -> Option<Decimal> {
    Decimal::from_str(text).ok()
}

/// A numeric argument as the caller passed it: a value `Decimal` holds, or one it cannot
/// (`NaN`, `Infinity`, more than 28 significant digits), kept as PostgreSQL prints it for
/// the error's DETAIL.
#[derive(Debug, Clone, PartialEq)]
pub enum NumericArg {
    Exact(Decimal),
    Other(String),
}

impl NumericArg {
    pub fn exact(self) -> Option<Decimal> {
        match self {
            NumericArg::Exact(d) => Some(d),
            NumericArg::Other(_) => None,
        }
    }
}

impl std::fmt::Display for NumericArg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NumericArg::Exact(d) => d.fmt(f),
            NumericArg::Other(text) => f.write_str(text),
        }
    }
}

/// An amount argument: present, a finite number, and after rounding to cents positive
/// (or zero when `allow_zero`) and within numeric(12,2). `code` is the RPC's own error.
pub fn amount(raw: Option<NumericArg>, code: ErrorCode, argument: &str, allow_zero: bool) -> MpsResult<Decimal> {
    let raw = raw.ok_or_else(|| MpsError::new(code, format!("{argument} is required")))?;
    let value =
        raw.clone().exact().ok_or_else(|| MpsError::new(code, format!("{argument} = {raw} is not an amount")))?;
    let rounded = round_cents(value);
    if rounded < Decimal::ZERO || (rounded.is_zero() && !allow_zero) {
        let bound = if allow_zero { "negative" } else { "not positive" };
        return Err(MpsError::new(code, format!("{argument} = {raw} is {bound} after rounding to cents")));
    }
    if rounded > max_amount() {
        return Err(MpsError::new(code, format!("{argument} = {raw} exceeds the maximum {}", max_amount())));
    }
    Ok(rounded)
}

/// A discount multiplier argument: within [0, 1], rounded to 3 decimals half away from zero.
pub fn discount(raw: NumericArg, argument: &str) -> MpsResult<Decimal> {
    let invalid =
        || MpsError::new(ErrorCode::InvalidDiscount, format!("{argument} = {raw} is not between 0.000 and 1.000"));
    let value = raw.clone().exact().ok_or_else(invalid)?;
    let rounded = value.round_dp_with_strategy(3, RoundingStrategy::MidpointAwayFromZero);
    if rounded < Decimal::ZERO || rounded > Decimal::ONE {
        return Err(invalid());
    }
    Ok(rounded)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    /// An argument as the extension passes it: exact when Decimal holds it.
    fn arg(s: &str) -> NumericArg {
        parse_numeric(s).map_or_else(|| NumericArg::Other(s.to_string()), NumericArg::Exact)
    }

    #[test]
    fn rounds_half_away_from_zero() {
        assert_eq!(round_cents(d("100.005")), d("100.01"));
        assert_eq!(round_cents(d("100.004")), d("100.00"));
        assert_eq!(round_cents(d("299.999")), d("300.00"));
        assert_eq!(round_cents(d("-0.005")), d("-0.01"));
        assert_eq!(round_cents(d("100")).to_string(), "100.00");
    }

    #[test]
    fn amounts() {
        let c = ErrorCode::InvalidAmount;
        assert_eq!(amount(Some(arg("100.005")), c, "p", false).unwrap(), d("100.01"));
        assert_eq!(amount(Some(arg("0.004")), c, "p", false).unwrap_err().code, c);
        assert_eq!(amount(Some(arg("0")), c, "p", true).unwrap(), d("0"));
        assert_eq!(amount(Some(arg("-1")), c, "p", true).unwrap_err().code, c);
        assert_eq!(amount(None, c, "p", true).unwrap_err().code, c);
        assert_eq!(amount(Some(arg("NaN")), c, "p", false).unwrap_err().code, c);
        assert_eq!(amount(Some(arg("Infinity")), c, "p", false).unwrap_err().code, c);
        assert_eq!(amount(Some(arg("10000000000000")), c, "p", false).unwrap_err().code, c);
        assert_eq!(amount(Some(arg("9999999999.99")), c, "p", false).unwrap(), max_amount());
        let e = amount(Some(arg("0.001")), c, "p_raw_amount", false).unwrap_err();
        assert_eq!(e.detail, "p_raw_amount = 0.001 is not positive after rounding to cents");
    }

    #[test]
    fn discounts() {
        assert_eq!(discount(arg("0.8"), "p").unwrap(), d("0.800"));
        assert_eq!(discount(arg("0.7505"), "p").unwrap(), d("0.751"));
        assert_eq!(discount(arg("1.2"), "p").unwrap_err().code, ErrorCode::InvalidDiscount);
        assert_eq!(discount(arg("-0.1"), "p").unwrap_err().code, ErrorCode::InvalidDiscount);
        assert_eq!(discount(arg("NaN"), "p").unwrap_err().code, ErrorCode::InvalidDiscount);
    }
}
