//! The owner's supplemental questions in the admin UI: list them in order, add, edit, delete and
//! move one up or down. Every change builds the whole new list and hands it to
//! [`questions::replace_questions`], the function the owner API's `PUT /api/admin/questions` calls,
//! so [`guidance_core::Question::parse_list`] stays the one check of a list.

use std::collections::BTreeMap;

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Extension, Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use guidance_core::intake::ANSWER_KEY_MAX;
use guidance_core::question::{OPTIONS_MAX, QUESTIONS_MAX, QuestionKind};
use guidance_core::{FieldErrors, FieldReason, Question};
use serde::Deserialize;
use serde_json::json;

use super::chrome::{Chrome, FlashQuery, chrome, error_response, render, see_other};
use super::form::{FieldMessages, form_pairs, form_value, read_form};
use crate::error::HttpError;
use crate::i18n::Tr;
use crate::state::WebState;
use guidance_app::AppError;
use guidance_app::owner_auth::AdminSession;
use guidance_app::questions;

const KINDS: [QuestionKind; 4] = [
    QuestionKind::ShortText,
    QuestionKind::LongText,
    QuestionKind::Choice,
    QuestionKind::Checkbox,
];

/// The add/edit form as typed, kept as is so a refused form comes back unchanged.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub(super) struct QuestionForm {
    key: String,
    label: String,
    kind: String,
    required: Option<String>,
    options: String,
}

impl QuestionForm {
    fn from_question(q: &Question) -> Self {
        QuestionForm {
            key: q.key.clone(),
            label: q.label.clone(),
            kind: q.kind.as_str().to_owned(),
            required: q.required.then(|| "on".to_owned()),
            options: q.options.join("\n"),
        }
    }

    fn is_required(&self) -> bool {
        self.required.is_some()
    }

    /// The question in the owner API's JSON shape, for [`Question::parse_list`] to check. Options
    /// are one per line (blank lines skipped) and count only for a choice, so a list typed before
    /// switching the kind does not block saving.
    fn to_json(&self, key: &str) -> serde_json::Value {
        let options: Vec<&str> = if self.kind.trim() == QuestionKind::Choice.as_str() {
            self.options
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .collect()
        } else {
            Vec::new()
        };
        json!({
            "key": key,
            "label": self.label,
            "kind": self.kind.trim(),
            "required": self.is_required(),
            "options": options,
        })
    }
}

/// A key made from a label: lower-case ASCII letters and digits, other runs turned into one `_`,
/// made unique among `taken` with a number. A label without such characters (e.g. in Japanese)
/// gives `question`.
fn key_from_label(label: &str, taken: &[String]) -> String {
    let mut base = String::new();
    for c in label.trim().chars() {
        if c.is_ascii_alphanumeric() {
            base.push(c.to_ascii_lowercase());
        } else if !base.is_empty() && !base.ends_with('_') {
            base.push('_');
        }
    }
    let mut base: String = base.trim_end_matches('_').chars().take(40).collect();
    base = base.trim_end_matches('_').to_owned();
    if base.is_empty() {
        base = "question".to_owned();
    }
    let mut key = base.clone();
    let mut n = 2;
    while taken.contains(&key) {
        key = format!("{base}_{n}");
        n += 1;
    }
    key
}

fn as_json(list: &[Question]) -> Vec<serde_json::Value> {
    list.iter()
        .map(|q| serde_json::to_value(q).expect("a question serializes"))
        .collect()
}

/// Turns the service's `questions.<i>.<field>` reasons into messages at the form's fields (only
/// the question being added or edited can be wrong: the stored ones passed the same check), plus
/// a message for the whole list.
fn form_errors(tr: &Tr, fields: &FieldErrors) -> (BTreeMap<String, String>, Option<String>) {
    let mut out = BTreeMap::new();
    let mut whole = None;
    for (field, reason) in fields.iter() {
        let name = field.rsplit('.').next().unwrap_or_default();
        let message = match (name, reason) {
            ("questions", _) => {
                whole = Some(tr.fmt(
                    "admin.questions.error.too_many",
                    &[("max", &QUESTIONS_MAX.to_string())],
                ));
                continue;
            }
            ("key", FieldReason::TooMany) => tr.get("admin.questions.error.key_taken"),
            ("key", _) => tr.fmt(
                "admin.questions.error.key_format",
                &[("max", &ANSWER_KEY_MAX.to_string())],
            ),
            ("options", FieldReason::Empty) => tr.get("admin.questions.error.options_empty"),
            ("options", FieldReason::TooMany) => tr.fmt(
                "admin.questions.error.options_repeat",
                &[("max", &OPTIONS_MAX.to_string())],
            ),
            (_, r) => tr.field(r),
        };
        let name = if name.is_empty() { "label" } else { name };
        out.entry(name.to_owned()).or_insert(message);
    }
    (out, whole)
}

