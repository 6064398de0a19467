//! The owner's settings: what the admin UI's settings page and the owner API change, their
//! limits, and what they decide (the earliest and latest start a visitor may book). Each stored
//! value overrides the configured default; whatever was never stored keeps its default.
//!
//! Every setting has one name, given once in [`Setting`]: the key it is stored under, the field
//! of the form and of the owner API's JSON, and the name a refusal gives. The HTML form
//! ([`parse`]), the owner API ([`OwnerSettings::changed`]) and the stored values
//! ([`OwnerSettings::with_stored`]) each give the values in their own types, and one check
//! decides them all, reporting every refused field at once.

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};

use crate::fields::{FieldErrors, FieldReason};
use crate::intake::{EmailAddress, TimeZoneName};
use crate::session_times::{MAX_ANSWER_HOURS, ReminderOffsets};

/// Longest minimum notice, in hours (30 days).
pub const MAX_NOTICE_HOURS: i64 = 30 * 24;
/// Furthest booking horizon, in days (two years).
pub const MAX_HORIZON_DAYS: i64 = 730;
/// Longest owner name, in characters.
pub const NAME_MAX: usize = 120;
/// Longest buffer around the owner's busy times, in minutes (four hours).
pub const MAX_BUSY_BUFFER_MINUTES: i64 = 240;
/// How long a visitor's data is kept after their session unless the owner says otherwise.
pub const DEFAULT_RETENTION_DAYS: i64 = 365;
/// Longest retention, in days (ten years).
pub const MAX_RETENTION_DAYS: i64 = 3650;

/// One of the owner's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Setting {
    /// Whether visitors may book.
    BookingOpen,
    /// The owner's name.
    OwnerName,
    /// Where requests are sent.
    OwnerEmail,
    /// The owner's time zone.
    TimeZone,
    /// The owner's language.
    Language,
    /// Minimum notice, in hours.
    MinNoticeHours,
    /// Booking horizon, in days.
    HorizonDays,
    /// Whether visitors confirm their email address first.
    ConfirmEmail,
    // Around the session (answer-by time and reminders).
    /// Hours the owner has to answer a request.
    AnswerWithinHours,
    /// Hours before the answer-by time the owner is reminded (0: never).
    AnswerReminderHours,
    /// Minutes before an accepted session its reminders go out.
    ReminderOffsetsMinutes,
    /// Whether the owner gets the session reminders too.
    RemindOwner,
    /// Whether a proposed time the visitor takes waits for the owner's approval.
    ProposedTimeNeedsApproval,
    /// Minutes kept free before and after the owner's busy times.
    BusyBufferMinutes,
    /// Whether slots stay bookable while a calendar source cannot be read.
    CalendarFailOpen,
    /// Days after a session its visitor's data is kept.
    RetentionDays,
}

impl Setting {
    /// Every setting, in the order the settings page shows them.
    pub const ALL: [Setting; 16] = [
        Setting::BookingOpen,
        Setting::OwnerName,
        Setting::OwnerEmail,
        Setting::TimeZone,
        Setting::Language,
        Setting::MinNoticeHours,
        Setting::HorizonDays,
        Setting::ConfirmEmail,
        // Around the session.
        Setting::AnswerWithinHours,
        Setting::AnswerReminderHours,
        Setting::ReminderOffsetsMinutes,
        Setting::RemindOwner,
        Setting::ProposedTimeNeedsApproval,
        Setting::BusyBufferMinutes,
        Setting::CalendarFailOpen,
        Setting::RetentionDays,
    ];

    /// Its name: the stored key, the form and JSON field, the refused field.
    pub const fn key(self) -> &'static str {
        match self {
            Setting::BookingOpen => "booking_open",
            Setting::OwnerName => "owner_name",
            Setting::OwnerEmail => "owner_email",
            Setting::TimeZone => "time_zone",
            Setting::Language => "language",
            Setting::MinNoticeHours => "min_notice_hours",
            Setting::HorizonDays => "horizon_days",
            Setting::ConfirmEmail => "confirm_email",
            // Around the session.
            Setting::AnswerWithinHours => "answer_within_hours",
            Setting::AnswerReminderHours => "answer_reminder_hours",
            Setting::ReminderOffsetsMinutes => "reminder_offsets_minutes",
            Setting::RemindOwner => "remind_owner",
            Setting::ProposedTimeNeedsApproval => "proposed_time_needs_approval",
            Setting::BusyBufferMinutes => "busy_buffer_minutes",
            Setting::CalendarFailOpen => "calendar_fail_open",
            Setting::RetentionDays => "retention_days",
        }
    }

    /// The setting named `key`, if there is one.
    pub fn from_key(key: &str) -> Option<Setting> {
        Setting::ALL.into_iter().find(|s| s.key() == key)
    }
}

