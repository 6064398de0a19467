//! Date and date-time values (`DTSTART`, `DTEND`, `EXDATE`, `RDATE`, `RECURRENCE-ID`, `UNTIL`)
//! read as a wall-clock time in a zone, the form recurrence works in (RFC 5545 §3.3.4, §3.3.5).

use icalendar::parser::Property;
use jiff::Timestamp;
use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;

use crate::zone::Zones;

/// A time as written: a wall-clock time in the zone it belongs to.
#[derive(Clone, Debug)]
pub(crate) struct When {
    /// The wall-clock time (midnight for a date).
    pub civil: DateTime,
    /// A `DATE` value: a whole day in the owner's zone.
    pub all_day: bool,
    /// UTC, the `TZID`'s zone, or the owner's zone for floating times and dates.
    pub tz: TimeZone,
}

impl When {
    /// The instant this wall-clock time names; a time skipped by a DST change is read with the
    /// offset before the change, as RFC 5545 says.
    pub fn instant(&self) -> Option<Timestamp> {
        self.at(self.civil)
    }

    /// The instant of another wall-clock time in the same zone.
    pub fn at(&self, civil: DateTime) -> Option<Timestamp> {
        self.tz
            .to_ambiguous_zoned(civil)
            .compatible()
            .ok()
            .map(|z| z.timestamp())
    }
}

/// The values of a date or date-time property (several for `EXDATE` and `RDATE`; the start of a
/// `PERIOD`), each with the zone its `TZID` names. Unreadable values are left out.
pub(crate) fn whens(prop: &Property<'_>, zones: &Zones) -> Vec<When> {
    let tzid = param(prop, "TZID");
    let is_date = param(prop, "VALUE").is_some_and(|v| v.eq_ignore_ascii_case("DATE"));
    prop.val
        .as_str()
        .split(',')
        .filter_map(|v| parse_one(v.split('/').next()?, is_date, tzid, zones))
        .collect()
}

/// The first value of a property.
pub(crate) fn when(prop: &Property<'_>, zones: &Zones) -> Option<When> {
    whens(prop, zones).into_iter().next()
}

/// A parameter's value, unquoted.
pub(crate) fn param<'p>(prop: &'p Property<'_>, key: &str) -> Option<&'p str> {
    prop.params
        .iter()
        .find(|p| p.key.as_str().eq_ignore_ascii_case(key))
        .and_then(|p| p.val.as_ref())
        .map(|v| v.as_str().trim_matches('"'))
}

/// One value: `20300101`, `20300101T090000`, `20300101T090000Z`.
pub(crate) fn parse_one(
    value: &str,
    is_date: bool,
    tzid: Option<&str>,
    zones: &Zones,
) -> Option<When> {
    let value = value.trim();
    let date = parse_date(value.get(0..8)?)?;
    if is_date || value.len() == 8 {
        return Some(When {
            civil: date.to_datetime(jiff::civil::Time::midnight()),
            all_day: true,
            tz: zones.owner.clone(),
        });
    }
    let time = value.get(8..)?.strip_prefix('T')?;
    let (time, utc) = match time.strip_suffix(['Z', 'z']) {
        Some(t) => (t, true),
        None => (time, false),
    };
    if time.len() != 6 || !time.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let number = |r: std::ops::Range<usize>| time[r].parse::<i8>().ok();
    // A leap second (60) is read as the last second of its minute.
    let time =
        jiff::civil::Time::new(number(0..2)?, number(2..4)?, number(4..6)?.min(59), 0).ok()?;
    let civil = date.to_datetime(time);
    let tz = if utc {
        TimeZone::UTC
    } else {
        tzid.map_or_else(|| zones.owner.clone(), |id| zones.resolve(id))
    };
    Some(When {
        civil,
        all_day: false,
        tz,
    })
}

fn parse_date(value: &str) -> Option<Date> {
    if value.len() != 8 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Date::new(
        value[0..4].parse().ok()?,
        value[4..6].parse().ok()?,
        value[6..8].parse().ok()?,
    )
    .ok()
}
