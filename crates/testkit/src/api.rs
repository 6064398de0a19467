//! The service's HTTP API as tests drive it, through any running server (the in-process test app
//! or a `guidance serve` child process): the owner's bearer calls, slots, booking requests and
//! what the owner sees of them. Bodies are `serde_json::Value`s, so that a test can also send
//! what no well-behaved client would.

use std::collections::BTreeMap;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use reqwest::Method;
use serde::Serialize;
use serde_json::{Value, json};

use crate::time::{hours_ahead, iso};

/// The owner API token every test server is given (the service wants 16 characters or more).
pub const ADMIN_TOKEN: &str = "test-admin-token-0123456789";

/// How long a slot made by [`Api::create_slot`] lasts.
const SLOT_MINUTES: i64 = 45;

/// A client that follows no redirect (tests look at them) and gives up after `timeout`.
pub fn client(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .build()
        .expect("an HTTP client")
}

/// A running server: its base URL and the client that talks to it.
#[derive(Debug, Clone)]
pub struct Api {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// The client every call goes through.
    pub client: reqwest::Client,
}

impl Api {
    /// The server at `base`, through a [`client`] that gives up after 30 s.
    pub fn new(base: impl Into<String>) -> Api {
        Api::with_client(base, client(Duration::from_secs(30)))
    }

    /// The server at `base`, through `client`.
    pub fn with_client(base: impl Into<String>, client: reqwest::Client) -> Api {
        Api {
            base: base.into(),
            client,
        }
    }

    /// `path` on this server.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// An owner API call with [`ADMIN_TOKEN`]: its status and its JSON body (`Null` if none).
    pub async fn admin(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        self.json_call(method, path, body, Some(ADMIN_TOKEN)).await
    }

