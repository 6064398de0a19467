//! Delivering webhook messages, beside the outbox worker's emails: each due message is claimed
//! under a lease (so that several processes deliver it once), signed as the Standard Webhooks
//! specification asks, posted with no redirects, [`TIMEOUT`] at most and [`MAX_ANSWER`] bytes
//! of answer read, and its attempt logged; a failure is retried with the emails' back-off, and
//! after their last attempt the message waits failed for the owner's "send again".

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use guidance_store::{
    StoreError, WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookOutcome,
};
use tokio::sync::{Notify, watch};
use url::Url;
use uuid::Uuid;

use crate::App;
use crate::outbound;

/// Longest one attempt may take, connecting included.
pub const TIMEOUT: Duration = Duration::from_secs(10);
/// Bytes of a receiver's answer read at most (the rest is not waited for).
pub const MAX_ANSWER: usize = 64 * 1024;
/// Messages claimed in one round before the queue is looked at again.
const ROUND: usize = 32;
/// The longest the loop sleeps without looking at the queue.
const IDLE_POLL: Duration = Duration::from_secs(3);

/// The HTTP client of webhooks, and what wakes their loop; cheap to clone.
#[derive(Clone)]
pub struct Poster {
    client: reqwest::Client,
    allow_private: bool,
    /// Wakes the delivery loop (the outbox worker passes its own wake-ups on).
    pub wake: Arc<Notify>,
}

impl Poster {
    /// A client that keeps the rules above; `allow_private` lets it post to private addresses
    /// and plain http (`GUIDANCE_WEBHOOK_ALLOW_PRIVATE`).
    pub fn new(allow_private: bool) -> Self {
        let client = outbound::client(
            allow_private,
            TIMEOUT,
            Duration::from_secs(5),
            concat!("Guidance/", env!("CARGO_PKG_VERSION"), " (webhooks)"),
        );
        Self {
            client,
            allow_private,
            wake: Arc::new(Notify::new()),
        }
    }

