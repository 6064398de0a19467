//! The moments around a session, decided without IO: when a pending request must be answered
//! by, when the owner is reminded of it, and when the reminders of an accepted session go out.

use jiff::{SignedDuration, Timestamp};

use crate::fields::FieldReason;

/// Longest answer-by window, and longest reminder ahead of it, in hours (30 days).
pub const MAX_ANSWER_HOURS: i64 = 30 * 24;
/// Longest session reminder offset, in minutes (30 days).
pub const MAX_REMINDER_MINUTES: i64 = 30 * 24 * 60;
/// Most session reminders per recipient.
pub const MAX_REMINDERS: usize = 5;

/// When a request that reached the owner at `requested_at` must be answered by: `within_hours`
/// later, but never later than the session's start minus the minimum notice (a visitor could
/// not book it any later either). A request that reached the owner inside the notice already (a
/// new time picked late) keeps the session's start, as before there was a deadline.
pub fn answer_by(
    requested_at: Timestamp,
    session_start: Timestamp,
    within_hours: i64,
    min_notice_hours: i64,
) -> Timestamp {
    let after = |t: Timestamp, h: i64| t.checked_add(SignedDuration::from_hours(h)).unwrap_or(t);
    let latest = after(session_start, -min_notice_hours);
    let deadline = after(requested_at, within_hours).min(latest);
    if deadline > requested_at {
        deadline
    } else {
        session_start
    }
}

/// When the owner is reminded of a request due by `answer_by`: `hours_before` it, or `None` when
/// that is not after `requested_at` (no time for a reminder) or the reminder is off (0 hours).
pub fn answer_reminder_at(
    requested_at: Timestamp,
    answer_by: Timestamp,
    hours_before: i64,
) -> Option<Timestamp> {
    if hours_before <= 0 {
        return None;
    }
    answer_by
        .checked_sub(SignedDuration::from_hours(hours_before))
        .ok()
        .filter(|at| *at > requested_at)
}

/// The moments of a session's reminders, `offsets` minutes before `session_start`, that are
/// still ahead at `now` (a reminder whose moment already passed when the session was accepted
/// would only repeat the confirmation), earliest first, each once.
pub fn session_reminders(
    now: Timestamp,
    session_start: Timestamp,
    offsets: &ReminderOffsets,
) -> Vec<Timestamp> {
    let mut at: Vec<Timestamp> = offsets
        .minutes()
        .iter()
        .filter_map(|m| {
            session_start
                .checked_sub(SignedDuration::from_mins(*m))
                .ok()
        })
        .filter(|t| *t > now)
        .collect();
    at.sort();
    at.dedup();
    at
}

/// The offsets of the session reminders, in minutes before the session: at most
/// [`MAX_REMINDERS`], each from 1 to [`MAX_REMINDER_MINUTES`], largest first, each once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReminderOffsets(Vec<i64>);

impl Default for ReminderOffsets {
    /// A day and an hour before.
    fn default() -> Self {
        ReminderOffsets(vec![1440, 60])
    }
}

impl ReminderOffsets {
    /// Checks a list of offsets.
    pub fn new(minutes: &[i64]) -> Result<ReminderOffsets, FieldReason> {
        if minutes.len() > MAX_REMINDERS {
            return Err(FieldReason::TooMany);
        }
        if minutes
            .iter()
            .any(|m| !(1..=MAX_REMINDER_MINUTES).contains(m))
        {
            return Err(FieldReason::OutOfRange);
        }
        let mut sorted = minutes.to_vec();
        sorted.sort_unstable_by(|a, b| b.cmp(a));
        sorted.dedup();
        Ok(ReminderOffsets(sorted))
    }

    /// Reads the offsets as typed or stored: whole numbers separated by commas or spaces
    /// (`1440, 60`); blank is none.
    pub fn parse(raw: &str) -> Result<ReminderOffsets, FieldReason> {
        let numbers: Result<Vec<i64>, _> = raw
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|s| !s.is_empty())
            .map(str::parse::<i64>)
            .collect();
        numbers
            .map_err(|_| FieldReason::UnknownValue)
            .and_then(|n| ReminderOffsets::new(&n))
    }

    /// The offsets, largest first.
    pub fn minutes(&self) -> &[i64] {
        &self.0
    }

    /// As typed and stored: `1440, 60`.
    pub fn to_text(&self) -> String {
        let text: Vec<String> = self.0.iter().map(i64::to_string).collect();
        text.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn the_answer_is_due_after_the_window_but_before_the_notice() {
        let start = t("2030-01-10T10:00:00Z");
        // Far ahead: the window decides.
        assert_eq!(
            answer_by(t("2030-01-01T10:00:00Z"), start, 48, 12),
            t("2030-01-03T10:00:00Z")
        );
        // Close: the session's start minus the notice decides.
        assert_eq!(
            answer_by(t("2030-01-09T00:00:00Z"), start, 48, 12),
            t("2030-01-09T22:00:00Z")
        );
        // Inside the notice already: the session's start.
        assert_eq!(answer_by(t("2030-01-10T01:00:00Z"), start, 48, 12), start);
    }

    #[test]
    fn the_owner_is_reminded_only_when_there_is_time_for_it() {
        let asked = t("2030-01-01T10:00:00Z");
        let due = t("2030-01-03T10:00:00Z");
        assert_eq!(
            answer_reminder_at(asked, due, 12),
            Some(t("2030-01-02T22:00:00Z"))
        );
        assert_eq!(answer_reminder_at(asked, due, 48), None);
        assert_eq!(answer_reminder_at(asked, due, 0), None);
    }

    #[test]
    fn reminders_still_ahead_come_earliest_first() {
        let start = t("2030-01-10T10:00:00Z");
        let offsets = ReminderOffsets::default();
        assert_eq!(
            session_reminders(t("2030-01-01T00:00:00Z"), start, &offsets),
            [t("2030-01-09T10:00:00Z"), t("2030-01-10T09:00:00Z")]
        );
        // Accepted three hours before: the day-ahead reminder is gone.
        assert_eq!(
            session_reminders(t("2030-01-10T07:00:00Z"), start, &offsets),
            [t("2030-01-10T09:00:00Z")]
        );
    }

    #[test]
    fn offsets_are_read_checked_and_written_back() {
        let o = ReminderOffsets::parse(" 60, 1440 60 ").unwrap();
        assert_eq!(o.minutes(), [1440, 60]);
        assert_eq!(o.to_text(), "1440, 60");
        assert_eq!(ReminderOffsets::parse(&o.to_text()), Ok(o));
        assert_eq!(
            ReminderOffsets::parse("").unwrap().minutes(),
            [] as [i64; 0]
        );
        assert_eq!(
            ReminderOffsets::parse("10, soon"),
            Err(FieldReason::UnknownValue)
        );
        assert_eq!(ReminderOffsets::parse("0"), Err(FieldReason::OutOfRange));
        assert_eq!(
            ReminderOffsets::parse("1 2 3 4 5 6"),
            Err(FieldReason::TooMany)
        );
    }
}
