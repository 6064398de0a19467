//! Weekly availability patterns: "Mondays and Thursdays, 09:00–12:00, 45-minute sessions with
//! 15 minutes between them, from 1 to 30 April" turned into concrete slot windows.
//!
//! The pattern speaks the owner's wall-clock language, so every session is placed on the local
//! calendar of the owner's time zone and only then converted to UTC. Across a daylight-saving
//! change the sessions therefore keep their local times (09:00 stays 09:00) while their UTC times
//! move by the offset change. A local start time that does not exist that day (inside the hour
//! skipped in spring) is reported, not silently moved; a local time that occurs twice (the hour
//! repeated in autumn) takes its first occurrence. Session lengths are real durations.

use jiff::civil::{Date, DateTime, Time};
use jiff::tz::{AmbiguousOffset, TimeZone};
use jiff::{SignedDuration, Timestamp};

use crate::fields::{FieldErrors, FieldReason};
use crate::slot::{MAX_LENGTH, MIN_LENGTH, SlotWindow};

/// Longest date range one pattern may cover, in days.
pub const MAX_RANGE_DAYS: i32 = 366;
/// Most sessions one pattern may produce.
pub const MAX_SESSIONS: usize = 2000;
/// Longest gap between two sessions.
pub const MAX_GAP: SignedDuration = SignedDuration::from_hours(12);

/// A pattern as typed into a form: every field raw text.
#[derive(Debug, Clone, Default)]
pub struct RawPattern {
    /// Days of the week, as ISO numbers `1` (Monday) to `7` (Sunday).
    pub weekdays: Vec<String>,
    /// First local start time of a day, `HH:MM`.
    pub window_start: String,
    /// Local time by which the last session of a day has ended, `HH:MM`.
    pub window_end: String,
    /// Length of one session in minutes.
    pub session_minutes: String,
    /// Minutes between the end of one session and the start of the next.
    pub gap_minutes: String,
    /// First day, `YYYY-MM-DD`.
    pub first_day: String,
    /// Last day (included), `YYYY-MM-DD`.
    pub last_day: String,
}

/// A checked weekly pattern in one time zone.
#[derive(Debug, Clone)]
pub struct WeeklyPattern {
    weekdays: [bool; 7],
    window_start: Time,
    window_end: Time,
    session: SignedDuration,
    gap: SignedDuration,
    first_day: Date,
    last_day: Date,
    zone: TimeZone,
}

/// Why a session of a pattern was not planned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipReason {
    /// The local start time does not exist that day (clocks jump over it).
    NonexistentTime,
    /// The session would lie outside the years calendars accept.
    OutOfRange,
}

impl SkipReason {
    /// The stable code (a locale key suffix).
    pub fn code(self) -> &'static str {
        match self {
            SkipReason::NonexistentTime => "nonexistent_time",
            SkipReason::OutOfRange => "out_of_range",
        }
    }
}

/// One session of a pattern: where it falls on the owner's calendar, and its window or why it
/// cannot be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedSession {
    /// The local day.
    pub date: Date,
    /// The local start time.
    pub time: Time,
    /// The window in UTC, or why there is none.
    pub outcome: Result<SlotWindow, SkipReason>,
}

fn parse_minutes(
    raw: &str,
    field: &str,
    min: i64,
    max: i64,
    errors: &mut FieldErrors,
) -> Option<SignedDuration> {
    let raw = raw.trim();
    if raw.is_empty() {
        errors.add(field, FieldReason::Empty);
        return None;
    }
    match raw.parse::<i64>() {
        Ok(n) if (min..=max).contains(&n) => Some(SignedDuration::from_mins(n)),
        Ok(_) => {
            errors.add(field, FieldReason::BadLength);
            None
        }
        Err(_) => {
            errors.add(field, FieldReason::UnknownValue);
            None
        }
    }
}

fn parse_field<T: std::str::FromStr>(
    raw: &str,
    field: &str,
    errors: &mut FieldErrors,
) -> Option<T> {
    let raw = raw.trim();
    if raw.is_empty() {
        errors.add(field, FieldReason::Empty);
        return None;
    }
    raw.parse::<T>()
        .map_err(|_| errors.add(field, FieldReason::UnknownValue))
        .ok()
}

