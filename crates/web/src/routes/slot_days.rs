//! Open slots as a page shows them: grouped by day in the reader's zone, and cut into windows of
//! a few days, so that a page weighs the same whatever the schedule holds. A window is whole
//! days (at most [`WINDOW_DAYS`] days with open times, at most [`WINDOW_SLOTS`] slots; a single
//! day with more is cut after that many), and links to the windows before and after it.

use guidance_core::i18n::{format_date, format_short_date, format_span, format_time};
use guidance_core::intake::TimeZoneName;
use guidance_core::slot::format_utc;
use guidance_store::Slot;
use jiff::Timestamp;

use crate::i18n::Tr;

/// Most days with open times one window shows.
pub const WINDOW_DAYS: usize = 7;
/// Most slots one window shows.
pub const WINDOW_SLOTS: usize = 24;

/// One day of open slots, in the reader's zone.
pub struct DayGroup {
    /// The day as `YYYY-MM-DD` in the reader's zone (anchor of the day picker).
    pub key: String,
    /// The day, written out.
    pub label: String,
    /// The day, short, for the day picker.
    pub short: String,
    /// Its slots.
    pub slots: Vec<SlotChoice>,
}

/// One slot as a choice on a page.
pub struct SlotChoice {
    /// Slot id.
    pub id: String,
    /// Start and end times of day, e.g. "09:00–09:45".
    pub time: String,
    /// The full date and time, for screen readers and titles.
    pub full: String,
    /// Start, RFC 3339 UTC (for the script that relabels slots in another zone).
    pub starts_at: String,
    /// End, RFC 3339 UTC.
    pub ends_at: String,
    /// Whether it is the one chosen.
    pub checked: bool,
}

/// Groups slots by day in `zone`.
pub fn group_by_day(tr: &Tr, slots: &[Slot], zone: &TimeZoneName, chosen: &str) -> Vec<DayGroup> {
    let tz = zone.zone();
    let mut groups: Vec<DayGroup> = Vec::new();
    for s in slots {
        let start = s.starts_at.to_zoned(tz.clone());
        let key = start.strftime("%Y-%m-%d").to_string();
        let choice = SlotChoice {
            id: s.id.to_string(),
            time: format!(
                "{}–{}",
                format_time(tr.lang, &start),
                format_time(tr.lang, &s.ends_at.to_zoned(tz.clone()))
            ),
            full: format_span(tr.lang, s.starts_at, s.ends_at, zone.as_str()),
            starts_at: format_utc(s.starts_at),
            ends_at: format_utc(s.ends_at),
            checked: chosen == s.id.to_string(),
        };
        match groups.last_mut() {
            Some(g) if g.key == key => g.slots.push(choice),
            _ => groups.push(DayGroup {
                key,
                label: format_date(tr.lang, &start),
                short: format_short_date(tr.lang, &start),
                slots: vec![choice],
            }),
        }
    }
    groups
}

/// One window of open slots, and where the windows before and after it start.
#[derive(Debug, PartialEq, Eq)]
pub struct Window<'a> {
    /// The slots shown.
    pub slots: &'a [Slot],
    /// The start of the window before, when there is one (`None` inside: it is the first).
    pub earlier: Option<Option<Timestamp>>,
    /// The start of the window after, when there is one.
    pub later: Option<Timestamp>,
}

/// The lengths of the runs of slots on the same day in `zone`.
fn day_runs(slots: &[Slot], zone: &TimeZoneName) -> Vec<usize> {
    let tz = zone.zone();
    let mut runs: Vec<(jiff::civil::Date, usize)> = Vec::new();
    for s in slots {
        let day = s.starts_at.to_zoned(tz.clone()).date();
        match runs.last_mut() {
            Some((d, n)) if *d == day => *n += 1,
            _ => runs.push((day, 1)),
        }
    }
    runs.into_iter().map(|(_, n)| n).collect()
}

/// How many slots the window over these runs of days holds.
fn take(runs: impl Iterator<Item = usize>) -> usize {
    let mut n = 0;
    for (i, len) in runs.enumerate() {
        if i == WINDOW_DAYS {
            break;
        }
        if n + len > WINDOW_SLOTS {
            if i == 0 {
                n = WINDOW_SLOTS;
            }
            break;
        }
        n += len;
    }
    n
}

