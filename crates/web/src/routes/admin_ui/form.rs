//! Reading admin forms and answering them: name/value pairs, typed forms, ids in paths, and the
//! messages a refused form shows at its fields.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::http::StatusCode;
use guidance_app::AppError;
pub(super) use guidance_core::FieldErrors;
use uuid::Uuid;

use super::chrome::Chrome;

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

/// The messages a refused form shows, one at each field the use case refused.
#[derive(Debug, Default)]
pub(super) struct FieldMessages(BTreeMap<String, String>);

impl FieldMessages {
    /// The messages for the use case's `reasons` (field name to reason code) in the owner's
    /// language; with any, the page's `chrome` asks to fix the fields.
    pub(super) fn show(chrome: &mut Chrome, reasons: &FieldErrors) -> Self {
        let messages = reasons
            .iter()
            .map(|(f, r)| (f.to_owned(), chrome.tr.field(r)))
            .collect();
        if !reasons.is_empty() {
            chrome.error = Some(chrome.tr.get("admin.form.fix_fields"));
        }
        FieldMessages(messages)
    }

    /// The message at `field`, or "".
    pub(super) fn at(&self, field: &str) -> &str {
        self.0.get(field).map_or("", String::as_str)
    }

    /// A form page answers 200, or 422 when it comes back with messages at its fields.
    pub(super) fn status(&self) -> StatusCode {
        if self.0.is_empty() {
            StatusCode::OK
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        }
    }
}

impl From<BTreeMap<String, String>> for FieldMessages {
    /// Messages written already (field name to message).
    fn from(messages: BTreeMap<String, String>) -> Self {
        FieldMessages(messages)
    }
}

/// An id from a path; one that is not a UUID names nothing, so it is "not found".
pub(super) fn parse_uuid(raw: &str) -> Result<Uuid, AppError> {
    Uuid::parse_str(raw).map_err(|_| AppError::NotFound)
}
