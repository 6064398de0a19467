//! Refused input: one type for every form and body (the intake, the owner's questions, slot
//! patterns, settings, slots), so that every refusal reaches the visitor or the owner in the same
//! shape — each refused field with a stable reason code, all of them at once.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

/// Why a field was refused. The code is stable: it is the JSON `code` of the field and the
/// suffix of its message's locale key (`errors.field.<code>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldReason {
    /// The field is missing or blank.
    Empty,
    /// The field is longer than allowed.
    TooLong,
    /// The field holds control characters (or a line break where none may be).
    ControlCharacters,
    /// Not an email address.
    InvalidEmail,
    /// Not one of the allowed values.
    UnknownValue,
    /// Not an IANA time zone known to this build.
    UnknownTimeZone,
    /// Too many entries.
    TooMany,
    /// Not of the expected kind (for example a number where text is expected).
    WrongType,
    /// An end that is not after its start.
    EndsBeforeStart,
    /// A length outside what is allowed (a session too short or too long).
    BadLength,
    /// A number or a time outside the allowed range.
    OutOfRange,
    /// A time that has passed.
    InThePast,
    /// A slot that would overlap another one.
    SlotOverlap,
    /// The same entry given twice.
    Duplicate,
    /// A slot that is not open (booked, held, withdrawn, past, or outside the booking horizon).
    SlotNotOpen,
    /// An address that is not https on the public internet (a webhook endpoint).
    NotPublicHttps,
}

impl FieldReason {
    /// Every reason.
    pub const ALL: [FieldReason; 16] = [
        FieldReason::Empty,
        FieldReason::TooLong,
        FieldReason::ControlCharacters,
        FieldReason::InvalidEmail,
        FieldReason::UnknownValue,
        FieldReason::UnknownTimeZone,
        FieldReason::TooMany,
        FieldReason::WrongType,
        FieldReason::EndsBeforeStart,
        FieldReason::BadLength,
        FieldReason::OutOfRange,
        FieldReason::InThePast,
        FieldReason::SlotOverlap,
        FieldReason::Duplicate,
        FieldReason::SlotNotOpen,
        FieldReason::NotPublicHttps,
    ];

    /// The reasons a visitor's booking request (the intake and the answers to the owner's
    /// questions) can be refused for: the booking form carries their messages, and only these.
    /// (The time seen, which the element sends beside the slot, is the slot's own from the
    /// list: a window that makes no slot comes only from other clients, which read the
    /// message in the answer.)
    pub const OF_INTAKE: [FieldReason; 8] = [
        FieldReason::Empty,
        FieldReason::TooLong,
        FieldReason::ControlCharacters,
        FieldReason::InvalidEmail,
        FieldReason::UnknownValue,
        FieldReason::UnknownTimeZone,
        FieldReason::TooMany,
        FieldReason::WrongType,
    ];

    /// The stable code of this reason.
    pub fn code(self) -> &'static str {
        match self {
            FieldReason::Empty => "empty",
            FieldReason::TooLong => "too_long",
            FieldReason::ControlCharacters => "control_characters",
            FieldReason::InvalidEmail => "invalid_email",
            FieldReason::UnknownValue => "unknown_value",
            FieldReason::UnknownTimeZone => "unknown_time_zone",
            FieldReason::TooMany => "too_many",
            FieldReason::WrongType => "wrong_type",
            FieldReason::EndsBeforeStart => "ends_before_start",
            FieldReason::BadLength => "bad_length",
            FieldReason::OutOfRange => "out_of_range",
            FieldReason::InThePast => "in_the_past",
            FieldReason::SlotOverlap => "slot_overlap",
            FieldReason::Duplicate => "duplicate",
            FieldReason::SlotNotOpen => "slot_not_open",
            FieldReason::NotPublicHttps => "not_public_https",
        }
    }

    /// The reason with this code.
    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.code() == code)
    }
}

