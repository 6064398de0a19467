//! Server-rendered pages that work without JavaScript: the booking page, and the message and
//! error pages the other pages share.

use std::collections::BTreeMap;

use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use guidance_core::intake::{ANSWER_MAX, EMAIL_MAX, NAME_MAX, RawIntake, TOPIC_MAX, TimeZoneName};
use guidance_core::question::SHORT_TEXT_MAX;
use guidance_core::{FieldErrors, Priority, Question, QuestionKind};
use guidance_store::Booking;
use jiff::Timestamp;
use serde::Deserialize;

use super::recorder::{RecordedRoute, Recorder};
use super::slot_days::{DayGroup, group_by_day, window, window_href};
use crate::client::Client;
use crate::error::HttpError;
use crate::i18n::{Tr, page_language};
use crate::state::WebState;
use guidance_app::AppError;
use guidance_app::bookings;

fn register(r: Recorder) -> Recorder {
    r.get("/", || async { Redirect::to("/book") })
        .get("/book", book_page)
        .post("/book", book_submit)
}

/// The page routes.
pub fn routes() -> Router<WebState> {
    register(Recorder::new()).into_router()
}

/// Every page route as registered.
pub fn route_table() -> Vec<RecordedRoute> {
    register(Recorder::new()).table()
}

/// Reads a form body whatever its declared type; what cannot be read counts as empty, so the
/// visitor gets the form back with each missing field named instead of a bare error.
pub fn read_form<T: serde::de::DeserializeOwned + Default>(body: &Bytes) -> T {
    serde_urlencoded::from_bytes(body).unwrap_or_default()
}

/// Renders a page template, or a plain 500 when the template fails.
pub fn render<T: Template>(status: StatusCode, t: &T) -> Response {
    match t.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

/// What the visitor typed, kept when the form comes back with errors.
#[derive(Debug, Default)]
pub struct BookForm {
    slot_id: String,
    name: String,
    email: String,
    topic: String,
    priority: String,
    time_zone: String,
    locale: String,
    /// `answers.<key>` fields, by key.
    answers: BTreeMap<String, String>,
    /// The honeypot (hidden from people; never shown back).
    website: String,
}

impl BookForm {
    fn read(body: &Bytes) -> Self {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).unwrap_or_default();
        let mut f = BookForm::default();
        for (k, v) in pairs {
            match k.as_str() {
                "slot_id" => f.slot_id = v,
                "name" => f.name = v,
                "email" => f.email = v,
                "topic" => f.topic = v,
                "priority" => f.priority = v,
                "time_zone" => f.time_zone = v,
                "locale" => f.locale = v,
                "website" => f.website = v,
                other => {
                    if let Some(key) = other.strip_prefix("answers.") {
                        f.answers.insert(key.to_owned(), v);
                    }
                }
            }
        }
        f
    }

    /// The answers as the JSON API takes them: a ticked box is `true`, an unticked one `false`,
    /// empty text is left out; keys that name no question are passed on for the service to refuse.
    fn answers_json(&self, questions: &[Question]) -> serde_json::Value {
        let mut out = serde_json::Map::new();
        for q in questions {
            let given = self.answers.get(&q.key).map(|s| s.trim()).unwrap_or("");
            match q.kind {
                QuestionKind::Checkbox => {
                    out.insert(q.key.clone(), (!given.is_empty()).into());
                }
                _ if given.is_empty() => {}
                _ => {
                    out.insert(q.key.clone(), given.into());
                }
            }
        }
        for (k, v) in &self.answers {
            if !questions.iter().any(|q| &q.key == k) && !v.trim().is_empty() {
                out.insert(k.clone(), v.trim().into());
            }
        }
        serde_json::Value::Object(out)
    }
}

/// One intake control as the template draws it.
pub struct FormField {
    id: String,
    name: String,
    kind: &'static str,
    label: String,
    marker: String,
    required: bool,
    max: usize,
    input_type: &'static str,
    autocomplete: &'static str,
    value: String,
    checked: bool,
    options: Vec<(String, String, bool)>,
    placeholder: bool,
    error: String,
}

impl FormField {
    fn text(tr: &Tr, name: &str, input_type: &'static str, max: usize, value: &str) -> Self {
        FormField {
            id: name.to_owned(),
            name: name.to_owned(),
            kind: if name == "topic" {
                "long_text"
            } else {
                "short_text"
            },
            label: tr.get(&format!("public.intake.{name}.label")),
            marker: tr.get("public.intake.required"),
            required: true,
            max,
            input_type,
            autocomplete: match name {
                "name" => "name",
                "email" => "email",
                _ => "",
            },
            value: value.to_owned(),
            checked: false,
            options: Vec::new(),
            placeholder: false,
            error: String::new(),
        }
    }
}

