//! Human-readable numbers: member `M`+8 digits, cards `STD`/`COR`/`VCH`+8, transactions
//! `PAY`/`REF`/`RCG`+10. The digits come from a never-cycling bigint sequence and are
//! zero-padded to the minimum width but never cut, so a number can never repeat: after
//! `M99999999` comes `M100000000` (the original's `lpad` truncated and collided:
//! docs/contract.md B21).

use crate::enums::{CardType, TxType};

pub fn member_no(seq: i64) -> String {
    format!("M{:08}", positive(seq))
}

pub fn card_no(card_type: CardType, seq: i64) -> String {
    let prefix = match card_type {
        CardType::Standard => "STD",
        CardType::Corporate => "COR",
        CardType::Voucher => "VCH",
    };
    format!("{prefix}{:08}", positive(seq))
}

/// Hold number: `HLD`+10 digits.
pub fn hold_no(seq: i64) -> String {
    format!("HLD{:010}", positive(seq))
}

pub fn tx_no(tx_type: TxType, seq: i64) -> String {
    let prefix = match tx_type {
        TxType::Payment => "PAY",
        TxType::Refund => "REF",
        TxType::Recharge => "RCG",
    };
    format!("{prefix}{:010}", positive(seq))
}

fn positive(seq: i64) -> u64 {
    // Sequences start at 1 and never cycle; a non-positive value is a programming error.
    assert!(seq > 0, "sequence value must be positive, got {seq}");
    seq as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_match_the_contract() {
        assert_eq!(member_no(1), "M00000001");
        assert_eq!(card_no(CardType::Standard, 1), "STD00000001");
        assert_eq!(card_no(CardType::Corporate, 4), "COR00000004");
        assert_eq!(card_no(CardType::Voucher, 5), "VCH00000005");
        assert_eq!(tx_no(TxType::Payment, 2), "PAY0000000002");
        assert_eq!(tx_no(TxType::Refund, 3), "REF0000000003");
        assert_eq!(tx_no(TxType::Recharge, 4), "RCG0000000004");
        assert_eq!(hold_no(7), "HLD0000000007");
    }

    #[test]
    fn numbers_grow_instead_of_wrapping() {
        assert_eq!(member_no(99_999_999), "M99999999");
        assert_eq!(member_no(100_000_000), "M100000000");
        assert_ne!(member_no(100_000_000), member_no(10_000_000));
        assert_eq!(card_no(CardType::Standard, 123_456_789), "STD123456789");
        assert_eq!(tx_no(TxType::Payment, 12_345_678_901), "PAY12345678901");
    }
}
