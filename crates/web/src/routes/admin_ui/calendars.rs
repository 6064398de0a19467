//! The calendars page: the owner's calendars whose busy times hide slots (listed with their last
//! poll, added, tested and removed), and the address of the owner's own feed of bookings (shown,
//! copied and rotated). The same use cases as the owner API's `/api/admin/calendars` and
//! `/api/admin/feed`.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Extension, Path, Query, State};
use axum::response::Response;
use guidance_app::AppError;
use guidance_app::calendars::{self, NewSource, SourceView};
use guidance_app::owner_auth::AdminSession;
use guidance_core::{FieldErrors, OwnerSettings};
use serde::Deserialize;
use uuid::Uuid;

use super::chrome::{Chrome, FlashQuery, chrome, error_response, render, see_other};
use super::form::{FieldMessages, parse_uuid, read_form};
use super::format::short_moment;
use crate::error::HttpError;
use crate::i18n::Tr;
use crate::state::WebState;

/// The page's own address (the failing-calendar email links here too).
const PAGE: &str = "/admin/calendars";

/// One source as the owner sees it: never its address or password, only the host.
struct SourceRow {
    id: String,
    name: String,
    host: String,
    kind: String,
    last_polled: String,
    last_success: String,
    busy: i64,
    /// Since when it fails and why; "" when it does not.
    failing: String,
    /// The question the remove button asks first.
    remove_confirm: String,
}

impl SourceRow {
    fn of(tr: &Tr, owner: &OwnerSettings, s: &SourceView) -> Self {
        let when = |at: Option<jiff::Timestamp>| {
            at.map_or_else(
                || tr.get("admin.calendars.never"),
                |at| short_moment(tr, owner, at),
            )
        };
        let failing = match (s.failing_since, &s.error) {
            (Some(since), error) => tr.fmt(
                "admin.calendars.failing_since",
                &[
                    ("since", &short_moment(tr, owner, since)),
                    ("error", error.as_deref().unwrap_or_default()),
                ],
            ),
            (None, _) => String::new(),
        };
        SourceRow {
            id: s.id.to_string(),
            name: s.name.clone(),
            host: s.host.clone(),
            kind: tr.get(&format!("admin.calendars.kind.{}", s.kind.as_str())),
            last_polled: when(s.last_polled_at),
            last_success: when(s.last_success_at),
            busy: s.busy_intervals,
            failing,
            remove_confirm: tr.fmt("admin.calendars.remove_confirm", &[("source", &s.name)]),
        }
    }
}

/// The add form as typed. The password is never sent back: a refused form asks for it again.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct SourceForm {
    name: String,
    url: String,
    username: String,
    password: String,
}

/// What a redirect to the page asks it to show: a flash, and the source just tested.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct CalendarsQuery {
    done: Option<String>,
    tested: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/calendars.html")]
struct CalendarsPage {
    chrome: Chrome,
    title: String,
    sources: Vec<SourceRow>,
    form: SourceForm,
    errors: FieldMessages,
    feed_url: String,
}

/// `GET /admin/calendars`.
pub(super) async fn calendars_page(
    State(state): State<WebState>,
    Extension(session): Extension<AdminSession>,
    Query(q): Query<CalendarsQuery>,
) -> Response {
    calendars_response(
        &state,
        &session,
        &q,
        SourceForm::default(),
        FieldErrors::new(),
    )
    .await
}