/// The settings in force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnerSettings {
    /// Whether visitors may book (closed: slots can be prepared before the page goes live).
    pub booking_open: bool,
    /// The owner's name, shown to visitors and in invitations.
    pub owner_name: String,
    /// Where requests are sent.
    pub owner_email: String,
    /// The owner's time zone: patterns, the admin UI and the owner's emails use it.
    pub time_zone: TimeZoneName,
    /// The owner's language (admin UI and owner emails).
    pub language: &'static str,
    /// A slot can be booked only this many hours before it starts.
    pub min_notice_hours: i64,
    /// How many days ahead slots can be booked.
    pub horizon_days: i64,
    /// Whether a visitor first confirms their email address (by a link sent to it) before the
    /// owner hears of the request; until then the request holds its slot for a short time.
    pub confirm_email: bool,
    // Around the session.
    /// Hours the owner has to answer a request before it expires (see
    /// [`crate::session_times::answer_by`]).
    pub answer_within_hours: i64,
    /// Hours before the answer-by time the owner is reminded (0: no reminder).
    pub answer_reminder_hours: i64,
    /// When an accepted session's reminders go out, in minutes before it.
    pub reminder_offsets_minutes: ReminderOffsets,
    /// Whether the owner gets the session reminders as well as the visitor.
    pub remind_owner: bool,
    /// Whether a proposed time the visitor takes waits for the owner's approval.
    pub proposed_time_needs_approval: bool,
    /// Minutes kept free before and after each busy time of the owner's calendars.
    pub busy_buffer_minutes: i64,
    /// Whether the slots a failing calendar source covers stay bookable (instead of hidden
    /// after the grace period).
    pub calendar_fail_open: bool,
    /// Days after a session its visitor's name, email, topic, answers and emails are kept
    /// (see `guidance_app::privacy`).
    pub retention_days: i64,
}

/// The settings form as typed: raw text per field (checkbox: present or not).
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct SettingsForm {
    /// "on" (a checked box) or "true" when booking is open.
    pub booking_open: Option<String>,
    /// The owner's name.
    pub owner_name: String,
    /// The owner's email address.
    pub owner_email: String,
    /// IANA time zone.
    pub time_zone: String,
    /// Language tag.
    pub language: String,
    /// Hours.
    pub min_notice_hours: String,
    /// Days.
    pub horizon_days: String,
    /// "on" (a checked box) or "true" when visitors confirm their email address first.
    pub confirm_email: Option<String>,
    // Around the session.
    /// Hours.
    pub answer_within_hours: String,
    /// Hours.
    pub answer_reminder_hours: String,
    /// Minutes, separated by commas (`1440, 60`).
    pub reminder_offsets_minutes: String,
    /// "on" (a checked box) or "true" when the owner gets the session reminders too.
    pub remind_owner: Option<String>,
    /// "on" (a checked box) or "true" when a proposed time taken waits for approval.
    pub proposed_time_needs_approval: Option<String>,
    /// Minutes.
    pub busy_buffer_minutes: String,
    /// "on" (a checked box) or "true" when slots stay bookable while a calendar fails.
    pub calendar_fail_open: Option<String>,
    /// Days.
    pub retention_days: String,
}