impl fmt::Display for FieldReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// The refused fields of one form or body, by field name (a refused answer is named
/// `answers.<key>`, a refused question `questions[<i>].<field>`). One reason per field: a later
/// finding about the same field replaces an earlier one, unless added with
/// [`FieldErrors::add_first`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldErrors(BTreeMap<String, FieldReason>);

impl FieldErrors {
    /// No refused field yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// One refused field.
    pub fn one(field: impl Into<String>, reason: FieldReason) -> Self {
        let mut e = Self::new();
        e.add(field, reason);
        e
    }

    /// Refuses `field` for `reason`.
    pub fn add(&mut self, field: impl Into<String>, reason: FieldReason) {
        self.0.insert(field.into(), reason);
    }

    /// Refuses `field` for `reason` unless it is refused already.
    pub fn add_first(&mut self, field: impl Into<String>, reason: FieldReason) {
        self.0.entry(field.into()).or_insert(reason);
    }

    /// Adds every refusal of `other`.
    pub fn merge(&mut self, other: FieldErrors) {
        self.0.extend(other.0);
    }

    /// Whether no field was refused.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many fields were refused.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether `field` was refused.
    pub fn contains(&self, field: &str) -> bool {
        self.0.contains_key(field)
    }

    /// Why `field` was refused, if it was.
    pub fn get(&self, field: &str) -> Option<FieldReason> {
        self.0.get(field).copied()
    }

    /// The refused fields and their reasons, by field name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, FieldReason)> {
        self.0.iter().map(|(f, r)| (f.as_str(), *r))
    }

    /// Renames a field (a form may call a field differently from the body it becomes).
    pub fn rename(&mut self, from: &str, to: &str) {
        if let Some(r) = self.0.remove(from) {
            self.0.insert(to.to_owned(), r);
        }
    }

    /// `Ok(value)` when nothing was refused, else these errors.
    pub fn or_ok<T>(self, value: T) -> Result<T, FieldErrors> {
        if self.is_empty() {
            Ok(value)
        } else {
            Err(self)
        }
    }

    /// Field name → reason code.
    pub fn codes(&self) -> BTreeMap<String, String> {
        self.0
            .iter()
            .map(|(f, r)| (f.clone(), r.code().to_owned()))
            .collect()
    }
}

impl FromIterator<(String, FieldReason)> for FieldErrors {
    fn from_iter<I: IntoIterator<Item = (String, FieldReason)>>(iter: I) -> Self {
        Self(iter.into_iter().collect())
    }
}

impl Extend<(String, FieldReason)> for FieldErrors {
    fn extend<I: IntoIterator<Item = (String, FieldReason)>>(&mut self, iter: I) {
        self.0.extend(iter);
    }
}

impl IntoIterator for FieldErrors {
    type Item = (String, FieldReason);
    type IntoIter = std::collections::btree_map::IntoIter<String, FieldReason>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl fmt::Display for FieldErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.iter().map(|(k, r)| format!("{k}: {r}")).collect();
        write!(f, "refused fields ({})", parts.join(", "))
    }
}

impl std::error::Error for FieldErrors {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for r in FieldReason::ALL {
            assert_eq!(FieldReason::parse(r.code()), Some(r));
        }
        assert_eq!(FieldReason::parse("nope"), None);
    }

    #[test]
    fn every_field_is_kept_once_and_renamed_on_request() {
        let mut e = FieldErrors::one("weekdays", FieldReason::UnknownValue);
        e.add_first("weekdays", FieldReason::Empty);
        e.add("ends_at", FieldReason::EndsBeforeStart);
        e.rename("ends_at", "end");
        assert_eq!(e.get("weekdays"), Some(FieldReason::UnknownValue));
        assert_eq!(
            e.codes(),
            BTreeMap::from([
                ("end".to_owned(), "ends_before_start".to_owned()),
                ("weekdays".to_owned(), "unknown_value".to_owned()),
            ])
        );
    }
}