/// One question as a row of the list.
struct Row {
    key: String,
    label: String,
    kind: String,
    required: bool,
    options: String,
    first: bool,
    last: bool,
}

#[derive(Template)]
#[template(path = "admin/questions.html")]
struct QuestionsPage {
    chrome: Chrome,
    title: String,
    rows: Vec<Row>,
    /// The add form, or the edit form when `editing` names a key.
    form: QuestionForm,
    editing: Option<String>,
    kinds: Vec<(String, String)>,
    errors: FieldMessages,
}

async fn page(
    state: &WebState,
    session: &AdminSession,
    editing: Option<String>,
    form: Option<QuestionForm>,
    fields: FieldErrors,
    flash: &FlashQuery,
) -> Response {
    let result = async {
        let (mut chrome, _) = chrome(state, session, "settings", flash).await?;
        let tr = chrome.tr.clone();
        let list = questions::questions(&state.app).await?;
        let form = match (&editing, form) {
            (_, Some(f)) => f,
            (Some(key), None) => QuestionForm::from_question(
                list.iter()
                    .find(|q| &q.key == key)
                    .ok_or(HttpError::App(AppError::NotFound))?,
            ),
            (None, None) => QuestionForm {
                kind: QuestionKind::ShortText.as_str().to_owned(),
                ..QuestionForm::default()
            },
        };
        let (errors, whole) = form_errors(&tr, &fields);
        if !fields.is_empty() {
            chrome.error = Some(whole.unwrap_or_else(|| tr.get("admin.form.fix_fields")));
        }
        let n = list.len();
        let rows = list
            .iter()
            .enumerate()
            .map(|(i, q)| Row {
                key: q.key.clone(),
                label: q.label.clone(),
                kind: tr.get(&format!("admin.questions.kind.{}", q.kind.as_str())),
                required: q.required,
                options: q.options.join(" · "),
                first: i == 0,
                last: i + 1 == n,
            })
            .collect();
        let title = match &editing {
            Some(_) => tr.get("admin.questions.edit_title"),
            None => tr.get("admin.questions.title"),
        };
        Ok::<_, HttpError>(QuestionsPage {
            title,
            rows,
            form,
            editing,
            kinds: KINDS
                .iter()
                .map(|k| {
                    let s = k.as_str();
                    (s.to_owned(), tr.get(&format!("admin.questions.kind.{s}")))
                })
                .collect(),
            errors: FieldMessages::from(errors),
            chrome,
        })
    }
    .await;
    match result {
        Ok(p) => render(
            // A refused list may have no message at a field, only one for the whole list.
            if p.chrome.error.is_none() {
                p.errors.status()
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            },
            &p,
        ),
        Err(e) => error_response(state, session, e).await,
    }
}

/// `GET /admin/settings/questions`: the list and the form to add one.
pub(super) async fn questions_page(
    State(state): State<WebState>,
    Extension(session): Extension<AdminSession>,
    Query(flash): Query<FlashQuery>,
) -> Response {
    page(&state, &session, None, None, FieldErrors::new(), &flash).await
}

/// Saves `list` through the owner API's service function; a refusal shows `form` again, as typed.
async fn save(
    state: &WebState,
    session: &AdminSession,
    list: Vec<serde_json::Value>,
    editing: Option<String>,
    form: Option<QuestionForm>,
    done: &str,
) -> Response {
    match questions::replace_questions(&state.app, &serde_json::Value::Array(list)).await {
        Ok(_) => see_other(&format!("/admin/settings/questions?done={done}")),
        Err(AppError::Invalid(fields)) if form.is_some() => {
            page(
                state,
                session,
                editing,
                form,
                fields,
                &FlashQuery::default(),
            )
            .await
        }
        Err(e) => error_response(state, session, e).await,
    }
}

