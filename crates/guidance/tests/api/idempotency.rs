//! `Idempotency-Key`: a request sent again with the key of its first sending gets the first
//! answer again — a visitor whose `201` was lost on a flaky connection can simply try again —
//! while the same key with another body is refused, and keys expire by the app's clock.

use std::time::Duration;

use guidance_testkit::api::{ADMIN_TOKEN, intake, with};
use guidance_testkit::mail::{action_links, token_of};
use guidance_testkit::wait::poll;
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::helpers::*;

/// Posts `body` to `path` with `Idempotency-Key: key`: the status and the body as sent.
async fn post_keyed(app: &TestApp, path: &str, key: &str, body: &Value) -> (u16, String) {
    let resp = app
        .client
        .post(app.url(path))
        .header("Idempotency-Key", key)
        .header("Accept-Language", "de")
        .json(body)
        .send()
        .await
        .expect("request");
    let status = resp.status().as_u16();
    (status, resp.text().await.expect("body"))
}

fn json_of(text: &str) -> Value {
    serde_json::from_str(text).expect("a JSON answer")
}

/// Every booking, through the owner API.
async fn bookings(app: &TestApp) -> Vec<Value> {
    let resp = app
        .client
        .get(app.url("/api/admin/bookings"))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .expect("bookings");
    let body: Value = resp.json().await.expect("JSON");
    body["bookings"].as_array().cloned().unwrap_or_default()
}

/// Sends a keyed booking request over a raw connection and hangs up, without reading a byte
/// of the answer, once the booking is in the database: a `201` lost on the way.
async fn book_and_lose_the_answer(app: &TestApp, key: &str, body: &Value) {
    let body = serde_json::to_vec(body).expect("json");
    let mut request = format!(
        "POST /api/bookings HTTP/1.1\r\nHost: guidance.test\r\nContent-Type: application/json\r\n\
         Idempotency-Key: {key}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(&body);
    let addr = app.base.trim_start_matches("http://").to_owned();
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream.write_all(&request).await.expect("send");
    let stored = poll(Duration::from_secs(10), || async {
        (bookings(app).await.len() == 1).then_some(())
    })
    .await;
    assert!(stored.is_some(), "the booking was not made");
    stream.set_zero_linger().expect("SO_LINGER");
    drop(stream);
}

#[tokio::test]
async fn a_booking_whose_answer_was_lost_is_answered_again_when_sent_again_with_its_key() {
    a_booking_whose_answer_was_lost_is_answered_again_on(spawn_app().await).await;
}

#[tokio::test]
async fn a_booking_whose_answer_was_lost_is_answered_again_on_postgres() {
    a_booking_whose_answer_was_lost_is_answered_again_on(spawn_app_on_postgres().await).await;
}

/// The body of the lost-answer tests, for any backend.
async fn a_booking_whose_answer_was_lost_is_answered_again_on(app: TestApp) {
    let slot = app.create_slot(48).await;
    let body = intake(&slot);
    let key = "0b6c7a52-7a1e-4d0e-9d55-3c8f1f0c2b11";
    book_and_lose_the_answer(&app, key, &body).await;

    let (status, again) = post_keyed(&app, "/api/bookings", key, &body).await;
    assert_eq!(status, 201, "{again}");
    let stored = bookings(&app).await;
    assert_eq!(stored.len(), 1, "one booking, not two");
    let again = json_of(&again);
    assert_eq!(again["id"], stored[0]["id"]);
    assert_eq!(again["status"], "pending");
    assert!(
        again["status_url"]
            .as_str()
            .is_some_and(|u| u.contains("/my/")),
        "the visitor's own page, as in a first answer: {again}"
    );
    // Under the other path name too, which is the same endpoint.
    let (status, alias) =
        post_keyed(&app, "/functions/v1/create-guidance-booking", key, &body).await;
    assert_eq!((status, json_of(&alias)), (201, again.clone()));

    // Without the key, the same request is a new one: the slot is taken (by itself).
    let (status, _) = app.book(&body).await;
    assert_eq!(status, 409);

    // The same key with another body is refused, clearly, in the visitor's language.
    let other = with(body.clone(), "name", json!("Someone Else"));
    let (status, refused) = post_keyed(&app, "/api/bookings", key, &other).await;
    let refused = json_of(&refused);
    assert_eq!(
        (status, refused["error"]["code"].as_str()),
        (422, Some("idempotency_key_reused")),
        "{refused}"
    );
    assert!(
        refused["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("Schlüssel")),
        "{refused}"
    );
    assert_eq!(bookings(&app).await.len(), 1);
}

#[tokio::test]
async fn the_first_answer_is_given_again_byte_for_byte_until_the_key_expires() {
    let app = spawn_app().await;
    let slot = app.create_slot(48).await;
    let body = intake(&slot);
    let (status, first) = post_keyed(&app, "/api/bookings", "k-1", &body).await;
    assert_eq!(status, 201, "{first}");

    // The owner accepts meanwhile; the answer given again is the first one, not today's state.
    let owner_mail = app.mail.wait_for("owner_new_request", 1).await.remove(0);
    let accept = token_of(&action_links(&owner_mail, &app.base)[0]);
    let act = json!({"token": accept, "action": "accept"});
    let (status, accepted) = post_keyed(&app, "/api/actions", "a-1", &act).await;
    assert_eq!(status, 200, "{accepted}");
    let (status, again) = post_keyed(&app, "/api/bookings", "k-1", &body).await;
    assert_eq!((status, &again), (201, &first));

    // An emailed link used with a key: sent again, the same answer, not "used already".
    let (status, act_again) = post_keyed(&app, "/api/actions", "a-1", &act).await;
    assert_eq!((status, &act_again), (200, &accepted));
    let (status, _) = app.post_json("/api/actions", &act).await;
    assert_eq!(status, 409, "without its key it is a new request");

    // A day later the key is forgotten: the same request is a new one.
    app.pass_hours(25.0).await;
    let (status, late) = post_keyed(&app, "/api/bookings", "k-1", &body).await;
    assert_eq!(
        (status, json_of(&late)["error"]["code"].as_str()),
        (409, Some("slot_taken"))
    );
}

#[tokio::test]
async fn a_malformed_key_is_refused_before_anything_happens() {
    let app = spawn_app().await;
    let slot = app.create_slot(48).await;
    let long = "k".repeat(256);
    for key in [long.as_str(), "with space", "ümlaut"] {
        let resp = app
            .client
            .post(app.url("/api/bookings"))
            .header("Idempotency-Key", key.as_bytes())
            .json(&intake(&slot))
            .send()
            .await
            .expect("request");
        assert_eq!(resp.status().as_u16(), 400, "{key}");
        let body: Value = resp.json().await.expect("JSON");
        assert_eq!(body["error"]["code"], "idempotency_key_invalid");
    }
    assert!(bookings(&app).await.is_empty());
}
