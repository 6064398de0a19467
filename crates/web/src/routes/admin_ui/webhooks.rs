//! The webhooks pages under settings: the endpoints with a form to add one (whose secret the
//! answer shows once), removing one, and an endpoint's delivery log with "send again".

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Extension, Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use guidance_app::AppError;
use guidance_app::owner_auth::AdminSession;
use guidance_app::webhooks;
use guidance_core::webhook::WebhookEvent;
use guidance_core::{FieldErrors, OwnerSettings};
use guidance_store::{WebhookDelivery, WebhookEndpoint, WebhookStatus};

use super::chrome::{Chrome, FlashQuery, chrome, error_response, render, see_other};
use super::form::{FieldMessages, form_pairs, form_value, parse_uuid};
use super::format::short_moment;
use crate::error::HttpError;
use crate::i18n::Tr;
use crate::state::WebState;

/// One endpoint in the list.
struct EndpointRow {
    id: String,
    url: String,
    events: String,
}

/// One event the add form offers, and whether it is ticked.
struct EventChoice {
    name: &'static str,
    checked: bool,
}

#[derive(Template)]
#[template(path = "admin/webhooks.html")]
struct WebhooksPage {
    chrome: Chrome,
    title: String,
    endpoints: Vec<EndpointRow>,
    url: String,
    events: Vec<EventChoice>,
    errors: FieldMessages,
    /// The secret of the endpoint just added, shown this once.
    secret: Option<String>,
}

/// One message in an endpoint's log.
struct DeliveryRow {
    id: String,
    webhook_id: String,
    event: String,
    status: String,
    failed: bool,
    attempts: i64,
    answer: String,
    next_try: String,
    queued_at: String,
}

#[derive(Template)]
#[template(path = "admin/webhook.html")]
struct WebhookLogPage {
    chrome: Chrome,
    title: String,
    endpoint: EndpointRow,
    deliveries: Vec<DeliveryRow>,
}

fn endpoint_row(e: &WebhookEndpoint) -> EndpointRow {
    EndpointRow {
        id: e.id.to_string(),
        url: e.url.clone(),
        events: e.events.join(", "),
    }
}

fn delivery_row(tr: &Tr, owner: &OwnerSettings, d: &WebhookDelivery) -> DeliveryRow {
    let answer = match (d.last_status, &d.last_error) {
        (Some(code), _) => format!("HTTP {code}"),
        (None, Some(error)) => error.clone(),
        (None, None) => String::new(),
    };
    DeliveryRow {
        id: d.id.to_string(),
        webhook_id: webhooks::deliver::message_id(d.id),
        event: d.event.clone(),
        status: tr.get(&format!("admin.webhooks.status.{}", d.status.as_str())),
        failed: d.status == WebhookStatus::Failed,
        attempts: d.attempts,
        answer,
        next_try: if d.status == WebhookStatus::Queued {
            short_moment(tr, owner, d.next_attempt_at)
        } else {
            String::new()
        },
        queued_at: short_moment(tr, owner, d.created_at),
    }
}

/// The list page, with the add form as given and its messages, and a secret to show once.
async fn list_response(
    state: &WebState,
    session: &AdminSession,
    flash: &FlashQuery,
    (url, ticked): (String, Vec<String>),
    refused: &FieldErrors,
    secret: Option<String>,
) -> Response {
    let result = async {
        let (mut chrome, _) = chrome(state, session, "settings", flash).await?;
        let endpoints = webhooks::list_endpoints(&state.app)
            .await?
            .iter()
            .map(endpoint_row)
            .collect();
        let errors = FieldMessages::show(&mut chrome, refused);
        Ok::<_, HttpError>(WebhooksPage {
            title: chrome.tr.get("admin.webhooks.title"),
            endpoints,
            url,
            events: WebhookEvent::ALL
                .iter()
                .map(|e| EventChoice {
                    name: e.as_str(),
                    checked: ticked.iter().any(|t| t == e.as_str()),
                })
                .collect(),
            errors,
            secret,
            chrome,
        })
    }
    .await;
    match result {
        Ok(page) => {
            let status = page.errors.status();
            render(status, &page)
        }
        Err(e) => error_response(state, session, e).await,
    }
}