/// A change of some settings, as the owner API sends it: each value in its own type, `None`
/// for a setting that keeps its value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SettingsChange {
    /// Whether visitors may book.
    pub booking_open: Option<bool>,
    /// The owner's name.
    pub owner_name: Option<String>,
    /// Where requests are sent.
    pub owner_email: Option<String>,
    /// IANA time zone.
    pub time_zone: Option<String>,
    /// Language tag.
    pub language: Option<String>,
    /// Hours.
    pub min_notice_hours: Option<i64>,
    /// Days.
    pub horizon_days: Option<i64>,
    /// Whether visitors confirm their email address first.
    pub confirm_email: Option<bool>,
    // Around the session.
    /// Hours.
    pub answer_within_hours: Option<i64>,
    /// Hours.
    pub answer_reminder_hours: Option<i64>,
    /// Minutes.
    pub reminder_offsets_minutes: Option<Vec<i64>>,
    /// Whether the owner gets the session reminders too.
    pub remind_owner: Option<bool>,
    /// Whether a proposed time the visitor takes waits for the owner's approval.
    pub proposed_time_needs_approval: Option<bool>,
    /// Minutes.
    pub busy_buffer_minutes: Option<i64>,
    /// Whether slots stay bookable while a calendar fails.
    pub calendar_fail_open: Option<bool>,
    /// Days.
    pub retention_days: Option<i64>,
    /// Fields refused before their value could be read (a key that is no setting, a value of
    /// the wrong type): reported together with the refused values.
    pub refused: FieldErrors,
}

/// A whole number as given: typed into a form or stored as text, or sent as a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Count {
    Given(i64),
    Empty,
    NotANumber,
}

impl Count {
    fn read(raw: &str) -> Count {
        match raw.trim().parse::<i64>() {
            Ok(n) => Count::Given(n),
            Err(_) if raw.trim().is_empty() => Count::Empty,
            Err(_) => Count::NotANumber,
        }
    }
}

/// Every setting as given, before the check: what the form, the owner API and the store fill
/// in, each from its own types.
#[derive(Debug, Clone)]
struct Draft {
    booking_open: bool,
    owner_name: String,
    owner_email: String,
    time_zone: String,
    language: String,
    min_notice_hours: Count,
    horizon_days: Count,
    confirm_email: bool,
    // Around the session.
    answer_within_hours: Count,
    answer_reminder_hours: Count,
    reminder_offsets_minutes: String,
    remind_owner: bool,
    proposed_time_needs_approval: bool,
    busy_buffer_minutes: Count,
    calendar_fail_open: bool,
    retention_days: Count,
}

impl Draft {
    /// The settings `s`, as given again.
    fn of(s: &OwnerSettings) -> Draft {
        Draft {
            booking_open: s.booking_open,
            owner_name: s.owner_name.clone(),
            owner_email: s.owner_email.clone(),
            time_zone: s.time_zone.as_str().to_owned(),
            language: s.language.to_owned(),
            min_notice_hours: Count::Given(s.min_notice_hours),
            horizon_days: Count::Given(s.horizon_days),
            confirm_email: s.confirm_email,
            answer_within_hours: Count::Given(s.answer_within_hours),
            answer_reminder_hours: Count::Given(s.answer_reminder_hours),
            reminder_offsets_minutes: s.reminder_offsets_minutes.to_text(),
            remind_owner: s.remind_owner,
            proposed_time_needs_approval: s.proposed_time_needs_approval,
            busy_buffer_minutes: Count::Given(s.busy_buffer_minutes),
            calendar_fail_open: s.calendar_fail_open,
            retention_days: Count::Given(s.retention_days),
        }
    }

    /// The settings form as typed: a box is ticked when it sends `on` (or `true`).
    fn from_form(f: &SettingsForm) -> Draft {
        let ticked = |v: &Option<String>| v.as_deref().is_some_and(|v| v == "on" || v == "true");
        Draft {
            booking_open: ticked(&f.booking_open),
            owner_name: f.owner_name.clone(),
            owner_email: f.owner_email.clone(),
            time_zone: f.time_zone.clone(),
            language: f.language.clone(),
            min_notice_hours: Count::read(&f.min_notice_hours),
            horizon_days: Count::read(&f.horizon_days),
            confirm_email: ticked(&f.confirm_email),
            answer_within_hours: Count::read(&f.answer_within_hours),
            answer_reminder_hours: Count::read(&f.answer_reminder_hours),
            reminder_offsets_minutes: f.reminder_offsets_minutes.clone(),
            remind_owner: ticked(&f.remind_owner),
            proposed_time_needs_approval: ticked(&f.proposed_time_needs_approval),
            // Left empty (or a form from before calendars existed): no buffer.
            busy_buffer_minutes: match Count::read(&f.busy_buffer_minutes) {
                Count::Empty => Count::Given(0),
                given => given,
            },
            calendar_fail_open: ticked(&f.calendar_fail_open),
            // Left empty (a form from before retention existed): the default.
            retention_days: match Count::read(&f.retention_days) {
                Count::Empty => Count::Given(DEFAULT_RETENTION_DAYS),
                given => given,
            },
        }
    }

