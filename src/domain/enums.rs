//! The database's enum types (sql/00_bootstrap.sql) as Rust enums. Each knows its SQL type
//! name and its labels; the extension converts them to and from PostgreSQL enum values at
//! the function boundary (src/datum.rs), so rules and RPC bodies never compare strings.

use crate::error::{ErrorCode, MpsError, MpsResult};

/// A Rust enum that mirrors a PostgreSQL enum type label for label.
pub trait DbEnum: Sized + Copy + 'static {
    /// The schema-qualified SQL type.
    const SQL_TYPE: &'static str;
    /// Every variant, in the SQL type's label order.
    const ALL: &'static [Self];

    fn label(self) -> &'static str;

    fn from_label(label: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|v| v.label() == label)
    }

    /// A label read back from the database; any other text is a bug, reported as such.
    fn parse(label: &str) -> MpsResult<Self> {
        Self::from_label(label)
            .ok_or_else(|| MpsError::new(ErrorCode::InvalidArgument, format!("{label:?} is not a {}", Self::SQL_TYPE)))
    }
}

macro_rules! db_enum {
    ($(#[$doc:meta])* $name:ident = $sql:literal { $($variant:ident = $label:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($variant),+ }

        impl DbEnum for $name {
            const SQL_TYPE: &'static str = $sql;
            const ALL: &'static [Self] = &[$($name::$variant),+];

            fn label(self) -> &'static str {
                match self { $($name::$variant => $label),+ }
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.label())
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.label())
            }
        }
    };
}

db_enum!(CardType = "public.card_type" { Standard = "standard", Voucher = "voucher", Corporate = "corporate" });
db_enum!(CardStatus = "public.card_status" {
    Active = "active", Inactive = "inactive", Lost = "lost", Expired = "expired", Suspended = "suspended",
    Closed = "closed",
});
db_enum!(TxType = "public.tx_type" { Payment = "payment", Refund = "refund", Recharge = "recharge" });
db_enum!(TxStatus = "public.tx_status" {
    Processing = "processing", Completed = "completed", Failed = "failed", Cancelled = "cancelled",
    Refunded = "refunded",
});
db_enum!(PayMethod = "public.pay_method" { Balance = "balance", Cash = "cash", Wechat = "wechat", Alipay = "alipay" });
db_enum!(
    /// A member's role on a card.
    CardRole = "public.bind_role" { Owner = "owner", Admin = "admin", Member = "member", Viewer = "viewer" }
);
db_enum!(MemberStatus = "public.member_status" {
    Active = "active", Inactive = "inactive", Suspended = "suspended", Deleted = "deleted",
});
db_enum!(SettlementStatus = "public.settlement_status" {
    Pending = "pending", Settled = "settled", Failed = "failed", Paid = "paid",
});
db_enum!(SettlementMode = "public.settlement_mode" { Realtime = "realtime", TPlus1 = "t_plus_1", Monthly = "monthly" });
db_enum!(HoldStatus = "public.hold_status" {
    Active = "active", Captured = "captured", Voided = "voided", Expired = "expired",
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_round_trip_in_sql_order() {
        assert_eq!(
            CardStatus::ALL.iter().map(|s| s.label()).collect::<Vec<_>>(),
            ["active", "inactive", "lost", "expired", "suspended", "closed"]
        );
        for mode in SettlementMode::ALL {
            assert_eq!(SettlementMode::from_label(mode.label()), Some(*mode));
        }
        assert_eq!(PayMethod::from_label("wechat"), Some(PayMethod::Wechat));
        assert_eq!(PayMethod::from_label("WECHAT"), None);
        assert_eq!(CardRole::parse("boss").unwrap_err().code, ErrorCode::InvalidArgument);
        assert_eq!(TxType::Refund.to_string(), "refund");
    }
}
