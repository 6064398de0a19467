//! The page behind every emailed link (`/a/{token}`): `GET` shows what the link does, only
//! `POST` does it (mail scanners that open links change nothing). The owner's pages take an
//! optional message for the visitor and, asking for another time, up to three proposed times;
//! the visitor's `pick_slot` page lists the open times to choose from.

use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use guidance_core::BookingAction;
use guidance_core::i18n::format_span;
use guidance_core::intake::TimeZoneName;
use guidance_store::Booking;

use super::pages::{LangQuery, MessagePage, error_page, read_form, render, visitor_reader};
use super::recorder::{RecordedRoute, Recorder};
use super::slot_days::{DayGroup, group_by_day};
use crate::client::Client;
use crate::error::HttpError;
use crate::i18n::{Tr, page_language};
use crate::state::WebState;
use guidance_app::links::{self, CheckedToken, LinkInput};
use guidance_app::{AppError, proposals};

fn register(r: Recorder) -> Recorder {
    r.get("/a/{token}", action_page)
        .post("/a/{token}", action_submit)
}

/// The link page routes.
pub fn routes() -> Router<WebState> {
    register(Recorder::new()).into_router()
}

/// Every link page route as registered.
pub fn route_table() -> Vec<RecordedRoute> {
    register(Recorder::new()).table()
}

#[derive(Template)]
#[template(path = "action.html")]
struct ActionPage {
    tr: Tr,
    title: String,
    heading: String,
    explain: String,
    button: String,
    booking: BookingSummary,
    /// The visitor's choice of a new time: the open times by day.
    pick: Option<Vec<DayGroup>>,
    /// An owner's link: the message box, with what was typed.
    message: Option<String>,
    /// The longest message the owner may write.
    message_max: usize,
    /// A reschedule: the open times the owner may propose, by day (those sent back checked).
    proposable: Vec<DayGroup>,
    error: Option<String>,
}

/// The facts about a booking that the owner sees behind a link.
struct BookingSummary {
    name: String,
    email: String,
    when: String,
    topic: String,
    priority: String,
    status: String,
}

fn summary(tr: &Tr, b: &Booking, zone: &str) -> BookingSummary {
    BookingSummary {
        name: b.name.clone(),
        email: b.email.clone(),
        when: format_span(tr.lang, b.starts_at, b.ends_at, zone),
        topic: b.topic.clone(),
        priority: tr.get(&format!("common.priority.{}", b.priority.as_str())),
        status: tr.get(&format!("common.status.{}", b.status.as_str())),
    }
}

/// The reader of a link: the owner (their zone and language) or, for choosing a new time and
/// for confirming a request, the visitor.
async fn link_reader(
    state: &WebState,
    checked: &CheckedToken,
    q: &LangQuery,
    headers: &HeaderMap,
) -> (Tr, String) {
    if checked.record.action.by_owner() {
        let owner = guidance_app::settings::load_or_defaults(&state.app).await;
        let lang = q.lang.clone().unwrap_or_else(|| owner.language.to_owned());
        let zone = owner.time_zone.as_str().to_owned();
        (page_language(Some(&lang), headers), zone)
    } else {
        visitor_reader(q, headers, &checked.booking)
    }
}

async fn action_page(
    State(state): State<WebState>,
    headers: HeaderMap,
    Path(token): Path<String>,
    Query(q): Query<LangQuery>,
) -> Response {
    let checked = match links::check_token(&state.app, &token).await {
        Ok(c) => c,
        Err(e) => return error_page(&page_language(q.lang.as_deref(), &headers), e),
    };
    let (tr, zone) = link_reader(&state, &checked, &q, &headers).await;
    let shown = Answer::default();
    action_form(&state, tr, &zone, &checked, &shown, StatusCode::OK).await
}

/// What the form sent, shown again with the reason when it is refused.
#[derive(Debug, Default)]
struct Answer {
    slot_id: String,
    message: String,
    proposed_slot_ids: Vec<String>,
    error: Option<String>,
}

impl Answer {
    /// Reads the form (repeated `proposed_slot_ids`); what does not read counts as empty.
    fn read(body: &Bytes) -> Self {
        let pairs: Vec<(String, String)> = read_form(body);
        let mut answer = Answer::default();
        for (name, value) in pairs {
            match name.as_str() {
                "slot_id" => answer.slot_id = value,
                "message" => answer.message = value,
                "proposed_slot_ids" => answer.proposed_slot_ids.push(value),
                _ => {}
            }
        }
        answer
    }
}