    /// A call as anybody (no token), with a JSON body if given: its status and its JSON body
    /// (`Null` if none).
    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        self.json_call(method, path, body, None).await
    }

    async fn json_call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        token: Option<&str>,
    ) -> (u16, Value) {
        let mut req = self.client.request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Creates a slot starting at the whole hour `hours` from now, lasting 45 minutes; returns
    /// its id.
    pub async fn create_slot(&self, hours: i64) -> String {
        let start = hours_ahead(hours);
        self.create_slot_at(start, start + SignedDuration::from_mins(SLOT_MINUTES))
            .await
    }

    /// Creates `n` consecutive 45-minute slots an hour apart, the first at the whole hour
    /// `first_hour` from now; returns their ids.
    pub async fn create_slots(&self, first_hour: i64, n: usize) -> Vec<String> {
        let first = hours_ahead(first_hour);
        let mut ids = Vec::new();
        for i in 0..n {
            let start = first + SignedDuration::from_hours(i64::try_from(i).expect("few slots"));
            ids.push(
                self.create_slot_at(start, start + SignedDuration::from_mins(SLOT_MINUTES))
                    .await,
            );
        }
        ids
    }

    /// Creates a slot from `start` to `end` through the owner API; returns its id.
    pub async fn create_slot_at(&self, start: Timestamp, end: Timestamp) -> String {
        let (status, body) = self
            .admin(
                Method::POST,
                "/api/admin/slots",
                Some(json!({"starts_at": iso(start), "ends_at": iso(end)})),
            )
            .await;
        assert_eq!(status, 201, "creating a slot: {body}");
        body["id"].as_str().expect("the slot's id").to_owned()
    }

    /// Posts `body` as JSON to `path`: the status and the JSON answer (`Null` if none).
    pub async fn post_json(&self, path: &str, body: &Value) -> (u16, Value) {
        self.call(Method::POST, path, Some(body.clone())).await
    }

    /// A booking request (`POST /api/bookings`).
    pub async fn book(&self, body: &Value) -> (u16, Value) {
        self.post_json("/api/bookings", body).await
    }

    /// A booking request that may go unanswered (the server killed or cut off): status 0 then.
    pub async fn try_book(&self, body: &Value) -> Answer {
        let resp = match self
            .client
            .post(self.url("/api/bookings"))
            .json(body)
            .send()
            .await
        {
            Ok(r) => r,
            Err(e) => {
                return Answer {
                    status: 0,
                    id: None,
                    body: Value::String(e.to_string()),
                };
            }
        };
        let status = resp.status().as_u16();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        Answer {
            status,
            id: body["id"].as_str().map(str::to_owned),
            body,
        }
    }

    /// The owner's settings (`GET /api/admin/settings`).
    pub async fn settings(&self) -> Value {
        let (status, body) = self.admin(Method::GET, "/api/admin/settings", None).await;
        assert_eq!(status, 200, "{body}");
        body
    }

    /// Changes the owner's settings (`PUT /api/admin/settings`): the status and the answer.
    pub async fn put_settings(&self, body: Value) -> (u16, Value) {
        self.admin(Method::PUT, "/api/admin/settings", Some(body))
            .await
    }

    /// Replaces the owner's questions (`PUT /api/admin/questions`): the status and the answer.
    pub async fn put_questions(&self, body: Value) -> (u16, Value) {
        self.admin(Method::PUT, "/api/admin/questions", Some(body))
            .await
    }

    /// The ids of the slots the public list offers now, in its order.
    pub async fn open_slot_ids(&self) -> Vec<String> {
        let body = self.get_json("/api/slots").await;
        body["slots"]
            .as_array()
            .expect("a slot list")
            .iter()
            .map(|s| s["id"].as_str().expect("a slot id").to_owned())
            .collect()
    }

    /// The `starts_at` of the open slot `id` in the public list.
    pub async fn open_slot_start(&self, id: &str) -> String {
        let body = self.get_json("/api/slots").await;
        body["slots"]
            .as_array()
            .expect("a slot list")
            .iter()
            .find(|s| s["id"] == id)
            .unwrap_or_else(|| panic!("slot {id} is not offered: {body}"))["starts_at"]
            .as_str()
            .expect("a start")
            .to_owned()
    }

    /// One booking as the owner sees it (`GET /api/admin/bookings/{id}`).
    pub async fn booking(&self, id: &str) -> Value {
        let (status, body) = self
            .admin(Method::GET, &format!("/api/admin/bookings/{id}"), None)
            .await;
        assert_eq!(status, 200, "{body}");
        body
    }

    /// Every booking the owner can see (`GET /api/admin/bookings`).
    pub async fn bookings(&self) -> Vec<Value> {
        let (status, body) = self.admin(Method::GET, "/api/admin/bookings", None).await;
        assert_eq!(status, 200, "{body}");
        body["bookings"].as_array().expect("a list").clone()
    }

    /// The outbox emails of booking `id` as the owner sees them.
    pub async fn emails(&self, id: &str) -> Vec<Value> {
        self.booking(id).await["emails"]
            .as_array()
            .expect("emails")
            .clone()
    }

    /// The outbox emails of booking `id` that a change sent at once: without the ones
    /// scheduled for a later moment (reminders), which wait for the clock.
    pub async fn emails_now(&self, id: &str) -> Vec<Value> {
        let mut all = self.emails(id).await;
        all.retain(|e| e["send_before"].is_null());
        all
    }

    /// The kinds of the outbox emails of booking `id` that a change sent at once (see
    /// [`Api::emails_now`]), in the order they were queued.
    pub async fn email_kinds(&self, id: &str) -> Vec<String> {
        self.emails_now(id)
            .await
            .iter()
            .map(|e| e["kind"].as_str().expect("a kind").to_owned())
            .collect()
    }

    /// The owner's `action` (`accept`, `decline`, `cancel`, …) on booking `id`, through the
    /// owner API: the status and the JSON answer.
    pub async fn act(&self, id: &str, action: &str, body: Option<Value>) -> (u16, Value) {
        self.admin(
            Method::POST,
            &format!("/api/admin/bookings/{id}/{action}"),
            body,
        )
        .await
    }

    /// [`Api::get`]'s body as JSON, whatever the status.
    pub async fn get_json(&self, path_or_url: &str) -> Value {
        self.get(path_or_url)
            .await
            .json()
            .await
            .expect("a JSON body")
    }

    /// Posts `form` (URL-encoded, as a browser sends a form) to `path`.
    pub async fn post_form<F: Serialize + ?Sized>(
        &self,
        path: &str,
        form: &F,
    ) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .form(form)
            .send()
            .await
            .expect("request")
    }

    /// `GET` of `path` on this server, or of a whole URL (a link from an email).
    pub async fn get(&self, path_or_url: &str) -> reqwest::Response {
        self.send(Method::GET, path_or_url).await
    }

    /// A `POST` without a body to `path` on this server, or to a whole URL (a link from an
    /// email), as a button in a form without fields sends it.
    pub async fn post(&self, path_or_url: &str) -> reqwest::Response {
        self.send(Method::POST, path_or_url).await
    }

    async fn send(&self, method: Method, path_or_url: &str) -> reqwest::Response {
        let url = if path_or_url.starts_with('/') {
            self.url(path_or_url)
        } else {
            path_or_url.to_owned()
        };
        self.client
            .request(method, url)
            .send()
            .await
            .expect("request")
    }

    /// [`Api::get`]'s body as text, whatever the status.
    pub async fn text(&self, path_or_url: &str) -> String {
        self.get(path_or_url)
            .await
            .text()
            .await
            .expect("a text body")
    }
}

