//! Reading JSON request bodies into their types. Each body of the public and owner APIs is one
//! serde type in [`crate::routes::bodies`], and the same type gives its OpenAPI schema, so what
//! is read is what is documented.
//!
//! A field that may be refused for its JSON type is a [`Field`]: its deserialization never
//! fails, so the whole body always deserializes and every mistyped field is reported at once
//! (`wrong_type`), next to the values refused later, instead of the first one ending the read.
//! A body that is not JSON, or not a JSON object, is a `400 bad_request`.

use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRequest, Query, Request};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};

use crate::error::HttpError;

pub use guidance_core::FieldErrors;
use guidance_core::FieldReason;

/// One field of a JSON body as sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Field<T> {
    /// Left out.
    #[default]
    Missing,
    /// Sent as `null`.
    Null,
    /// A value of the field's type.
    Value(T),
    /// A value of another JSON type (a number for a text, a text for a flag, …).
    WrongType,
}

impl<T> Field<T> {
    /// Whether the value sent is of another JSON type.
    pub fn is_wrong_type(&self) -> bool {
        matches!(self, Field::WrongType)
    }

    /// Whether the field was left out.
    pub fn is_missing(&self) -> bool {
        matches!(self, Field::Missing)
    }

    /// The value, when one of the field's type was sent.
    pub fn value(&self) -> Option<&T> {
        match self {
            Field::Value(v) => Some(v),
            _ => None,
        }
    }

    /// This field, or `current` when it was left out (a change that keeps what it does not
    /// name).
    pub fn or(self, current: Field<T>) -> Field<T> {
        match self {
            Field::Missing => current,
            given => given,
        }
    }

    /// The value for a change: `None` when left out; `null` or another type is refused as
    /// `wrong_type` under `name`.
    pub fn given(self, name: &str, refused: &mut FieldErrors) -> Option<T> {
        match self {
            Field::Missing => None,
            Field::Value(v) => Some(v),
            Field::Null | Field::WrongType => {
                refused.add(name, FieldReason::WrongType);
                None
            }
        }
    }
}

impl Field<String> {
    /// The text: empty when left out, `null` or of another type.
    pub fn text(&self) -> &str {
        self.value().map_or("", String::as_str)
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Field<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Read as any JSON value (which cannot fail inside a body that parsed), then as `T`.
        let value = serde_json::Value::deserialize(deserializer)?;
        if value.is_null() {
            return Ok(Field::Null);
        }
        Ok(T::deserialize(value).map_or(Field::WrongType, Field::Value))
    }
}

/// The fields among the named ones of a body that were sent with a value of the wrong type,
/// each refused as `wrong_type` under its own name (the field's name, as serde reads it).
macro_rules! wrong_types {
    ($body:expr; $($field:ident),+ $(,)?) => {{
        let mut refused = $crate::extract::FieldErrors::new();
        $(
            if $body.$field.is_wrong_type() {
                refused.add(stringify!($field), guidance_core::FieldReason::WrongType);
            }
        )+
        refused
    }};
}
pub(crate) use wrong_types;

/// A JSON object body read into `T`. As an extractor it reads the body (within the body
/// limit) before the handler runs; a handler that must refuse something else first (the rate
/// limit, a path that names nothing) takes the bytes and calls [`JsonBody::parse`] itself, so
/// that the order of its refusals stays.
#[derive(Debug, Clone)]
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned> JsonBody<T> {
    /// Reads `body`: not JSON, or not a JSON object, is a `400 bad_request`, as is a body that
    /// does not fit `T` (only for types whose fields are not all [`Field`]s).
    pub fn parse(body: &[u8]) -> Result<T, HttpError> {
        let value: serde_json::Value = serde_json::from_slice(body)
            .map_err(|e| HttpError::BadRequest(format!("the body is not valid JSON: {e}")))?;
        if !value.is_object() {
            return Err(HttpError::BadRequest(
                "the body must be a JSON object".into(),
            ));
        }
        T::deserialize(value)
            .map_err(|e| HttpError::BadRequest(format!("the body does not fit: {e}")))
    }
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Response> {
        // A body over the limit is the framework's refusal, which the readable-body middleware
        // answers as every other `413`.
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(IntoResponse::into_response)?;
        Self::parse(&bytes)
            .map(JsonBody)
            .map_err(IntoResponse::into_response)
    }
}

/// A query the handler cannot read is a JSON 400 like any other bad request.
pub fn read_query<T>(q: Result<Query<T>, QueryRejection>) -> Result<T, HttpError> {
    q.map(|Query(q)| q)
        .map_err(|e| HttpError::BadRequest(e.body_text()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Debug, Default, Deserialize)]
    #[serde(default)]
    struct Probe {
        text: Field<String>,
        flag: Field<bool>,
        count: Field<i64>,
    }

    fn read(v: serde_json::Value) -> Probe {
        JsonBody::<Probe>::parse(v.to_string().as_bytes()).unwrap()
    }

    #[test]
    fn a_field_tells_missing_null_value_and_wrong_type_apart() {
        let p = read(json!({"text": "a", "flag": null}));
        assert_eq!(p.text, Field::Value("a".to_owned()));
        assert_eq!(p.flag, Field::Null);
        assert_eq!(p.count, Field::Missing);
        let p = read(json!({"text": 1, "flag": "yes", "count": 2.5}));
        assert!(p.text.is_wrong_type() && p.flag.is_wrong_type() && p.count.is_wrong_type());
        assert_eq!(p.text.text(), "");
        let p = read(json!({"count": 9_223_372_036_854_775_807_i64, "flag": false}));
        assert_eq!(p.count, Field::Value(i64::MAX));
        assert_eq!(p.flag, Field::Value(false));
        // Every mistyped field of one body is named at once.
        let p = read(json!({"text": [], "flag": {}, "count": "3"}));
        assert_eq!(
            wrong_types!(p; text, flag, count)
                .into_iter()
                .map(|(f, _)| f)
                .collect::<Vec<_>>(),
            ["count", "flag", "text"]
        );
    }

    #[test]
    fn a_change_refuses_null_and_other_types_and_keeps_what_is_left_out() {
        let p = read(json!({"text": null, "flag": 1}));
        let mut refused = FieldErrors::new();
        assert_eq!(p.text.given("text", &mut refused), None);
        assert_eq!(p.flag.given("flag", &mut refused), None);
        assert_eq!(p.count.given("count", &mut refused), None);
        assert_eq!(
            refused.iter().map(|(f, _)| f).collect::<Vec<_>>(),
            ["flag", "text"]
        );
        assert_eq!(
            Field::Missing.or(Field::Value(1)),
            Field::Value(1),
            "left out: the current value"
        );
        assert_eq!(Field::<i64>::Null.or(Field::Value(1)), Field::Null);
    }

    #[test]
    fn only_a_json_object_is_a_body() {
        for body in ["{nope", "[1, 2]", "null", "42", "\"text\"", ""] {
            let e = JsonBody::<Probe>::parse(body.as_bytes()).unwrap_err();
            assert_eq!(e.code(), "bad_request", "{body}");
        }
        // A body of plain serde types refuses a field of the wrong type as a whole.
        #[derive(Debug, Deserialize)]
        struct Plain {
            #[expect(dead_code, reason = "only read")]
            n: u32,
        }
        assert!(JsonBody::<Plain>::parse(br#"{"n": "1"}"#).is_err());
        assert!(JsonBody::<Plain>::parse(br#"{"n": 1}"#).is_ok());
    }
}
