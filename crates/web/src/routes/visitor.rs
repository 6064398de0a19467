//! The visitor's own pages, reached through the signed link in their emails
//! ([`crate::visitor_link`]): the booking's status with the time in their zone, cancelling (a
//! `GET` asks, only a `POST` cancels, so mail scanners change nothing), and choosing a new time
//! when the owner asked for one; their data as JSON, and deleting their request and data
//! (again a `GET` that asks and a `POST` that acts).

use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use guidance_core::i18n::format_span;
use guidance_core::intake::TimeZoneName;
use guidance_core::{BookingAction, BookingStatus};
use guidance_store::Booking;
use serde::Deserialize;

use super::pages::{MessagePage, error_page, read_form, render};
use super::recorder::{RecordedRoute, Recorder};
use super::slot_days::{DayGroup, group_by_day};
use crate::client::Client;
use crate::error::HttpError;
use crate::i18n::{Tr, page_language};
use crate::state::WebState;
use guidance_app::AppError;
use guidance_app::bookings;

fn register(r: Recorder) -> Recorder {
    r.get("/my/{id}/{sig}", status_page)
        .get("/my/{id}/{sig}/cancel", cancel_page)
        .post("/my/{id}/{sig}/cancel", cancel_submit)
        .post("/my/{id}/{sig}/pick", pick_submit)
        .get("/my/{id}/{sig}/data", data_download)
        .get("/my/{id}/{sig}/delete", delete_page)
        .post("/my/{id}/{sig}/delete", delete_submit)
        .post("/my/{id}/{sig}/take", take_submit)
}

/// The visitor's page routes.
pub fn routes() -> Router<WebState> {
    register(Recorder::new()).into_router()
}

