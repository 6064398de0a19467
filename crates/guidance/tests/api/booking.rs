//! Creating bookings: taken slots, races, invalid input, rate limits.

use guidance_testkit::api::{intake, retry_after, with};
use guidance_testkit::time::{hours_ahead, iso};
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

#[tokio::test]
async fn a_taken_slot_answers_409_under_both_path_names() {
    a_taken_slot_answers_409_under_both_path_names_on(spawn_app().await).await;
}

/// The body of [`a_taken_slot_answers_409_under_both_path_names`], for any backend.
pub async fn a_taken_slot_answers_409_under_both_path_names_on(app: TestApp) {
    let slot = app.create_slot(24).await;
    assert_eq!(app.book(&intake(&slot)).await.0, 201);
    let other = with(intake(&slot), "email", json!("grace@example.net"));
    let (status, body) = app.book(&other).await;
    assert_eq!(status, 409);
    assert_eq!(body["error"]["code"], "slot_taken");
    assert!(!body["error"]["message"].as_str().unwrap().is_empty());
    let (status, body) = app
        .post_json("/functions/v1/create-guidance-booking", &other)
        .await;
    assert_eq!(status, 409);
    assert_eq!(body["error"]["code"], "slot_taken");
    assert_eq!(app.bookings().await.len(), 1);
}

#[tokio::test]
async fn fifty_concurrent_requests_for_one_slot_give_one_booking() {
    fifty_concurrent_requests_for_one_slot_give_one_booking_on(spawn_app().await).await;
}

