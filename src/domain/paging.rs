//! Page bounds of list readers: at most 200 rows a page (the original was unbounded:
//! docs/contract.md P4).

pub const DEFAULT_LIMIT: i32 = 50;
pub const MAX_LIMIT: i32 = 200;

/// (limit, offset): the limit defaults to 50 and is kept within 1..=200; a negative or
/// missing offset is 0.
pub fn page(limit: Option<i32>, offset: Option<i32>) -> (i32, i32) {
    (limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT), offset.unwrap_or(0).max(0))
}

/// An ILIKE pattern matching `keyword` anywhere, with LIKE's wildcards in it taken
/// literally; None for a missing or blank keyword (which matches nothing).
pub fn contains_pattern(keyword: Option<&str>) -> Option<String> {
    let keyword = keyword.map(str::trim).filter(|k| !k.is_empty())?;
    let escaped: String = keyword
        .chars()
        .flat_map(|c| match c {
            '\\' | '%' | '_' => vec!['\\', c],
            c => vec![c],
        })
        .collect();
    Some(format!("%{escaped}%"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds() {
        assert_eq!(page(None, None), (50, 0));
        assert_eq!(page(Some(10_000), Some(-3)), (200, 0));
        assert_eq!(page(Some(0), Some(20)), (1, 20));
        assert_eq!(page(Some(3), Some(3)), (3, 3));
    }

    #[test]
    fn patterns() {
        assert_eq!(contains_pattern(Some("Ann")).unwrap(), "%Ann%");
        assert_eq!(contains_pattern(Some(" 50%_off ")).unwrap(), "%50\\%\\_off%");
        assert_eq!(contains_pattern(Some("a\\b")).unwrap(), "%a\\\\b%");
        assert_eq!(contains_pattern(Some("  ")), None);
        assert_eq!(contains_pattern(None), None);
    }
}
