//! The intake a visitor fills in to request a session, parsed field by field.
//!
//! Every parser collects a per-field reason instead of stopping at the first problem, so the form
//! and the JSON API can say everything that is wrong at once.

use serde::Serialize;

use crate::text::{is_forbidden_inline, is_forbidden_multiline, normalize_newlines};

/// Longest accepted requester name, in characters.
pub const NAME_MAX: usize = 120;
/// Longest accepted email address, in bytes (RFC 5321 path limit).
pub const EMAIL_MAX: usize = 254;
/// Longest accepted topic, in characters.
pub const TOPIC_MAX: usize = 2000;
/// Most supplemental answers a single intake may carry.
pub const ANSWERS_MAX: usize = 30;
/// Longest key of a supplemental answer, in characters.
pub const ANSWER_KEY_MAX: usize = 64;
/// Longest supplemental answer, in characters.
pub const ANSWER_MAX: usize = 4000;

pub use crate::fields::{FieldErrors, FieldReason};

fn char_len(s: &str) -> usize {
    s.chars().count()
}

/// A requester's name: one line, 1..=120 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequesterName(String);

impl RequesterName {
    /// Parses a name, trimming surrounding white space.
    pub fn parse(raw: &str) -> Result<Self, FieldReason> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(FieldReason::Empty);
        }
        if s.chars().any(is_forbidden_inline) {
            return Err(FieldReason::ControlCharacters);
        }
        if char_len(s) > NAME_MAX {
            return Err(FieldReason::TooLong);
        }
        Ok(Self(s.to_owned()))
    }

    /// The name as typed (trimmed).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An email address: `local@domain`, ASCII or UTF-8 local part, a dotted domain, no spaces,
/// quotes, angle brackets or control characters (so it is safe in a mail header as is).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailAddress(String);

impl EmailAddress {
    /// Parses an address, trimming surrounding white space and lower-casing the domain.
    pub fn parse(raw: &str) -> Result<Self, FieldReason> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(FieldReason::Empty);
        }
        if s.chars().any(is_forbidden_inline) {
            return Err(FieldReason::ControlCharacters);
        }
        if s.len() > EMAIL_MAX {
            return Err(FieldReason::TooLong);
        }
        let (local, domain) = s.rsplit_once('@').ok_or(FieldReason::InvalidEmail)?;
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local.chars().all(|c| {
                !c.is_whitespace()
                    && !matches!(
                        c,
                        '@' | '"' | '<' | '>' | '(' | ')' | ',' | ';' | ':' | '\\' | '[' | ']'
                    )
            });
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = labels.len() >= 2
            && labels.iter().all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.chars().all(|c| c.is_alphanumeric() || c == '-')
            })
            && labels.last().is_some_and(|tld| {
                tld.chars().all(|c| c.is_alphabetic()) || tld.starts_with("xn--")
            });
        if !local_ok || !domain_ok {
            return Err(FieldReason::InvalidEmail);
        }
        Ok(Self(format!("{local}@{}", domain.to_lowercase())))
    }

    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What the visitor wants to talk about: 1..=2000 characters; line breaks allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topic(String);

impl Topic {
    /// Parses a topic, normalising line ends to LF and trimming surrounding white space.
    pub fn parse(raw: &str) -> Result<Self, FieldReason> {
        let s = normalize_newlines(raw);
        let s = s.trim();
        if s.is_empty() {
            return Err(FieldReason::Empty);
        }
        if s.chars().any(is_forbidden_multiline) {
            return Err(FieldReason::ControlCharacters);
        }
        if char_len(s) > TOPIC_MAX {
            return Err(FieldReason::TooLong);
        }
        Ok(Self(s.to_owned()))
    }

    /// The topic text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The first line, shortened to at most `max` characters, for subjects and calendar titles.
    pub fn headline(&self, max: usize) -> String {
        let first = self.0.lines().next().unwrap_or_default().trim();
        if char_len(first) <= max {
            first.to_owned()
        } else {
            let mut s: String = first.chars().take(max.saturating_sub(1)).collect();
            s.push('…');
            s
        }
    }
}