/// `GET /admin/settings/webhooks`.
pub(super) async fn webhooks_page(
    State(state): State<WebState>,
    Extension(session): Extension<AdminSession>,
    Query(flash): Query<FlashQuery>,
) -> Response {
    let nothing = (String::new(), Vec::new());
    list_response(&state, &session, &flash, nothing, &FieldErrors::new(), None).await
}

/// `POST /admin/settings/webhooks`: adds an endpoint; the answer shows its secret once (a page,
/// never a redirect, so that the secret is in no address or history).
pub(super) async fn webhook_add(
    State(state): State<WebState>,
    Extension(session): Extension<AdminSession>,
    body: Bytes,
) -> Response {
    let pairs = form_pairs(&body);
    let url = form_value(&pairs, "url").to_owned();
    let events: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k == "events")
        .map(|(_, v)| v.clone())
        .collect();
    let flash = FlashQuery::default();
    match webhooks::create_endpoint(&state.app, &url, &events).await {
        Ok(created) => {
            let blank = (String::new(), Vec::new());
            let secret = Some(created.secret);
            list_response(&state, &session, &flash, blank, &FieldErrors::new(), secret).await
        }
        Err(AppError::Invalid(refused)) => {
            list_response(&state, &session, &flash, (url, events), &refused, None).await
        }
        Err(e) => error_response(&state, &session, e).await,
    }
}

/// `POST /admin/settings/webhooks/{id}/delete`.
pub(super) async fn webhook_delete(
    State(state): State<WebState>,
    Extension(session): Extension<AdminSession>,
    Path(raw): Path<String>,
) -> Response {
    let result = async {
        webhooks::delete_endpoint(&state.app, parse_uuid(&raw)?).await?;
        Ok::<_, AppError>(())
    }
    .await;
    match result {
        Ok(()) => see_other("/admin/settings/webhooks?done=webhook_deleted"),
        Err(e) => error_response(&state, &session, e).await,
    }
}

/// `GET /admin/settings/webhooks/{id}`: the endpoint's delivery log.
pub(super) async fn webhook_log_page(
    State(state): State<WebState>,
    Extension(session): Extension<AdminSession>,
    Path(raw): Path<String>,
    Query(flash): Query<FlashQuery>,
) -> Response {
    let result = async {
        let (chrome, owner) = chrome(&state, &session, "settings", &flash).await?;
        let (endpoint, log) = webhooks::endpoint_log(&state.app, parse_uuid(&raw)?).await?;
        let tr = &chrome.tr;
        let deliveries = log.iter().map(|d| delivery_row(tr, &owner, d)).collect();
        Ok::<_, HttpError>(WebhookLogPage {
            title: tr.get("admin.webhooks.log_title"),
            endpoint: endpoint_row(&endpoint),
            deliveries,
            chrome,
        })
    }
    .await;
    match result {
        Ok(page) => render(StatusCode::OK, &page),
        Err(e) => error_response(&state, &session, e).await,
    }
}

/// `POST /admin/settings/webhooks/{id}/deliveries/{delivery_id}/send`: sends a message again.
pub(super) async fn webhook_send_again(
    State(state): State<WebState>,
    Extension(session): Extension<AdminSession>,
    Path((raw, delivery)): Path<(String, String)>,
) -> Response {
    let result = async {
        let endpoint = parse_uuid(&raw)?;
        webhooks::send_again(&state.app, endpoint, parse_uuid(&delivery)?).await?;
        Ok::<_, AppError>(endpoint)
    }
    .await;
    match result {
        Ok(endpoint) => see_other(&format!(
            "/admin/settings/webhooks/{endpoint}?done=webhook_queued"
        )),
        Err(e) => error_response(&state, &session, e).await,
    }
}
