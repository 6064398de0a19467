//! Times as tests write them: whole hours from now, so that slots made "n hours ahead" never
//! overlap by accident and read the same on every run within the hour, and the API's timestamp
//! format.

use jiff::Timestamp;

/// RFC 3339 in UTC, whole seconds: how the API writes and reads timestamps.
pub fn iso(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// The whole hour `hours` from now: the current hour (rounded down) plus `hours`.
pub fn hours_ahead(hours: i64) -> Timestamp {
    let now = Timestamp::now().as_second();
    Timestamp::from_second(now - now % 3600 + hours * 3600).expect("a time in range")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hours_ahead_are_whole_hours_apart_from_the_current_hour() {
        let this_hour = hours_ahead(0);
        assert_eq!(this_hour.as_second() % 3600, 0);
        assert!(this_hour <= Timestamp::now());
        assert_eq!(hours_ahead(3).as_second() - this_hour.as_second(), 3 * 3600);
        assert_eq!(
            iso("2026-12-03T09:00:00.5Z".parse().unwrap()),
            "2026-12-03T09:00:00Z"
        );
    }
}
