//! Which time zone a `TZID` means: an IANA name, a Windows name (Outlook), or else the rules of
//! the document's own `VTIMEZONE`; a `TZID` nobody can read falls back to the owner's zone.

use std::collections::HashMap;

use icalendar::parser::Component;
use jiff::tz::{Offset, TimeZone};

use crate::windows_zones;

/// The zones a document's `TZID`s resolve to, read once per document.
pub(crate) struct Zones {
    /// Zones built from the document's `VTIMEZONE`s, by `TZID`.
    defined: HashMap<String, TimeZone>,
    /// The owner's zone: floating times and unreadable `TZID`s are read in it.
    pub(crate) owner: TimeZone,
}

impl Zones {
    /// Reads the document's `VTIMEZONE` components.
    pub(crate) fn new(timezones: &[&Component<'_>], owner: TimeZone) -> Self {
        let defined = timezones
            .iter()
            .filter_map(|c| {
                let id = c.find_prop("TZID")?.val.as_str().trim().to_owned();
                from_vtimezone(c).map(|tz| (id, tz))
            })
            .collect();
        Self { defined, owner }
    }

    /// The zone `tzid` stands for.
    pub(crate) fn resolve(&self, tzid: &str) -> TimeZone {
        let tzid = tzid.trim().trim_matches('"');
        iana(tzid)
            .or_else(|| windows_zones::iana_of(tzid).and_then(|n| TimeZone::get(n).ok()))
            .or_else(|| self.defined.get(tzid).cloned())
            .unwrap_or_else(|| self.owner.clone())
    }
}

/// An IANA zone by name, also when a prefix is written before it
/// (`/mozilla.org/20050126_1/Europe/Berlin`, `/Europe/Berlin`).
fn iana(tzid: &str) -> Option<TimeZone> {
    if tzid.is_empty() {
        return None;
    }
    let parts: Vec<&str> = tzid.split('/').filter(|p| !p.is_empty()).collect();
    (0..parts.len()).find_map(|i| {
        let name = parts[i..].join("/");
        // A bare "Berlin" or a Windows-looking name is no IANA name; "UTC" is.
        let plausible = name.contains('/') || name.eq_ignore_ascii_case("UTC");
        plausible.then(|| TimeZone::get(&name).ok()).flatten()
    })
}

/// A zone from a `VTIMEZONE`'s newest `STANDARD` and `DAYLIGHT` rules, written as a POSIX TZ
/// string (`STD-1DST-2,M3.5.0/2,M10.5.0/3`); a zone without daylight time is a fixed offset.
fn from_vtimezone(vtimezone: &Component<'_>) -> Option<TimeZone> {
    let newest = |kind: &str| {
        vtimezone
            .components
            .iter()
            .filter(|c| c.name.as_str().eq_ignore_ascii_case(kind))
            .max_by_key(|c| c.find_prop("DTSTART").map(|p| p.val.as_str().to_owned()))
    };
    let standard = newest("STANDARD")?;
    let std_offset = offset_of(standard.find_prop("TZOFFSETTO")?.val.as_str())?;
    let daylight = newest("DAYLIGHT");
    let rules = daylight.and_then(|d| {
        let dst_offset = offset_of(d.find_prop("TZOFFSETTO")?.val.as_str())?;
        let to_dst = posix_rule(d)?;
        let to_std = posix_rule(standard)?;
        Some((dst_offset, to_dst, to_std))
    });
    match rules {
        Some((dst_offset, to_dst, to_std)) => TimeZone::posix(&format!(
            "STD{}DST{},{to_dst},{to_std}",
            posix_offset(std_offset),
            posix_offset(dst_offset)
        ))
        .ok(),
        None => Some(TimeZone::fixed(std_offset)),
    }
}

/// `+0100`, `-0530`, `+013000` as an offset.
fn offset_of(value: &str) -> Option<Offset> {
    let value = value.trim();
    let (sign, digits) = match value.as_bytes().first()? {
        b'+' => (1, &value[1..]),
        b'-' => (-1, &value[1..]),
        _ => (1, value),
    };
    if digits.len() < 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let hours: i32 = digits[0..2].parse().ok()?;
    let minutes: i32 = digits[2..4].parse().ok()?;
    let seconds: i32 = digits.get(4..6).map_or(Some(0), |s| s.parse().ok())?;
    Offset::from_seconds(sign * (hours * 3600 + minutes * 60 + seconds)).ok()
}

/// A POSIX offset: hours west of UTC, so the sign is the other way round.
fn posix_offset(offset: Offset) -> String {
    let west = -offset.seconds();
    let sign = if west < 0 { "-" } else { "" };
    let west = west.abs();
    format!(
        "{sign}{}:{:02}:{:02}",
        west / 3600,
        west / 60 % 60,
        west % 60
    )
}

/// `M<month>.<week>.<weekday>/<time>` from a yearly rule such as
/// `FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU` and the transition time in the `DTSTART`.
fn posix_rule(observance: &Component<'_>) -> Option<String> {
    let rule = observance
        .find_prop("RRULE")?
        .val
        .as_str()
        .to_ascii_uppercase();
    let part = |key: &str| {
        rule.split(';')
            .find_map(|p| p.strip_prefix(key).and_then(|v| v.strip_prefix('=')))
    };
    let month: u8 = part("BYMONTH")?.parse().ok()?;
    let byday = part("BYDAY")?;
    let (ordinal, day) = byday.split_at(byday.len().checked_sub(2)?);
    let week = match ordinal.trim_start_matches('+') {
        "-1" => 5,
        n => n.parse::<u8>().ok().filter(|w| (1..=4).contains(w))?,
    };
    let weekday = ["SU", "MO", "TU", "WE", "TH", "FR", "SA"]
        .iter()
        .position(|d| *d == day)?;
    let start = observance.find_prop("DTSTART")?.val.as_str().to_owned();
    let time = start.split('T').nth(1).unwrap_or("020000");
    let h: u32 = time.get(0..2)?.parse().ok()?;
    let m: u32 = time.get(2..4)?.parse().ok()?;
    Some(format!("M{month}.{week}.{weekday}/{h}:{m:02}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owner() -> TimeZone {
        TimeZone::get("Europe/Paris").unwrap()
    }

    fn at(tz: &TimeZone, civil: &str) -> String {
        let dt: jiff::civil::DateTime = civil.parse().unwrap();
        tz.to_ambiguous_zoned(dt)
            .compatible()
            .unwrap()
            .offset()
            .to_string()
    }

    #[test]
    fn iana_names_with_a_prefix_are_found() {
        let zones = Zones::new(&[], owner());
        let ny = zones.resolve("/mozilla.org/20050126_1/America/New_York");
        assert_eq!(at(&ny, "2030-07-01T12:00"), "-04");
        assert_eq!(
            at(&zones.resolve("\"Europe/Berlin\""), "2030-01-01T12:00"),
            "+01"
        );
    }

    #[test]
    fn an_unknown_name_without_a_definition_is_the_owner_zone() {
        let zones = Zones::new(&[], owner());
        assert_eq!(
            at(&zones.resolve("Nowhere Time"), "2030-07-01T12:00"),
            "+02"
        );
    }

    #[test]
    fn a_custom_vtimezone_is_read_from_its_rules() {
        let doc = "BEGIN:VCALENDAR\r\nBEGIN:VTIMEZONE\r\nTZID:Customized Time Zone\r\n\
            BEGIN:STANDARD\r\nDTSTART:16010101T030000\r\nTZOFFSETFROM:-0400\r\nTZOFFSETTO:-0500\r\n\
            RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=1SU;BYMONTH=11\r\nEND:STANDARD\r\n\
            BEGIN:DAYLIGHT\r\nDTSTART:16010101T020000\r\nTZOFFSETFROM:-0500\r\nTZOFFSETTO:-0400\r\n\
            RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=2SU;BYMONTH=3\r\nEND:DAYLIGHT\r\n\
            END:VTIMEZONE\r\nEND:VCALENDAR\r\n";
        let cal = icalendar::parser::read_calendar(doc).unwrap();
        let tzs: Vec<&Component<'_>> = cal.components.iter().collect();
        let zones = Zones::new(&tzs, owner());
        let tz = zones.resolve("Customized Time Zone");
        assert_eq!(at(&tz, "2030-01-15T12:00"), "-05");
        assert_eq!(at(&tz, "2030-07-15T12:00"), "-04");
        // 2030's second Sunday of March is the 10th.
        assert_eq!(at(&tz, "2030-03-09T12:00"), "-05");
        assert_eq!(at(&tz, "2030-03-10T12:00"), "-04");
    }

    #[test]
    fn offsets_read_every_written_form() {
        assert_eq!(offset_of("+0100").unwrap().seconds(), 3600);
        assert_eq!(offset_of("-0530").unwrap().seconds(), -19800);
        assert_eq!(offset_of("+013015").unwrap().seconds(), 5415);
        assert!(offset_of("1h").is_none());
    }
}
