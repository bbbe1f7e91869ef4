//! Page bounds of list readers: at most 200 rows a page (the original was unbounded, P4).

pub const DEFAULT_LIMIT: i32 = 50;
pub const MAX_LIMIT: i32 = 200;

/// (limit, offset): the limit defaults to 50 and is kept within 1..=200; a negative or
/// missing offset is 0.
pub fn page(limit: Option<i32>, offset: Option<i32>) -> (i32, i32) {
    (limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT), offset.unwrap_or(0).max(0))
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
}