/// The intake controls: name, email, topic, priority, then the owner's questions.
fn intake_fields(
    tr: &Tr,
    form: &BookForm,
    questions: &[Question],
    errors: &BTreeMap<String, String>,
) -> Vec<FormField> {
    let mut fields = vec![
        FormField::text(tr, "name", "text", NAME_MAX, &form.name),
        FormField::text(tr, "email", "email", EMAIL_MAX, &form.email),
        FormField::text(tr, "topic", "text", TOPIC_MAX, &form.topic),
        FormField {
            kind: "choice",
            marker: String::new(),
            required: false,
            options: Priority::ALL
                .iter()
                .map(|p| {
                    (
                        p.as_str().to_owned(),
                        tr.get(&format!("common.priority.{}", p.as_str())),
                        form.priority == p.as_str(),
                    )
                })
                .collect(),
            ..FormField::text(tr, "priority", "text", 0, "")
        },
    ];
    for q in questions {
        let given = form.answers.get(&q.key).cloned().unwrap_or_default();
        fields.push(FormField {
            id: format!("q-{}", q.key),
            name: format!("answers.{}", q.key),
            kind: q.kind.as_str(),
            label: q.label.clone(),
            marker: tr.get(if q.required {
                "public.intake.required"
            } else {
                "public.intake.optional"
            }),
            required: q.required,
            max: match q.kind {
                QuestionKind::LongText => ANSWER_MAX,
                _ => SHORT_TEXT_MAX,
            },
            input_type: "text",
            autocomplete: "",
            checked: !given.is_empty(),
            options: q
                .options
                .iter()
                .map(|o| (o.clone(), o.clone(), &given == o))
                .collect(),
            placeholder: true,
            value: given,
            error: String::new(),
        });
    }
    for f in &mut fields {
        if let Some(e) = errors.get(&f.name) {
            f.error = e.clone();
        }
    }
    fields
}

/// The texts the page's script needs, as JSON safe to place inside a `<script>` element.
pub fn script_texts(tr: &Tr, owner: &str) -> String {
    const PREFIXES: [&str; 4] = [
        "public.book.",
        "public.intake.",
        "public.requested.",
        "common.priority.",
    ];
    // Words only the server's pages show; every byte here is sent with each page and form.
    const SERVER_ONLY: [&str; 7] = [
        "public.book.title",
        "public.book.zone.apply",
        "public.book.no_slots",
        "public.book.earlier",
        "public.book.pages.label",
        "public.requested.title",
        "public.requested.body",
    ];
    let mut texts: BTreeMap<String, String> = guidance_core::i18n::keys(tr.lang)
        .into_iter()
        .filter(|k| PREFIXES.iter().any(|p| k.starts_with(p)) && !SERVER_ONLY.contains(k))
        .map(|k| (k.to_owned(), tr.get(k)))
        .collect();
    // Of the refusals' messages, those a booking request can meet (the owner's forms meet the
    // others).
    for reason in guidance_core::FieldReason::OF_INTAKE {
        texts.insert(format!("errors.field.{reason}"), tr.field(reason));
    }
    texts.insert("owner".to_owned(), owner.to_owned());
    // `<` never appears raw, so the text cannot close the script element.
    serde_json::to_string(&texts)
        .unwrap_or_else(|_| "{}".into())
        .replace('<', "\\u003c")
}

#[derive(Template)]
#[template(path = "book.html")]
struct BookPage {
    tr: Tr,
    title: String,
    zone: String,
    days: Vec<DayGroup>,
    /// The addresses of the windows of days before and after these (see `slot_days`).
    earlier: Option<String>,
    later: Option<String>,
    fields: Vec<FormField>,
    error: Option<String>,
    field_errors: BTreeMap<String, String>,
    texts_json: String,
    /// Who the session is with and how long it lasts ("With Olga Owner, 45 minutes").
    session_line: String,
}

impl BookPage {
    fn field_error(&self, field: &str) -> String {
        self.field_errors.get(field).cloned().unwrap_or_default()
    }
}

#[derive(Debug, Deserialize)]
struct BookQuery {
    tz: Option<String>,
    lang: Option<String>,
    /// Where the window of days shown starts (RFC 3339); absent or unreadable: the first.
    from: Option<String>,
}

fn visitor_zone(state: &WebState, raw: Option<&str>) -> TimeZoneName {
    raw.and_then(|z| TimeZoneName::parse(z).ok())
        .unwrap_or_else(|| state.app.settings.time_zone.clone())
}

