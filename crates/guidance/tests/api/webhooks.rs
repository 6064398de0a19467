//! Webhooks end to end: every message is verified by a real receiver with the `standardwebhooks`
//! package; a receiver that is down for a while gets every event once it is back, each once by
//! `webhook-id`; a wrong secret fails; bad addresses and unknown events are refused.

use guidance_testkit::api::intake;
use guidance_testkit::wait::poll;
use guidance_testkit::webhooks::Receiver;
use reqwest::Method;
use serde_json::{Value, json};
use std::time::Duration;

use crate::helpers::{TestApp, spawn_app, spawn_app_with};

const ALL: [&str; 7] = [
    "booking.requested",
    "booking.accepted",
    "booking.declined",
    "booking.reschedule_requested",
    "booking.rescheduled",
    "booking.cancelled",
    "booking.expired",
];

/// Adds an endpoint for `receiver` receiving `events`; its id and secret.
async fn add_endpoint(app: &TestApp, receiver: &Receiver, events: &[&str]) -> (String, String) {
    let (status, body) = app
        .admin(
            Method::POST,
            "/api/admin/webhooks",
            Some(json!({"url": receiver.url(), "events": events})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let secret = body["secret"]
        .as_str()
        .expect("the secret, once")
        .to_owned();
    (body["id"].as_str().expect("id").to_owned(), secret)
}

/// Books a new slot `hours` ahead; the booking's id.
async fn book(app: &TestApp, hours: i64) -> String {
    let slot = app.create_slot(hours).await;
    let (status, body) = app.book(&intake(&slot)).await;
    assert_eq!(status, 201, "{body}");
    body["id"].as_str().expect("id").to_owned()
}

/// The endpoint's delivery log, newest first.
async fn deliveries(app: &TestApp, endpoint: &str) -> Vec<Value> {
    let (status, body) = app
        .admin(
            Method::GET,
            &format!("/api/admin/webhooks/{endpoint}/deliveries"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body["deliveries"].as_array().expect("a list").clone()
}

/// Waits until every message of the log has been tried at least `attempts` times and none is
/// held by the worker.
async fn tried(app: &TestApp, endpoint: &str, n: usize, attempts: i64) -> Vec<Value> {
    poll(Duration::from_secs(30), || async {
        let log = deliveries(app, endpoint).await;
        let done = log.len() == n
            && log.iter().all(|d| {
                d["attempts"].as_i64() >= Some(attempts)
                    && (d["status"] != "queued" || d["last_error"].is_string())
            });
        done.then_some(log)
    })
    .await
    .unwrap_or_else(|| panic!("{n} messages were not tried {attempts} times"))
}

#[tokio::test]
async fn every_change_is_posted_signed_and_verifies_with_the_standard_library() {
    let app = spawn_app().await;
    let receiver = Receiver::start();
    receiver.set_clock(app.clock.now());
    let (endpoint, secret) = add_endpoint(&app, &receiver, &ALL).await;
    assert!(secret.starts_with("whsec_"));
    receiver.set_secret(&secret);

    let id = book(&app, 30).await;
    assert_eq!(app.act(&id, "accept", None).await.0, 200);
    assert_eq!(app.act(&id, "cancel", None).await.0, 200);

    let got = receiver.wait_for(3).await;
    for g in &got {
        assert!(g.verified, "verified by standardwebhooks: {:?}", g.error);
    }
    let types: Vec<&str> = got
        .iter()
        .map(|g| g.payload["type"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        types,
        ["booking.requested", "booking.accepted", "booking.cancelled"]
    );
    let data = &got[1].payload["data"];
    assert_eq!(data["id"], id.as_str());
    assert_eq!(data["status"], "accepted");
    assert_eq!(data["email"], "ada@example.net");
    assert!(data["starts_at"].is_string() && data["topic"].is_string());
    assert_eq!(got[2].payload["data"]["status"], "cancelled");

    // The log shows them delivered; the secret is never shown again, nor kept readable.
    let log = tried(&app, &endpoint, 3, 1).await;
    assert!(log.iter().all(|d| d["status"] == "delivered"), "{log:?}");
    let ids: Vec<&str> = log
        .iter()
        .filter_map(|d| d["webhook_id"].as_str())
        .collect();
    assert!(got.iter().all(|g| ids.contains(&g.webhook_id.as_str())));
    let (_, list) = app.admin(Method::GET, "/api/admin/webhooks", None).await;
    assert_eq!(list["webhooks"][0]["id"], endpoint.as_str());
    assert!(list["webhooks"][0].get("secret").is_none(), "{list}");
    let db = std::fs::read(app.dir.path().join("guidance.db")).expect("the database");
    let key = secret.trim_start_matches("whsec_");
    assert!(
        !db.windows(key.len()).any(|w| w == key.as_bytes()),
        "the secret lies sealed"
    );
}

#[tokio::test]
async fn a_receiver_down_for_a_while_gets_every_event_once_it_is_back() {
    let app = spawn_app().await;
    let mut receiver = Receiver::start();
    let (endpoint, secret) = add_endpoint(&app, &receiver, &ALL).await;
    receiver.set_secret(&secret);
    receiver.stop();

    let first = book(&app, 30).await;
    let second = book(&app, 32).await;
    assert_eq!(app.act(&first, "decline", None).await.0, 200);
    // Refused at once, then again after each back-off (the clock moves; nobody sleeps).
    tried(&app, &endpoint, 3, 1).await;
    for attempt in 2..=3 {
        app.pass_hours(0.5).await;
        tried(&app, &endpoint, 3, attempt).await;
    }
    assert!(receiver.got().is_empty());
    let log = deliveries(&app, &endpoint).await;
    assert!(
        log.iter()
            .all(|d| d["status"] == "queued" && d["next_attempt_at"].is_string()),
        "{log:?}"
    );

    receiver.restart();
    // The receiver measures the timestamps' tolerance from the tests' clock, set before it moves.
    receiver.set_clock(app.clock.now() + jiff::SignedDuration::from_hours(2));
    app.pass_hours(2.0).await;
    let got = receiver.wait_for(3).await;
    let delivered = tried(&app, &endpoint, 3, 4).await;
    assert!(delivered.iter().all(|d| d["status"] == "delivered"));
    // Each once, by webhook-id, with the id it kept across the refused attempts.
    let mut ids: Vec<&str> = got.iter().map(|g| g.webhook_id.as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 3, "{got:?}");
    for g in &got {
        assert!(g.verified, "{:?}", g.error);
        assert!(
            delivered
                .iter()
                .any(|d| d["webhook_id"] == g.webhook_id.as_str()),
            "{g:?}"
        );
    }
    let mut seen: Vec<(String, String)> = got
        .iter()
        .map(|g| {
            (
                g.payload["data"]["id"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                g.payload["type"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    seen.sort();
    let mut expected = vec![
        (first.clone(), "booking.requested".to_owned()),
        (first.clone(), "booking.declined".to_owned()),
        (second.clone(), "booking.requested".to_owned()),
    ];
    expected.sort();
    assert_eq!(seen, expected);
    // Nothing more arrives later.
    app.pass_hours(3.0).await;
    assert_eq!(receiver.got().len(), 3);
}

#[tokio::test]
async fn a_wrong_secret_fails_verification_and_send_again_repeats_the_same_message() {
    let app = spawn_app().await;
    let receiver = Receiver::start();
    receiver.set_clock(app.clock.now());
    let (endpoint, secret) = add_endpoint(&app, &receiver, &["booking.requested"]).await;
    // Another endpoint's secret: the signature does not match.
    let (_, other) = add_endpoint(&app, &receiver, &["booking.expired"]).await;
    assert_ne!(secret, other);
    receiver.set_secret(&other);
    book(&app, 30).await;
    let got = receiver.wait_for(1).await;
    assert!(!got[0].verified);
    assert!(
        got[0]
            .error
            .as_deref()
            .is_some_and(|e| e.contains("No matching signature")),
        "{got:?}"
    );
    let log = tried(&app, &endpoint, 1, 1).await;
    assert_eq!(log[0]["last_status"], 400);
    assert_eq!(log[0]["status"], "queued");

    // With the right secret, "send again" delivers the very same message.
    receiver.set_secret(&secret);
    let message = log[0]["id"].as_str().expect("id");
    let (status, body) = app
        .admin(
            Method::POST,
            &format!("/api/admin/webhooks/{endpoint}/deliveries/{message}/send"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let got = receiver.wait_for(2).await;
    assert!(got[1].verified, "{:?}", got[1].error);
    assert_eq!(got[1].webhook_id, got[0].webhook_id);
}

#[tokio::test]
async fn bad_addresses_and_unknown_events_are_refused_and_nothing_is_stored() {
    let app = spawn_app_with(|c| c.webhook_allow_private = false).await;
    for (body, field, reason) in [
        (
            json!({"url": "http://hooks.example/in", "events": ["booking.accepted"]}),
            "url",
            "not_public_https",
        ),
        (
            json!({"url": "https://127.0.0.1/in", "events": ["booking.accepted"]}),
            "url",
            "not_public_https",
        ),
        (
            json!({"url": "https://user:pw@hooks.example/in", "events": ["booking.accepted"]}),
            "url",
            "not_public_https",
        ),
        (
            json!({"url": "https://hooks.example/in", "events": ["booking.paid"]}),
            "events",
            "unknown_value",
        ),
        (
            json!({"url": "https://hooks.example/in", "events": []}),
            "events",
            "empty",
        ),
        (
            json!({"url": "https://hooks.example/in", "events": "booking.accepted"}),
            "events",
            "wrong_type",
        ),
    ] {
        let (status, answer) = app
            .admin(Method::POST, "/api/admin/webhooks", Some(body.clone()))
            .await;
        assert_eq!(status, 422, "{body}: {answer}");
        assert_eq!(
            answer["error"]["fields"][field]["code"], reason,
            "{body}: {answer}"
        );
    }
    let (_, list) = app.admin(Method::GET, "/api/admin/webhooks", None).await;
    assert_eq!(list["webhooks"], json!([]));
    let (status, _) = app
        .admin(
            Method::POST,
            "/api/admin/webhooks",
            Some(json!({"url": "https://hooks.example/in", "events": ["booking.accepted"]})),
        )
        .await;
    assert_eq!(status, 201);
}

#[tokio::test]
async fn the_settings_page_adds_shows_the_secret_once_logs_and_removes_a_webhook() {
    let app = crate::admin_ui::spawn_admin_app().await;
    let owner = crate::admin_ui::login(&app).await;
    let (status, settings) = owner.get(&app, "/admin/settings").await;
    assert_eq!(status, 200);
    assert!(settings.contains("href=\"/admin/settings/webhooks\""));

    // Refused: the form comes back with the message at its field, nothing stored.
    let (status, page) = owner
        .post(
            &app,
            "/admin/settings/webhooks",
            &[
                ("url", "ftp://hooks.example/in"),
                ("events", "booking.accepted"),
            ],
        )
        .await;
    assert_eq!(status, 422);
    assert!(page.contains("id=\"url-error\""), "{page}");
    assert!(page.contains("value=\"ftp://hooks.example/in\""));

    let receiver = Receiver::start();
    receiver.set_clock(app.clock.now());
    let (status, page) = owner
        .post(
            &app,
            "/admin/settings/webhooks",
            &[
                ("url", receiver.url().as_str()),
                ("events", "booking.requested"),
                ("events", "booking.cancelled"),
            ],
        )
        .await;
    assert_eq!(status, 200);
    let start = page.find("<code>whsec_").expect("the secret, once") + 6;
    let secret = page[start..].split('<').next().unwrap().to_owned();
    receiver.set_secret(&secret);
    let (_, again) = owner.get(&app, "/admin/settings/webhooks").await;
    assert!(again.contains(&receiver.url()));
    assert!(!again.contains("whsec_"), "never shown again");

    book(&app, 30).await;
    let got = receiver.wait_for(1).await;
    assert!(got[0].verified, "{:?}", got[0].error);
    let (_, list) = app.admin(Method::GET, "/api/admin/webhooks", None).await;
    let endpoint = list["webhooks"][0]["id"].as_str().expect("id").to_owned();
    let delivered = tried(&app, &endpoint, 1, 1).await;
    let (status, log) = owner
        .get(&app, &format!("/admin/settings/webhooks/{endpoint}"))
        .await;
    assert_eq!(status, 200);
    assert!(
        log.contains("booking.requested") && log.contains("HTTP 204"),
        "{log}"
    );
    assert!(log.contains(delivered[0]["webhook_id"].as_str().unwrap()));

    let message = delivered[0]["id"].as_str().unwrap();
    let (status, location) = owner
        .post(
            &app,
            &format!("/admin/settings/webhooks/{endpoint}/deliveries/{message}/send"),
            &[],
        )
        .await;
    assert_eq!(status, 303);
    assert!(location.ends_with("?done=webhook_queued"), "{location}");
    let got = receiver.wait_for(2).await;
    assert_eq!(got[1].webhook_id, got[0].webhook_id);

    let (status, location) = owner
        .post(
            &app,
            &format!("/admin/settings/webhooks/{endpoint}/delete"),
            &[],
        )
        .await;
    assert_eq!(
        (status, location.as_str()),
        (303, "/admin/settings/webhooks?done=webhook_deleted")
    );
    let (_, list) = app.admin(Method::GET, "/api/admin/webhooks", None).await;
    assert_eq!(list["webhooks"], json!([]));
}
