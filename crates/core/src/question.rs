//! The owner's supplemental questions, and the check of a visitor's answers against them.
//!
//! The owner configures a short list of questions (short text, long text, choice, checkbox;
//! required or optional). [`Question::parse_list`] checks that list once, when it is saved;
//! [`check_answers`] then holds every booking's answers to it, naming each refused answer as
//! `answers.<key>` so that forms and JSON clients can show the message at the right field.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::fields::{FieldErrors, FieldReason};
use crate::intake::{ANSWER_KEY_MAX, Answers};
use crate::text::is_forbidden_inline;

/// Most questions an owner may configure.
pub const QUESTIONS_MAX: usize = 20;
/// Longest question label, in characters.
pub const LABEL_MAX: usize = 200;
/// Most options of a choice question.
pub const OPTIONS_MAX: usize = 20;
/// Longest option of a choice question, in characters.
pub const OPTION_MAX: usize = 100;
/// Longest answer to a short-text question, in characters (long text allows
/// [`crate::intake::ANSWER_MAX`]).
pub const SHORT_TEXT_MAX: usize = 200;

/// What kind of answer a question takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuestionKind {
    /// One line of text.
    ShortText,
    /// Several lines of text.
    LongText,
    /// One of the question's options.
    Choice,
    /// Yes or no; a required checkbox must be ticked (e.g. "I agree to…").
    Checkbox,
}

impl QuestionKind {
    /// The stable name, as in SQL and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            QuestionKind::ShortText => "short_text",
            QuestionKind::LongText => "long_text",
            QuestionKind::Choice => "choice",
            QuestionKind::Checkbox => "checkbox",
        }
    }

    /// Parses the stable name.
    pub fn parse(s: &str) -> Option<Self> {
        [
            QuestionKind::ShortText,
            QuestionKind::LongText,
            QuestionKind::Choice,
            QuestionKind::Checkbox,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// One supplemental question, checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Question {
    /// The answer's key in `answers` (letters, digits, `_`, `-`), unique in the list.
    pub key: String,
    /// What the visitor reads (one line).
    pub label: String,
    /// What kind of answer it takes.
    pub kind: QuestionKind,
    /// Whether an answer is needed.
    pub required: bool,
    /// The options of a choice question; empty for other kinds.
    #[serde(default)]
    pub options: Vec<String>,
}

/// The raw shape the owner API accepts, before checking.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawQuestion {
    key: String,
    label: String,
    kind: String,
    #[serde(default)]
    required: bool,
    #[serde(default)]
    options: Vec<String>,
}

fn one_line(raw: &str, max: usize) -> Result<String, FieldReason> {
    let s = raw.trim();
    if s.is_empty() {
        return Err(FieldReason::Empty);
    }
    if s.chars().any(is_forbidden_inline) {
        return Err(FieldReason::ControlCharacters);
    }
    if s.chars().count() > max {
        return Err(FieldReason::TooLong);
    }
    Ok(s.to_owned())
}

impl Question {
    /// Parses the owner's list `{"questions":[…]}` or a bare array, reporting every refused
    /// field as `questions.<index>.<field>`.
    pub fn parse_list(raw: &serde_json::Value) -> Result<Vec<Question>, FieldErrors> {
        let err = |field: String, reason| FieldErrors::one(field, reason);
        let list = match raw {
            serde_json::Value::Array(a) => a,
            serde_json::Value::Object(o) => match o.get("questions") {
                Some(serde_json::Value::Array(a)) => a,
                _ => return Err(err("questions".into(), FieldReason::WrongType)),
            },
            _ => return Err(err("questions".into(), FieldReason::WrongType)),
        };
        if list.len() > QUESTIONS_MAX {
            return Err(err("questions".into(), FieldReason::TooMany));
        }
        let mut errors = FieldErrors::new();
        let mut out = Vec::new();
        let mut keys = BTreeSet::new();
        for (i, item) in list.iter().enumerate() {
            let mut bad = |f: &str, reason| errors.add(format!("questions.{i}.{f}"), reason);
            let Ok(q) = serde_json::from_value::<RawQuestion>(item.clone()) else {
                bad("", FieldReason::WrongType);
                continue;
            };
            let key = q.key.trim();
            let key_ok = !key.is_empty()
                && key.len() <= ANSWER_KEY_MAX
                && key
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
            if !key_ok {
                bad("key", FieldReason::UnknownValue);
            } else if !keys.insert(key.to_owned()) {
                bad("key", FieldReason::TooMany);
            }
            let label = one_line(&q.label, LABEL_MAX)
                .map_err(|r| bad("label", r))
                .ok();
            let kind = QuestionKind::parse(q.kind.trim());
            if kind.is_none() {
                bad("kind", FieldReason::UnknownValue);
            }
            let mut options = Vec::new();
            if kind == Some(QuestionKind::Choice) {
                if q.options.is_empty() {
                    bad("options", FieldReason::Empty);
                } else if q.options.len() > OPTIONS_MAX {
                    bad("options", FieldReason::TooMany);
                }
                for o in &q.options {
                    match one_line(o, OPTION_MAX) {
                        Ok(o) if options.contains(&o) => bad("options", FieldReason::TooMany),
                        Ok(o) => options.push(o),
                        Err(r) => bad("options", r),
                    }
                }
            } else if !q.options.is_empty() {
                bad("options", FieldReason::UnknownValue);
            }
            if let (true, Some(label), Some(kind)) = (key_ok, label, kind) {
                out.push(Question {
                    key: key.to_owned(),
                    label,
                    kind,
                    required: q.required,
                    options,
                });
            }
        }
        if errors.is_empty() {
            Ok(out)
        } else {
            Err(errors)
        }
    }
}