impl WeeklyPattern {
    /// Checks every field at once, reporting each refused one.
    pub fn parse(raw: &RawPattern, zone: TimeZone) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let mut weekdays = [false; 7];
        for w in &raw.weekdays {
            match w.trim().parse::<i8>().ok().filter(|n| (1..=7).contains(n)) {
                Some(n) => weekdays[usize::try_from(n - 1).unwrap_or_default()] = true,
                None => {
                    errors.add("weekdays", FieldReason::UnknownValue);
                }
            }
        }
        if !weekdays.contains(&true) {
            errors.add_first("weekdays", FieldReason::Empty);
        }
        let window_start: Option<Time> =
            parse_field(&raw.window_start, "window_start", &mut errors);
        let window_end: Option<Time> = parse_field(&raw.window_end, "window_end", &mut errors);
        let session = parse_minutes(
            &raw.session_minutes,
            "session_minutes",
            MIN_LENGTH.as_mins(),
            MAX_LENGTH.as_mins(),
            &mut errors,
        );
        let gap = if raw.gap_minutes.trim().is_empty() {
            Some(SignedDuration::ZERO)
        } else {
            parse_minutes(
                &raw.gap_minutes,
                "gap_minutes",
                0,
                MAX_GAP.as_mins(),
                &mut errors,
            )
        };
        let first_day: Option<Date> = parse_field(&raw.first_day, "first_day", &mut errors);
        let last_day: Option<Date> = parse_field(&raw.last_day, "last_day", &mut errors);
        if let (Some(s), Some(e)) = (window_start, window_end) {
            if e <= s {
                errors.add("window_end", FieldReason::EndsBeforeStart);
            } else if session.is_some_and(|len| s.duration_until(e) < len) {
                errors.add("session_minutes", FieldReason::BadLength);
            }
        }
        if let (Some(f), Some(l)) = (first_day, last_day) {
            if l < f {
                errors.add("last_day", FieldReason::EndsBeforeStart);
            } else if f.until(l).map(|s| s.get_days()).unwrap_or(i32::MAX) >= MAX_RANGE_DAYS {
                errors.add("last_day", FieldReason::TooMany);
            }
        }
        match (
            window_start,
            window_end,
            session,
            gap,
            first_day,
            last_day,
            errors.is_empty(),
        ) {
            (
                Some(window_start),
                Some(window_end),
                Some(session),
                Some(gap),
                Some(f),
                Some(l),
                true,
            ) => {
                let pattern = Self {
                    weekdays,
                    window_start,
                    window_end,
                    session,
                    gap,
                    first_day: f,
                    last_day: l,
                    zone,
                };
                if pattern.count() > MAX_SESSIONS {
                    return Err(FieldErrors::one("last_day", FieldReason::TooMany));
                }
                Ok(pattern)
            }
            _ => Err(errors),
        }
    }

    /// The local start times of one day that fits the pattern.
    fn day_starts(&self) -> Vec<Time> {
        let mut out = Vec::new();
        let day = Date::constant(2000, 1, 1);
        let end = day.to_datetime(self.window_end);
        let mut t = day.to_datetime(self.window_start);
        let step = self.session + self.gap;
        loop {
            let Ok(session_end) = t.checked_add(self.session) else {
                break;
            };
            if session_end > end || t.date() != day {
                break;
            }
            out.push(t.time());
            match t.checked_add(step) {
                Ok(next) => t = next,
                Err(_) => break,
            }
        }
        out
    }

    fn days(&self) -> impl Iterator<Item = Date> + '_ {
        self.first_day
            .series(jiff::Span::new().days(1))
            .take_while(|d| *d <= self.last_day)
            .filter(|d| {
                self.weekdays[usize::from(d.weekday().to_monday_zero_offset().unsigned_abs())]
            })
    }

    fn count(&self) -> usize {
        self.days().count().saturating_mul(self.day_starts().len())
    }

    /// Every session of the pattern, in time order, with its UTC window or why it has none.
    pub fn plan(&self) -> Vec<PlannedSession> {
        let starts = self.day_starts();
        let mut out = Vec::new();
        for date in self.days() {
            for &time in &starts {
                out.push(PlannedSession {
                    date,
                    time,
                    outcome: self.window_at(date.to_datetime(time)),
                });
            }
        }
        out
    }

    fn window_at(&self, local: DateTime) -> Result<SlotWindow, SkipReason> {
        let start = local_instant(local, &self.zone)?;
        let end = start
            .checked_add(self.session)
            .map_err(|_| SkipReason::OutOfRange)?;
        SlotWindow::parse(start, end).map_err(|_| SkipReason::OutOfRange)
    }
}

