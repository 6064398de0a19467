//! Time zone names as calendar apps write them in `TZID`: IANA names (most apps), IANA names
//! behind a vendor prefix (older Thunderbird: `/mozilla.org/20070129_1/Europe/Berlin`), and
//! Windows names (Outlook: `W. Europe Standard Time`), mapped to IANA after the CLDR table of
//! Windows zones (the common ones; an unknown name stays unknown rather than guessed).

use jiff::tz::TimeZone;

/// Windows zone names and the IANA zone CLDR names for their main region.
const WINDOWS: &[(&str, &str)] = &[
    ("UTC", "UTC"),
    ("GMT Standard Time", "Europe/London"),
    ("Greenwich Standard Time", "Atlantic/Reykjavik"),
    ("W. Europe Standard Time", "Europe/Berlin"),
    ("Central Europe Standard Time", "Europe/Budapest"),
    ("Central European Standard Time", "Europe/Warsaw"),
    ("Romance Standard Time", "Europe/Paris"),
    ("E. Europe Standard Time", "Europe/Chisinau"),
    ("FLE Standard Time", "Europe/Kiev"),
    ("GTB Standard Time", "Europe/Bucharest"),
    ("Russian Standard Time", "Europe/Moscow"),
    ("Turkey Standard Time", "Europe/Istanbul"),
    ("Israel Standard Time", "Asia/Jerusalem"),
    ("South Africa Standard Time", "Africa/Johannesburg"),
    ("Arabian Standard Time", "Asia/Dubai"),
    ("India Standard Time", "Asia/Calcutta"),
    ("China Standard Time", "Asia/Shanghai"),
    ("Singapore Standard Time", "Asia/Singapore"),
    ("Tokyo Standard Time", "Asia/Tokyo"),
    ("Korea Standard Time", "Asia/Seoul"),
    ("AUS Eastern Standard Time", "Australia/Sydney"),
    ("New Zealand Standard Time", "Pacific/Auckland"),
    ("Eastern Standard Time", "America/New_York"),
    ("Central Standard Time", "America/Chicago"),
    ("Mountain Standard Time", "America/Denver"),
    ("US Mountain Standard Time", "America/Phoenix"),
    ("Pacific Standard Time", "America/Los_Angeles"),
    ("Alaskan Standard Time", "America/Anchorage"),
    ("Hawaiian Standard Time", "Pacific/Honolulu"),
    ("Atlantic Standard Time", "America/Halifax"),
    ("E. South America Standard Time", "America/Sao_Paulo"),
    ("Argentina Standard Time", "America/Buenos_Aires"),
    ("Central Standard Time (Mexico)", "America/Mexico_City"),
];

/// The zone a `TZID` names, if it is one we know.
pub fn zone_for_tzid(tzid: &str) -> Option<TimeZone> {
    let name = tzid.trim().trim_matches('"').trim();
    if let Ok(tz) = TimeZone::get(name) {
        return Some(tz);
    }
    if let Some((_, iana)) = WINDOWS.iter().find(|(w, _)| w.eq_ignore_ascii_case(name)) {
        return TimeZone::get(iana).ok();
    }
    // A vendor prefix: the IANA name is the last two or three path segments.
    let segments: Vec<&str> = name.split('/').filter(|s| !s.is_empty()).collect();
    (2..=3)
        .filter_map(|n| {
            segments
                .len()
                .checked_sub(n)
                .map(|from| segments[from..].join("/"))
        })
        .find_map(|candidate| TimeZone::get(&candidate).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iana_windows_and_prefixed_names() {
        assert_eq!(
            zone_for_tzid("Europe/Berlin").and_then(|z| z.iana_name().map(str::to_owned)),
            Some("Europe/Berlin".to_owned())
        );
        assert_eq!(
            zone_for_tzid("\"W. Europe Standard Time\"")
                .and_then(|z| z.iana_name().map(str::to_owned)),
            Some("Europe/Berlin".to_owned())
        );
        assert_eq!(
            zone_for_tzid("/mozilla.org/20070129_1/America/New_York")
                .and_then(|z| z.iana_name().map(str::to_owned)),
            Some("America/New_York".to_owned())
        );
        assert!(zone_for_tzid("Nowhere Standard Time").is_none());
    }
}