/// The window of `slots` (every open slot, earliest first) that starts at `from`, or else on
/// the day of the slot `chosen` (a form sent back keeps the visitor's choice in view), or else
/// at the first slot.
pub fn window<'a>(
    slots: &'a [Slot],
    zone: &TimeZoneName,
    from: Option<Timestamp>,
    chosen: &str,
) -> Window<'a> {
    let start = match from {
        Some(from) => slots.partition_point(|s| s.starts_at < from),
        None => match slots.iter().position(|s| s.id.to_string() == chosen) {
            Some(i) => {
                let tz = zone.zone();
                let day = |s: &Slot| s.starts_at.to_zoned(tz.clone()).date();
                let chosen_day = day(&slots[i]);
                slots[..i]
                    .iter()
                    .rposition(|s| day(s) != chosen_day)
                    .map_or(0, |j| j + 1)
            }
            None => 0,
        },
    };
    let rest = &slots[start..];
    let shown = take(day_runs(rest, zone).into_iter());
    let before = &slots[..start];
    let earlier = (!before.is_empty()).then(|| {
        let back = take(day_runs(before, zone).into_iter().rev());
        // The first window is the page without `from`.
        (back < before.len()).then(|| before[before.len() - back].starts_at)
    });
    Window {
        slots: &rest[..shown],
        earlier,
        later: rest.get(shown).map(|s| s.starts_at),
    }
}

/// The address of the booking page's window starting at `from` (`None`: the first).
pub fn window_href(from: Option<Timestamp>, zone: &TimeZoneName, tr: &Tr) -> String {
    let mut q = vec![
        ("tz", zone.as_str().to_owned()),
        ("lang", tr.lang.to_owned()),
    ];
    if let Some(from) = from {
        q.insert(0, ("from", format_utc(from)));
    }
    format!(
        "/book?{}",
        serde_urlencoded::to_string(q).unwrap_or_default()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use guidance_core::SlotStatus;
    use uuid::Uuid;

    /// A slot of 15 minutes, `minute` minutes into day `day` (UTC).
    fn slot(day: i64, minute: i64) -> Slot {
        let starts_at = Timestamp::from_second(1_800_000_000 - 1_800_000_000 % 86_400).unwrap()
            + jiff::SignedDuration::from_mins(24 * 60 * day + minute);
        Slot {
            id: Uuid::new_v4(),
            starts_at,
            ends_at: starts_at + jiff::SignedDuration::from_mins(15),
            status: SlotStatus::Open,
            meeting_details: None,
            created_at: starts_at,
        }
    }

    fn utc() -> TimeZoneName {
        TimeZoneName::parse("UTC").unwrap()
    }

    #[test]
    fn windows_are_whole_days_and_walking_them_reaches_every_slot_once() {
        // Ten days of five slots, a quiet gap, then one day of forty.
        let mut slots: Vec<Slot> = (0..10)
            .flat_map(|d| (8..13).map(move |h| slot(d, 60 * h)))
            .collect();
        slots.extend((0..40).map(|i| slot(30, 15 * i)));
        let mut seen = Vec::new();
        let mut from = None;
        let mut pages = 0;
        loop {
            let w = window(&slots, &utc(), from, "");
            assert!(!w.slots.is_empty() && w.slots.len() <= WINDOW_SLOTS);
            assert_eq!(w.earlier.is_some(), pages > 0, "page {pages}");
            seen.extend(w.slots.iter().map(|s| s.id));
            pages += 1;
            match w.later {
                Some(next) => from = Some(next),
                None => break,
            }
        }
        assert_eq!(seen, slots.iter().map(|s| s.id).collect::<Vec<_>>());
        // 4 days (20 slots), 4 days, 2 days, then the long day cut at 24 and its rest.
        assert_eq!(pages, 5);
        let first = window(&slots, &utc(), None, "");
        assert_eq!(first.slots.len(), 20, "whole days only");
        let second = window(&slots, &utc(), first.later, "");
        assert_eq!(second.earlier, Some(None), "back to the first page");
    }

    #[test]
    fn a_chosen_slot_stays_in_view() {
        let slots: Vec<Slot> = (0..20).map(|d| slot(d, 9 * 60)).collect();
        let chosen = slots[15].id.to_string();
        let w = window(&slots, &utc(), None, &chosen);
        assert_eq!(w.slots[0].id, slots[15].id);
        assert!(w.earlier.is_some());
    }
}
