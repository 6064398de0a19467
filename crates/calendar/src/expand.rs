//! A document's events expanded into the busy intervals of a window.

use std::collections::{HashMap, HashSet};

use chrono::{Datelike, TimeZone as _, Timelike};
use icalendar::parser::Component;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

use crate::CalendarError;
use crate::event::{Event, Length};
use crate::interval::{Interval, merge};
use crate::values::parse_one;
use crate::zone::Zones;

/// At most this many occurrences are read from one document, so that a rule repeating every
/// minute cannot fill memory; a calendar this full is busy all the time anyway.
pub const MAX_INTERVALS: usize = 200_000;

/// The busy intervals in `[from, to)` of an iCalendar document (one `VCALENDAR` or several, as
/// a CalDAV report gives them), merged and sorted. Floating times and dates are read in
/// `owner`'s zone; events whose UID `is_own` says is the caller's own are skipped.
pub fn busy_intervals(
    ics: &str,
    from: Timestamp,
    to: Timestamp,
    owner: &TimeZone,
    is_own: &dyn Fn(&str) -> bool,
) -> Result<Vec<Interval>, CalendarError> {
    let unfolded = icalendar::parser::unfold(ics);
    let roots =
        icalendar::parser::read_components(&unfolded).map_err(|_| CalendarError::NotCalendar)?;
    if !roots.iter().any(|c| named(c, "VCALENDAR")) {
        return Err(CalendarError::NotCalendar);
    }
    let mut timezones = Vec::new();
    let mut vevents = Vec::new();
    collect(&roots, &mut timezones, &mut vevents);
    let zones = Zones::new(&timezones, owner.clone());
    let events: Vec<Event> = vevents
        .iter()
        .filter_map(|c| Event::read(c, &zones))
        .filter(|e| !is_own(&e.uid))
        .collect();

    // Occurrences that a moved or cancelled single occurrence replaces, by UID.
    let mut replaced: HashMap<&str, HashSet<Timestamp>> = HashMap::new();
    for e in &events {
        if let Some(rid) = e.recurrence_id.as_ref().and_then(|r| r.instant()) {
            replaced.entry(e.uid.as_str()).or_default().insert(rid);
        }
    }
    let none = HashSet::new();
    let mut busy = Vec::new();
    for e in events.iter().filter(|e| e.blocks) {
        let skip = if e.recurrence_id.is_some() {
            &none
        } else {
            replaced.get(e.uid.as_str()).unwrap_or(&none)
        };
        occurrences(e, from, to, &zones, skip, &mut busy);
        if busy.len() >= MAX_INTERVALS {
            break;
        }
    }
    Ok(merge(busy))
}

fn named(c: &Component<'_>, name: &str) -> bool {
    c.name.as_str().eq_ignore_ascii_case(name)
}

/// Every `VTIMEZONE` and `VEVENT`, at whatever depth.
fn collect<'c, 'a>(
    components: &'c [Component<'a>],
    timezones: &mut Vec<&'c Component<'a>>,
    vevents: &mut Vec<&'c Component<'a>>,
) {
    for c in components {
        if named(c, "VTIMEZONE") {
            timezones.push(c);
        } else if named(c, "VEVENT") {
            vevents.push(c);
        } else {
            collect(&c.components, timezones, vevents);
        }
    }
}

/// Adds the occurrences of `e` that overlap `[from, to)` to `busy`, except those starting at
/// an instant in `skip` (replaced by an override) or in its `EXDATE`s.
fn occurrences(
    e: &Event,
    from: Timestamp,
    to: Timestamp,
    zones: &Zones,
    skip: &HashSet<Timestamp>,
    busy: &mut Vec<Interval>,
) {
    let tz = &e.start.tz;
    let mut starts = vec![e.start.civil];
    if let Some(rule) = e.rrule.as_deref().filter(|_| e.recurrence_id.is_none()) {
        starts.extend(expand_rule(e, rule, from, to, zones));
    }
    for r in &e.rdates {
        if let Some(at) = r.instant() {
            starts.push(at.to_zoned(tz.clone()).datetime());
        }
    }
    starts.sort_unstable();
    starts.dedup();
    let excluded: HashSet<Timestamp> = e.exdates.iter().filter_map(|x| x.instant()).collect();
    for civil in starts {
        let Ok(zoned) = tz.to_ambiguous_zoned(civil).compatible() else {
            continue;
        };
        let start = zoned.timestamp();
        if excluded.contains(&start) || skip.contains(&start) {
            continue;
        }
        let Some(end) = e.end_of(&zoned) else {
            continue;
        };
        let interval = Interval { start, end };
        if interval.overlaps(from, to) && busy.len() < MAX_INTERVALS {
            busy.push(interval);
        }
    }
}