async fn book_page(
    State(state): State<WebState>,
    headers: HeaderMap,
    Query(q): Query<BookQuery>,
) -> Response {
    let tr = page_language(q.lang.as_deref(), &headers);
    let zone = visitor_zone(&state, q.tz.as_deref());
    let form = BookForm {
        priority: "normal".into(),
        ..BookForm::default()
    };
    let from = q.from.as_deref().and_then(|f| f.parse::<Timestamp>().ok());
    let page = BookPageState {
        tr,
        zone,
        form,
        from,
    };
    book_page_response(&state, page, None, BTreeMap::new(), StatusCode::OK).await
}

/// "With Olga Owner, 45 minutes": the owner's name and the length of the open sessions (a
/// range when they differ; the name alone when none is open).
fn session_line(tr: &Tr, owner: &str, slots: &[guidance_store::Slot]) -> String {
    let minutes = slots
        .iter()
        .map(|s| s.ends_at.duration_since(s.starts_at).as_mins());
    let (min, max) = (minutes.clone().min(), minutes.max());
    let length = match (min, max) {
        (Some(a), Some(b)) if a == b => {
            tr.count("public.book.minutes", u64::try_from(a).unwrap_or(0), &[])
        }
        (Some(a), Some(b)) => tr.fmt(
            "public.book.minutes_range",
            &[("min", &a.to_string()), ("max", &b.to_string())],
        ),
        _ => return tr.fmt("public.book.with_owner_only", &[("owner", owner)]),
    };
    tr.fmt(
        "public.book.with_owner",
        &[("owner", owner), ("length", &length)],
    )
}

/// Who reads the booking page, what they typed, and where its window starts.
struct BookPageState {
    tr: Tr,
    zone: TimeZoneName,
    form: BookForm,
    from: Option<Timestamp>,
}

/// The booking page sent back with a message: its window keeps the chosen slot in view.
async fn book_form_response(
    state: &WebState,
    tr: Tr,
    zone: TimeZoneName,
    form: BookForm,
    error: Option<String>,
    field_errors: BTreeMap<String, String>,
    status: StatusCode,
) -> Response {
    let page = BookPageState {
        tr,
        zone,
        form,
        from: None,
    };
    book_page_response(state, page, error, field_errors, status).await
}

/// The booking page over the window of days `page` asks for.
async fn book_page_response(
    state: &WebState,
    page: BookPageState,
    error: Option<String>,
    field_errors: BTreeMap<String, String>,
    status: StatusCode,
) -> Response {
    let BookPageState {
        tr,
        zone,
        form,
        from,
    } = page;
    let (slots, questions) = match tokio::try_join!(
        guidance_app::slots::open_slots(&state.app, None, None),
        guidance_app::questions::questions(&state.app)
    ) {
        Ok(found) => found,
        Err(e) => return error_page(&tr, e),
    };
    // While the owner keeps booking closed, the page says so instead of showing no times.
    let owner = guidance_app::settings::load_or_defaults(&state.app).await;
    let closed = !owner.booking_open;
    let owner_name = owner.owner_name;
    let error = error.or_else(|| closed.then(|| tr.get("errors.booking_closed")));
    let shown = window(&slots, &zone, from, &form.slot_id);
    let days = group_by_day(&tr, shown.slots, &zone, &form.slot_id);
    let page = BookPage {
        title: tr.get("public.book.title"),
        zone: zone.as_str().to_owned(),
        days,
        earlier: shown.earlier.map(|from| window_href(from, &zone, &tr)),
        later: shown.later.map(|from| window_href(Some(from), &zone, &tr)),
        fields: intake_fields(&tr, &form, &questions, &field_errors),
        error,
        field_errors,
        texts_json: script_texts(&tr, &owner_name),
        session_line: session_line(&tr, &owner_name, &slots),
        tr,
    };
    render(status, &page)
}

