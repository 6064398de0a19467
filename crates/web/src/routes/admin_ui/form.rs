//! Reading admin forms and answering them: name/value pairs, typed forms, the messages shown at
//! fields, and the status of a form page.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::http::StatusCode;
use guidance_app::AppError;
use uuid::Uuid;

use crate::i18n::Tr;

/// Reads a form body as name/value pairs (repeated names kept, e.g. several slot ids).
pub(super) fn form_pairs(body: &Bytes) -> Vec<(String, String)> {
    serde_urlencoded::from_bytes(body).unwrap_or_default()
}

/// The first value given for `name`, or "" when there is none.
pub(super) fn form_value<'a>(pairs: &'a [(String, String)], name: &str) -> &'a str {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_default()
}

/// Reads a form body into `T`; a body that does not read gives the empty form.
pub(super) fn read_form<T: serde::de::DeserializeOwned + Default>(body: &Bytes) -> T {
    serde_urlencoded::from_bytes(body).unwrap_or_default()
}

/// The message for each refused field, in the reader's language.
pub(super) fn field_messages(
    tr: &Tr,
    fields: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    fields
        .iter()
        .map(|(f, r)| (f.clone(), tr.get(&format!("errors.field.{r}"))))
        .collect()
}

/// A form page answers 200, or 422 when it comes back with messages at its fields.
pub(super) fn form_status(errors: &BTreeMap<String, String>) -> StatusCode {
    if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    }
}

/// An id from a path; one that is not a UUID names nothing, so it is "not found".
pub(super) fn parse_uuid(raw: &str) -> Result<Uuid, AppError> {
    Uuid::parse_str(raw).map_err(|_| AppError::NotFound)
}
