//! The owner's admin UI: server-rendered pages for the dashboard, slots, bookings and settings,
//! plus sign-in. Every change goes through the same [`service`] functions as the owner API;
//! this module only reads forms and lays out pages.
//!
//! Every page and form behind `/admin` except sign-in is registered through a [`Recorder`], so
//! that [`route_table`] lists exactly what [`session::require_session`] guards.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Extension, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware;
use axum::response::{Html, IntoResponse, Redirect, Response};
use guidance_core::i18n::{self, format_span, t};
use guidance_core::intake::AnswerText;
use guidance_core::pattern::{RawPattern, local_instant};
use guidance_core::{BookingAction, BookingStatus, Priority, SlotStatus};
use guidance_store::{Booking, OutboxMessage, Slot};
use jiff::civil::{Date, Time, Weekday};
use jiff::{Timestamp, ToSpan, Zoned};
use serde::Deserialize;
use uuid::Uuid;

use super::recorder::{RecordedRoute, Recorder};
use crate::error::HttpError;
use crate::i18n::Tr;
use crate::session;
use crate::state::WebState;
use guidance_app::AppError;
use guidance_app::bookings::{self, SlotBulkAction};
use guidance_app::owner_auth::{self, AdminSession, SetupRefused};
use guidance_app::settings;
use guidance_core::OwnerSettings;
use guidance_core::owner_settings::SettingsForm;

mod questions;

/// Registers every signed-in page and form.
fn register(r: Recorder) -> Recorder {
    r.get("/admin", dashboard)
        .get("/admin/slots", slots_page)
        .post("/admin/slots", add_slot)
        .post("/admin/slots/bulk", slots_bulk)
        .get("/admin/slots/generate", generate_form)
        .post("/admin/slots/generate", generate_submit)
        .get("/admin/slots/{id}", slot_edit_page)
        .post("/admin/slots/{id}", slot_edit_submit)
        .get("/admin/bookings", bookings_page)
        .get("/admin/bookings/{id}", booking_page)
        .post("/admin/bookings/{id}/act", booking_act)
        .post(
            "/admin/bookings/{id}/emails/{email_id}/resend",
            booking_resend,
        )
        .post(
            "/admin/bookings/{id}/slot-unavailable",
            booking_slot_unavailable,
        )
        .get("/admin/settings", settings_page)
        .post("/admin/settings", settings_submit)
        .get("/admin/settings/questions", questions::questions_page)
        .post("/admin/settings/questions", questions::question_add)
        .get(
            "/admin/settings/questions/{key}",
            questions::question_edit_page,
        )
        .post(
            "/admin/settings/questions/{key}",
            questions::question_edit_submit,
        )
        .post(
            "/admin/settings/questions/{key}/delete",
            questions::question_delete,
        )
        .post(
            "/admin/settings/questions/{key}/move",
            questions::question_move,
        )
        .post("/admin/logout", logout)
}

/// Registers the sign-in pages and static files, open to all.
fn register_open(r: Recorder) -> Recorder {
    r.get("/admin/login", login_page)
        .post("/admin/login", login_submit)
        .get("/admin/setup/{token}", setup_page)
        .post("/admin/setup/{token}", setup_submit)
        .get("/static/admin.css", || async {
            static_file(
                "text/css; charset=utf-8",
                include_str!("../../static/admin.css"),
            )
        })
        .get("/static/admin.js", || async {
            static_file(
                "text/javascript; charset=utf-8",
                include_str!("../../static/admin.js"),
            )
        })
}

/// The admin UI: sign-in pages and static files open to all, everything else behind a session.
pub fn routes(state: WebState) -> Router<WebState> {
    let guarded =
        register(Recorder::new())
            .into_router()
            .route_layer(middleware::from_fn_with_state(
                state,
                session::require_session,
            ));
    register_open(Recorder::new()).into_router().merge(guarded)
}

/// The admin UI's routes open without a session (sign-in, setup link, static files).
pub fn open_route_table() -> Vec<RecordedRoute> {
    register_open(Recorder::new()).table()
}

/// Every signed-in admin route as registered (method and path pattern).
pub fn route_table() -> Vec<RecordedRoute> {
    register(Recorder::new()).table()
}

fn static_file(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}

fn render<T: Template>(status: StatusCode, t: &T) -> Response {
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

/// Reads a form body as name/value pairs (repeated names kept, e.g. several slot ids).
fn form_pairs(body: &Bytes) -> Vec<(String, String)> {
    serde_urlencoded::from_bytes(body).unwrap_or_default()
}

fn form_value<'a>(pairs: &'a [(String, String)], name: &str) -> &'a str {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_default()
}

fn read_form<T: serde::de::DeserializeOwned + Default>(body: &Bytes) -> T {
    serde_urlencoded::from_bytes(body).unwrap_or_default()
}

// --- Page chrome -------------------------------------------------------------------------------