/// The body of [`fifty_concurrent_requests_for_one_slot_give_one_booking`], for any backend.
pub async fn fifty_concurrent_requests_for_one_slot_give_one_booking_on(app: TestApp) {
    let slot = app.create_slot(24).await;
    let mut tasks = Vec::new();
    for i in 0..50 {
        let api = app.api.clone();
        let body = with(
            intake(&slot),
            "email",
            json!(format!("visitor{i}@example.net")),
        );
        tasks.push(tokio::spawn(async move { api.book(&body).await.0 }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    let created = statuses.iter().filter(|s| **s == 201).count();
    let taken = statuses.iter().filter(|s| **s == 409).count();
    assert_eq!((created, taken), (1, 49), "statuses: {statuses:?}");
    let bookings = app.bookings().await;
    assert_eq!(bookings.len(), 1);
    assert_eq!(bookings[0]["slot_id"], slot.as_str());
    // Exactly one owner email and one receipt.
    app.mail.wait_for("owner_new_request", 1).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(app.mail.of_kind("owner_new_request").len(), 1);
    assert_eq!(app.mail.of_kind("requester_received").len(), 1);
}

#[tokio::test]
async fn every_invalid_field_answers_422_naming_it_and_stores_nothing() {
    let app = spawn_app().await;
    let slot = app.create_slot(24).await;
    let cases: Vec<(&str, Value, &str)> = vec![
        ("slot_id", json!(""), "empty"),
        ("slot_id", json!("not-a-uuid"), "unknown_value"),
        ("name", json!(""), "empty"),
        (
            "name",
            json!("Eve\r\nBcc: victim@example.com"),
            "control_characters",
        ),
        ("name", json!("n".repeat(121)), "too_long"),
        ("name", json!(42), "wrong_type"),
        ("email", json!("nope"), "invalid_email"),
        ("email", json!("a@b.c\nBcc: x@y.z"), "control_characters"),
        ("email", json!(""), "empty"),
        ("topic", json!("   "), "empty"),
        ("topic", json!("x".repeat(2001)), "too_long"),
        ("topic", json!("bell\u{7}"), "control_characters"),
        ("priority", json!("critical"), "unknown_value"),
        ("priority", json!(""), "empty"),
        ("answers", json!([1, 2]), "wrong_type"),
        ("answers", json!({"q": "a".repeat(4001)}), "too_long"),
        ("locale", json!("e n"), "unknown_value"),
        ("locale", json!(["en"]), "wrong_type"),
        ("time_zone", json!("Mars/Olympus_Mons"), "unknown_time_zone"),
        ("time_zone", json!(""), "empty"),
        ("starts_at", json!("tomorrow at nine"), "unknown_value"),
        ("starts_at", json!(9), "wrong_type"),
        ("ends_at", json!("2030-13-01T00:00:00Z"), "unknown_value"),
    ];
    for (field, value, reason) in cases {
        let (status, body) = app.book(&with(intake(&slot), field, value.clone())).await;
        assert_eq!(status, 422, "{field}={value}: {body}");
        assert_eq!(body["error"]["code"], "invalid");
        assert_eq!(
            body["error"]["fields"][field]["code"], reason,
            "{field}={value}: {body}"
        );
        assert!(
            !body["error"]["fields"][field]["message"]
                .as_str()
                .unwrap()
                .is_empty()
        );
    }
    // Several wrong fields at once are all named.
    let (status, body) = app
        .book(&json!({"slot_id": slot, "name": "", "email": "x", "priority": "?"}))
        .await;
    assert_eq!(status, 422);
    let fields = body["error"]["fields"].as_object().unwrap();
    for f in ["name", "email", "topic", "priority", "time_zone"] {
        assert!(fields.contains_key(f), "{f} missing in {body}");
    }
    // Not JSON at all: a JSON 400.
    let resp = app
        .client
        .post(app.url("/api/bookings"))
        .header("content-type", "application/json")
        .body("{nope")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "bad_request");
    // An unknown slot is 404.
    let (status, body) = app
        .book(&intake("5f0c4a36-0000-4000-8000-000000000000"))
        .await;
    assert_eq!(status, 404, "{body}");

    // Nothing was stored, no email was queued, the slot is still open.
    assert!(app.bookings().await.is_empty());
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(
        app.mail.paths().is_empty(),
        "emails: {:?}",
        app.mail.paths()
    );
    assert_eq!(app.open_slot_ids().await, vec![slot]);
}

#[tokio::test]
async fn too_many_requests_from_one_client_answer_429_with_retry_after() {
    let app = spawn_app_with(|c| c.booking_rate_limit = 3).await;
    let slot = app.create_slot(24).await;
    for _ in 0..3 {
        let (status, _) = app.book(&with(intake(&slot), "email", json!("bad"))).await;
        assert_eq!(status, 422);
    }
    let resp = app
        .client
        .post(app.url("/api/bookings"))
        .json(&intake(&slot))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 429);
    let wait = retry_after(&resp).expect("a Retry-After in seconds");
    assert!((1..=60).contains(&wait));
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "too_many_requests");
    assert_eq!(
        app.open_slot_ids().await,
        vec![slot],
        "the refused request booked nothing"
    );
}