/// How urgent the request is, as the visitor sees it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    /// Whenever it suits.
    Low,
    /// The default.
    Normal,
    /// Soon, please.
    High,
    /// As soon as possible.
    Urgent,
}

impl Priority {
    /// All priorities, lowest first.
    pub const ALL: [Priority; 4] = [
        Priority::Low,
        Priority::Normal,
        Priority::High,
        Priority::Urgent,
    ];

    /// Parses `low|normal|high|urgent`.
    pub fn parse(raw: &str) -> Result<Self, FieldReason> {
        match raw.trim() {
            "" => Err(FieldReason::Empty),
            "low" => Ok(Priority::Low),
            "normal" => Ok(Priority::Normal),
            "high" => Ok(Priority::High),
            "urgent" => Ok(Priority::Urgent),
            _ => Err(FieldReason::UnknownValue),
        }
    }

    /// The stable name, as in SQL and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Low => "low",
            Priority::Normal => "normal",
            Priority::High => "high",
            Priority::Urgent => "urgent",
        }
    }
}

/// The answers to the owner's supplemental questions: a JSON object of at most 30 entries whose
/// keys are short identifiers and whose values are text (line breaks allowed), booleans, or lists
/// of short texts (for multiple choice).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Answers(serde_json::Map<String, serde_json::Value>);

impl Answers {
    /// Parses the `answers` object. `null` or a missing field is an empty set of answers.
    pub fn parse(raw: &serde_json::Value) -> Result<Self, FieldReason> {
        let obj = match raw {
            serde_json::Value::Null => return Ok(Self::default()),
            serde_json::Value::Object(o) => o,
            _ => return Err(FieldReason::WrongType),
        };
        if obj.len() > ANSWERS_MAX {
            return Err(FieldReason::TooMany);
        }
        let mut out = serde_json::Map::new();
        for (k, v) in obj {
            let key_ok = !k.is_empty()
                && char_len(k) <= ANSWER_KEY_MAX
                && k.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.');
            if !key_ok {
                return Err(FieldReason::UnknownValue);
            }
            let clean = match v {
                serde_json::Value::String(s) => serde_json::Value::String(Self::parse_text(s)?),
                serde_json::Value::Bool(b) => serde_json::Value::Bool(*b),
                serde_json::Value::Array(items) => {
                    if items.len() > ANSWERS_MAX {
                        return Err(FieldReason::TooMany);
                    }
                    let mut list = Vec::with_capacity(items.len());
                    for item in items {
                        match item {
                            serde_json::Value::String(s) => {
                                list.push(serde_json::Value::String(Self::parse_text(s)?))
                            }
                            _ => return Err(FieldReason::WrongType),
                        }
                    }
                    serde_json::Value::Array(list)
                }
                _ => return Err(FieldReason::WrongType),
            };
            out.insert(k.clone(), clean);
        }
        Ok(Self(out))
    }

    fn parse_text(s: &str) -> Result<String, FieldReason> {
        let s = normalize_newlines(s);
        let s = s.trim();
        if s.chars().any(is_forbidden_multiline) {
            return Err(FieldReason::ControlCharacters);
        }
        if char_len(s) > ANSWER_MAX {
            return Err(FieldReason::TooLong);
        }
        Ok(s.to_owned())
    }

    /// The answers as a JSON object.
    pub fn as_json(&self) -> &serde_json::Map<String, serde_json::Value> {
        &self.0
    }

    /// Whether there are no answers.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Each answer as display text: lists joined with ", ", booleans as `yes`/`no` keys for the
    /// caller to translate.
    pub fn display_pairs(&self) -> Vec<(String, AnswerText)> {
        self.0
            .iter()
            .map(|(k, v)| {
                let t = match v {
                    serde_json::Value::Bool(b) => AnswerText::Flag(*b),
                    serde_json::Value::Array(items) => AnswerText::Text(
                        items
                            .iter()
                            .filter_map(|i| i.as_str())
                            .collect::<Vec<_>>()
                            .join(", "),
                    ),
                    serde_json::Value::String(s) => AnswerText::Text(s.clone()),
                    other => AnswerText::Text(other.to_string()),
                };
                (k.clone(), t)
            })
            .collect()
    }
}