    /// Posts `body` to `url` as message `id` signed with `signature` at `timestamp`; the HTTP
    /// status of a 2xx answer, or the status (if any) and why it failed.
    async fn post(
        &self,
        url: &str,
        headers: [(&'static str, String); 3],
        body: String,
    ) -> Result<u16, (Option<u16>, String)> {
        let url = Url::parse(url).map_err(|e| (None, e.to_string()))?;
        outbound::check_url(&url, self.allow_private).map_err(|_| {
            (
                None,
                "the address is not https on the public internet".into(),
            )
        })?;
        let mut request = self
            .client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json");
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let mut response = request.body(body).send().await.map_err(network)?;
        let status = response.status().as_u16();
        // Read a little of the answer, so the connection ends cleanly; never more.
        let mut read = 0;
        while read < MAX_ANSWER {
            match response.chunk().await {
                Ok(Some(chunk)) => read += chunk.len(),
                _ => break,
            }
        }
        if response.status().is_success() {
            Ok(status)
        } else {
            Err((Some(status), format!("HTTP {status}")))
        }
    }
}

/// An error with its causes (refused address, TLS, timeout), for the delivery log.
fn network(e: reqwest::Error) -> (Option<u16>, String) {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    if outbound::is_private_refusal(&text) {
        text = "the address is on a private network".into();
    }
    (None, text)
}

/// The `webhook-id` of message `id`: the same on every attempt, so a receiver can tell a retry.
pub fn message_id(id: Uuid) -> String {
    format!("msg_{}", id.simple())
}

/// Delivers a round of due messages, one at a time; how many were claimed. Once `shutdown` is
/// true no further message is claimed, and one in flight is given up and due again at once
/// (for another process).
pub async fn deliver_due(app: &App, shutdown: &watch::Receiver<bool>) -> Result<usize, StoreError> {
    let mut endpoints: Option<HashMap<Uuid, WebhookEndpoint>> = None;
    let mut claimed = 0;
    while claimed < ROUND && !*shutdown.borrow() {
        let now = app.now();
        let lease_until = now.checked_add(app.settings.retry.lease).expect("in range");
        let Some(delivery) = app.store.claim_webhook_delivery(now, lease_until).await? else {
            break;
        };
        claimed += 1;
        if endpoints.is_none() {
            let all = app.store.list_webhook_endpoints().await?;
            endpoints = Some(all.into_iter().map(|e| (e.id, e)).collect());
        }
        let endpoint = endpoints
            .as_ref()
            .and_then(|all| all.get(&delivery.endpoint_id));
        let attempt = attempt(app, endpoint, &delivery, shutdown.clone()).await;
        app.store
            .record_webhook_attempt(delivery.id, &attempt)
            .await?;
    }
    Ok(claimed)
}

/// One attempt at `delivery` for `endpoint`, and what follows from it.
async fn attempt(
    app: &App,
    endpoint: Option<&WebhookEndpoint>,
    delivery: &WebhookDelivery,
    mut shutdown: watch::Receiver<bool>,
) -> WebhookAttempt {
    let result = match endpoint {
        // Removed since the claim: its messages are gone with it.
        None => Err((None, "the endpoint was removed".to_owned())),
        Some(endpoint) => match super::secret_of(app, endpoint) {
            None => Err((None, "the endpoint's secret cannot be opened".to_owned())),
            Some(secret) => {
                let id = message_id(delivery.id);
                let timestamp = app.now().as_second();
                let signature = secret.sign(&id, timestamp, delivery.payload.as_bytes());
                let headers = [
                    ("webhook-id", id),
                    ("webhook-timestamp", timestamp.to_string()),
                    ("webhook-signature", signature),
                ];
                let post = app
                    .webhooks
                    .post(&endpoint.url, headers, delivery.payload.clone());
                tokio::select! {
                    result = post => result,
                    () = stopped(&mut shutdown) => {
                        return WebhookAttempt {
                            status_code: None,
                            error: Some("interrupted by a shutdown".into()),
                            outcome: WebhookOutcome::Retry(app.now()),
                            now: app.now(),
                        };
                    }
                }
            }
        },
    };
    let policy = &app.settings.retry;
    let now = app.now();
    let (status_code, error, outcome) = match result {
        Ok(status) => (Some(status), None, WebhookOutcome::Delivered),
        Err((status, error)) if delivery.attempts >= policy.max_attempts => {
            tracing::warn!(delivery = %delivery.id, %error, "webhook failed for good");
            (status, Some(error), WebhookOutcome::Failed)
        }
        Err((status, error)) => {
            let next = now
                .checked_add(policy.backoff(delivery.attempts))
                .expect("in range");
            tracing::info!(delivery = %delivery.id, %error, attempt = delivery.attempts, "webhook attempt failed; will retry");
            (status, Some(error), WebhookOutcome::Retry(next))
        }
    };
    WebhookAttempt {
        status_code: status_code.map(i64::from),
        error,
        outcome,
        now,
    }
}

/// Resolves once `shutdown` is true (never, when nobody can signal any more).
async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    if shutdown.wait_for(|stop| *stop).await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// Runs until `shutdown` turns true: delivers what is due, then sleeps until the next message
/// is due, it is woken, or [`IDLE_POLL`] passed (messages queued by other processes wake
/// nobody here).
pub async fn run(app: App, mut shutdown: watch::Receiver<bool>) {
    loop {
        if *shutdown.borrow() {
            break;
        }
        loop {
            match deliver_due(&app, &shutdown).await {
                Ok(n) if n > 0 && !*shutdown.borrow() => continue,
                Ok(_) => break,
                Err(e) => {
                    tracing::error!(error = %e, "webhooks: database error");
                    break;
                }
            }
        }
        let sleep = match app.store.next_webhook_due().await {
            Ok(Some(due)) => Duration::try_from(due.duration_since(app.now()))
                .unwrap_or(Duration::ZERO)
                .clamp(Duration::from_millis(20), IDLE_POLL),
            _ => IDLE_POLL,
        };
        tokio::select! {
            () = app.webhooks.wake.notified() => {}
            () = tokio::time::sleep(sleep) => {}
            _ = shutdown.changed() => {}
        }
    }
}
