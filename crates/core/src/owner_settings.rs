//! The owner's settings: what the admin UI's settings page and the owner API change, their
//! limits, and what they decide (the earliest and latest start a visitor may book). Each stored
//! value overrides the configured default; whatever was never stored keeps its default.

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};

use crate::intake::{EmailAddress, TimeZoneName};

/// Longest minimum notice, in hours (30 days).
pub const MAX_NOTICE_HOURS: i64 = 30 * 24;
/// Furthest booking horizon, in days (two years).
pub const MAX_HORIZON_DAYS: i64 = 730;
/// Longest owner name, in characters.
pub const NAME_MAX: usize = 120;

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
}

impl OwnerSettings {
    /// These settings (the defaults) with every stored value that still parses laid over them,
    /// and the fields whose stored values were ignored (field → reason code).
    pub fn with_stored(
        mut self,
        stored: &BTreeMap<String, String>,
    ) -> (Self, BTreeMap<String, String>) {
        match parse(&form_from(stored, &self)) {
            Ok(parsed) => (parsed, BTreeMap::new()),
            Err(fields) => {
                // Keep what parses; a value refused by a later version must not stop the service.
                for (k, v) in stored {
                    if fields.contains_key(k) {
                        continue;
                    }
                    let mut one = form_from(&BTreeMap::new(), &self);
                    apply_raw(&mut one, k, v);
                    if let Ok(p) = parse(&one) {
                        self = p;
                    }
                }
                (self, fields)
            }
        }
    }

    /// The form showing these settings.
    pub fn to_form(&self) -> SettingsForm {
        form_from(&BTreeMap::new(), self)
    }