/// An answer ready for display.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnswerText {
    /// Text (possibly several lines).
    Text(String),
    /// A checkbox.
    Flag(bool),
}

/// A language tag the requester reads: `en`, `de`, `pt-BR`. Only the shape is checked here;
/// unknown languages fall back to English when texts are looked up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Locale(String);

impl Locale {
    /// Parses a BCP 47-like tag of letters, digits and hyphens (at most 35 characters).
    /// An empty value gives English.
    pub fn parse(raw: &str) -> Result<Self, FieldReason> {
        let s = raw.trim();
        if s.is_empty() {
            return Ok(Self("en".to_owned()));
        }
        if s.len() > 35 {
            return Err(FieldReason::TooLong);
        }
        let ok = s
            .split(['-', '_'])
            .all(|p| !p.is_empty() && p.len() <= 8 && p.chars().all(|c| c.is_ascii_alphanumeric()))
            && s.chars().next().is_some_and(|c| c.is_ascii_alphabetic());
        if !ok {
            return Err(FieldReason::UnknownValue);
        }
        Ok(Self(s.replace('_', "-")))
    }

    /// The tag.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An IANA time zone name known to this build's time zone database, e.g. `Europe/Berlin`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeZoneName(String);

impl TimeZoneName {
    /// Parses a zone name. `UTC` is accepted; offsets such as `+02:00` are not (they know no DST).
    pub fn parse(raw: &str) -> Result<Self, FieldReason> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(FieldReason::Empty);
        }
        if s.len() > 64
            || !s
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '_' | '-' | '+'))
        {
            return Err(FieldReason::UnknownTimeZone);
        }
        let tz = jiff::tz::TimeZone::get(s).map_err(|_| FieldReason::UnknownTimeZone)?;
        // jiff answers for the canonical name; keep the visitor's spelling only when it is known.
        let _ = tz;
        Ok(Self(s.to_owned()))
    }

    /// The zone name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The zone, for converting times.
    pub fn zone(&self) -> jiff::tz::TimeZone {
        jiff::tz::TimeZone::get(&self.0).unwrap_or(jiff::tz::TimeZone::UTC)
    }
}

/// The raw intake as it arrives from JSON or a form, before parsing.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct RawIntake {
    /// The visitor's name.
    pub name: String,
    /// The visitor's email address.
    pub email: String,
    /// What the session is about.
    pub topic: String,
    /// `low|normal|high|urgent`.
    pub priority: String,
    /// Supplemental answers (a JSON object).
    pub answers: serde_json::Value,
    /// Language tag.
    pub locale: String,
    /// IANA time zone.
    pub time_zone: String,
}

/// A fully parsed intake: every field checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Intake {
    /// Who asks.
    pub name: RequesterName,
    /// Where to answer.
    pub email: EmailAddress,
    /// What about.
    pub topic: Topic,
    /// How urgent.
    pub priority: Priority,
    /// Supplemental answers.
    pub answers: Answers,
    /// The requester's language.
    pub locale: Locale,
    /// The requester's time zone.
    pub time_zone: TimeZoneName,
}

