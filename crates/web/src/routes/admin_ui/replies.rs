//! The calendar replies page: whether the service mailbox is read, and what became of each
//! reply read from it — acted on, or ignored and why.

use askama::Template;
use axum::extract::{Extension, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use guidance_app::owner_auth::AdminSession;

use super::chrome::{Chrome, FlashQuery, chrome, error_response, render};
use super::format::{label_or_code, replies_reading, short_moment};
use crate::error::HttpError;
use crate::state::WebState;

/// One reply in the list.
struct ReplyRow {
    when: String,
    sender: String,
    outcome: String,
    reason: String,
    ignored: bool,
    booking_id: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/replies.html")]
struct RepliesPage {
    chrome: Chrome,
    title: String,
    reading: String,
    replies: Vec<ReplyRow>,
}

/// `GET /admin/replies`.
pub(super) async fn replies_page(
    State(state): State<WebState>,
    Extension(session): Extension<AdminSession>,
    Query(flash): Query<FlashQuery>,
) -> Response {
    let result = async {
        let (chrome, owner) = chrome(&state, &session, "settings", &flash).await?;
        let tr = &chrome.tr;
        let status = guidance_app::replies::reading_status(&state.app).await?;
        let replies = guidance_app::replies::list(&state.app)
            .await?
            .iter()
            .map(|r| ReplyRow {
                when: short_moment(tr, &owner, r.received_at),
                sender: r.sender.clone().unwrap_or_default(),
                outcome: tr.get(&format!("admin.replies.outcome.{}", r.outcome.as_str())),
                reason: r
                    .reason
                    .as_deref()
                    .map(|code| label_or_code(tr, "admin.replies.reason", code))
                    .unwrap_or_default(),
                ignored: r.outcome == guidance_store::ReplyOutcome::Ignored,
                booking_id: r.booking_id.map(|id| id.to_string()),
            })
            .collect();
        Ok::<_, HttpError>(RepliesPage {
            title: tr.get("admin.replies.title"),
            reading: replies_reading(tr, &owner, &status),
            replies,
            chrome,
        })
    }
    .await;
    match result {
        Ok(page) => render(StatusCode::OK, &page),
        Err(e) => error_response(&state, &session, e).await,
    }
}