    /// Lays one stored value over this draft (see [`OwnerSettings::to_stored`]).
    fn set_stored(&mut self, setting: Setting, raw: &str) {
        match setting {
            Setting::BookingOpen => self.booking_open = raw == "true",
            Setting::OwnerName => self.owner_name = raw.to_owned(),
            Setting::OwnerEmail => self.owner_email = raw.to_owned(),
            Setting::TimeZone => self.time_zone = raw.to_owned(),
            Setting::Language => self.language = raw.to_owned(),
            Setting::MinNoticeHours => self.min_notice_hours = Count::read(raw),
            Setting::HorizonDays => self.horizon_days = Count::read(raw),
            Setting::ConfirmEmail => self.confirm_email = raw == "true",
            Setting::AnswerWithinHours => self.answer_within_hours = Count::read(raw),
            Setting::AnswerReminderHours => self.answer_reminder_hours = Count::read(raw),
            Setting::ReminderOffsetsMinutes => self.reminder_offsets_minutes = raw.to_owned(),
            Setting::RemindOwner => self.remind_owner = raw == "true",
            Setting::ProposedTimeNeedsApproval => self.proposed_time_needs_approval = raw == "true",
            Setting::BusyBufferMinutes => self.busy_buffer_minutes = Count::read(raw),
            Setting::CalendarFailOpen => self.calendar_fail_open = raw == "true",
            Setting::RetentionDays => self.retention_days = Count::read(raw),
        }
    }

    /// Lays the values a change gives over this draft.
    fn change(&mut self, c: &SettingsChange) {
        fn set<T: Clone>(slot: &mut T, value: &Option<T>) {
            if let Some(v) = value {
                *slot = v.clone();
            }
        }
        set(&mut self.booking_open, &c.booking_open);
        set(&mut self.owner_name, &c.owner_name);
        set(&mut self.owner_email, &c.owner_email);
        set(&mut self.time_zone, &c.time_zone);
        set(&mut self.language, &c.language);
        set(
            &mut self.min_notice_hours,
            &c.min_notice_hours.map(Count::Given),
        );
        set(&mut self.horizon_days, &c.horizon_days.map(Count::Given));
        set(&mut self.confirm_email, &c.confirm_email);
        let count = |n: &Option<i64>| n.map(Count::Given);
        set(
            &mut self.answer_within_hours,
            &count(&c.answer_within_hours),
        );
        set(
            &mut self.answer_reminder_hours,
            &count(&c.answer_reminder_hours),
        );
        if let Some(minutes) = &c.reminder_offsets_minutes {
            let text: Vec<String> = minutes.iter().map(i64::to_string).collect();
            self.reminder_offsets_minutes = text.join(", ");
        }
        set(&mut self.remind_owner, &c.remind_owner);
        set(
            &mut self.proposed_time_needs_approval,
            &c.proposed_time_needs_approval,
        );
        set(
            &mut self.busy_buffer_minutes,
            &c.busy_buffer_minutes.map(Count::Given),
        );
        set(&mut self.calendar_fail_open, &c.calendar_fail_open);
        set(&mut self.retention_days, &count(&c.retention_days));
    }

