//! What other sites need to embed booking: the `<guidance-booking>` module, the texts and
//! questions it draws (`GET /api/intake`), CORS for the public API limited to
//! `GUIDANCE_EMBED_ORIGINS`, and the example support page at `/examples/support/`.

use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use guidance_core::Priority;
use guidance_core::intake::{ANSWER_MAX, EMAIL_MAX, NAME_MAX, TOPIC_MAX};
use guidance_core::question::SHORT_TEXT_MAX;
use serde::Deserialize;
use utoipa::IntoParams;

use super::bodies::{ErrorBody, IntakeForm, IntakeLimits};
use super::pages::script_texts;
use super::recorder::{RecordedRoute, Recorder};
use crate::error::HttpError;
use crate::i18n::page_language;
use crate::state::WebState;

const EXAMPLE_INDEX: &str = include_str!("../../../../examples/support-page/index.html");
const EXAMPLE_CSS: &str = include_str!("../../../../examples/support-page/support/support.css");
const EXAMPLE_FORM: &str =
    include_str!("../../../../examples/support-page/support/support-form.js");
const EXAMPLE_COMPONENT: &str = include_str!(
    "../../../../examples/support-page/support/components/guidance-booking/guidance-booking.js"
);

fn register(r: Recorder) -> Recorder {
    r.get("/examples/support", || async {
        axum::response::Redirect::to("/examples/support/")
    })
    .get("/examples/support/", example_index)
    .get("/examples/support/support/support.css", || async {
        asset("text/css; charset=utf-8", EXAMPLE_CSS)
    })
    .get("/examples/support/support/support-form.js", || async {
        asset(JS, EXAMPLE_FORM)
    })
    .get(
        "/examples/support/support/components/guidance-booking/guidance-booking.js",
        || async { asset(JS, EXAMPLE_COMPONENT) },
    )
}

/// The embedding routes.
pub fn routes() -> Router<WebState> {
    register(Recorder::new()).into_router()
}

/// Every embedding route as registered.
pub fn route_table() -> Vec<RecordedRoute> {
    register(Recorder::new()).table()
}

const JS: &str = "text/javascript; charset=utf-8";

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}

/// The query of `GET /api/intake`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IntakeQuery {
    /// The language of the texts (e.g. `de`); otherwise from `Accept-Language`.
    lang: Option<String>,
}

/// What the booking form shows: its texts in a language, the owner's questions, the priorities
/// and the field limits (the `<guidance-booking>` element draws its form from this).
#[utoipa::path(get, path = "/api/intake", tag = "public", params(IntakeQuery),
    responses(
        (status = 200, description = "The form", body = IntakeForm),
        (status = 400, description = "Unreadable query", body = ErrorBody),
    ))]
pub(super) async fn intake(
    State(state): State<WebState>,
    headers: HeaderMap,
    q: Result<Query<IntakeQuery>, QueryRejection>,
) -> Response {
    let q = match crate::extract::read_query(q) {
        Ok(q) => q,
        Err(e) => return e.to_json_response(&page_language(None, &headers)),
    };
    let tr = page_language(q.lang.as_deref(), &headers);
    match guidance_app::questions::questions(&state.app).await {
        Ok(questions) => {
            let owner = guidance_app::settings::load_or_defaults(&state.app)
                .await
                .owner_name;
            let texts: serde_json::Value =
                serde_json::from_str(&script_texts(&tr, &owner)).unwrap_or_default();
            axum::Json(IntakeForm {
                lang: tr.lang,
                texts,
                questions,
                priorities: Priority::ALL.iter().map(|p| p.as_str()).collect(),
                limits: IntakeLimits {
                    name: NAME_MAX,
                    email: EMAIL_MAX,
                    topic: TOPIC_MAX,
                    short_text: SHORT_TEXT_MAX,
                    long_text: ANSWER_MAX,
                },
            })
            .into_response()
        }
        Err(e) => HttpError::from(e).to_json_response(&tr),
    }
}

/// The origin (`scheme://host[:port]`) of the public URL.
fn origin_of(url: &str) -> &str {
    match url.find("://") {
        Some(i) => match url[i + 3..].find('/') {
            Some(j) => &url[..i + 3 + j],
            None => url,
        },
        None => url,
    }
}

/// The example host page, pointed at this service, with a policy that lets it load the element
/// and call the API from the service's origin (which differs when the page is opened through
/// another host name).
async fn example_index(State(state): State<WebState>) -> Response {
    let service = origin_of(&state.app.settings.public_url).to_owned();
    let html = EXAMPLE_INDEX.replace(
        "data-guidance-service=\"\"",
        &format!(
            "data-guidance-service=\"{}\"",
            service
                .replace('&', "&amp;")
                .replace('"', "&quot;")
                .replace('<', "&lt;")
        ),
    );
    let csp = format!(
        "default-src 'self'; script-src 'self' {service}; connect-src 'self' {service}; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    );
    let mut resp = ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response();
    if let Ok(v) = HeaderValue::from_str(&csp) {
        resp.headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, v);
    }
    resp
}

/// Whether a path belongs to the public API or the element (the only things other origins may
/// reach from a browser; the owner API and pages never get CORS headers).
fn is_public(path: &str) -> bool {
    matches!(
        path,
        "/api/slots"
            | "/api/bookings"
            | "/api/actions"
            | "/api/intake"
            | "/embed/guidance-booking.js"
    ) || path.starts_with("/functions/v1/")
}

/// CORS for the public API, limited to `GUIDANCE_EMBED_ORIGINS`: a matching `Origin` is echoed
/// (with `Vary: Origin`), preflights are answered here, and any other origin gets no CORS
/// header at all, so its browser refuses the response.
pub async fn cors(State(state): State<WebState>, req: Request, next: Next) -> Response {
    let origin = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|o| o.to_str().ok())
        .map(str::to_ascii_lowercase);
    let allowed = is_public(req.uri().path())
        && origin
            .as_deref()
            .is_some_and(|o| state.app.settings.embed_origins.iter().any(|a| a == o));
    let preflight = req.method() == Method::OPTIONS
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    let mut resp = if preflight && allowed {
        let mut r = StatusCode::NO_CONTENT.into_response();
        let h = r.headers_mut();
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, POST"),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("content-type, accept-language, idempotency-key"),
        );
        h.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("600"),
        );
        r
    } else {
        next.run(req).await
    };
    let h = resp.headers_mut();
    h.append(header::VARY, HeaderValue::from_static("Origin"));
    if let Some(v) = origin
        .filter(|_| allowed)
        .and_then(|o| HeaderValue::from_str(&o).ok())
    {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
        h.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("Retry-After"),
        );
    }
    resp
}
