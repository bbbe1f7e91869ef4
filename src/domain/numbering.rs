//! Human-readable numbers: member `M`+8 digits, cards `STD`/`COR`/`VCH`+8, transactions
//! `PAY`/`REF`/`RCG`+10. The digits come from a never-cycling bigint sequence and are
//! zero-padded to the minimum width but never cut, so a number can never repeat: after
//! `M99999999` comes `M100000000` (the original's `lpad` truncated and collided:
//! docs/contract.md B21).

pub fn member_no(seq: i64) -> String {
    format!("M{:08}", positive(seq))
}

/// Card number for a card type as spelled by the `card_type` enum.
pub fn card_no(card_type: &str, seq: i64) -> Option<String> {
    let prefix = match card_type {
        "standard" => "STD",
        "corporate" => "COR",
        "voucher" => "VCH",
        _ => return None,
    };
    Some(format!("{prefix}{:08}", positive(seq)))
}

/// Transaction number for a transaction type as spelled by the `tx_type` enum.
pub fn tx_no(tx_type: &str, seq: i64) -> Option<String> {
    let prefix = match tx_type {
        "payment" => "PAY",
        "refund" => "REF",
        "recharge" => "RCG",
        _ => return None,
    };
    Some(format!("{prefix}{:010}", positive(seq)))
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
        assert_eq!(card_no("standard", 1).unwrap(), "STD00000001");
        assert_eq!(card_no("corporate", 4).unwrap(), "COR00000004");
        assert_eq!(card_no("voucher", 5).unwrap(), "VCH00000005");
        assert_eq!(tx_no("payment", 2).unwrap(), "PAY0000000002");
        assert_eq!(tx_no("refund", 3).unwrap(), "REF0000000003");
        assert_eq!(tx_no("recharge", 4).unwrap(), "RCG0000000004");
    }

    #[test]
    fn numbers_grow_instead_of_wrapping() {
        assert_eq!(member_no(99_999_999), "M99999999");
        assert_eq!(member_no(100_000_000), "M100000000");
        assert_ne!(member_no(100_000_000), member_no(10_000_000));
        assert_eq!(card_no("standard", 123_456_789).unwrap(), "STD123456789");
        assert_eq!(tx_no("payment", 12_345_678_901).unwrap(), "PAY12345678901");
    }

    #[test]
    fn unknown_types_have_no_number() {
        assert_eq!(card_no("gift", 1), None);
        assert_eq!(tx_no("transfer", 1), None);
    }
}