/// The instant a local wall-clock time names in `zone`: refused inside the hour skipped in
/// spring, the first occurrence inside the hour repeated in autumn.
pub fn local_instant(local: DateTime, zone: &TimeZone) -> Result<Timestamp, SkipReason> {
    let ambiguous = zone.to_ambiguous_timestamp(local);
    match ambiguous.offset() {
        AmbiguousOffset::Gap { .. } => Err(SkipReason::NonexistentTime),
        AmbiguousOffset::Unambiguous { .. } | AmbiguousOffset::Fold { .. } => {
            ambiguous.earlier().map_err(|_| SkipReason::OutOfRange)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(
        days: &[&str],
        start: &str,
        end: &str,
        len: &str,
        gap: &str,
        from: &str,
        to: &str,
    ) -> RawPattern {
        RawPattern {
            weekdays: days.iter().map(|d| (*d).to_owned()).collect(),
            window_start: start.into(),
            window_end: end.into(),
            session_minutes: len.into(),
            gap_minutes: gap.into(),
            first_day: from.into(),
            last_day: to.into(),
        }
    }

    fn berlin() -> TimeZone {
        TimeZone::get("Europe/Berlin").unwrap()
    }

    fn utc_starts(p: &WeeklyPattern) -> Vec<String> {
        p.plan()
            .iter()
            .map(|s| match s.outcome {
                Ok(w) => w.starts_at().to_string(),
                Err(r) => format!("{} {} skipped: {}", s.date, s.time, r.code()),
            })
            .collect()
    }

    fn local_starts(p: &WeeklyPattern) -> Vec<String> {
        p.plan()
            .iter()
            .filter_map(|s| s.outcome.ok())
            .map(|w| {
                w.starts_at()
                    .to_zoned(berlin())
                    .strftime("%F %H:%M")
                    .to_string()
            })
            .collect()
    }

    #[test]
    fn spring_forward_keeps_local_wall_clock_times() {
        // Berlin moves from CET (+01) to CEST (+02) on Sunday 29 March 2026.
        let p = WeeklyPattern::parse(
            &raw(
                &["6", "7", "1"],
                "09:00",
                "12:00",
                "45",
                "15",
                "2026-03-28",
                "2026-03-30",
            ),
            berlin(),
        )
        .unwrap();
        assert_eq!(
            local_starts(&p),
            [
                "2026-03-28 09:00",
                "2026-03-28 10:00",
                "2026-03-28 11:00",
                "2026-03-29 09:00",
                "2026-03-29 10:00",
                "2026-03-29 11:00",
                "2026-03-30 09:00",
                "2026-03-30 10:00",
                "2026-03-30 11:00",
            ]
        );
        let utc = utc_starts(&p);
        assert_eq!(utc[0], "2026-03-28T08:00:00Z");
        assert_eq!(utc[3], "2026-03-29T07:00:00Z");
        assert_eq!(utc[6], "2026-03-30T07:00:00Z");
        // Every session lasts its 45 real minutes.
        for s in p.plan() {
            let w = s.outcome.unwrap();
            assert_eq!(
                w.ends_at().duration_since(w.starts_at()),
                SignedDuration::from_mins(45)
            );
        }
    }

    #[test]
    fn fall_back_keeps_local_wall_clock_times() {
        // Berlin moves from CEST (+02) back to CET (+01) on Sunday 25 October 2026.
        let p = WeeklyPattern::parse(
            &raw(
                &["6", "7"],
                "09:00",
                "11:00",
                "60",
                "0",
                "2026-10-24",
                "2026-10-25",
            ),
            berlin(),
        )
        .unwrap();
        assert_eq!(
            utc_starts(&p),
            [
                "2026-10-24T07:00:00Z",
                "2026-10-24T08:00:00Z",
                "2026-10-25T08:00:00Z",
                "2026-10-25T09:00:00Z",
            ]
        );
        assert_eq!(
            local_starts(&p),
            [
                "2026-10-24 09:00",
                "2026-10-24 10:00",
                "2026-10-25 09:00",
                "2026-10-25 10:00"
            ]
        );
    }

    #[test]
    fn skipped_hour_is_reported_and_repeated_hour_takes_its_first_occurrence() {
        let spring = WeeklyPattern::parse(
            &raw(
                &["7"],
                "01:30",
                "04:00",
                "30",
                "0",
                "2026-03-29",
                "2026-03-29",
            ),
            berlin(),
        )
        .unwrap();
        assert_eq!(
            utc_starts(&spring),
            [
                "2026-03-29T00:30:00Z",
                "2026-03-29 02:00:00 skipped: nonexistent_time",
                "2026-03-29 02:30:00 skipped: nonexistent_time",
                "2026-03-29T01:00:00Z",
                "2026-03-29T01:30:00Z",
            ]
        );
        let autumn = WeeklyPattern::parse(
            &raw(
                &["7"],
                "02:30",
                "03:00",
                "30",
                "0",
                "2026-10-25",
                "2026-10-25",
            ),
            berlin(),
        )
        .unwrap();
        // 02:30 happens at 00:30Z (CEST) and again at 01:30Z (CET): the first one is planned.
        assert_eq!(utc_starts(&autumn), ["2026-10-25T00:30:00Z"]);
    }

    #[test]
    fn only_chosen_weekdays_and_whole_sessions_inside_the_window() {
        // 2030-01-07 is a Monday.
        let p = WeeklyPattern::parse(
            &raw(
                &["1", "3"],
                "09:00",
                "10:40",
                "30",
                "10",
                "2030-01-07",
                "2030-01-13",
            ),
            TimeZone::UTC,
        )
        .unwrap();
        assert_eq!(
            utc_starts(&p),
            [
                "2030-01-07T09:00:00Z",
                "2030-01-07T09:40:00Z",
                "2030-01-09T09:00:00Z",
                "2030-01-09T09:40:00Z",
            ]
        );
    }

    #[test]
    fn bad_fields_are_all_reported() {
        let e = WeeklyPattern::parse(
            &raw(
                &["9"],
                "10:00",
                "09:00",
                "3",
                "x",
                "2030-01-10",
                "2030-01-01",
            ),
            TimeZone::UTC,
        )
        .unwrap_err();
        let fields: Vec<_> = e.iter().map(|(f, _)| f).collect();
        assert_eq!(
            fields,
            [
                "gap_minutes",
                "last_day",
                "session_minutes",
                "weekdays",
                "window_end"
            ]
        );
        let e = WeeklyPattern::parse(&RawPattern::default(), TimeZone::UTC).unwrap_err();
        assert_eq!(e.get("weekdays").map(FieldReason::code), Some("empty"));
        assert_eq!(e.get("first_day").map(FieldReason::code), Some("empty"));
        let e = WeeklyPattern::parse(
            &raw(
                &["1"],
                "09:00",
                "10:00",
                "30",
                "0",
                "2030-01-01",
                "2031-06-01",
            ),
            TimeZone::UTC,
        )
        .unwrap_err();
        assert_eq!(e.get("last_day").map(FieldReason::code), Some("too_many"));
    }

    #[test]
    fn a_session_longer_than_the_window_is_refused() {
        let e = WeeklyPattern::parse(
            &raw(
                &["1"],
                "09:00",
                "09:30",
                "45",
                "0",
                "2030-01-01",
                "2030-01-02",
            ),
            TimeZone::UTC,
        )
        .unwrap_err();
        assert_eq!(
            e.get("session_minutes").map(FieldReason::code),
            Some("bad_length")
        );
    }
}
