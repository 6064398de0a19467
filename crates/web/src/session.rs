//! The owner's session as HTTP carries it: the cookie (`HttpOnly`, `SameSite=Strict`; when the
//! public URL is https, named `__Host-guidance_admin` and `Secure`, so that browsers take it only
//! from this very origin over https, never set by a sibling domain or a plain-http page), the
//! middleware that lets admin pages through only with a live
//! session and state-changing requests only with their CSRF token (the login throttle is in
//! [`crate::rate_limit`]).
//! The rules of sign-in itself are in [`guidance_app::owner_auth`].

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use guidance_app::owner_auth::{self, AdminSession, SESSION_MAX, StartedSession, csrf_matches};

use crate::error::HttpError;
use crate::state::WebState;

/// The session cookie's name on plain http (local use).
pub const SESSION_COOKIE: &str = "guidance_admin";
/// The session cookie's name when the public URL is https: the `__Host-` prefix makes browsers
/// accept it only with `Secure`, `Path=/` and no `Domain`.
pub const SECURE_SESSION_COOKIE: &str = "__Host-guidance_admin";

/// The session cookie's name for this site.
pub fn cookie_name(state: &WebState) -> &'static str {
    if state.app.settings.https() {
        SECURE_SESSION_COOKIE
    } else {
        SESSION_COOKIE
    }
}
/// The form field that carries the CSRF token.
pub const CSRF_FIELD: &str = "csrf";
/// The header that carries the CSRF token for scripts using the session.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The `Set-Cookie` value that hands a new session's id to the browser.
pub fn session_cookie(state: &WebState, started: &StartedSession) -> HeaderValue {
    HeaderValue::from_str(&format!(
        "{}={}; Path=/; Max-Age={}; HttpOnly; SameSite=Strict{}",
        cookie_name(state),
        started.id,
        SESSION_MAX.as_secs(),
        secure_attribute(state)
    ))
    .expect("a session id is URL-safe base64")
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn clear_cookie(state: &WebState) -> HeaderValue {
    HeaderValue::from_str(&format!(
        "{}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict{}",
        cookie_name(state),
        secure_attribute(state)
    ))
    .expect("a valid header value")
}

fn secure_attribute(state: &WebState) -> &'static str {
    if state.app.settings.https() {
        "; Secure"
    } else {
        ""
    }
}

fn session_id_from<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| c.trim().strip_prefix(name)?.strip_prefix('='))
        .filter(|id| !id.is_empty() && id.len() <= 64)
}

/// The live session of a request, if its cookie names one; using it moves its idle expiry.
pub async fn session_from(
    state: &WebState,
    headers: &HeaderMap,
) -> Result<Option<AdminSession>, HttpError> {
    let Some(id) = session_id_from(headers, cookie_name(state)) else {
        return Ok(None);
    };
    Ok(owner_auth::session(&state.app, id).await?)
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Lets an admin page request through only with a live session, and a state-changing one only
/// with its CSRF token (form field or header). Without a session, a page request goes to the
/// login page and any other is refused.
pub async fn require_session(State(state): State<WebState>, req: Request, next: Next) -> Response {
    let session = match session_from(&state, req.headers()).await {
        Ok(Some(s)) => s,
        Ok(None) if is_safe(req.method()) => {
            return Redirect::to("/admin/login").into_response();
        }
        Ok(None) => return refusal(StatusCode::UNAUTHORIZED, "errors.unauthorized"),
        Err(e) => return e.into_response(),
    };
    let req = if is_safe(req.method()) {
        req
    } else {
        match check_csrf(&session, req).await {
            Ok(req) => req,
            Err(resp) => return resp,
        }
    };
    let mut req = req;
    req.extensions_mut().insert(session);
    next.run(req).await
}

/// Checks the CSRF token of a state-changing request: the header, or else the form field (the
/// body is read and handed on unchanged).
async fn check_csrf(session: &AdminSession, req: Request) -> Result<Request, Response> {
    if let Some(h) = req.headers().get(CSRF_HEADER) {
        return if h.to_str().is_ok_and(|v| csrf_matches(session, v)) {
            Ok(req)
        } else {
            Err(csrf_refused())
        };
    }
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, crate::BODY_LIMIT)
        .await
        .map_err(|_| HttpError::BadRequest("the body is too large".into()).into_response())?;
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes).unwrap_or_default();
    let ok = pairs
        .iter()
        .any(|(k, v)| k == CSRF_FIELD && csrf_matches(session, v));
    if !ok {
        return Err(csrf_refused());
    }
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

fn csrf_refused() -> Response {
    tracing::warn!("admin request refused: missing or wrong CSRF token");
    refusal(StatusCode::FORBIDDEN, "errors.csrf_refused")
}

/// A short plain page for refused admin requests.
fn refusal(status: StatusCode, key: &str) -> Response {
    let text = guidance_core::i18n::t("en", key);
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        text,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_cookie_is_found_among_others() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("guidance_lang=en; guidance_admin=abc; x=y"),
        );
        assert_eq!(session_id_from(&h, SESSION_COOKIE), Some("abc"));
        assert_eq!(session_id_from(&h, SECURE_SESSION_COOKIE), None);
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("guidance_adminx=abc"),
        );
        assert_eq!(session_id_from(&h, SESSION_COOKIE), None);
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("guidance_admin=plain; __Host-guidance_admin=secure"),
        );
        assert_eq!(session_id_from(&h, SECURE_SESSION_COOKIE), Some("secure"));
    }
}
