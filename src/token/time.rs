//! Time as claims carry it (`NumericDate`: seconds, possibly fractional) and as hints
//! say it ("expired 3h 2m ago").

/// Seconds since the Unix epoch, with fractions (claims may be non-integer).
pub type UnixTime = f64;

/// The current time as [`UnixTime`].
#[must_use]
pub fn now() -> UnixTime {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// "3h 2m", "41s": a human duration for hints.
#[must_use]
pub(crate) fn ago(seconds: f64) -> String {
    let s = seconds.abs().round();
    // Truncation is intended: durations of hints are whole seconds.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let s = if s > 1e15 { u64::MAX } else { s as u64 };
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m {}s", s / 60, s % 60),
        3600..86400 => format!("{}h {}m", s / 3600, (s % 3600) / 60),
        _ => format!("{}d {}h", s / 86400, (s % 86400) / 3600),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_durations() {
        assert_eq!(ago(41.0), "41s");
        assert_eq!(ago(125.0), "2m 5s");
        assert_eq!(ago(7260.0), "2h 1m");
        assert_eq!(
            ago(1e300),
            format!("{}d {}h", u64::MAX / 86400, (u64::MAX % 86400) / 3600)
        );
    }
}