/// Holds answers to the configured questions: every key must name a question, every required
/// question needs an answer (a ticked box for a checkbox), each answer must be of its question's
/// kind, and a choice one of its options. An empty text counts as no answer.
pub fn check_answers(questions: &[Question], answers: &Answers) -> FieldErrors {
    let mut errors = FieldErrors::new();
    let mut bad = |key: &str, reason| errors.add(format!("answers.{key}"), reason);
    let given = answers.as_json();
    for key in given.keys() {
        if !questions.iter().any(|q| &q.key == key) {
            bad(key, FieldReason::UnknownValue);
        }
    }
    for q in questions {
        let value = given.get(&q.key);
        let text = value.and_then(|v| v.as_str());
        let answered = match value {
            None | Some(serde_json::Value::Null) => false,
            Some(serde_json::Value::String(s)) => !s.is_empty(),
            Some(serde_json::Value::Bool(b)) => *b,
            Some(_) => true,
        };
        match (q.kind, value) {
            (_, None) => {}
            (QuestionKind::Checkbox, Some(v)) if !v.is_boolean() => {
                bad(&q.key, FieldReason::WrongType);
                continue;
            }
            (QuestionKind::ShortText | QuestionKind::LongText | QuestionKind::Choice, Some(v))
                if !v.is_string() =>
            {
                bad(&q.key, FieldReason::WrongType);
                continue;
            }
            _ => {}
        }
        if !answered {
            if q.required {
                bad(&q.key, FieldReason::Empty);
            }
            continue;
        }
        let text = text.unwrap_or_default();
        match q.kind {
            QuestionKind::ShortText if text.contains('\n') => {
                bad(&q.key, FieldReason::ControlCharacters)
            }
            QuestionKind::ShortText if text.chars().count() > SHORT_TEXT_MAX => {
                bad(&q.key, FieldReason::TooLong)
            }
            QuestionKind::Choice if !q.options.iter().any(|o| o == text) => {
                bad(&q.key, FieldReason::UnknownValue)
            }
            _ => {}
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn questions() -> Vec<Question> {
        Question::parse_list(&json!([
            {"key": "company", "label": "Company", "kind": "short_text"},
            {"key": "goal", "label": "Your goal", "kind": "long_text", "required": true},
            {"key": "size", "label": "Team size", "kind": "choice", "required": true, "options": ["1", "2-10", "more"]},
            {"key": "consent", "label": "I agree", "kind": "checkbox", "required": true}
        ]))
        .unwrap()
    }

    fn fields(errors: FieldErrors) -> Vec<(String, &'static str)> {
        errors.into_iter().map(|(f, r)| (f, r.code())).collect()
    }

    fn answers(v: serde_json::Value) -> Answers {
        Answers::parse(&v).unwrap()
    }

    #[test]
    fn good_answers_pass() {
        let a = answers(json!({"goal": "Grow\nfast", "size": "2-10", "consent": true}));
        assert!(check_answers(&questions(), &a).is_empty());
    }

    #[test]
    fn each_wrong_answer_is_named() {
        let a = answers(json!({"size": "huge", "consent": false, "extra": "x", "company": "a\nb"}));
        assert_eq!(
            fields(check_answers(&questions(), &a)),
            vec![
                ("answers.company".into(), "control_characters"),
                ("answers.consent".into(), "empty"),
                ("answers.extra".into(), "unknown_value"),
                ("answers.goal".into(), "empty"),
                ("answers.size".into(), "unknown_value"),
            ]
        );
        let a = answers(json!({"goal": true, "size": "1", "consent": "yes"}));
        assert_eq!(
            fields(check_answers(&questions(), &a)),
            vec![
                ("answers.consent".into(), "wrong_type"),
                ("answers.goal".into(), "wrong_type"),
            ]
        );
    }

    #[test]
    fn a_bad_list_is_refused_field_by_field() {
        let e = Question::parse_list(&json!({"questions": [
            {"key": "a b", "label": "", "kind": "choice", "options": []},
            {"key": "x", "label": "X", "kind": "checkbox", "options": ["no"]},
            {"key": "x", "label": "X", "kind": "radio"}
        ]}))
        .unwrap_err();
        assert_eq!(
            fields(e),
            vec![
                ("questions.0.key".into(), "unknown_value"),
                ("questions.0.label".into(), "empty"),
                ("questions.0.options".into(), "empty"),
                ("questions.1.options".into(), "unknown_value"),
                ("questions.2.key".into(), "too_many"),
                ("questions.2.kind".into(), "unknown_value"),
            ]
        );
        assert!(Question::parse_list(&json!([])).unwrap().is_empty());
    }
}