/// The wall-clock starts of an `RRULE` near the window; none when the rule cannot be read
/// (the event then blocks at its `DTSTART` only).
fn expand_rule(
    e: &Event,
    rule: &str,
    from: Timestamp,
    to: Timestamp,
    zones: &Zones,
) -> Vec<DateTime> {
    let mut until = None;
    let rest: Vec<&str> = rule
        .split(';')
        .filter(|part| match part.split_once('=') {
            Some((k, v)) if k.trim().eq_ignore_ascii_case("UNTIL") => {
                until = Some(v.trim());
                false
            }
            _ => true,
        })
        .collect();
    let Ok(mut parsed) = rest.join(";").parse::<rrule::RRule<rrule::Unvalidated>>() else {
        return Vec::new();
    };
    if let Some(until) = until
        .and_then(|u| until_wall(e, u, zones))
        .and_then(to_chrono)
    {
        parsed = parsed.until(until);
    }
    let Some(dtstart) = to_chrono(e.start.civil) else {
        return Vec::new();
    };
    // Look back by the longest an occurrence can last, so one that began before the window
    // and is still going is found; a day either side covers any offset.
    let longest = match &e.length {
        Length::Exact(d) => *d,
        Length::Nominal(span) => {
            SignedDuration::from_hours(25 * i64::from(span.get_days()) + 24 * 7 * 25)
        }
    };
    let margin = SignedDuration::from_hours(26);
    let wall = |t: Timestamp| t.to_zoned(e.start.tz.clone()).datetime();
    let (Some(lo), Some(hi)) = (
        from.checked_sub(longest.abs() + margin)
            .ok()
            .map(wall)
            .and_then(to_chrono),
        to.checked_add(margin).ok().map(wall).and_then(to_chrono),
    ) else {
        return Vec::new();
    };
    let Ok(set) = parsed.build(dtstart) else {
        return Vec::new();
    };
    let result = set.after(lo).before(hi).all(u16::MAX);
    result.dates.iter().filter_map(from_chrono).collect()
}

/// `UNTIL` as a wall-clock time in the event's zone: a UTC `UNTIL` is moved into it, a date
/// covers its whole day.
fn until_wall(e: &Event, value: &str, zones: &Zones) -> Option<DateTime> {
    let until = parse_one(value, false, None, zones)?;
    if until.all_day {
        return until.civil.date().at(23, 59, 59, 0).into();
    }
    if value.trim().ends_with(['Z', 'z']) {
        let at = until.instant()?;
        return Some(at.to_zoned(e.start.tz.clone()).datetime());
    }
    Some(until.civil)
}

fn to_chrono(dt: DateTime) -> Option<chrono::DateTime<rrule::Tz>> {
    rrule::Tz::UTC
        .with_ymd_and_hms(
            i32::from(dt.year()),
            u32::try_from(dt.month()).ok()?,
            u32::try_from(dt.day()).ok()?,
            u32::try_from(dt.hour()).ok()?,
            u32::try_from(dt.minute()).ok()?,
            u32::try_from(dt.second()).ok()?,
        )
        .single()
}

fn from_chrono(dt: &chrono::DateTime<rrule::Tz>) -> Option<DateTime> {
    let n = dt.naive_local();
    let date = jiff::civil::Date::new(
        i16::try_from(n.year()).ok()?,
        i8::try_from(n.month()).ok()?,
        i8::try_from(n.day()).ok()?,
    )
    .ok()?;
    let time = jiff::civil::Time::new(
        i8::try_from(n.hour()).ok()?,
        i8::try_from(n.minute()).ok()?,
        i8::try_from(n.second()).ok()?,
        0,
    )
    .ok()?;
    Some(date.to_datetime(time))
}