async fn action_form(
    state: &WebState,
    tr: Tr,
    zone: &str,
    checked: &CheckedToken,
    sent: &Answer,
    status: StatusCode,
) -> Response {
    let action = checked.record.action;
    let zone_name =
        TimeZoneName::parse(zone).unwrap_or_else(|_| state.app.settings.time_zone.clone());
    let pick = if action == BookingAction::PickSlot {
        match guidance_app::slots::open_slots(&state.app, None, None).await {
            Ok(slots) => Some(group_by_day(&tr, &slots, &zone_name, &sent.slot_id)),
            Err(e) => return error_page(&tr, e),
        }
    } else {
        None
    };
    let proposable = if action == BookingAction::Reschedule {
        match proposals::proposable(&state.app).await {
            Ok(slots) => {
                let mut days = group_by_day(&tr, &slots, &zone_name, "");
                for slot in days.iter_mut().flat_map(|d| d.slots.iter_mut()) {
                    slot.checked = sent.proposed_slot_ids.contains(&slot.id);
                }
                days
            }
            Err(e) => return error_page(&tr, e),
        }
    } else {
        Vec::new()
    };
    let name = action.as_str();
    let page = ActionPage {
        title: tr.get(&format!("public.action.{name}.title")),
        heading: tr.get(&format!("public.action.{name}.heading")),
        explain: tr.get(&format!("public.action.{name}.explain")),
        button: tr.get(&format!("public.action.{name}.button")),
        booking: summary(&tr, &checked.booking, zone),
        pick,
        message: action.by_owner().then(|| sent.message.clone()),
        message_max: guidance_core::booking::OWNER_MESSAGE_MAX,
        proposable,
        error: sent.error.clone(),
        tr,
    };
    render(status, &page)
}

async fn action_submit(
    State(state): State<WebState>,
    client: Client,
    headers: HeaderMap,
    Path(token): Path<String>,
    Query(q): Query<LangQuery>,
    body: Bytes,
) -> Response {
    let mut sent = Answer::read(&body);
    let fallback_tr = page_language(q.lang.as_deref(), &headers);
    if let Err(wait) = state.limiter.check(client.key()) {
        return error_page(&fallback_tr, HttpError::RateLimited(wait));
    }
    let checked = match links::check_token(&state.app, &token).await {
        Ok(c) => c,
        Err(e) => return error_page(&fallback_tr, e),
    };
    let (tr, zone) = link_reader(&state, &checked, &q, &headers).await;
    let input = LinkInput {
        action: None,
        slot_id: Some(sent.slot_id.as_str()).filter(|s| !s.is_empty()),
        message: Some(sent.message.as_str()),
        proposed_slot_ids: &sent.proposed_slot_ids,
    };
    match links::use_token(&state.app, &token, input, None).await {
        Ok(b) => {
            let action = checked.record.action.as_str();
            let page = MessagePage {
                title: tr.get(&format!("public.action.{action}.done_title")),
                heading: tr.get(&format!("public.action.{action}.done_title")),
                body: tr.fmt(
                    &format!("public.action.{action}.done_body"),
                    &[("name", &b.name)],
                ),
                detail: format_span(tr.lang, b.starts_at, b.ends_at, &zone),
                link: None,
                tr,
            };
            render(StatusCode::OK, &page)
        }
        Err(e @ (AppError::Invalid(_) | AppError::SlotTaken)) => {
            let http = HttpError::from(e);
            sent.error = Some(refusal(&tr, &http));
            action_form(&state, tr, &zone, &checked, &sent, http.status()).await
        }
        Err(e) => error_page(&tr, e),
    }
}

/// Why the form was refused, in words that name the field: the new time, the message or the
/// proposed times.
fn refusal(tr: &Tr, e: &HttpError) -> String {
    match e {
        HttpError::App(AppError::SlotTaken) => tr.get("public.book.slot_taken"),
        HttpError::App(AppError::Invalid(fields)) if fields.contains("slot_id") => {
            tr.get("public.action.pick_slot.choose_one")
        }
        HttpError::App(AppError::Invalid(fields)) => fields
            .iter()
            .map(|(field, reason)| {
                let label = if field.starts_with(proposals::FIELD) {
                    tr.get("public.action.propose_field")
                } else {
                    tr.get("public.action.message_field")
                };
                format!("{label}: {}", tr.field(reason))
            })
            .collect::<Vec<_>>()
            .join(" "),
        other => other.message(tr),
    }
}