    /// The stored form of these settings.
    pub fn to_stored(&self) -> BTreeMap<String, String> {
        BTreeMap::from([
            ("booking_open".to_owned(), self.booking_open.to_string()),
            ("owner_name".to_owned(), self.owner_name.clone()),
            ("owner_email".to_owned(), self.owner_email.clone()),
            ("time_zone".to_owned(), self.time_zone.as_str().to_owned()),
            ("language".to_owned(), self.language.to_owned()),
            (
                "min_notice_hours".to_owned(),
                self.min_notice_hours.to_string(),
            ),
            ("horizon_days".to_owned(), self.horizon_days.to_string()),
            ("confirm_email".to_owned(), self.confirm_email.to_string()),
        ])
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

fn form_from(stored: &BTreeMap<String, String>, base: &OwnerSettings) -> SettingsForm {
    let mut f = SettingsForm {
        booking_open: base.booking_open.then(|| "true".to_owned()),
        owner_name: base.owner_name.clone(),
        owner_email: base.owner_email.clone(),
        time_zone: base.time_zone.as_str().to_owned(),
        language: base.language.to_owned(),
        min_notice_hours: base.min_notice_hours.to_string(),
        horizon_days: base.horizon_days.to_string(),
        confirm_email: base.confirm_email.then(|| "true".to_owned()),
    };
    for (k, v) in stored {
        apply_raw(&mut f, k, v);
    }
    f
}

fn apply_raw(f: &mut SettingsForm, key: &str, value: &str) {
    match key {
        "booking_open" => f.booking_open = (value == "true").then(|| "true".to_owned()),
        "owner_name" => f.owner_name = value.to_owned(),
        "owner_email" => f.owner_email = value.to_owned(),
        "time_zone" => f.time_zone = value.to_owned(),
        "language" => f.language = value.to_owned(),
        "min_notice_hours" => f.min_notice_hours = value.to_owned(),
        "horizon_days" => f.horizon_days = value.to_owned(),
        "confirm_email" => f.confirm_email = (value == "true").then(|| "true".to_owned()),
        _ => {}
    }
}

fn number(
    raw: &str,
    field: &str,
    max: i64,
    min: i64,
    fields: &mut BTreeMap<String, String>,
) -> i64 {
    match raw.trim().parse::<i64>() {
        Ok(n) if (min..=max).contains(&n) => n,
        Ok(_) => {
            fields.insert(field.into(), "out_of_range".into());
            0
        }
        Err(_) if raw.trim().is_empty() => {
            fields.insert(field.into(), "empty".into());
            0
        }
        Err(_) => {
            fields.insert(field.into(), "unknown_value".into());
            0
        }
    }
}

/// Checks a settings form; every refused field at once (field → reason code).
pub fn parse(f: &SettingsForm) -> Result<OwnerSettings, BTreeMap<String, String>> {
    let mut fields = BTreeMap::new();
    let name = f.owner_name.trim();
    if name.is_empty() {
        fields.insert("owner_name".into(), "empty".into());
    } else if name.chars().count() > NAME_MAX {
        fields.insert("owner_name".into(), "too_long".into());
    } else if name.chars().any(char::is_control) {
        fields.insert("owner_name".into(), "control_characters".into());
    }
    let email = f.owner_email.trim();
    // `owner@localhost` (the first-run default) stays acceptable; anything typed must be real.
    if email.is_empty() {
        fields.insert("owner_email".into(), "empty".into());
    } else if EmailAddress::parse(email).is_err() && !is_localhost_address(email) {
        fields.insert("owner_email".into(), "invalid_email".into());
    }
    let zone = TimeZoneName::parse(f.time_zone.trim());
    if zone.is_err() {
        fields.insert("time_zone".into(), "unknown_time_zone".into());
    }
    let language = crate::i18n::languages()
        .into_iter()
        .find(|l| *l == f.language.trim());
    if language.is_none() {
        fields.insert("language".into(), "unknown_value".into());
    }
    let min_notice_hours = number(
        &f.min_notice_hours,
        "min_notice_hours",
        MAX_NOTICE_HOURS,
        0,
        &mut fields,
    );
    let horizon_days = number(
        &f.horizon_days,
        "horizon_days",
        MAX_HORIZON_DAYS,
        1,
        &mut fields,
    );
    match (zone, language) {
        (Ok(time_zone), Some(language)) if fields.is_empty() => Ok(OwnerSettings {
            booking_open: f
                .booking_open
                .as_deref()
                .is_some_and(|v| v == "on" || v == "true"),
            owner_name: name.to_owned(),
            owner_email: email.to_owned(),
            time_zone,
            language,
            min_notice_hours,
            horizon_days,
            confirm_email: f
                .confirm_email
                .as_deref()
                .is_some_and(|v| v == "on" || v == "true"),
        }),
        _ => Err(fields),
    }
}

fn is_localhost_address(s: &str) -> bool {
    s.rsplit_once('@').is_some_and(|(local, host)| {
        host == "localhost"
            && !local.is_empty()
            && EmailAddress::parse(&format!("{local}@localhost.local")).is_ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> OwnerSettings {
        OwnerSettings {
            booking_open: true,
            owner_name: "Olga".into(),
            owner_email: "owner@localhost".into(),
            time_zone: TimeZoneName::parse("UTC").unwrap(),
            language: "en",
            min_notice_hours: 0,
            horizon_days: 60,
            confirm_email: false,
        }
    }

    #[test]
    fn stored_values_override_defaults_and_bad_ones_are_ignored() {
        let stored = BTreeMap::from([
            ("booking_open".to_owned(), "false".to_owned()),
            ("time_zone".to_owned(), "Europe/Berlin".to_owned()),
            ("horizon_days".to_owned(), "not a number".to_owned()),
        ]);
        let (s, ignored) = base().with_stored(&stored);
        assert_eq!(ignored.keys().collect::<Vec<_>>(), ["horizon_days"]);
        assert!(!s.booking_open);
        assert_eq!(s.time_zone.as_str(), "Europe/Berlin");
        assert_eq!(s.horizon_days, 60);
        assert_eq!(s.owner_name, "Olga");
        assert_eq!(base().with_stored(&base().to_stored()).0, base());
    }

    #[test]
    fn every_bad_field_is_reported() {
        let f = SettingsForm {
            booking_open: None,
            owner_name: "A\u{7}".into(),
            owner_email: "nope".into(),
            time_zone: "Mars/Base".into(),
            language: "xx".into(),
            min_notice_hours: "-1".into(),
            horizon_days: "".into(),
            confirm_email: None,
        };
        let e = parse(&f).unwrap_err();
        assert_eq!(
            e.keys().map(String::as_str).collect::<Vec<_>>(),
            [
                "horizon_days",
                "language",
                "min_notice_hours",
                "owner_email",
                "owner_name",
                "time_zone"
            ]
        );
    }
}
