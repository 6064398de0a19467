//! The page behind a proposed time's link in the visitor's email: `GET` shows the time with a
//! button, only `POST` takes it (mail scanners that open links change nothing).

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use guidance_core::BookingStatus;
use guidance_core::i18n::format_span;

use super::pages::{LangQuery, MessagePage, error_page, render, visitor_reader};
use super::recorder::{RecordedRoute, Recorder};
use crate::client::Client;
use crate::error::HttpError;
use crate::i18n::{Tr, page_language};
use crate::state::WebState;
use guidance_app::proposals::{self, CheckedProposal};

fn register(r: Recorder) -> Recorder {
    r.get("/p/{token}", proposed_page)
        .post("/p/{token}", proposed_submit)
}

/// The proposed-time page routes.
pub fn routes() -> Router<WebState> {
    register(Recorder::new()).into_router()
}

/// Every proposed-time page route as registered.
pub fn route_table() -> Vec<RecordedRoute> {
    register(Recorder::new()).table()
}

#[derive(Template)]
#[template(path = "proposed.html")]
struct ProposedPage {
    tr: Tr,
    title: String,
    explain: String,
    when: String,
    topic: String,
    button: String,
    /// The visitor's own page, with every open time.
    all_times: String,
}

async fn proposed_page(
    State(state): State<WebState>,
    headers: HeaderMap,
    Path(token): Path<String>,
    Query(q): Query<LangQuery>,
) -> Response {
    let CheckedProposal { proposal, booking } =
        match proposals::check_link(&state.app, &token).await {
            Ok(c) => c,
            Err(e) => return error_page(&page_language(q.lang.as_deref(), &headers), e),
        };
    let (tr, zone) = visitor_reader(&q, &headers, &booking);
    let owner = guidance_app::settings::load_or_defaults(&state.app).await;
    let explain = if owner.proposed_time_needs_approval {
        "public.proposed.explain_approval"
    } else {
        "public.proposed.explain"
    };
    let page = ProposedPage {
        title: tr.get("public.proposed.heading"),
        explain: tr.fmt(explain, &[("owner", &owner.owner_name)]),
        when: format_span(tr.lang, proposal.starts_at, proposal.ends_at, &zone),
        topic: booking.topic.clone(),
        button: tr.get("public.proposed.button"),
        all_times: guidance_app::visitor_link::path(&state.app.secret, booking.id),
        tr,
    };
    render(StatusCode::OK, &page)
}

async fn proposed_submit(
    State(state): State<WebState>,
    client: Client,
    headers: HeaderMap,
    Path(token): Path<String>,
    Query(q): Query<LangQuery>,
) -> Response {
    let fallback = page_language(q.lang.as_deref(), &headers);
    if let Err(wait) = state.limiter.check(client.key()) {
        return error_page(&fallback, HttpError::RateLimited(wait));
    }
    match proposals::take_by_link(&state.app, &token).await {
        Ok(b) => {
            let (tr, zone) = visitor_reader(&q, &headers, &b);
            let owner = guidance_app::settings::load_or_defaults(&state.app)
                .await
                .owner_name;
            let done = if b.status == BookingStatus::Accepted {
                "public.proposed.done_accepted"
            } else {
                "public.proposed.done_pending"
            };
            let page = MessagePage {
                title: tr.get("public.proposed.done_title"),
                heading: tr.get("public.proposed.done_title"),
                body: tr.fmt(done, &[("owner", &owner)]),
                detail: format_span(tr.lang, b.starts_at, b.ends_at, &zone),
                link: Some((
                    guidance_app::visitor_link::path(&state.app.secret, b.id),
                    tr.get("public.proposed.my_page"),
                )),
                tr,
            };
            render(StatusCode::OK, &page)
        }
        Err(e) => error_page(&fallback, e),
    }
}