async fn book_submit(
    State(state): State<WebState>,
    client: Client,
    headers: HeaderMap,
    Query(q): Query<BookQuery>,
    body: Bytes,
) -> Response {
    let form = BookForm::read(&body);
    let tr = page_language(q.lang.as_deref().or(Some(form.locale.as_str())), &headers);
    let zone = visitor_zone(&state, Some(form.time_zone.as_str()));
    if let Err(wait) = state.limiter.check(client.key()) {
        let e = HttpError::RateLimited(wait);
        let mut resp = book_form_response(
            &state,
            tr.clone(),
            zone,
            form,
            Some(e.message(&tr)),
            BTreeMap::new(),
            e.status(),
        )
        .await;
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(wait));
        return resp;
    }
    let questions = match guidance_app::questions::questions(&state.app).await {
        Ok(q) => q,
        Err(e) => return error_page(&tr, e),
    };
    let raw = RawIntake {
        name: form.name.clone(),
        email: form.email.clone(),
        topic: form.topic.clone(),
        priority: form.priority.clone(),
        answers: form.answers_json(&questions),
        locale: tr.lang.to_owned(),
        // The page fills the zone in; one that was sent but names no zone is refused, not
        // silently replaced (an empty one, from a page without its field, means the default).
        time_zone: if form.time_zone.trim().is_empty() {
            zone.as_str().to_owned()
        } else {
            form.time_zone.clone()
        },
    };
    match bookings::create_booking(
        &state.app,
        &form.slot_id,
        // The form names the slot only: it is read before it is booked.
        bookings::SeenTime::default(),
        &raw,
        &form.website,
        FieldErrors::new(),
        None,
    )
    .await
    {
        Ok(b) => Redirect::to(&format!(
            "{}?requested=1&tz={}&lang={}",
            guidance_app::visitor_link::path(&state.app.secret, b.id),
            zone.as_str(),
            tr.lang
        ))
        .into_response(),
        Err(AppError::Invalid(fields)) => {
            let described = fields
                .iter()
                .map(|(f, r)| (f.to_owned(), tr.field(r)))
                .collect();
            let msg = tr.get("public.book.fix_fields");
            book_form_response(
                &state,
                tr,
                zone,
                form,
                Some(msg),
                described,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e @ (AppError::SlotTaken | AppError::NotFound)) => {
            let msg = tr.get("public.book.slot_taken");
            let form = BookForm {
                slot_id: String::new(),
                ..form
            };
            let status = if matches!(e, AppError::NotFound) {
                StatusCode::NOT_FOUND
            } else {
                StatusCode::CONFLICT
            };
            book_form_response(&state, tr, zone, form, Some(msg), BTreeMap::new(), status).await
        }
        // The form comes back with what was typed, so nothing is lost when the visitor can
        // send it later.
        Err(e @ (AppError::TooManyPending | AppError::SpamSuspected)) => {
            let e = HttpError::from(e);
            let msg = e.message(&tr);
            let form = BookForm {
                website: String::new(),
                ..form
            };
            book_form_response(
                &state,
                tr,
                zone,
                form,
                Some(msg),
                BTreeMap::new(),
                e.status(),
            )
            .await
        }
        Err(e) => error_page(&tr, e),
    }
}

/// A page with a heading, a message and an optional link.
#[derive(Template)]
#[template(path = "message.html")]
pub struct MessagePage {
    /// The reader's language.
    pub tr: Tr,
    /// The document title.
    pub title: String,
    /// The heading.
    pub heading: String,
    /// The message.
    pub body: String,
    /// A detail line (e.g. the time), or empty.
    pub detail: String,
    /// A link: address and text.
    pub link: Option<(String, String)>,
}

/// The `?lang=` of a page behind a link: the language asked for, when not the reader's own.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LangQuery {
    /// A language code (e.g. `de`).
    pub lang: Option<String>,
}

/// The visitor reading a page about their booking: its language (the booking's unless `q` asks
/// for another) and the booking's zone.
pub fn visitor_reader(q: &LangQuery, headers: &HeaderMap, booking: &Booking) -> (Tr, String) {
    let lang = q.lang.clone().unwrap_or_else(|| booking.locale.clone());
    (
        page_language(Some(&lang), headers),
        booking.time_zone.clone(),
    )
}

/// A page that explains what went wrong, with a way back to booking.
pub fn error_page(tr: &Tr, e: impl Into<HttpError>) -> Response {
    let e: HttpError = e.into();
    e.log();
    let page = MessagePage {
        title: tr.get("public.error.title"),
        heading: tr.get(&format!("public.error.heading.{}", heading_key(&e))),
        body: e.message(tr),
        detail: String::new(),
        link: Some(("/book".to_owned(), tr.get("public.error.back_to_booking"))),
        tr: tr.clone(),
    };
    let mut resp = render(e.status(), &page);
    e.add_retry_after(&mut resp);
    resp
}

fn heading_key(e: &HttpError) -> &'static str {
    match e {
        HttpError::App(AppError::TokenInvalid)
        | HttpError::App(AppError::TokenExpired)
        | HttpError::App(AppError::TokenUsed)
        | HttpError::App(AppError::TokenOutdated) => "link",
        _ => "generic",
    }
}
