//! Monthly partitions of transactions: a movement's stamp names the partition that holds
//! it, `transactions_pYYYYMM` by its UTC month, as sql/14_partitions.sql names them.

/// A PostgreSQL timestamptz counts microseconds from 2000-01-01 00:00 UTC.
const MICROS_PER_DAY: i64 = 86_400_000_000;
/// Days from 1970-01-01 to 2000-01-01.
const DAYS_1970_TO_2000: i64 = 10_957;

/// The name of the monthly partition for a stamp (a timestamptz's microseconds).
pub fn month_partition(stamp_micros: i64) -> String {
    let (year, month) = utc_month(stamp_micros);
    format!("transactions_p{year:04}{month:02}")
}

/// The UTC year and month of a stamp: the civil date of its day count (the inverse of
/// Howard Hinnant's days_from_civil, valid over the whole proleptic Gregorian calendar).
fn utc_month(stamp_micros: i64) -> (i64, i64) {
    let days = stamp_micros.div_euclid(MICROS_PER_DAY) + DAYS_1970_TO_2000;
    let shifted = days + 719_468; // from 0000-03-01, so that a leap day ends its year
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted - era * 146_097;
    let year_of_era = (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let march_based_month = (5 * day_of_year + 2) / 153;
    let month = if march_based_month < 10 { march_based_month + 3 } else { march_based_month - 9 };
    (year_of_era + era * 400 + i64::from(month <= 2), month)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = MICROS_PER_DAY;

    #[test]
    fn names_the_utc_month_of_a_stamp() {
        assert_eq!(month_partition(0), "transactions_p200001");
        // 2026-12-01 00:00 UTC is 9,831 days after 2000-01-01; a microsecond before is November
        assert_eq!(month_partition(9_831 * DAY), "transactions_p202612");
        assert_eq!(month_partition(9_831 * DAY - 1), "transactions_p202611");
        // 2024-02-29 (day 8,825), and the day after
        assert_eq!(month_partition(8_825 * DAY + DAY / 2), "transactions_p202402");
        assert_eq!(month_partition(8_826 * DAY), "transactions_p202403");
        // before 2000: negative stamps
        assert_eq!(month_partition(-1), "transactions_p199912");
        assert_eq!(month_partition(-DAY * 31), "transactions_p199912");
        assert_eq!(month_partition(-DAY * 31 - 1), "transactions_p199911");
    }

    #[test]
    fn every_day_of_a_century_falls_in_the_month_the_calendar_gives() {
        let mut days = 0i64;
        for year in 2000..2100i64 {
            for month in 1..=12i64 {
                let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
                let length = match month {
                    2 if leap => 29,
                    2 => 28,
                    4 | 6 | 9 | 11 => 30,
                    _ => 31,
                };
                for _ in 0..length {
                    assert_eq!(utc_month(days * DAY + DAY - 1), (year, month));
                    days += 1;
                }
            }
        }
    }

    #[test]
    fn infinite_stamps_name_no_real_month() {
        assert!(month_partition(i64::MAX).len() > "transactions_p999912".len());
        assert!(month_partition(i64::MIN).starts_with("transactions_p-"));
    }
}