impl Intake {
    /// Parses every field, collecting a reason for each refused one.
    pub fn parse(raw: &RawIntake) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let mut check = |field: &str, r: Result<(), FieldReason>| {
            if let Err(reason) = r {
                errors.add(field, reason);
            }
        };
        let name = RequesterName::parse(&raw.name);
        check("name", name.as_ref().map(|_| ()).map_err(|e| *e));
        let email = EmailAddress::parse(&raw.email);
        check("email", email.as_ref().map(|_| ()).map_err(|e| *e));
        let topic = Topic::parse(&raw.topic);
        check("topic", topic.as_ref().map(|_| ()).map_err(|e| *e));
        let priority = Priority::parse(&raw.priority);
        check("priority", priority.as_ref().map(|_| ()).map_err(|e| *e));
        let answers = Answers::parse(&raw.answers);
        check("answers", answers.as_ref().map(|_| ()).map_err(|e| *e));
        let locale = Locale::parse(&raw.locale);
        check("locale", locale.as_ref().map(|_| ()).map_err(|e| *e));
        let time_zone = TimeZoneName::parse(&raw.time_zone);
        check("time_zone", time_zone.as_ref().map(|_| ()).map_err(|e| *e));
        match (name, email, topic, priority, answers, locale, time_zone) {
            (
                Ok(name),
                Ok(email),
                Ok(topic),
                Ok(priority),
                Ok(answers),
                Ok(locale),
                Ok(time_zone),
            ) => Ok(Intake {
                name,
                email,
                topic,
                priority,
                answers,
                locale,
                time_zone,
            }),
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn good() -> RawIntake {
        RawIntake {
            name: "Ada Lovelace".into(),
            email: "ada@example.org".into(),
            topic: "Engines\nand looms".into(),
            priority: "high".into(),
            answers: serde_json::json!({"company": "Analytical Ltd", "newsletter": true, "areas": ["math", "music"]}),
            locale: "en".into(),
            time_zone: "Europe/London".into(),
        }
    }

    fn reasons(raw: RawIntake) -> std::collections::BTreeMap<String, FieldReason> {
        Intake::parse(&raw).unwrap_err().into_iter().collect()
    }

    #[test]
    fn a_good_intake_parses() {
        let i = Intake::parse(&good()).unwrap();
        assert_eq!(i.name.as_str(), "Ada Lovelace");
        assert_eq!(i.topic.as_str(), "Engines\nand looms");
        assert_eq!(i.priority, Priority::High);
        assert_eq!(i.answers.as_json().len(), 3);
    }

    #[test]
    fn every_bad_field_is_named_with_its_reason() {
        let raw = RawIntake {
            name: " ".into(),
            email: "nope".into(),
            topic: "x".repeat(TOPIC_MAX + 1),
            priority: "critical".into(),
            answers: serde_json::json!([1]),
            locale: "e n".into(),
            time_zone: "Mars/Olympus".into(),
        };
        let r = reasons(raw);
        assert_eq!(r["name"], FieldReason::Empty);
        assert_eq!(r["email"], FieldReason::InvalidEmail);
        assert_eq!(r["topic"], FieldReason::TooLong);
        assert_eq!(r["priority"], FieldReason::UnknownValue);
        assert_eq!(r["answers"], FieldReason::WrongType);
        assert_eq!(r["locale"], FieldReason::UnknownValue);
        assert_eq!(r["time_zone"], FieldReason::UnknownTimeZone);
    }

    #[test]
    fn line_breaks_are_refused_in_names_and_addresses_but_kept_in_topics() {
        assert_eq!(
            reasons(RawIntake {
                name: "Eve\r\nBcc: x@y.z".into(),
                ..good()
            })["name"],
            FieldReason::ControlCharacters
        );
        assert_eq!(
            reasons(RawIntake {
                email: "a@b.c\nBcc: x@y.z".into(),
                ..good()
            })["email"],
            FieldReason::ControlCharacters
        );
        let t = Topic::parse("one\r\ntwo\rthree").unwrap();
        assert_eq!(t.as_str(), "one\ntwo\nthree");
        assert_eq!(
            Topic::parse("bell\u{7}").unwrap_err(),
            FieldReason::ControlCharacters
        );
        assert_eq!(
            Answers::parse(&serde_json::json!({"a": "x\u{0}"})).unwrap_err(),
            FieldReason::ControlCharacters
        );
    }

    #[test]
    fn email_addresses_are_checked() {
        for ok in [
            "a@b.co",
            "first.last+tag@sub.example.org",
            "ünï@exämple.de",
            "x@xn--bcher-kva.example",
        ] {
            assert!(EmailAddress::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "a",
            "a@",
            "@b.c",
            "a@b",
            "a b@c.de",
            "a@b..c",
            "\"a\"@b.c",
            "a@-b.c",
            "<a@b.c>",
            ".a@b.c",
            "a..b@c.de",
            "a@b.c1",
        ] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            EmailAddress::parse(&format!("{}@b.co", "a".repeat(250))).unwrap_err(),
            FieldReason::TooLong
        );
        assert_eq!(
            EmailAddress::parse("Ada@Example.ORG").unwrap().as_str(),
            "Ada@example.org"
        );
    }

    #[test]
    fn limits_are_enforced() {
        assert_eq!(
            RequesterName::parse(&"n".repeat(NAME_MAX + 1)).unwrap_err(),
            FieldReason::TooLong
        );
        assert!(RequesterName::parse(&"n".repeat(NAME_MAX)).is_ok());
        let many: serde_json::Map<_, _> = (0..=ANSWERS_MAX)
            .map(|i| (format!("q{i}"), serde_json::json!("a")))
            .collect();
        assert_eq!(
            Answers::parse(&serde_json::Value::Object(many)).unwrap_err(),
            FieldReason::TooMany
        );
        assert_eq!(
            Answers::parse(&serde_json::json!({"q": "a".repeat(ANSWER_MAX + 1)})).unwrap_err(),
            FieldReason::TooLong
        );
        assert_eq!(
            Answers::parse(&serde_json::json!({"bad key": "a"})).unwrap_err(),
            FieldReason::UnknownValue
        );
        assert_eq!(
            Answers::parse(&serde_json::json!({"n": 3})).unwrap_err(),
            FieldReason::WrongType
        );
    }

    #[test]
    fn bidi_overrides_are_refused_in_names() {
        assert_eq!(
            RequesterName::parse("abc\u{202E}gpj.exe").unwrap_err(),
            FieldReason::ControlCharacters
        );
        // Plain right-to-left text is welcome.
        assert!(RequesterName::parse("مريم الحسن").is_ok());
    }

    #[test]
    fn time_zones_and_locales() {
        assert!(TimeZoneName::parse("America/Los_Angeles").is_ok());
        assert!(TimeZoneName::parse("UTC").is_ok());
        assert_eq!(
            TimeZoneName::parse("../etc/passwd").unwrap_err(),
            FieldReason::UnknownTimeZone
        );
        assert_eq!(Locale::parse("pt_BR").unwrap().as_str(), "pt-BR");
        assert_eq!(Locale::parse("").unwrap().as_str(), "en");
    }

    #[test]
    fn headline_is_first_line_and_bounded() {
        let t = Topic::parse("First line here\nsecond").unwrap();
        assert_eq!(t.headline(80), "First line here");
        assert_eq!(t.headline(6), "First…");
    }

    proptest! {
        #[test]
        fn parsed_names_never_hold_control_characters(s in "\\PC*[\\x00-\\x1f]?\\PC*") {
            if let Ok(n) = RequesterName::parse(&s) {
                prop_assert!(!n.as_str().chars().any(|c| c.is_control()));
                prop_assert!(n.as_str().chars().count() <= NAME_MAX);
            }
        }

        #[test]
        fn parsed_emails_are_safe_in_headers(s in ".{0,80}") {
            if let Ok(e) = EmailAddress::parse(&s) {
                prop_assert!(!e.as_str().chars().any(|c| c.is_control() || c.is_whitespace() || c == '<' || c == '>' || c == '"'));
                prop_assert_eq!(e.as_str().matches('@').count(), 1);
            }
        }

        #[test]
        fn parsed_topics_have_only_lf_line_ends(s in "(\\PC|\r|\n){0,200}") {
            if let Ok(t) = Topic::parse(&s) {
                prop_assert!(!t.as_str().contains('\r'));
            }
        }
    }
}