/// What every signed-in page shows around its content.
struct Chrome {
    tr: Tr,
    csrf: String,
    nav: &'static str,
    booking_open: bool,
    flash: Option<String>,
    error: Option<String>,
    zone: String,
    zone_hint: String,
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
];

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct FlashQuery {
    done: Option<String>,
    n: Option<u32>,
    r: Option<u32>,
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

async fn chrome(
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
async fn error_response(
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

fn see_other(location: &str) -> Response {
    Redirect::to(location).into_response()
}

fn field_messages(tr: &Tr, fields: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    fields
        .iter()
        .map(|(f, r)| (f.clone(), tr.get(&format!("errors.field.{r}"))))
        .collect()
}

// --- Formatting ----------------------------------------------------------------------------------

fn zoned(at: Timestamp, owner: &OwnerSettings) -> Zoned {
    at.to_zoned(owner.time_zone.zone())
}

/// A short day ("Thu, Dec 3" in English), from CLDR data.
fn short_date(tr: &Tr, z: &Zoned) -> String {
    i18n::format_short_date(tr.lang, z)
}

/// A time of day as the reader's language writes it ("10:00 AM", "10:00").
fn time_of_day(tr: &Tr, z: &Zoned) -> String {
    i18n::format_time(tr.lang, z)
}

/// `HH:MM`, the value of an `<input type="time">` (not for reading: see [`time_of_day`]).
fn hhmm(z: &Zoned) -> String {
    z.strftime("%H:%M").to_string()
}

/// "Thu, Dec 3, 10:00 AM–10:45 AM" in the owner's zone.
fn short_span(tr: &Tr, owner: &OwnerSettings, start: Timestamp, end: Timestamp) -> String {
    let s = zoned(start, owner);
    tr.fmt(
        "admin.datetime.span",
        &[
            ("date", &short_date(tr, &s)),
            ("start", &time_of_day(tr, &s)),
            ("end", &time_of_day(tr, &zoned(end, owner))),
        ],
    )
}

/// "Thu, Dec 3, 10:00 AM" in the owner's zone.
fn short_moment(tr: &Tr, owner: &OwnerSettings, at: Timestamp) -> String {
    let z = zoned(at, owner);
    tr.fmt(
        "admin.datetime.moment",
        &[
            ("date", &short_date(tr, &z)),
            ("time", &time_of_day(tr, &z)),
        ],
    )
}

/// A label that falls back to the raw code when the locale files do not name it (a new email
/// kind, say), instead of showing a missing-key marker.
fn label_or_code(tr: &Tr, prefix: &str, code: &str) -> String {
    let text = tr.get(&format!("{prefix}.{code}"));
    if text.starts_with('⟦') {
        code.to_owned()
    } else {
        text
    }
}

/// One booking in a list.
struct BookingRow {
    id: String,
    when: String,
    name: String,
    email: String,
    topic: String,
    priority: &'static str,
    priority_label: String,
    status: &'static str,
    status_label: String,
}

fn booking_row(tr: &Tr, owner: &OwnerSettings, b: &Booking) -> BookingRow {
    let first_line = b.topic.lines().next().unwrap_or_default().trim();
    let topic = if first_line.chars().count() > 90 {
        let mut s: String = first_line.chars().take(89).collect();
        s.push('…');
        s
    } else {
        first_line.to_owned()
    };
    BookingRow {
        id: b.id.to_string(),
        when: short_span(tr, owner, b.starts_at, b.ends_at),
        name: b.name.clone(),
        email: b.email.clone(),
        topic,
        priority: b.priority.as_str(),
        priority_label: tr.get(&format!("common.priority.{}", b.priority.as_str())),
        status: b.status.as_str(),
        status_label: tr.get(&format!("admin.status.{}", b.status.as_str())),
    }
}

/// One email in a list.
struct EmailRow {
    id: String,
    booking_id: String,
    kind: String,
    recipient: String,
    subject: String,
    status: &'static str,
    status_label: String,
    attempts: String,
    error: String,
    when: String,
}

fn email_row(tr: &Tr, owner: &OwnerSettings, m: &OutboxMessage) -> EmailRow {
    let when = match m.sent_at {
        Some(at) => tr.fmt(
            "admin.email.sent_at",
            &[("when", &short_moment(tr, owner, at))],
        ),
        None if m.status == guidance_store::EmailStatus::Queued && m.last_error.is_some() => tr
            .fmt(
                "admin.email.retry_at",
                &[("when", &short_moment(tr, owner, m.next_attempt_at))],
            ),
        None => tr.fmt(
            "admin.email.queued_at",
            &[("when", &short_moment(tr, owner, m.created_at))],
        ),
    };
    let status = match (m.status, &m.last_error) {
        (guidance_store::EmailStatus::Queued, Some(_)) => "retrying",
        (s, _) => s.as_str(),
    };
    EmailRow {
        id: m.id.to_string(),
        booking_id: m.booking_id.map(|b| b.to_string()).unwrap_or_default(),
        kind: label_or_code(tr, "admin.email_kind", &m.kind),
        recipient: m.recipient.clone(),
        subject: m.subject.clone(),
        status,
        status_label: tr.get(&format!("admin.email_status.{status}")),
        attempts: if m.attempts > 1 {
            tr.count(
                "admin.email.attempts",
                u64::try_from(m.attempts).unwrap_or(0),
                &[],
            )
        } else {
            String::new()
        },
        error: m.last_error.clone().unwrap_or_default(),
        when,
    }
}

fn priority_rank(p: Priority) -> usize {
    Priority::ALL.iter().position(|x| *x == p).unwrap_or(0)
}

// --- Dashboard -----------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "admin/dashboard.html")]
struct DashboardPage {
    chrome: Chrome,
    title: String,
    pending: Vec<BookingRow>,
    waiting: Vec<BookingRow>,
    upcoming: Vec<BookingRow>,
    failing: Vec<EmailRow>,
    open_this_week: String,
}

async fn dashboard(
    State(state): State<WebState>,
    Extension(session): Extension<AdminSession>,
    Query(flash): Query<FlashQuery>,
) -> Response {
    let result = async {
        let (chrome, owner) = chrome(&state, &session, "dashboard", &flash).await?;
        let tr = &chrome.tr;
        let now = state.app.now();
        let mut pending = state
            .app
            .store
            .list_bookings(Some(BookingStatus::Pending))
            .await?;
        // What needs an answer first: the most urgent, then the soonest.
        pending.sort_by_key(|b| (std::cmp::Reverse(priority_rank(b.priority)), b.starts_at));
        let waiting = state
            .app
            .store
            .list_bookings(Some(BookingStatus::NeedsReschedule))
            .await?;
        let upcoming: Vec<Booking> = state
            .app
            .store
            .list_bookings(Some(BookingStatus::Accepted))
            .await?
            .into_iter()
            .filter(|b| b.ends_at > now)
            .take(10)
            .collect();
        let failing = state.app.store.emails_with_errors().await?;
        let week = now
            .checked_add(jiff::SignedDuration::from_hours(7 * 24))
            .unwrap_or(now);
        let open_this_week = state
            .app
            .store
            .list_slots(now, week, Some(SlotStatus::Open))
            .await?
            .len();
        Ok::<_, HttpError>(DashboardPage {
            title: tr.get("admin.dashboard.title"),
            pending: pending.iter().map(|b| booking_row(tr, &owner, b)).collect(),
            waiting: waiting.iter().map(|b| booking_row(tr, &owner, b)).collect(),
            upcoming: upcoming
                .iter()
                .map(|b| booking_row(tr, &owner, b))
                .collect(),
            failing: failing.iter().map(|m| email_row(tr, &owner, m)).collect(),
            open_this_week: tr.count(
                "admin.dashboard.open_this_week",
                u64::try_from(open_this_week).unwrap_or(0),
                &[],
            ),
            chrome,
        })
    }
    .await;
    match result {
        Ok(page) => render(StatusCode::OK, &page),
        Err(e) => error_response(&state, &session, e).await,
    }
}

// --- Slots ---------------------------------------------------------------------------------------

/// One slot as the owner sees it.
struct SlotRow {
    id: String,
    date: String,
    time: String,
    status: &'static str,
    status_label: String,
    booking_id: Option<String>,
    booking_name: String,
    details: String,
    past: bool,
}

/// One day of the week view.
struct WeekDay {
    label: String,
    today: bool,
    slots: Vec<SlotRow>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SlotsQuery {
    view: Option<String>,
    week: Option<String>,
    done: Option<String>,
    n: Option<u32>,
    r: Option<u32>,
}

/// The add-one-slot form as typed.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
struct SlotForm {
    date: String,
    start: String,
    end: String,
    meeting_details: String,
}

#[derive(Template)]
#[template(path = "admin/slots.html")]
struct SlotsPage {
    chrome: Chrome,
    title: String,
    list_view: bool,
    week_label: String,
    week: String,
    prev_week: String,
    next_week: String,
    days: Vec<WeekDay>,
    rows: Vec<SlotRow>,
    form: SlotForm,
    errors: BTreeMap<String, String>,
}

impl SlotsPage {
    fn fe(&self, field: &str) -> String {
        self.errors.get(field).cloned().unwrap_or_default()
    }
}

fn monday_of(d: Date) -> Date {
    d.checked_sub(i64::from(d.weekday().to_monday_zero_offset()).days())
        .unwrap_or(d)
}

fn day_start(d: Date, owner: &OwnerSettings) -> Timestamp {
    // Midnight may not exist on a day the clocks change; the zone's own rule then picks the
    // first moment of the day. Only a date beyond the supported years fails.
    d.to_zoned(owner.time_zone.zone())
        .map_or(Timestamp::MIN, |z| z.timestamp())
}

async fn slot_rows(
    state: &WebState,
    tr: &Tr,
    owner: &OwnerSettings,
    slots: &[Slot],
) -> Result<Vec<SlotRow>, HttpError> {
    // Which live booking holds each booked slot, for a link to it.
    let holders: BTreeMap<Uuid, Booking> = state
        .app
        .store
        .list_bookings(None)
        .await?
        .into_iter()
        .filter(|b| b.status.holds_slot())
        .filter_map(|b| b.slot_id.map(|s| (s, b)))
        .collect();
    let now = state.app.now();
    Ok(slots
        .iter()
        .map(|s| {
            let start = zoned(s.starts_at, owner);
            let holder = holders.get(&s.id);
            SlotRow {
                id: s.id.to_string(),
                date: short_date(tr, &start),
                time: tr.fmt(
                    "admin.datetime.time_range",
                    &[
                        ("start", &time_of_day(tr, &start)),
                        ("end", &time_of_day(tr, &zoned(s.ends_at, owner))),
                    ],
                ),
                status: s.status.as_str(),
                status_label: tr.get(&format!("admin.slot_status.{}", s.status.as_str())),
                booking_id: holder.map(|b| b.id.to_string()),
                booking_name: holder.map(|b| b.name.clone()).unwrap_or_default(),
                details: s.meeting_details.clone().unwrap_or_default(),
                past: s.starts_at <= now,
            }
        })
        .collect())
}

async fn slots_page(
    State(state): State<WebState>,
    Extension(session): Extension<AdminSession>,
    Query(q): Query<SlotsQuery>,
) -> Response {
    slots_response(&state, &session, &q, SlotForm::default(), BTreeMap::new()).await
}

async fn slots_response(
    state: &WebState,
    session: &AdminSession,
    q: &SlotsQuery,
    form: SlotForm,
    field_errors: BTreeMap<String, String>,
) -> Response {
    let flash = FlashQuery {
        done: q.done.clone(),
        n: q.n,
        r: q.r,
    };
    let result = async {
        let (mut chrome, owner) = chrome(state, session, "slots", &flash).await?;
        let tr = chrome.tr.clone();
        let today = zoned(state.app.now(), &owner).date();
        let list_view = q.view.as_deref() == Some("list");
        let monday = monday_of(
            q.week
                .as_deref()
                .and_then(|w| w.parse::<Date>().ok())
                .unwrap_or(today),
        );
        let next_monday = monday.checked_add(7.days()).unwrap_or(monday);
        let (from, to) = if list_view {
            let end = today.checked_add(366.days()).unwrap_or(today);
            (day_start(today, &owner), day_start(end, &owner))
        } else {
            (day_start(monday, &owner), day_start(next_monday, &owner))
        };
        let slots = state.app.store.list_slots(from, to, None).await?;
        let mut rows = slot_rows(state, &tr, &owner, &slots).await?;
        let mut days = Vec::new();
        if !list_view {
            for i in 0..7 {
                let d = monday.checked_add(i.days()).unwrap_or(monday);
                let label =
                    short_date(&tr, &d.to_zoned(owner.time_zone.zone()).unwrap_or_default());
                days.push(WeekDay {
                    label,
                    today: d == today,
                    slots: Vec::new(),
                });
            }
            for (s, row) in slots.iter().zip(std::mem::take(&mut rows)) {
                let d = zoned(s.starts_at, &owner).date();
                let i = monday.until(d).map(|sp| sp.get_days()).unwrap_or(0);
                if let Some(day) = usize::try_from(i).ok().and_then(|i| days.get_mut(i)) {
                    day.slots.push(row);
                }
            }
        }
        if !field_errors.is_empty() {
            chrome.error = Some(tr.get("admin.form.fix_fields"));
        }
        let form = if form.date.is_empty() {
            SlotForm {
                date: today.checked_add(1.day()).unwrap_or(today).to_string(),
                start: "09:00".into(),
                end: "10:00".into(),
                ..form
            }
        } else {
            form
        };
        let sunday = monday.checked_add(6.days()).unwrap_or(monday);
        Ok::<_, HttpError>(SlotsPage {
            title: tr.get("admin.slots.title"),
            list_view,
            week_label: tr.fmt(
                "admin.slots.week_of",
                &[
                    (
                        "from",
                        &short_date(
                            &tr,
                            &monday.to_zoned(owner.time_zone.zone()).unwrap_or_default(),
                        ),
                    ),
                    (
                        "to",
                        &short_date(
                            &tr,
                            &sunday.to_zoned(owner.time_zone.zone()).unwrap_or_default(),
                        ),
                    ),
                ],
            ),
            week: monday.to_string(),
            prev_week: monday.checked_sub(7.days()).unwrap_or(monday).to_string(),
            next_week: next_monday.to_string(),
            days,
            rows,
            form,
            errors: field_messages(&tr, &field_errors),
            chrome,
        })
    }
    .await;
    match result {
        Ok(page) => render(form_status(&page.errors), &page),
        Err(e) => error_response(state, session, e).await,
    }
}

/// A form page answers 200, or 422 when it comes back with messages at its fields.
fn form_status(errors: &BTreeMap<String, String>) -> StatusCode {
    if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    }
}

/// Reads a local date and two local times in the owner's zone as a slot window.
fn parse_local_window(
    form: &SlotForm,
    owner: &OwnerSettings,
) -> Result<guidance_core::SlotWindow, AppError> {
    let mut fields = BTreeMap::new();
    let date = match form.date.trim().parse::<Date>() {
        Ok(d) => Some(d),
        Err(_) => {
            fields.insert("date".to_owned(), field_reason(&form.date).to_owned());
            None
        }
    };
    let mut time = |name: &str, raw: &str| match raw.trim().parse::<Time>() {
        Ok(t) => Some(t),
        Err(_) => {
            fields.insert(name.to_owned(), field_reason(raw).to_owned());
            None
        }
    };
    let start = time("start", &form.start);
    let end = time("end", &form.end);
    let (Some(date), Some(start), Some(end)) = (date, start, end) else {
        return Err(AppError::Invalid(fields));
    };
    let zone = owner.time_zone.zone();
    let at = |field: &str, t: Time| {
        local_instant(date.to_datetime(t), &zone)
            .map_err(|_| AppError::field(field, "unknown_value"))
    };
    let starts_at = at("start", start)?;
    let ends_at = at("end", end)?;
    bookings::parse_slot_window(Some(starts_at), Some(ends_at)).map_err(|e| match e {
        // The form names the end time "end".
        AppError::Invalid(f) => AppError::Invalid(
            f.into_iter()
                .map(|(k, v)| (if k == "ends_at" { "end".into() } else { k }, v))
                .collect(),
        ),
        other => other,
    })
}

fn field_reason(raw: &str) -> &'static str {
    if raw.trim().is_empty() {
        "empty"
    } else {
        "unknown_value"
    }
}

async fn add_slot(
    State(state): State<WebState>,
    Extension(session): Extension<AdminSession>,
    body: Bytes,
) -> Response {
    let form: SlotForm = read_form(&body);
    let result = async {
        let owner = settings::load(&state.app).await?;
        let window = parse_local_window(&form, &owner)?;
        let details = bookings::parse_meeting_details(Some(&form.meeting_details))?;
        bookings::create_slot(&state.app, window, details).await
    }
    .await;
    match result {
        Ok(slot) => {
            let owner = settings::load_or_defaults(&state.app).await;
            let week = zoned(slot.starts_at, &owner).date();
            see_other(&format!("/admin/slots?week={week}&done=slot_created&n=1"))
        }
        Err(AppError::Invalid(fields)) => {
            slots_response(&state, &session, &SlotsQuery::default(), form, fields).await
        }
        Err(AppError::SlotOverlap) => {
            let fields = BTreeMap::from([("start".to_owned(), "slot_overlap".to_owned())]);
            slots_response(&state, &session, &SlotsQuery::default(), form, fields).await
        }
        Err(e) => error_response(&state, &session, e).await,
    }
}

async fn slots_bulk(
    State(state): State<WebState>,
    Extension(session): Extension<AdminSession>,
    body: Bytes,
) -> Response {
    let pairs = form_pairs(&body);
    let Some(action) = SlotBulkAction::parse(form_value(&pairs, "action")) else {
        return error_response(
            &state,
            &session,
            HttpError::field("action", "unknown_value"),
        )
        .await;
    };
    let Ok(ids) = pairs
        .iter()
        .filter(|(k, _)| k == "ids")
        .map(|(_, v)| Uuid::parse_str(v))
        .collect::<Result<Vec<Uuid>, _>>()
    else {
        return error_response(&state, &session, HttpError::field("ids", "unknown_value")).await;
    };
    let back = match form_value(&pairs, "back") {
        b if b.starts_with("/admin/slots") && !b.starts_with("//") => b.to_owned(),
        _ => "/admin/slots".to_owned(),
    };
    match bookings::slots_bulk(&state.app, &ids, action).await {
        Ok(report) => {
            let sep = if back.contains('?') { '&' } else { '?' };
            // A deleted slot has no page to go back to.
            let back = if action == SlotBulkAction::Delete && back.starts_with("/admin/slots/") {
                "/admin/slots".to_owned()
            } else {
                back
            };
            let sep = if back.contains('?') { '&' } else { sep };
            see_other(&format!(
                "{back}{sep}done=slots_changed&n={}&r={}",
                report.done,
                report.refused.len()
            ))
        }
        Err(e) => error_response(&state, &session, e).await,
    }
}

// --- Generating from a pattern -----------------------------------------------------------------

/// The pattern form as typed.
#[derive(Debug, Default, Clone)]
struct PatternForm {
    weekdays: Vec<String>,
    window_start: String,
    window_end: String,
    session_minutes: String,
    gap_minutes: String,
    first_day: String,
    last_day: String,
}

impl PatternForm {
    fn from_pairs(pairs: &[(String, String)]) -> Self {
        Self {
            weekdays: pairs
                .iter()
                .filter(|(k, _)| k == "weekdays")
                .map(|(_, v)| v.clone())
                .collect(),
            window_start: form_value(pairs, "window_start").to_owned(),
            window_end: form_value(pairs, "window_end").to_owned(),
            session_minutes: form_value(pairs, "session_minutes").to_owned(),
            gap_minutes: form_value(pairs, "gap_minutes").to_owned(),
            first_day: form_value(pairs, "first_day").to_owned(),
            last_day: form_value(pairs, "last_day").to_owned(),
        }
    }

    fn raw(&self) -> RawPattern {
        RawPattern {
            weekdays: self.weekdays.clone(),
            window_start: self.window_start.clone(),
            window_end: self.window_end.clone(),
            session_minutes: self.session_minutes.clone(),
            gap_minutes: self.gap_minutes.clone(),
            first_day: self.first_day.clone(),
            last_day: self.last_day.clone(),
        }
    }
}

/// One skipped session in the report.
struct SkippedRow {
    date: String,
    time: String,
    reason: String,
}

/// What a pattern produced, for the page.
struct ReportView {
    created_label: String,
    skipped_label: String,
    skipped: Vec<SkippedRow>,
    first_week: String,
}

#[derive(Template)]
#[template(path = "admin/generate.html")]
struct GeneratePage {
    chrome: Chrome,
    title: String,
    form: PatternForm,
    weekdays: Vec<(String, String, bool)>,
    errors: BTreeMap<String, String>,
    report: Option<ReportView>,
}

impl GeneratePage {
    fn fe(&self, field: &str) -> String {
        self.errors.get(field).cloned().unwrap_or_default()
    }
}

async fn generate_form(
    State(state): State<WebState>,
    Extension(session): Extension<AdminSession>,
) -> Response {
    let today = match settings::load(&state.app).await {
        Ok(o) => zoned(state.app.now(), &o).date(),
        Err(e) => return error_response(&state, &session, e).await,
    };
    let next_monday = monday_of(today).checked_add(7.days()).unwrap_or(today);
    let form = PatternForm {
        weekdays: (1..=5).map(|d: i32| d.to_string()).collect(),
        window_start: "09:00".into(),
        window_end: "12:00".into(),
        session_minutes: "45".into(),
        gap_minutes: "15".into(),
        first_day: next_monday.to_string(),
        last_day: next_monday
            .checked_add(4.days())
            .unwrap_or(next_monday)
            .to_string(),
    };
    generate_response(&state, &session, form, BTreeMap::new(), None).await
}

async fn generate_response(
    state: &WebState,
    session: &AdminSession,
    form: PatternForm,
    field_errors: BTreeMap<String, String>,
    report: Option<ReportView>,
) -> Response {
    let result = async {
        let (mut chrome, _) = chrome(state, session, "slots", &FlashQuery::default()).await?;
        let tr = chrome.tr.clone();
        if !field_errors.is_empty() {
            chrome.error = Some(tr.get("admin.form.fix_fields"));
        }
        let weekdays = (1..=7)
            .map(|d: i32| {
                let v = d.to_string();
                let checked = form.weekdays.contains(&v);
                let name = Weekday::from_monday_one_offset(i8::try_from(d).unwrap_or(1))
                    .map(|w| i18n::format_weekday(tr.lang, w))
                    .unwrap_or_default();
                (v, name, checked)
            })
            .collect();
        Ok::<_, HttpError>(GeneratePage {
            title: tr.get("admin.generate.title"),
            weekdays,
            errors: field_messages(&tr, &field_errors),
            form,
            report,
            chrome,
        })
    }
    .await;
    match result {
        Ok(page) => render(form_status(&page.errors), &page),
        Err(e) => error_response(state, session, e).await,
    }
}

async fn generate_submit(
    State(state): State<WebState>,
    Extension(session): Extension<AdminSession>,
    body: Bytes,
) -> Response {
    let form = PatternForm::from_pairs(&form_pairs(&body));
    match bookings::generate_slots(&state.app, &form.raw()).await {
        Ok(report) => {
            let owner = match settings::load(&state.app).await {
                Ok(o) => o,
                Err(e) => return error_response(&state, &session, e).await,
            };
            let tr = Tr::new(owner.language);
            let view = ReportView {
                created_label: tr.count(
                    "admin.generate.report.created",
                    report.created.len() as u64,
                    &[],
                ),
                skipped_label: tr.count(
                    "admin.generate.report.skipped",
                    report.skipped.len() as u64,
                    &[],
                ),
                first_week: report
                    .created
                    .first()
                    .map(|s| zoned(s.starts_at, &owner).date().to_string())
                    .unwrap_or_else(|| form.first_day.clone()),
                skipped: report
                    .skipped
                    .iter()
                    .map(|(date, time, why)| SkippedRow {
                        date: short_date(
                            &tr,
                            &date.to_zoned(owner.time_zone.zone()).unwrap_or_default(),
                        ),
                        // The local time as the pattern named it, even where it does not
                        // exist that day: read in UTC, which has no gaps, it stays as it is.
                        time: date
                            .to_datetime(*time)
                            .to_zoned(jiff::tz::TimeZone::UTC)
                            .map(|z| time_of_day(&tr, &z))
                            .unwrap_or_else(|_| time.strftime("%H:%M").to_string()),
                        reason: tr.get(&format!("admin.generate.skipped.{}", why.code())),
                    })
                    .collect(),
            };
            generate_response(&state, &session, form, BTreeMap::new(), Some(view)).await
        }
        Err(AppError::Invalid(fields)) => {
            generate_response(&state, &session, form, fields, None).await
        }
        Err(e) => error_response(&state, &session, e).await,
    }
}

// --- One slot ------------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "admin/slot.html")]
struct SlotPage {
    chrome: Chrome,
    title: String,
    slot: SlotRow,
    form: SlotForm,
    errors: BTreeMap<String, String>,
}

impl SlotPage {
    fn fe(&self, field: &str) -> String {
        self.errors.get(field).cloned().unwrap_or_default()
    }
}

fn parse_uuid(raw: &str) -> Result<Uuid, AppError> {
    Uuid::parse_str(raw).map_err(|_| AppError::NotFound)
}

async fn slot_edit_page(
    State(state): State<WebState>,
    Extension(session): Extension<AdminSession>,
    Path(id): Path<String>,
    Query(flash): Query<FlashQuery>,
) -> Response {
    slot_response(&state, &session, &id, None, BTreeMap::new(), &flash).await
}

async fn slot_response(
    state: &WebState,
    session: &AdminSession,
    id: &str,
    form: Option<SlotForm>,
    field_errors: BTreeMap<String, String>,
    flash: &FlashQuery,
) -> Response {
    let result = async {
        let id = parse_uuid(id)?;
        let (mut chrome, owner) = chrome(state, session, "slots", flash).await?;
        let tr = chrome.tr.clone();
        let slot = state.app.store.get_slot(id).await?;
        let row = slot_rows(state, &tr, &owner, std::slice::from_ref(&slot))
            .await?
            .remove(0);
        let start = zoned(slot.starts_at, &owner);
        let form = form.unwrap_or_else(|| SlotForm {
            date: start.date().to_string(),
            start: hhmm(&start),
            end: hhmm(&zoned(slot.ends_at, &owner)),
            meeting_details: slot.meeting_details.clone().unwrap_or_default(),
        });
        if !field_errors.is_empty() {
            chrome.error = Some(tr.get("admin.form.fix_fields"));
        }
        Ok::<_, HttpError>(SlotPage {
            title: tr.fmt(
                "admin.slot.title",
                &[("when", &format!("{} {}", row.date, row.time))],
            ),
            slot: row,
            form,
            errors: field_messages(&tr, &field_errors),
            chrome,
        })
    }
    .await;
    match result {
        Ok(page) => render(form_status(&page.errors), &page),
        Err(e) => error_response(state, session, e).await,
    }
}

async fn slot_edit_submit(
    State(state): State<WebState>,
    Extension(session): Extension<AdminSession>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let form: SlotForm = read_form(&body);
    let result = async {
        let slot_id = parse_uuid(&id)?;
        let owner = settings::load(&state.app).await?;
        let window = parse_local_window(&form, &owner)?;
        let details = bookings::parse_meeting_details(Some(&form.meeting_details))?;
        bookings::update_slot(&state.app, slot_id, window, details).await
    }
    .await;
    match result {
        Ok(slot) => see_other(&format!("/admin/slots/{}?done=slot_saved&n=1", slot.id)),
        Err(AppError::Invalid(fields)) => {
            slot_response(
                &state,
                &session,
                &id,
                Some(form),
                fields,
                &FlashQuery::default(),
            )
            .await
        }
        Err(AppError::SlotOverlap) => {
            let fields = BTreeMap::from([("start".to_owned(), "slot_overlap".to_owned())]);
            slot_response(
                &state,
                &session,
                &id,
                Some(form),
                fields,
                &FlashQuery::default(),
            )
            .await
        }
        Err(e) => error_response(&state, &session, e).await,
    }
}

// --- Bookings ------------------------------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct BookingsQuery {
    status: String,
    q: String,
}

/// A status filter link.
struct FilterLink {
    value: String,
    label: String,
    count: usize,
    active: bool,
}

#[derive(Template)]
#[template(path = "admin/bookings.html")]
struct BookingsPage {
    chrome: Chrome,
    title: String,
    filters: Vec<FilterLink>,
    status: String,
    q: String,
    rows: Vec<BookingRow>,
}

async fn bookings_page(
    State(state): State<WebState>,
    Extension(session): Extension<AdminSession>,
    Query(q): Query<BookingsQuery>,
) -> Response {
    let result = async {
        let (chrome, owner) = chrome(&state, &session, "bookings", &FlashQuery::default()).await?;
        let tr = &chrome.tr;
        let status = match q.status.as_str() {
            "" => None,
            s => Some(
                BookingStatus::parse(s)
                    .ok_or_else(|| HttpError::field("status", "unknown_value"))?,
            ),
        };
        // Counts per status for the filter links honour the search, so they say what a click shows.
        let all = bookings::find_bookings(&state.app, None, &q.q).await?;
        let mut filters = vec![FilterLink {
            value: String::new(),
            label: tr.get("admin.bookings.filter.all"),
            count: all.len(),
            active: status.is_none(),
        }];
        for s in BookingStatus::ALL {
            filters.push(FilterLink {
                value: s.as_str().to_owned(),
                label: tr.get(&format!("admin.status.{}", s.as_str())),
                count: all.iter().filter(|b| b.status == s).count(),
                active: status == Some(s),
            });
        }
        let rows = all
            .iter()
            .filter(|b| status.is_none_or(|s| b.status == s))
            .map(|b| booking_row(tr, &owner, b))
            .collect();
        Ok::<_, HttpError>(BookingsPage {
            title: tr.get("admin.bookings.title"),
            filters,
            status: q.status.clone(),
            q: q.q.clone(),
            rows,
            chrome,
        })
    }
    .await;
    match result {
        Ok(page) => render(StatusCode::OK, &page),
        Err(e) => error_response(&state, &session, e).await,
    }
}

/// One line of a booking's history.
struct EventRow {
    when: String,
    actor: String,
    action: String,
    change: String,
    note: String,
}

/// An action the owner may take now.
struct ActionChoice {
    action: &'static str,
    label: String,
    hint: String,
    danger: bool,
}

#[derive(Template)]
#[template(path = "admin/booking.html")]
struct BookingPage {
    chrome: Chrome,
    title: String,
    b: BookingRow,
    when_full: String,
    requester_when: String,
    topic_full: String,
    answers: Vec<(String, String)>,
    actions: Vec<ActionChoice>,
    events: Vec<EventRow>,
    emails: Vec<EmailRow>,
    slot_id: Option<String>,
    slot_status: Option<String>,
    slot_can_be_withdrawn: bool,
    /// The longest message the owner may add to an action.
    message_max: usize,
}

async fn booking_page(
    State(state): State<WebState>,
    Extension(session): Extension<AdminSession>,
    Path(id): Path<String>,
    Query(flash): Query<FlashQuery>,
) -> Response {
    let result = async {
        let id = parse_uuid(&id)?;
        let (chrome, owner) = chrome(&state, &session, "bookings", &flash).await?;
        let tr = &chrome.tr;
        let b = state.app.store.get_booking(id).await?;
        let events = state.app.store.booking_events(id).await?;
        let emails = state.app.store.booking_emails(id).await?;
        let slot = match b.slot_id {
            Some(s) => match state.app.store.get_slot(s).await {
                Ok(slot) => Some(slot),
                Err(guidance_store::StoreError::NotFound) => None,
                Err(e) => return Err(e.into()),
            },
            None => None,
        };
        let answers = b
            .parsed_answers()
            .display_pairs()
            .into_iter()
            .map(|(k, v)| {
                let value = match v {
                    AnswerText::Text(s) => s,
                    AnswerText::Flag(true) => t(tr.lang, "common.yes"),
                    AnswerText::Flag(false) => t(tr.lang, "common.no"),
                };
                (k, value)
            })
            .collect();
        let actions = BookingAction::BY_OWNER
            .into_iter()
            .filter(|a| a.allowed_from(b.status))
            .map(|a| ActionChoice {
                action: a.as_str(),
                label: tr.get(&format!("admin.booking.action.{}", a.as_str())),
                hint: tr.get(&format!("admin.booking.action.{}.hint", a.as_str())),
                danger: a.ends_booking(),
            })
            .collect();
        let status_label = |s: &str| label_or_code(tr, "admin.status", s);
        let events = events
            .iter()
            .map(|e| EventRow {
                when: short_moment(tr, &owner, e.created_at),
                actor: label_or_code(tr, "admin.actor", &e.actor),
                action: label_or_code(tr, "admin.event", &e.action),
                change: match &e.from_status {
                    Some(from) => {
                        format!("{} → {}", status_label(from), status_label(&e.to_status))
                    }
                    None => status_label(&e.to_status),
                },
                note: e.note.clone().unwrap_or_default(),
            })
            .collect();
        let row = booking_row(tr, &owner, &b);
        Ok::<_, HttpError>(BookingPage {
            title: tr.fmt("admin.booking.title", &[("name", &b.name)]),
            when_full: format_span(tr.lang, b.starts_at, b.ends_at, owner.time_zone.as_str()),
            requester_when: format_span(tr.lang, b.starts_at, b.ends_at, &b.time_zone),
            topic_full: b.topic.clone(),
            answers,
            actions,
            events,
            emails: emails.iter().map(|m| email_row(tr, &owner, m)).collect(),
            slot_id: slot.as_ref().map(|s| s.id.to_string()),
            slot_status: slot
                .as_ref()
                .map(|s| tr.get(&format!("admin.slot_status.{}", s.status.as_str()))),
            slot_can_be_withdrawn: slot.as_ref().is_some_and(|s| s.status == SlotStatus::Open),
            message_max: guidance_core::booking::OWNER_MESSAGE_MAX,
            b: row,
            chrome,
        })
    }
    .await;
    match result {
        Ok(page) => render(StatusCode::OK, &page),
        Err(e) => error_response(&state, &session, e).await,
    }
}

async fn booking_act(
    State(state): State<WebState>,
    Extension(session): Extension<AdminSession>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let pairs = form_pairs(&body);
    let result = async {
        let booking_id = parse_uuid(&id)?;
        let action = BookingAction::parse_by_owner(form_value(&pairs, "action"))
            .ok_or_else(|| AppError::field("action", "unknown_value"))?;
        let message = form_value(&pairs, "message");
        Ok::<_, HttpError>(
            bookings::owner_action(&state.app, booking_id, action, Some(message)).await?,
        )
    }
    .await;
    match result {
        Ok(b) => see_other(&format!("/admin/bookings/{}?done=action_done", b.id)),
        Err(e) => error_response(&state, &session, e).await,
    }
}

async fn booking_resend(
    State(state): State<WebState>,
    Extension(session): Extension<AdminSession>,
    Path((id, email_id)): Path<(String, String)>,
) -> Response {
    let result = async {
        let booking_id = parse_uuid(&id)?;
        bookings::resend_email(&state.app, booking_id, parse_uuid(&email_id)?).await?;
        Ok::<_, HttpError>(booking_id)
    }
    .await;
    match result {
        Ok(b) => see_other(&format!("/admin/bookings/{b}?done=email_queued")),
        Err(e) => error_response(&state, &session, e).await,
    }
}

async fn booking_slot_unavailable(
    State(state): State<WebState>,
    Extension(session): Extension<AdminSession>,
    Path(id): Path<String>,
) -> Response {
    let result = async {
        let booking_id = parse_uuid(&id)?;
        bookings::make_booking_slot_unavailable(&state.app, booking_id).await?;
        Ok::<_, HttpError>(booking_id)
    }
    .await;
    match result {
        Ok(b) => see_other(&format!("/admin/bookings/{b}?done=slot_unavailable")),
        Err(e) => error_response(&state, &session, e).await,
    }
}

// --- Settings ------------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "admin/settings.html")]
struct SettingsPage {
    chrome: Chrome,
    title: String,
    form: SettingsForm,
    open: bool,
    /// What asking visitors to confirm their address does, with the configured hold.
    confirm_hint: String,
    languages: Vec<(String, bool)>,
    zones: Vec<String>,
    errors: BTreeMap<String, String>,
}

impl SettingsPage {
    fn fe(&self, field: &str) -> String {
        self.errors.get(field).cloned().unwrap_or_default()
    }
}

async fn settings_page(
    State(state): State<WebState>,
    Extension(session): Extension<AdminSession>,
    Query(flash): Query<FlashQuery>,
) -> Response {
    match settings::load(&state.app).await {
        Ok(owner) => {
            settings_response(&state, &session, owner.to_form(), BTreeMap::new(), &flash).await
        }
        Err(e) => error_response(&state, &session, e).await,
    }
}

async fn settings_response(
    state: &WebState,
    session: &AdminSession,
    form: SettingsForm,
    field_errors: BTreeMap<String, String>,
    flash: &FlashQuery,
) -> Response {
    let result = async {
        let (mut chrome, _) = chrome(state, session, "settings", flash).await?;
        let tr = chrome.tr.clone();
        if !field_errors.is_empty() {
            chrome.error = Some(tr.get("admin.form.fix_fields"));
        }
        let languages = guidance_core::i18n::languages()
            .into_iter()
            .map(|l| (l.to_owned(), l == form.language.trim()))
            .collect();
        Ok::<_, HttpError>(SettingsPage {
            title: tr.get("admin.settings.title"),
            open: form
                .booking_open
                .as_deref()
                .is_some_and(|v| v == "on" || v == "true"),
            confirm_hint: tr.fmt(
                "admin.settings.confirm_email_hint",
                &[(
                    "minutes",
                    &state.app.settings.config.confirm_hold_minutes.to_string(),
                )],
            ),
            form,
            languages,
            // Suggestions for the time zone field, from the zone database this build uses.
            zones: {
                let mut z: Vec<String> = jiff::tz::db()
                    .available()
                    .map(|n| n.to_string())
                    .filter(|n| n.contains('/') && !n.starts_with("Etc/"))
                    .collect();
                z.sort();
                z
            },
            errors: field_messages(&tr, &field_errors),
            chrome,
        })
    }
    .await;
    match result {
        Ok(page) => render(form_status(&page.errors), &page),
        Err(e) => error_response(state, session, e).await,
    }
}

async fn settings_submit(
    State(state): State<WebState>,
    Extension(session): Extension<AdminSession>,
    body: Bytes,
) -> Response {
    let form: SettingsForm = read_form(&body);
    match settings::save(&state.app, &form).await {
        Ok(_) => see_other("/admin/settings?done=settings_saved"),
        Err(AppError::Invalid(fields)) => {
            settings_response(&state, &session, form, fields, &FlashQuery::default()).await
        }
        Err(e) => error_response(&state, &session, e).await,
    }
}

// --- Sign-in -------------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "admin/login.html")]
struct LoginPage {
    tr: Tr,
    title: String,
    error: Option<String>,
    no_password: bool,
}

async fn owner_tr(state: &WebState) -> Tr {
    Tr::new(settings::load_or_defaults(&state.app).await.language)
}

async fn login_page(State(state): State<WebState>, headers: HeaderMap) -> Response {
    // Signed in already: straight to the dashboard.
    if let Ok(Some(_)) = session::session_from(&state, &headers).await {
        return see_other("/admin");
    }
    login_response(&state, None, StatusCode::OK).await
}

async fn login_response(state: &WebState, error: Option<String>, status: StatusCode) -> Response {
    let tr = owner_tr(state).await;
    let no_password = matches!(owner_auth::has_password(&state.app).await, Ok(false));
    let page = LoginPage {
        title: tr.get("admin.login.title"),
        error,
        no_password,
        tr,
    };
    render(status, &page)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct LoginForm {
    password: String,
}

async fn login_submit(
    State(state): State<WebState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    body: Bytes,
) -> Response {
    let form: LoginForm = read_form(&body);
    let client = super::client_ip(&addr);
    let tr = owner_tr(&state).await;
    // Every attempt counts against the per-client request limit; failures also lock the client
    // out for a growing while.
    if let Err(wait) = state
        .login_throttle
        .check(client)
        .and_then(|()| state.limiter.check(client))
    {
        return throttled(&state, &tr, wait).await;
    }
    match owner_auth::sign_in(&state.app, form.password).await {
        Ok(started) => {
            state.login_throttle.succeeded(client);
            let mut resp = see_other("/admin");
            resp.headers_mut().insert(
                header::SET_COOKIE,
                session::session_cookie(&state, &started),
            );
            resp
        }
        Err(AppError::Unauthorized) => {
            tracing::warn!(client = %client, "owner login failed");
            if let Some(wait) = state.login_throttle.failed(client) {
                return throttled(&state, &tr, wait).await;
            }
            login_response(
                &state,
                Some(tr.get("admin.login.wrong_password")),
                StatusCode::UNAUTHORIZED,
            )
            .await
        }
        Err(e) => HttpError::from(e).into_response(),
    }
}

async fn throttled(state: &WebState, tr: &Tr, wait: u64) -> Response {
    let mut resp = login_response(
        state,
        Some(tr.fmt("admin.login.slow_down", &[("seconds", &wait.to_string())])),
        StatusCode::TOO_MANY_REQUESTS,
    )
    .await;
    resp.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(wait));
    resp
}

async fn logout(
    State(state): State<WebState>,
    Extension(session): Extension<AdminSession>,
) -> Response {
    if let Err(e) = owner_auth::sign_out(&state.app, &session).await {
        return HttpError::from(e).into_response();
    }
    let mut resp = see_other("/admin/login");
    resp.headers_mut()
        .insert(header::SET_COOKIE, session::clear_cookie(&state));
    resp
}

#[derive(Template)]
#[template(path = "admin/setup.html")]
struct SetupPage {
    tr: Tr,
    title: String,
    valid: bool,
    error: Option<String>,
}

async fn setup_page(State(state): State<WebState>, Path(token): Path<String>) -> Response {
    let tr = owner_tr(&state).await;
    let valid = owner_auth::setup_link_valid(&state.app, &token).await;
    let page = SetupPage {
        title: tr.get("admin.setup.title"),
        valid,
        error: None,
        tr,
    };
    render(
        if valid {
            StatusCode::OK
        } else {
            StatusCode::NOT_FOUND
        },
        &page,
    )
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SetupForm {
    password: String,
    repeat: String,
}

async fn setup_submit(
    State(state): State<WebState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    Path(token): Path<String>,
    body: Bytes,
) -> Response {
    let form: SetupForm = read_form(&body);
    let tr = owner_tr(&state).await;
    // Guessing setup links counts like guessing passwords.
    let client = super::client_ip(&addr);
    if let Err(wait) = state.login_throttle.check(client) {
        return throttled(&state, &tr, wait).await;
    }
    let page = |error: String, valid: bool, status: StatusCode| {
        render(
            status,
            &SetupPage {
                tr: tr.clone(),
                title: tr.get("admin.setup.title"),
                valid,
                error: Some(error),
            },
        )
    };
    match owner_auth::set_password_with_link(&state.app, &token, form.password, &form.repeat).await
    {
        Ok(started) => {
            let mut resp = see_other("/admin?done=password_set");
            resp.headers_mut().insert(
                header::SET_COOKIE,
                session::session_cookie(&state, &started),
            );
            resp
        }
        Err(SetupRefused::Password(problem)) => page(
            tr.get(&format!("admin.password.{}", problem.code())),
            true,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(SetupRefused::LinkInvalid) => {
            state.login_throttle.failed(client);
            page(tr.get("admin.setup.invalid"), false, StatusCode::NOT_FOUND)
        }
        Err(SetupRefused::App(e)) => HttpError::from(e).into_response(),
    }
}