#[tokio::test]
async fn slots_in_the_past_or_outside_the_window_are_not_offered() {
    let app = spawn_app().await;
    let soon = app.create_slot(2).await;
    let later = app.create_slot(24 * 10).await;
    let from = iso(hours_ahead(24));
    let body: Value = app.get_json(&format!("/api/slots?from={from}")).await;
    let ids: Vec<_> = body["slots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, vec![later.clone()]);
    let slot = &body["slots"][0];
    assert_eq!(
        slot.as_object().unwrap().len(),
        3,
        "only id, starts_at and ends_at are public: {slot}"
    );
    let resp = app.get("/api/slots?from=yesterday").await;
    assert_eq!(resp.status(), 422);
    assert_eq!(app.open_slot_ids().await, vec![soon, later]);
}

/// The slot list is kept in memory for a moment; every change made through this server must
/// still show in the very next list.
#[tokio::test]
async fn every_change_shows_in_the_next_slot_list() {
    let app = spawn_app().await;
    let first = app.create_slot(30).await;
    let second = app.create_slot(32).await;
    assert_eq!(
        app.open_slot_ids().await,
        vec![first.clone(), second.clone()]
    );

    let (status, _) = app.book(&intake(&first)).await;
    assert_eq!(status, 201);
    assert_eq!(app.open_slot_ids().await, vec![second.clone()], "booked");

    let third = app.create_slot(34).await;
    assert_eq!(
        app.open_slot_ids().await,
        vec![second.clone(), third.clone()],
        "added"
    );

    let (status, _) = app
        .admin(
            reqwest::Method::PATCH,
            &format!("/api/admin/slots/{second}"),
            Some(json!({"status": "unavailable"})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        app.open_slot_ids().await,
        vec![third.clone()],
        "made unavailable"
    );

    let (status, _) = app
        .admin(
            reqwest::Method::DELETE,
            &format!("/api/admin/slots/{third}"),
            None,
        )
        .await;
    assert!(status == 200 || status == 204, "delete answered {status}");
    assert!(app.open_slot_ids().await.is_empty(), "deleted");
}

/// `intake(slot)` with the time the visitor saw.
fn seen(slot: &str, starts_at: &str, ends_at: &str) -> Value {
    let body = with(intake(slot), "starts_at", json!(starts_at));
    with(body, "ends_at", json!(ends_at))
}

#[tokio::test]
async fn a_visitor_is_booked_at_the_time_they_saw_or_not_at_all() {
    let app = spawn_app().await;
    let (start, end) = (hours_ahead(30), hours_ahead(31));
    let slot = app.create_slot_at(start, end).await;
    let (old_start, old_end) = (iso(start), iso(end));

    // One end without the other, or two that make no slot: refused, naming the field.
    for (body, field) in [
        (
            with(intake(&slot), "starts_at", json!(old_start)),
            "ends_at",
        ),
        (with(intake(&slot), "ends_at", json!(old_end)), "starts_at"),
        (seen(&slot, &old_end, &old_start), "ends_at"),
    ] {
        let (status, answer) = app.book(&body).await;
        assert_eq!(status, 422, "{body}: {answer}");
        assert!(answer["error"]["fields"][field].is_object(), "{answer}");
    }

    // The owner moves the slot an hour later while the visitor looks at the old time.
    let (new_start, new_end) = (iso(hours_ahead(31)), iso(hours_ahead(32)));
    let (status, body) = app
        .admin(
            Method::PATCH,
            &format!("/api/admin/slots/{slot}"),
            Some(json!({"starts_at": new_start, "ends_at": new_end})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    // The time they saw is gone: taken, and nothing is stored or sent.
    let (status, body) = app.book(&seen(&slot, &old_start, &old_end)).await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (409, json!("slot_taken")),
        "{body}"
    );
    // A time that only ends as the slot does is not the slot's either.
    let (status, body) = app.book(&seen(&slot, &old_start, &new_end)).await;
    assert_eq!(status, 409, "{body}");
    // An unknown slot is unknown, times or not.
    let unknown = "5f0c4a36-0000-4000-8000-000000000000";
    assert_eq!(app.book(&seen(unknown, &new_start, &new_end)).await.0, 404);
    assert!(app.bookings().await.is_empty());
    assert_eq!(app.open_slot_ids().await, vec![slot.clone()]);

    // The time now shown is booked, at that time, and the owner hears of it.
    let (status, body) = app.book(&seen(&slot, &new_start, &new_end)).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        (body["starts_at"].as_str(), body["ends_at"].as_str()),
        (Some(new_start.as_str()), Some(new_end.as_str()))
    );
    app.mail.wait_for("owner_new_request", 1).await;
    assert_eq!(app.bookings().await.len(), 1);
    assert!(app.open_slot_ids().await.is_empty());
    // Taken now, for a visitor who saw the same time.
    let other = with(
        seen(&slot, &new_start, &new_end),
        "email",
        json!("grace@example.net"),
    );
    assert_eq!(app.book(&other).await.0, 409);
}