/// The seconds of an answer's `Retry-After`, if it has one in seconds.
pub fn retry_after(resp: &reqwest::Response) -> Option<u64> {
    resp.headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

/// The request body of Ada Lovelace booking `slot_id`: every field filled, and the answer to the
/// `company` question the test app asks.
pub fn intake(slot_id: &str) -> Value {
    json!({
        "slot_id": slot_id,
        "name": "Ada Lovelace",
        "email": "ada@example.net",
        "topic": "Analytical engines\nand what they could do",
        "priority": "high",
        "answers": {"company": "Difference Ltd"},
        "locale": "en",
        "time_zone": "America/Los_Angeles"
    })
}

/// The request body of visitor number `i` booking `slot` (each visitor with their own address),
/// for a server that asks no questions.
pub fn visitor_intake(slot: &str, i: usize) -> Value {
    json!({
        "slot_id": slot,
        "name": format!("Visitor {i}"),
        "email": format!("visitor{i}@example.net"),
        "topic": "Real processes",
        "priority": "normal",
        "answers": {},
        "locale": "en",
        "time_zone": "Europe/Berlin"
    })
}

/// `body` with `field` set to `value`.
pub fn with(mut body: Value, field: &str, value: Value) -> Value {
    body[field] = value;
    body
}

/// What one booking request got.
#[derive(Debug, Clone)]
pub struct Answer {
    /// The HTTP status, or 0 when the connection failed or timed out.
    pub status: u16,
    /// The booking id of a 201.
    pub id: Option<String>,
    /// The body, for the message of a failed assertion.
    pub body: Value,
}

/// Sends `requests` booking requests at once: request `i` books `slots[i % slots.len()]` as
/// [`visitor_intake`] `i` on `servers[(i / slots.len()) % servers.len()]`, so that every slot's
/// requests are split over every server. Returns each request's answer, in order.
pub async fn book_all_at_once(servers: &[Api], slots: &[String], requests: usize) -> Vec<Answer> {
    let tasks: Vec<_> = (0..requests)
        .map(|i| {
            let slot = slots[i % slots.len()].clone();
            let server = servers[(i / slots.len()) % servers.len()].clone();
            tokio::spawn(async move { server.try_book(&visitor_intake(&slot, i)).await })
        })
        .collect();
    let mut answers = Vec::new();
    for t in tasks {
        answers.push(t.await.expect("request task"));
    }
    answers
}

/// Status → how many answers had it.
pub fn count_statuses(answers: &[Answer]) -> BTreeMap<u16, usize> {
    let mut statuses = BTreeMap::new();
    for a in answers {
        *statuses.entry(a.status).or_insert(0) += 1;
    }
    statuses
}
