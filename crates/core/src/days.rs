//! Days, ISO weeks and months of the daily list.

use chrono::{Datelike, Duration, NaiveDate};

/// A span of days, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayRange {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DayError {
    #[error("`{0}` is not a date (YYYY-MM-DD)")]
    Date(String),
    #[error("`{0}` is not an ISO week (YYYY-Www)")]
    Week(String),
    #[error("`{0}` is not a month (YYYY-MM)")]
    Month(String),
}

impl DayRange {
    pub fn day(d: NaiveDate) -> DayRange {
        DayRange { from: d, to: d }
    }

    /// The ISO week (Monday to Sunday) that holds `d`.
    pub fn week_of(d: NaiveDate) -> DayRange {
        let from = d - Duration::days(i64::from(d.weekday().num_days_from_monday()));
        DayRange {
            from,
            to: from + Duration::days(6),
        }
    }

    pub fn month_of(d: NaiveDate) -> DayRange {
        let from = d.with_day(1).unwrap_or(d);
        DayRange {
            from,
            to: month_end(from),
        }
    }
}

/// Whether `s` has exactly this shape: `9` a digit, anything else itself.
fn shaped(s: &str, shape: &str) -> bool {
    s.len() == shape.len()
        && s.bytes().zip(shape.bytes()).all(|(c, w)| match w {
            b'9' => c.is_ascii_digit(),
            _ => c == w,
        })
}

pub fn parse_date(s: &str) -> Result<NaiveDate, DayError> {
    if !shaped(s, "9999-99-99") {
        return Err(DayError::Date(s.to_string()));
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| DayError::Date(s.to_string()))
}

/// An ISO week such as `2024-W18`.
pub fn parse_week(s: &str) -> Result<DayRange, DayError> {
    let bad = || DayError::Week(s.to_string());
    if !shaped(s, "9999-W99") {
        return Err(bad());
    }
    let (y, w) = s.split_once("-W").ok_or_else(bad)?;
    let (y, w): (i32, u32) = (y.parse().map_err(|_| bad())?, w.parse().map_err(|_| bad())?);
    if !(1..=53).contains(&w) {
        return Err(bad());
    }
    // Week 53 of a year with 52 is the week after its week 52 (the next
    // year's first), so every W01–W53 names a week.
    let from = match NaiveDate::from_isoywd_opt(y, w, chrono::Weekday::Mon) {
        Some(d) => d,
        None => {
            NaiveDate::from_isoywd_opt(y, 52, chrono::Weekday::Mon).ok_or_else(bad)?
                + Duration::days(7)
        }
    };
    Ok(DayRange {
        from,
        to: from + Duration::days(6),
    })
}

/// A month such as `2024-02`.
pub fn parse_month(s: &str) -> Result<DayRange, DayError> {
    if !shaped(s, "9999-99") {
        return Err(DayError::Month(s.to_string()));
    }
    let from = NaiveDate::parse_from_str(&format!("{s}-01"), "%Y-%m-%d")
        .map_err(|_| DayError::Month(s.to_string()))?;
    Ok(DayRange {
        from,
        to: month_end(from),
    })
}

fn month_end(first: NaiveDate) -> NaiveDate {
    let next = if first.month() == 12 {
        NaiveDate::from_ymd_opt(first.year() + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(first.year(), first.month() + 1, 1)
    };
    next.map(|n| n - Duration::days(1)).unwrap_or(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        let d = |y, m, dd| NaiveDate::from_ymd_opt(y, m, dd).unwrap();
        assert_eq!(
            parse_week("2024-W18").unwrap(),
            DayRange {
                from: d(2024, 4, 29),
                to: d(2024, 5, 5)
            }
        );
        assert_eq!(
            parse_month("2024-02").unwrap(),
            DayRange {
                from: d(2024, 2, 1),
                to: d(2024, 2, 29)
            }
        );
        assert_eq!(parse_month("2024-12").unwrap().to, d(2024, 12, 31));
        assert_eq!(DayRange::week_of(d(2024, 5, 1)).from, d(2024, 4, 29));
        assert_eq!(DayRange::month_of(d(2024, 5, 17)).to, d(2024, 5, 31));
        assert!(parse_week("2024-18").is_err());
        assert!(parse_week("2024-W60").is_err());
        assert!(parse_month("2024-13").is_err());
        assert!(parse_date("2024-02-30").is_err());
    }
}