/// `POST /admin/settings/questions`: adds a question at the end.
pub(super) async fn question_add(
    State(state): State<WebState>,
    Extension(session): Extension<AdminSession>,
    body: Bytes,
) -> Response {
    let form: QuestionForm = read_form(&body);
    let list = match questions::questions(&state.app).await {
        Ok(l) => l,
        Err(e) => return error_response(&state, &session, e).await,
    };
    let key = match form.key.trim() {
        "" => {
            let taken: Vec<String> = list.iter().map(|q| q.key.clone()).collect();
            key_from_label(&form.label, &taken)
        }
        typed => typed.to_owned(),
    };
    let mut raw = as_json(&list);
    raw.push(form.to_json(&key));
    save(&state, &session, raw, None, Some(form), "question_added").await
}

/// `GET /admin/settings/questions/{key}`: the form to edit one question.
pub(super) async fn question_edit_page(
    State(state): State<WebState>,
    Extension(session): Extension<AdminSession>,
    Path(key): Path<String>,
    Query(flash): Query<FlashQuery>,
) -> Response {
    page(
        &state,
        &session,
        Some(key),
        None,
        FieldErrors::new(),
        &flash,
    )
    .await
}

/// The stored list and the position of `key` in it.
async fn find(state: &WebState, key: &str) -> Result<(Vec<Question>, usize), HttpError> {
    let list = questions::questions(&state.app).await?;
    let i = list
        .iter()
        .position(|q| q.key == key)
        .ok_or(HttpError::App(AppError::NotFound))?;
    Ok((list, i))
}

/// `POST /admin/settings/questions/{key}`: saves an edited question in its place. The key stays,
/// so that the answers earlier bookings hold under it keep their question.
pub(super) async fn question_edit_submit(
    State(state): State<WebState>,
    Extension(session): Extension<AdminSession>,
    Path(key): Path<String>,
    body: Bytes,
) -> Response {
    let mut form: QuestionForm = read_form(&body);
    form.key.clone_from(&key);
    let (list, i) = match find(&state, &key).await {
        Ok(found) => found,
        Err(e) => return error_response(&state, &session, e).await,
    };
    let mut raw = as_json(&list);
    raw[i] = form.to_json(&key);
    save(
        &state,
        &session,
        raw,
        Some(key),
        Some(form),
        "question_saved",
    )
    .await
}

/// `POST /admin/settings/questions/{key}/delete`.
pub(super) async fn question_delete(
    State(state): State<WebState>,
    Extension(session): Extension<AdminSession>,
    Path(key): Path<String>,
) -> Response {
    match find(&state, &key).await {
        Ok((mut list, i)) => {
            list.remove(i);
            save(
                &state,
                &session,
                as_json(&list),
                None,
                None,
                "question_deleted",
            )
            .await
        }
        Err(e) => error_response(&state, &session, e).await,
    }
}

/// `POST /admin/settings/questions/{key}/move` with `direction=up|down`; at either end of the
/// list the move changes nothing.
pub(super) async fn question_move(
    State(state): State<WebState>,
    Extension(session): Extension<AdminSession>,
    Path(key): Path<String>,
    body: Bytes,
) -> Response {
    let pairs = form_pairs(&body);
    let up = match form_value(&pairs, "direction") {
        "up" => true,
        "down" => false,
        _ => {
            let refused = AppError::field("direction", FieldReason::UnknownValue);
            return error_response(&state, &session, refused).await;
        }
    };
    match find(&state, &key).await {
        Ok((mut list, i)) => {
            let j = if up { i.checked_sub(1) } else { Some(i + 1) };
            if let Some(j) = j.filter(|j| *j < list.len()) {
                list.swap(i, j);
            }
            save(
                &state,
                &session,
                as_json(&list),
                None,
                None,
                "questions_reordered",
            )
            .await
        }
        Err(e) => error_response(&state, &session, e).await,
    }
}

#[cfg(test)]
mod tests {
    use super::key_from_label;

    #[test]
    fn keys_come_from_labels_and_stay_unique() {
        assert_eq!(key_from_label("  Team size?", &[]), "team_size");
        assert_eq!(key_from_label("Über uns -- Firma", &[]), "ber_uns_firma");
        assert_eq!(key_from_label("会社名", &[]), "question");
        let taken = vec!["question".to_owned(), "question_2".to_owned()];
        assert_eq!(key_from_label("会社名", &taken), "question_3");
        assert!(key_from_label(&"a".repeat(300), &[]).len() <= 40);
    }
}
