//! Requests the service cannot read are refused here, before any handler, with the same clear
//! errors everywhere: a body over [`BODY_LIMIT`] (413), a body of a type the endpoint does not
//! read (415: JSON for the APIs, a form for pages), percent-escapes in a query string or a form
//! that do not decode to UTF-8 (400; decoding them lossily would store text other than what was
//! sent). The framework's own refusals (no such path, a method the path does not take, a path or
//! query that does not fit its handler, a body over the limit) get the service's error format
//! too: JSON on the APIs, a page elsewhere.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;

use super::pages::error_page;
use crate::BODY_LIMIT;
use crate::error::HttpError;
use crate::i18n::page_language;
use guidance_app::AppError;

/// Whether a path belongs to a JSON API (public, Supabase-style alias, or owner API).
fn is_api(path: &str) -> bool {
    path.starts_with("/api/") || path.starts_with("/functions/")
}

/// Refuses what no handler could read, and rewrites the framework's plain-text refusals.
pub async fn refuse_unreadable(req: Request, next: Next) -> Response {
    let api = is_api(req.uri().path());
    let tr = page_language(None, req.headers());
    let refuse = |e: HttpError| {
        if api {
            e.to_json_response(&tr)
        } else {
            error_page(&tr, e)
        }
    };
    if req
        .uri()
        .query()
        .is_some_and(|q| !decodes_to_utf8(q.as_bytes()))
    {
        return refuse(HttpError::BadRequest(
            "the query string is not UTF-8".into(),
        ));
    }
    let req = if has_body(req.headers()) {
        if declared_length(req.headers()).is_some_and(|n| n > BODY_LIMIT) {
            return refuse(HttpError::TooLarge);
        }
        let kind = media_type(req.headers());
        if api {
            if !is_json(&kind) {
                return refuse(HttpError::UnsupportedMediaType);
            }
            req
        } else {
            if kind != "application/x-www-form-urlencoded" {
                return refuse(HttpError::UnsupportedMediaType);
            }
            let (parts, body) = req.into_parts();
            let Ok(bytes) = axum::body::to_bytes(body, BODY_LIMIT).await else {
                return refuse(HttpError::TooLarge);
            };
            if !decodes_to_utf8(&bytes) {
                return refuse(HttpError::BadRequest("the form is not UTF-8".into()));
            }
            Request::from_parts(parts, Body::from(bytes))
        }
    } else {
        req
    };
    let resp = next.run(req).await;
    match framework_refusal(&resp) {
        Some(e) => {
            let allow = resp.headers().get(header::ALLOW).cloned();
            let mut clear = refuse(e);
            if let Some(allow) = allow {
                clear.headers_mut().insert(header::ALLOW, allow);
            }
            clear
        }
        None => resp,
    }
}

/// A refusal axum wrote itself (an empty or plain-text body), as the service's error.
fn framework_refusal(resp: &Response) -> Option<HttpError> {
    let plain = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| v.starts_with("text/plain"));
    if !plain {
        return None;
    }
    match resp.status() {
        StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY => Some(HttpError::BadRequest(
            "the request does not fit this address".into(),
        )),
        StatusCode::NOT_FOUND => Some(HttpError::App(AppError::NotFound)),
        StatusCode::METHOD_NOT_ALLOWED => Some(HttpError::MethodNotAllowed),
        StatusCode::PAYLOAD_TOO_LARGE => Some(HttpError::TooLarge),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => Some(HttpError::UnsupportedMediaType),
        _ => None,
    }
}

fn declared_length(headers: &HeaderMap) -> Option<usize> {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
}

fn has_body(headers: &HeaderMap) -> bool {
    headers.contains_key(header::TRANSFER_ENCODING)
        || declared_length(headers).is_some_and(|n| n > 0)
}

/// The media type of the body, lower-case, without parameters (`application/json`).
fn media_type(headers: &HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default()
}

fn is_json(media_type: &str) -> bool {
    media_type == "application/json" || media_type.ends_with("+json")
}

/// Whether `application/x-www-form-urlencoded` text (a query string or a form) decodes to UTF-8.
/// A `%` not followed by two hex digits stays as it is, as form decoders treat it.
fn decodes_to_utf8(raw: &[u8]) -> bool {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let byte = match raw[i] {
            b'%' if i + 2 < raw.len() => match (hex(raw[i + 1]), hex(raw[i + 2])) {
                (Some(h), Some(l)) => {
                    i += 2;
                    h << 4 | l
                }
                _ => b'%',
            },
            b'+' => b' ',
            b => b,
        };
        out.push(byte);
        i += 1;
    }
    std::str::from_utf8(&out).is_ok()
}

fn hex(b: u8) -> Option<u8> {
    char::from(b)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_must_decode_to_utf8() {
        assert!(decodes_to_utf8(
            b"name=Ada+L%C3%B6velace&tz=Europe%2FBerlin"
        ));
        assert!(decodes_to_utf8(b"a=100%&b=%zz&c=%"));
        assert!(!decodes_to_utf8(b"name=%FF%FE"));
        assert!(!decodes_to_utf8(b"name=%C3"));
        assert!(!decodes_to_utf8(b"x=\xff"));
    }
}
