//! How `explain` shows values: a claim on one line, a time as UTC and relative to now.

use serde_json::Value;

use crate::refusal::sanitize;
use crate::token::{Claim, UnixTime, ago};

/// A claim value on one line: strings as they are, the rest as compact JSON; truncated.
pub(crate) fn shown(value: &Value) -> String {
    match value {
        Value::String(s) => sanitize(s, 200),
        other => sanitize(&other.to_string(), 200),
    }
}

/// A claim value on one line, as [`shown`].
pub(crate) fn shown_claim(value: Claim<'_>) -> String {
    shown(&value.to_value())
}

/// The claims that hold times.
const TIME_CLAIMS: [&str; 5] = ["exp", "nbf", "iat", "auth_time", "updated_at"];

pub(crate) fn time_value(name: &str, value: &Value) -> Option<f64> {
    TIME_CLAIMS
        .contains(&name)
        .then(|| value.as_f64())
        .flatten()
        .filter(|v| v.is_finite())
}

/// "expires in 3h 2m", "expired 41s ago", "issued 2d 1h ago".
pub(crate) fn relative(name: &str, at: f64, now: UnixTime) -> String {
    let future = at > now;
    let span = ago(at - now);
    match (name, future) {
        ("exp", true) => format!("expires in {span}"),
        ("exp", false) => format!("expired {span} ago"),
        ("nbf", true) => format!("not valid for another {span}"),
        (_, true) => format!("{span} in the future"),
        (_, false) => format!("{span} ago"),
    }
}

/// A Unix time as `2026-11-22 19:30:00 UTC` (proleptic Gregorian, no time-zone data).
#[must_use]
pub fn utc(unix: f64) -> String {
    // Years 0..=9999 only: anything else is shown as the number it is.
    if !(-62_167_219_200.0..=253_402_300_799.0).contains(&unix) {
        return format!("{unix} (out of range)");
    }
    // In range, so the cast is exact for the whole seconds shown.
    #[allow(clippy::cast_possible_truncation)]
    let seconds = unix.floor() as i64;
    let (days, second_of_day) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        second_of_day / 3600,
        (second_of_day % 3600) / 60,
        second_of_day % 60
    )
}

/// Days since 1970-01-01 → (year, month, day); Howard Hinnant's `civil_from_days`.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    (year_of_era + era * 400 + i64::from(month <= 2), month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_dates_are_right_across_eras_and_leap_days() {
        assert_eq!(utc(0.0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(951_782_400.0), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc(1_800_000_000.0), "2027-01-15 08:00:00 UTC");
        assert_eq!(utc(4_102_444_800.0), "2100-01-01 00:00:00 UTC");
        assert_eq!(utc(-1.0), "1969-12-31 23:59:59 UTC");
        assert_eq!(utc(253_402_300_799.0), "9999-12-31 23:59:59 UTC");
        assert!(utc(1e300).ends_with("(out of range)"));
        assert!(utc(f64::NAN).ends_with("(out of range)"));
    }

    #[test]
    fn relative_times_read_naturally() {
        assert_eq!(relative("exp", 1060.0, 1000.0), "expires in 1m 0s");
        assert_eq!(relative("exp", 1000.0, 4600.0), "expired 1h 0m ago");
        assert_eq!(relative("iat", 1000.0, 1030.0), "30s ago");
        assert_eq!(relative("nbf", 1030.0, 1000.0), "not valid for another 30s");
    }
}