/// Every visitor page route as registered.
pub fn route_table() -> Vec<RecordedRoute> {
    register(Recorder::new()).table()
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct VisitorQuery {
    lang: Option<String>,
    tz: Option<String>,
    requested: Option<String>,
}

/// The booking behind a link, with the reader's language and zone (the booking's own unless the
/// page was asked for another).
struct Visit {
    booking: Booking,
    tr: Tr,
    zone: TimeZoneName,
    base: String,
}

async fn open(
    state: &WebState,
    id: &str,
    sig: &str,
    q: &VisitorQuery,
    headers: &HeaderMap,
) -> Result<Visit, Response> {
    let fallback = page_language(q.lang.as_deref(), headers);
    let Some(id) = guidance_app::visitor_link::verify(&state.app.secret, id, sig) else {
        return Err(error_page(
            &fallback,
            HttpError::App(AppError::TokenInvalid),
        ));
    };
    let booking = state
        .app
        .store
        .get_booking(id)
        .await
        .map_err(|e| error_page(&fallback, e))?;
    let lang = q.lang.clone().unwrap_or_else(|| booking.locale.clone());
    let zone =
        q.tz.as_deref()
            .and_then(|z| TimeZoneName::parse(z).ok())
            .or_else(|| TimeZoneName::parse(&booking.time_zone).ok())
            .unwrap_or_else(|| state.app.settings.time_zone.clone());
    Ok(Visit {
        base: guidance_app::visitor_link::path(&state.app.secret, booking.id),
        tr: page_language(Some(&lang), headers),
        zone,
        booking,
    })
}

#[derive(Template)]
#[template(path = "my.html")]
struct StatusPage {
    tr: Tr,
    title: String,
    heading: String,
    lead: String,
    error: Option<String>,
    status: &'static str,
    status_label: String,
    state: String,
    when: String,
    owner: String,
    topic: String,
    /// The answers to the owner's questions: the visitor reads them here, not in the emails
    /// to an address that has not proved itself yet.
    answers: Vec<(String, String)>,
    base: String,
    zone: String,
    picking: bool,
    /// The times the owner proposed, still held: their ids and when they are.
    proposed: Vec<(String, String)>,
    days: Vec<DayGroup>,
    cancellable: bool,
    finished: bool,
    /// The meeting room, while the session is accepted.
    join_url: Option<String>,
    /// Whether the visitor's data was erased (then only times and status are left).
    erased: bool,
}

async fn status_response(
    state: &WebState,
    v: Visit,
    requested: bool,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let b = &v.booking;
    let tr = v.tr;
    let owner = guidance_app::settings::load_or_defaults(&state.app)
        .await
        .owner_name;
    let picking = b.status == BookingStatus::NeedsReschedule;
    let days = if picking {
        match guidance_app::slots::open_slots(&state.app, None, None).await {
            Ok(slots) => group_by_day(&tr, &slots, &v.zone, ""),
            Err(e) => return error_page(&tr, e),
        }
    } else {
        Vec::new()
    };
    let proposed = match guidance_app::proposals::live_proposals(&state.app, b).await {
        Ok(list) => list
            .iter()
            .map(|p| {
                let when = format_span(tr.lang, p.starts_at, p.ends_at, v.zone.as_str());
                (p.id.to_string(), when)
            })
            .collect(),
        Err(e) => return error_page(&tr, e),
    };
    // Right after a request made with email confirmation on, the visitor's next step is in
    // their inbox.
    let confirming = b.status == BookingStatus::Unconfirmed;
    let page = StatusPage {
        title: tr.get("public.my.title"),
        heading: tr.get(match (requested, confirming) {
            (true, true) => "public.requested.confirm_heading",
            (true, false) => "public.requested.heading",
            _ => "public.my.heading",
        }),
        lead: match (requested, confirming) {
            (true, true) => tr.fmt("public.requested.confirm_next", &[("owner", &owner)]),
            (true, false) => tr.fmt("public.requested.next", &[("owner", &owner)]),
            _ => String::new(),
        },
        error,
        status: b.status.as_str(),
        status_label: tr.get(&format!("common.status.{}", b.status.as_str())),
        state: tr.fmt(
            &format!("public.my.state.{}", b.status.as_str()),
            &[("owner", &owner)],
        ),
        when: format_span(tr.lang, b.starts_at, b.ends_at, v.zone.as_str()),
        owner,
        topic: b.topic.clone(),
        answers: tr.answers(&b.parsed_answers()),
        base: v.base,
        zone: v.zone.as_str().to_owned(),
        picking,
        proposed,
        days,
        cancellable: BookingAction::Cancel.allowed_from(b.status),
        finished: b.status.is_final(),
        join_url: (b.status == BookingStatus::Accepted)
            .then(|| {
                guidance_app::meeting::join_url(&state.app, b.meeting_room.as_deref(), b.ends_at)
            })
            .flatten(),
        erased: guidance_app::privacy::is_erased(b),
        tr,
    };
    render(status, &page)
}

async fn status_page(
    State(state): State<WebState>,
    headers: HeaderMap,
    Path((id, sig)): Path<(String, String)>,
    Query(q): Query<VisitorQuery>,
) -> Response {
    match open(&state, &id, &sig, &q, &headers).await {
        Ok(v) => {
            let requested = q.requested.is_some()
                && matches!(
                    v.booking.status,
                    BookingStatus::Pending | BookingStatus::Unconfirmed
                );
            status_response(&state, v, requested, None, StatusCode::OK).await
        }
        Err(resp) => resp,
    }
}

#[derive(Template)]
#[template(path = "my_cancel.html")]
struct CancelPage {
    tr: Tr,
    title: String,
    explain: String,
    when: String,
    topic: String,
    base: String,
    zone: String,
}

async fn cancel_page(
    State(state): State<WebState>,
    headers: HeaderMap,
    Path((id, sig)): Path<(String, String)>,
    Query(q): Query<VisitorQuery>,
) -> Response {
    let v = match open(&state, &id, &sig, &q, &headers).await {
        Ok(v) => v,
        Err(resp) => return resp,
    };
    let b = &v.booking;
    if !BookingAction::Cancel.allowed_from(b.status) {
        // Nothing left to cancel: show where the booking stands instead.
        return status_response(&state, v, false, None, StatusCode::OK).await;
    }
    let tr = v.tr;
    let owner = guidance_app::settings::load_or_defaults(&state.app)
        .await
        .owner_name;
    let page = CancelPage {
        title: tr.get("public.my.cancel.title"),
        explain: tr.fmt("public.my.cancel.explain", &[("owner", &owner)]),
        when: format_span(tr.lang, b.starts_at, b.ends_at, v.zone.as_str()),
        topic: b.topic.clone(),
        base: v.base,
        zone: v.zone.as_str().to_owned(),
        tr,
    };
    render(StatusCode::OK, &page)
}

fn rate_limited(state: &WebState, client: Client, tr: &Tr) -> Option<Response> {
    state
        .limiter
        .check(client.key())
        .err()
        .map(|wait| error_page(tr, HttpError::RateLimited(wait)))
}

async fn cancel_submit(
    State(state): State<WebState>,
    client: Client,
    headers: HeaderMap,
    Path((id, sig)): Path<(String, String)>,
    Query(q): Query<VisitorQuery>,
) -> Response {
    let v = match open(&state, &id, &sig, &q, &headers).await {
        Ok(v) => v,
        Err(resp) => return resp,
    };
    if let Some(resp) = rate_limited(&state, client, &v.tr) {
        return resp;
    }
    match bookings::requester_cancel(&state.app, v.booking.id).await {
        Ok(b) => {
            let tr = v.tr;
            let owner = guidance_app::settings::load_or_defaults(&state.app)
                .await
                .owner_name;
            let page = MessagePage {
                title: tr.get("common.status.cancelled"),
                heading: tr.get("common.status.cancelled"),
                body: tr.fmt("public.my.cancel.done", &[("owner", &owner)]),
                detail: format_span(tr.lang, b.starts_at, b.ends_at, v.zone.as_str()),
                link: Some((
                    format!("/book?lang={}", tr.lang),
                    tr.get("public.my.book_again"),
                )),
                tr,
            };
            render(StatusCode::OK, &page)
        }
        Err(e) => error_page(&v.tr, e),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PickForm {
    slot_id: String,
}

async fn pick_submit(
    State(state): State<WebState>,
    client: Client,
    headers: HeaderMap,
    Path((id, sig)): Path<(String, String)>,
    Query(q): Query<VisitorQuery>,
    body: Bytes,
) -> Response {
    let form: PickForm = read_form(&body);
    let v = match open(&state, &id, &sig, &q, &headers).await {
        Ok(v) => v,
        Err(resp) => return resp,
    };
    if let Some(resp) = rate_limited(&state, client, &v.tr) {
        return resp;
    }
    match bookings::requester_pick(&state.app, v.booking.id, &form.slot_id).await {
        Ok(_) => Redirect::to(&format!(
            "{}?requested=1&lang={}&tz={}",
            v.base,
            v.tr.lang,
            v.zone.as_str()
        ))
        .into_response(),
        Err(e @ (AppError::Invalid(_) | AppError::SlotTaken)) => {
            let msg = match e {
                AppError::SlotTaken => v.tr.get("public.book.slot_taken"),
                _ => v.tr.get("public.my.pick.choose_one"),
            };
            status_response(&state, v, false, Some(msg), HttpError::from(e).status()).await
        }
        Err(e) => error_page(&v.tr, e),
    }
}

/// `GET /my/{id}/{sig}/data`: everything kept about the visitor's booking, as a JSON download.
async fn data_download(
    State(state): State<WebState>,
    headers: HeaderMap,
    Path((id, sig)): Path<(String, String)>,
    Query(q): Query<VisitorQuery>,
) -> Response {
    let v = match open(&state, &id, &sig, &q, &headers).await {
        Ok(v) => v,
        Err(resp) => return resp,
    };
    match guidance_app::privacy::visitor_data(&state.app, v.booking.id).await {
        Ok(data) => {
            let disposition = format!("attachment; filename=\"guidance-{}.json\"", v.booking.id);
            (
                [
                    (axum::http::header::CONTENT_DISPOSITION, disposition),
                    (axum::http::header::CACHE_CONTROL, "no-store".to_owned()),
                ],
                axum::Json(data),
            )
                .into_response()
        }
        Err(e) => error_page(&v.tr, e),
    }
}

#[derive(Template)]
#[template(path = "my_delete.html")]
struct DeletePage {
    tr: Tr,
    title: String,
    explain: String,
    /// Said when the request is still live: it is cancelled first.
    cancels: Option<String>,
    when: String,
    topic: String,
    base: String,
    zone: String,
}

/// `GET /my/{id}/{sig}/delete`: asks; only the button's `POST` deletes.
async fn delete_page(
    State(state): State<WebState>,
    headers: HeaderMap,
    Path((id, sig)): Path<(String, String)>,
    Query(q): Query<VisitorQuery>,
) -> Response {
    let v = match open(&state, &id, &sig, &q, &headers).await {
        Ok(v) => v,
        Err(resp) => return resp,
    };
    let b = &v.booking;
    if guidance_app::privacy::is_erased(b) {
        return status_response(&state, v, false, None, StatusCode::OK).await;
    }
    let tr = v.tr;
    let owner = guidance_app::settings::load_or_defaults(&state.app)
        .await
        .owner_name;
    let page = DeletePage {
        title: tr.get("public.my.delete.title"),
        explain: tr.fmt("public.my.delete.explain", &[("owner", &owner)]),
        cancels: BookingAction::Cancel
            .allowed_from(b.status)
            .then(|| tr.fmt("public.my.delete.cancels", &[("owner", &owner)])),
        when: format_span(tr.lang, b.starts_at, b.ends_at, v.zone.as_str()),
        topic: b.topic.clone(),
        base: v.base,
        zone: v.zone.as_str().to_owned(),
        tr,
    };
    render(StatusCode::OK, &page)
}

/// `POST /my/{id}/{sig}/delete`: cancels a live request, then erases the visitor's data.
async fn delete_submit(
    State(state): State<WebState>,
    client: Client,
    headers: HeaderMap,
    Path((id, sig)): Path<(String, String)>,
    Query(q): Query<VisitorQuery>,
) -> Response {
    let v = match open(&state, &id, &sig, &q, &headers).await {
        Ok(v) => v,
        Err(resp) => return resp,
    };
    if let Some(resp) = rate_limited(&state, client, &v.tr) {
        return resp;
    }
    match guidance_app::privacy::delete_own(&state.app, v.booking.id).await {
        Ok(b) => {
            let tr = v.tr;
            let page = MessagePage {
                title: tr.get("public.my.delete.done_title"),
                heading: tr.get("public.my.delete.done_title"),
                body: tr.get("public.my.delete.done"),
                detail: format_span(tr.lang, b.starts_at, b.ends_at, v.zone.as_str()),
                link: Some((
                    format!("/book?lang={}", tr.lang),
                    tr.get("public.my.book_again"),
                )),
                tr,
            };
            render(StatusCode::OK, &page)
        }
        Err(e) => error_page(&v.tr, e),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct TakeForm {
    proposal_id: String,
}

/// The visitor takes a time the owner proposed, from their own page.
async fn take_submit(
    State(state): State<WebState>,
    client: Client,
    headers: HeaderMap,
    Path((id, sig)): Path<(String, String)>,
    Query(q): Query<VisitorQuery>,
    body: Bytes,
) -> Response {
    let form: TakeForm = read_form(&body);
    let v = match open(&state, &id, &sig, &q, &headers).await {
        Ok(v) => v,
        Err(resp) => return resp,
    };
    if let Some(resp) = rate_limited(&state, client, &v.tr) {
        return resp;
    }
    match guidance_app::proposals::take_from_page(&state.app, v.booking.id, &form.proposal_id).await
    {
        Ok(b) => {
            // Back to the page, which says where the booking now stands.
            let requested = if b.status == BookingStatus::Pending {
                "requested=1&"
            } else {
                ""
            };
            Redirect::to(&format!(
                "{}?{requested}lang={}&tz={}",
                v.base,
                v.tr.lang,
                v.zone.as_str()
            ))
            .into_response()
        }
        Err(e @ AppError::Invalid(_)) => {
            let msg = v.tr.get("public.my.proposed.gone");
            status_response(&state, v, false, Some(msg), HttpError::from(e).status()).await
        }
        Err(e) => error_page(&v.tr, e),
    }
}