    /// Checks every value; every refused field at once.
    fn check(&self) -> Result<OwnerSettings, FieldErrors> {
        let mut fields = FieldErrors::new();
        let mut refuse = |setting: Setting, reason: FieldReason| fields.add(setting.key(), reason);
        let name = self.owner_name.trim();
        if name.is_empty() {
            refuse(Setting::OwnerName, FieldReason::Empty);
        } else if name.chars().count() > NAME_MAX {
            refuse(Setting::OwnerName, FieldReason::TooLong);
        } else if name.chars().any(char::is_control) {
            refuse(Setting::OwnerName, FieldReason::ControlCharacters);
        }
        let email = self.owner_email.trim();
        // `owner@localhost` (the first-run default) stays acceptable; anything typed must be real.
        if email.is_empty() {
            refuse(Setting::OwnerEmail, FieldReason::Empty);
        } else if EmailAddress::parse(email).is_err() && !is_localhost_address(email) {
            refuse(Setting::OwnerEmail, FieldReason::InvalidEmail);
        }
        let zone = TimeZoneName::parse(self.time_zone.trim());
        if zone.is_err() {
            refuse(Setting::TimeZone, FieldReason::UnknownTimeZone);
        }
        let language = crate::i18n::languages()
            .into_iter()
            .find(|l| *l == self.language.trim());
        if language.is_none() {
            refuse(Setting::Language, FieldReason::UnknownValue);
        }
        let mut count = |setting: Setting, given: Count, min: i64, max: i64| match given {
            Count::Given(n) if (min..=max).contains(&n) => n,
            Count::Given(_) => {
                refuse(setting, FieldReason::OutOfRange);
                0
            }
            Count::Empty => {
                refuse(setting, FieldReason::Empty);
                0
            }
            Count::NotANumber => {
                refuse(setting, FieldReason::UnknownValue);
                0
            }
        };
        let min_notice_hours = count(
            Setting::MinNoticeHours,
            self.min_notice_hours,
            0,
            MAX_NOTICE_HOURS,
        );
        let horizon_days = count(Setting::HorizonDays, self.horizon_days, 1, MAX_HORIZON_DAYS);
        let answer_within_hours = count(
            Setting::AnswerWithinHours,
            self.answer_within_hours,
            1,
            MAX_ANSWER_HOURS,
        );
        let answer_reminder_hours = count(
            Setting::AnswerReminderHours,
            self.answer_reminder_hours,
            0,
            MAX_ANSWER_HOURS,
        );
        let busy_buffer_minutes = count(
            Setting::BusyBufferMinutes,
            self.busy_buffer_minutes,
            0,
            MAX_BUSY_BUFFER_MINUTES,
        );
        let retention_days = count(
            Setting::RetentionDays,
            self.retention_days,
            1,
            MAX_RETENTION_DAYS,
        );
        let offsets = ReminderOffsets::parse(&self.reminder_offsets_minutes)
            .map_err(|reason| fields.add(Setting::ReminderOffsetsMinutes.key(), reason));
        match (zone, language, offsets) {
            (Ok(time_zone), Some(language), Ok(offsets)) if fields.is_empty() => {
                Ok(OwnerSettings {
                    booking_open: self.booking_open,
                    owner_name: name.to_owned(),
                    owner_email: email.to_owned(),
                    time_zone,
                    language,
                    min_notice_hours,
                    horizon_days,
                    confirm_email: self.confirm_email,
                    answer_within_hours,
                    answer_reminder_hours,
                    reminder_offsets_minutes: offsets,
                    remind_owner: self.remind_owner,
                    proposed_time_needs_approval: self.proposed_time_needs_approval,
                    busy_buffer_minutes,
                    calendar_fail_open: self.calendar_fail_open,
                    retention_days,
                })
            }
            _ => Err(fields),
        }
    }
}

impl OwnerSettings {
    /// These settings (the defaults) with every stored value that still parses laid over them,
    /// and the fields whose stored values were ignored.
    pub fn with_stored(mut self, stored: &BTreeMap<String, String>) -> (Self, FieldErrors) {
        let known = || {
            stored
                .iter()
                .filter_map(|(k, v)| Setting::from_key(k).map(|s| (s, v)))
        };
        let mut all = Draft::of(&self);
        for (setting, raw) in known() {
            all.set_stored(setting, raw);
        }
        match all.check() {
            Ok(parsed) => (parsed, FieldErrors::new()),
            Err(fields) => {
                // Keep what parses; a value refused by a later version must not stop the service.
                for (setting, raw) in known() {
                    if fields.get(setting.key()).is_some() {
                        continue;
                    }
                    let mut one = Draft::of(&self);
                    one.set_stored(setting, raw);
                    if let Ok(p) = one.check() {
                        self = p;
                    }
                }
                (self, fields)
            }
        }
    }