async fn calendars_response(
    state: &WebState,
    session: &AdminSession,
    q: &CalendarsQuery,
    form: SourceForm,
    field_errors: FieldErrors,
) -> Response {
    let flash = FlashQuery {
        done: q.done.clone(),
        ..FlashQuery::default()
    };
    let result = async {
        let (mut chrome, owner) = chrome(state, session, "settings", &flash).await?;
        let tr = chrome.tr.clone();
        let errors = FieldMessages::show(&mut chrome, &field_errors);
        let sources = calendars::list_sources(&state.app).await?;
        // The result of a test (or of the first poll of a source just added).
        let tested = q.tested.as_deref().and_then(|t| Uuid::parse_str(t).ok());
        if let Some(s) = sources.iter().find(|s| Some(s.id) == tested) {
            match (&s.error, s.last_polled_at) {
                (None, Some(_)) => {
                    let done = tr.fmt(
                        "admin.calendars.tested_ok",
                        &[("source", &s.name), ("busy", &s.busy_intervals.to_string())],
                    );
                    chrome.flash = Some(match chrome.flash.take() {
                        Some(f) => format!("{f} {done}"),
                        None => done,
                    });
                }
                (Some(error), _) => {
                    chrome.error = Some(tr.fmt(
                        "admin.calendars.tested_error",
                        &[("source", &s.name), ("error", error)],
                    ));
                }
                // Another process was polling it at that moment: its row tells the result.
                (None, None) => {}
            }
        }
        Ok::<_, HttpError>(CalendarsPage {
            title: tr.get("admin.calendars.title"),
            sources: sources
                .iter()
                .map(|s| SourceRow::of(&tr, &owner, s))
                .collect(),
            form: SourceForm {
                password: String::new(),
                ..form
            },
            errors,
            feed_url: calendars::feed::feed_url(&state.app).await?,
            chrome,
        })
    }
    .await;
    match result {
        Ok(page) => render(page.errors.status(), &page),
        Err(e) => error_response(state, session, e).await,
    }
}

/// `POST /admin/calendars`: adds a source and polls it at once; refused, the form comes back as
/// typed (but the password).
pub(super) async fn add_calendar(
    State(state): State<WebState>,
    Extension(session): Extension<AdminSession>,
    body: Bytes,
) -> Response {
    let form: SourceForm = read_form(&body);
    let new = NewSource {
        name: form.name.clone(),
        url: form.url.clone(),
        username: Some(form.username.clone()),
        password: Some(form.password.clone()),
    };
    match calendars::add_source(&state.app, new).await {
        Ok(source) => see_other(&format!("{PAGE}?done=calendar_added&tested={}", source.id)),
        Err(AppError::Invalid(fields)) => {
            calendars_response(&state, &session, &CalendarsQuery::default(), form, fields).await
        }
        Err(e) => error_response(&state, &session, e).await,
    }
}

/// `POST /admin/calendars/{id}/refresh`: polls a source now and shows the result.
pub(super) async fn refresh_calendar(
    State(state): State<WebState>,
    Extension(session): Extension<AdminSession>,
    Path(id): Path<String>,
) -> Response {
    let refreshed = async {
        let id = parse_uuid(&id)?;
        calendars::refresh_source(&state.app, id).await
    }
    .await;
    match refreshed {
        Ok(source) => see_other(&format!("{PAGE}?tested={}", source.id)),
        Err(e) => error_response(&state, &session, e).await,
    }
}

/// `POST /admin/calendars/{id}/delete`: removes a source; its busy times stop hiding slots.
pub(super) async fn remove_calendar(
    State(state): State<WebState>,
    Extension(session): Extension<AdminSession>,
    Path(id): Path<String>,
) -> Response {
    let removed = async {
        let id = parse_uuid(&id)?;
        calendars::remove_source(&state.app, id).await
    }
    .await;
    match removed {
        Ok(()) => see_other(&format!("{PAGE}?done=calendar_removed")),
        Err(e) => error_response(&state, &session, e).await,
    }
}

/// `POST /admin/feed/rotate`: a new feed address; the old one stops working at once.
pub(super) async fn rotate_feed(
    State(state): State<WebState>,
    Extension(session): Extension<AdminSession>,
) -> Response {
    match calendars::feed::rotate_feed(&state.app).await {
        Ok(_) => see_other(&format!("{PAGE}?done=feed_rotated#feed")),
        Err(e) => error_response(&state, &session, e).await,
    }
}
