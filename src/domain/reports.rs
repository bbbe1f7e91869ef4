//! Report parameters.

use crate::error::{ErrorCode, MpsError, MpsResult};

/// The bucket of get_transaction_trends, as a date_trunc field.
pub fn trend_unit(group_by: Option<&str>) -> MpsResult<&'static str> {
    match group_by.unwrap_or("day").trim().to_ascii_lowercase().as_str() {
        "hour" => Ok("hour"),
        "day" => Ok("day"),
        "week" => Ok("week"),
        "month" => Ok("month"),
        other => Err(MpsError::new(
            ErrorCode::InvalidArgument,
            format!("p_group_by must be hour, day, week or month, not {other:?}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units() {
        assert_eq!(trend_unit(None).unwrap(), "day");
        assert_eq!(trend_unit(Some("Month")).unwrap(), "month");
        assert_eq!(trend_unit(Some("second")).unwrap_err().code, ErrorCode::InvalidArgument);
        assert_eq!(trend_unit(Some("day; drop table x")).unwrap_err().code, ErrorCode::InvalidArgument);
    }
}
