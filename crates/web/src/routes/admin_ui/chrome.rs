//! What surrounds every signed-in admin page: the navigation, the owner's language and zone, the
//! flash a redirect asked for, the error page, and how a page becomes a response.

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use guidance_app::owner_auth::AdminSession;
use guidance_app::settings;
use guidance_core::OwnerSettings;
use serde::Deserialize;

use crate::error::HttpError;
use crate::i18n::Tr;
use crate::state::WebState;

/// Renders a page with `status`; admin pages are never cached.
pub(super) fn render<T: Template>(status: StatusCode, t: &T) -> Response {
    match t.render() {
        Ok(html) => {
            let mut resp = (status, Html(html)).into_response();
            // Admin pages show private data: never keep them in a shared or back-button cache.
            resp.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            resp
        }
        Err(e) => {
            tracing::error!(error = %e, "admin template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

/// What every signed-in page shows around its content.
pub(super) struct Chrome {
    pub(super) tr: Tr,
    pub(super) csrf: String,
    pub(super) nav: &'static str,
    pub(super) booking_open: bool,
    pub(super) flash: Option<String>,
    pub(super) error: Option<String>,
    pub(super) zone: String,
    pub(super) zone_hint: String,
}

/// The flash messages a redirect may ask for (`?done=`), with their counts.
const FLASHES: &[&str] = &[
    "slot_created",
    "slot_saved",
    "slots_changed",
    "settings_saved",
    "action_done",
    "email_queued",
    "slot_unavailable",
    "password_set",
    "question_added",
    "question_saved",
    "question_deleted",
    "questions_reordered",
    "calendar_added",
    "calendar_removed",
    "feed_rotated",
    "visitor_erased",
    "webhook_deleted",
    "webhook_queued",
];

/// The query a redirect leaves for the next page: which flash to show and its counts.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct FlashQuery {
    pub(super) done: Option<String>,
    pub(super) n: Option<u32>,
    pub(super) r: Option<u32>,
}

impl FlashQuery {
    fn message(&self, tr: &Tr) -> Option<String> {
        let key = self.done.as_deref().filter(|k| FLASHES.contains(k))?;
        let key = format!("admin.flash.{key}");
        Some(if key == "admin.flash.slots_changed" {
            tr.count(
                &key,
                u64::from(self.n.unwrap_or(0)),
                &[("r", &self.r.unwrap_or(0).to_string())],
            )
        } else {
            tr.get(&key)
        })
    }
}

/// The chrome of a page under the `nav` tab, and the owner's settings it was read from.
pub(super) async fn chrome(
    state: &WebState,
    session: &AdminSession,
    nav: &'static str,
    flash: &FlashQuery,
) -> Result<(Chrome, OwnerSettings), HttpError> {
    let owner = settings::load(&state.app).await?;
    let tr = Tr::new(owner.language);
    Ok((
        Chrome {
            flash: flash.message(&tr),
            zone_hint: tr.fmt("admin.zone_hint", &[("zone", owner.time_zone.as_str())]),
            tr,
            csrf: session.csrf.clone(),
            nav,
            booking_open: owner.booking_open,
            error: None,
            zone: owner.time_zone.as_str().to_owned(),
        },
        owner,
    ))
}

#[derive(Template)]
#[template(path = "admin/error.html")]
struct ErrorPage {
    chrome: Chrome,
    title: String,
    message: String,
}

/// An error as a full admin page (in the owner's language when the settings can be read).
pub(super) async fn error_response(
    state: &WebState,
    session: &AdminSession,
    e: impl Into<HttpError>,
) -> Response {
    let e: HttpError = e.into();
    e.log();
    let (chrome, _) = match chrome(state, session, "", &FlashQuery::default()).await {
        Ok(c) => c,
        Err(_) => return e.to_json_response(&Tr::new("en")),
    };
    let page = ErrorPage {
        title: chrome.tr.get("admin.error.title"),
        message: e.message(&chrome.tr),
        chrome,
    };
    let mut resp = render(e.status(), &page);
    e.add_retry_after(&mut resp);
    resp
}

/// A `303 See Other` to `location`, the answer to every form that worked.
pub(super) fn see_other(location: &str) -> Response {
    Redirect::to(location).into_response()
}
