//! `GET /feed/<secret>.ics`: the owner's subscription feed of bookings, with an `ETag` so that
//! calendar apps polling it get a `304` while nothing changed. Any other secret is a 404.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::recorder::{RecordedRoute, Recorder};
use crate::error::HttpError;
use crate::i18n::page_language;
use crate::state::WebState;
use guidance_app::AppError;

fn register(r: Recorder) -> Recorder {
    r.get("/feed/{file}", owner_feed)
}

/// The feed route.
pub fn routes() -> Router<WebState> {
    register(Recorder::new()).into_router()
}

/// The feed route as registered.
pub fn route_table() -> Vec<RecordedRoute> {
    register(Recorder::new()).table()
}

async fn owner_feed(
    State(state): State<WebState>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Response {
    match answer(&state, &file, &headers).await {
        Ok(resp) => resp,
        // Someone opening a dead address in a browser gets a page that says so.
        Err(e) => super::pages::error_page(&page_language(None, &headers), e),
    }
}

async fn answer(state: &WebState, file: &str, headers: &HeaderMap) -> Result<Response, HttpError> {
    let token = file
        .strip_suffix(".ics")
        .ok_or(HttpError::App(AppError::NotFound))?;
    let doc = guidance_app::calendars::feed::feed_for(&state.app, token).await?;
    let cache = [
        (header::ETAG, doc.etag.clone()),
        (header::CACHE_CONTROL, "private, no-cache".to_owned()),
    ];
    let unchanged = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == doc.etag));
    if unchanged {
        return Ok((StatusCode::NOT_MODIFIED, cache).into_response());
    }
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/calendar; charset=utf-8".to_owned(),
        )],
        cache,
        doc.body,
    )
        .into_response())
}