    /// These settings with `change` laid over them, checked as a whole: every refused field at
    /// once, the change's own [`SettingsChange::refused`] among them.
    pub fn changed(&self, change: &SettingsChange) -> Result<OwnerSettings, FieldErrors> {
        let mut draft = Draft::of(self);
        draft.change(change);
        match draft.check() {
            Ok(parsed) if change.refused.is_empty() => Ok(parsed),
            Ok(_) => Err(change.refused.clone()),
            Err(mut fields) => {
                fields.merge(change.refused.clone());
                Err(fields)
            }
        }
    }

    /// The form showing these settings.
    pub fn to_form(&self) -> SettingsForm {
        let ticked = |on: bool| on.then(|| "true".to_owned());
        SettingsForm {
            booking_open: ticked(self.booking_open),
            owner_name: self.owner_name.clone(),
            owner_email: self.owner_email.clone(),
            time_zone: self.time_zone.as_str().to_owned(),
            language: self.language.to_owned(),
            min_notice_hours: self.min_notice_hours.to_string(),
            horizon_days: self.horizon_days.to_string(),
            confirm_email: ticked(self.confirm_email),
            answer_within_hours: self.answer_within_hours.to_string(),
            answer_reminder_hours: self.answer_reminder_hours.to_string(),
            reminder_offsets_minutes: self.reminder_offsets_minutes.to_text(),
            remind_owner: ticked(self.remind_owner),
            proposed_time_needs_approval: ticked(self.proposed_time_needs_approval),
            busy_buffer_minutes: self.busy_buffer_minutes.to_string(),
            calendar_fail_open: ticked(self.calendar_fail_open),
            retention_days: self.retention_days.to_string(),
        }
    }

    /// The stored form of these settings: every setting by its key, as text.
    pub fn to_stored(&self) -> BTreeMap<String, String> {
        Setting::ALL
            .into_iter()
            .map(|s| (s.key().to_owned(), self.stored(s)))
            .collect()
    }

    /// The stored text of one setting (read back by [`Draft::set_stored`]).
    fn stored(&self, setting: Setting) -> String {
        match setting {
            Setting::BookingOpen => self.booking_open.to_string(),
            Setting::OwnerName => self.owner_name.clone(),
            Setting::OwnerEmail => self.owner_email.clone(),
            Setting::TimeZone => self.time_zone.as_str().to_owned(),
            Setting::Language => self.language.to_owned(),
            Setting::MinNoticeHours => self.min_notice_hours.to_string(),
            Setting::HorizonDays => self.horizon_days.to_string(),
            Setting::ConfirmEmail => self.confirm_email.to_string(),
            Setting::AnswerWithinHours => self.answer_within_hours.to_string(),
            Setting::AnswerReminderHours => self.answer_reminder_hours.to_string(),
            Setting::ReminderOffsetsMinutes => self.reminder_offsets_minutes.to_text(),
            Setting::RemindOwner => self.remind_owner.to_string(),
            Setting::ProposedTimeNeedsApproval => self.proposed_time_needs_approval.to_string(),
            Setting::BusyBufferMinutes => self.busy_buffer_minutes.to_string(),
            Setting::CalendarFailOpen => self.calendar_fail_open.to_string(),
            Setting::RetentionDays => self.retention_days.to_string(),
        }
    }

    /// The earliest start a visitor may book at `now`.
    pub fn earliest_start(&self, now: Timestamp) -> Timestamp {
        now.checked_add(SignedDuration::from_hours(self.min_notice_hours))
            .unwrap_or(now)
    }

    /// The latest start a visitor may book at `now`.
    pub fn horizon(&self, now: Timestamp) -> Timestamp {
        now.checked_add(SignedDuration::from_hours(24 * self.horizon_days))
            .unwrap_or(now)
    }
}

/// Checks a settings form; every refused field at once.
pub fn parse(f: &SettingsForm) -> Result<OwnerSettings, FieldErrors> {
    Draft::from_form(f).check()
}

fn is_localhost_address(s: &str) -> bool {
    s.rsplit_once('@').is_some_and(|(local, host)| {
        host == "localhost"
            && !local.is_empty()
            && EmailAddress::parse(&format!("{local}@localhost.local")).is_ok()
    })
}

#[cfg(test)]
mod tests;
