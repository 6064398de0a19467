//! The owner API: authentication and slot management.

use guidance_testkit::api::{ADMIN_TOKEN, intake};
use guidance_testkit::time::{hours_ahead, iso};
use reqwest::Method;
use serde_json::json;

use crate::helpers::*;

/// Every owner route, with a method and a body that would otherwise be valid.
fn owner_routes(slot: &str, booking: &str) -> Vec<(Method, String)> {
    vec![
        (Method::GET, "/api/admin/slots".into()),
        (Method::POST, "/api/admin/slots".into()),
        (Method::PATCH, format!("/api/admin/slots/{slot}")),
        (Method::DELETE, format!("/api/admin/slots/{slot}")),
        (Method::GET, "/api/admin/bookings".into()),
        (Method::GET, format!("/api/admin/bookings/{booking}")),
        (
            Method::POST,
            format!("/api/admin/bookings/{booking}/accept"),
        ),
        (
            Method::POST,
            format!("/api/admin/bookings/{booking}/decline"),
        ),
        (
            Method::POST,
            format!("/api/admin/bookings/{booking}/reschedule"),
        ),
        (
            Method::POST,
            format!("/api/admin/bookings/{booking}/cancel"),
        ),
    ]
}

#[tokio::test]
async fn the_owner_api_refuses_missing_and_wrong_tokens() {
    let app = spawn_app().await;
    let slot = app.create_slot(24).await;
    let spare = app.create_slot(26).await;
    let (_, booking) = app.book(&intake(&slot)).await;
    let booking = booking["id"].as_str().unwrap().to_owned();
    for (method, path) in owner_routes(&spare, &booking) {
        for auth in [
            None,
            Some("Bearer wrong-token-wrong-token"),
            Some("Bearer "),
            Some(&*format!("Basic {ADMIN_TOKEN}")),
            Some(&*format!("Bearer {ADMIN_TOKEN}x")),
        ] {
            let mut req = app.client.request(method.clone(), app.url(&path)).json(&json!({"status": "unavailable", "starts_at": "2030-01-01T10:00:00Z", "ends_at": "2030-01-01T11:00:00Z"}));
            if let Some(a) = auth {
                req = req.header("authorization", a);
            }
            let resp = req.send().await.unwrap();
            assert_eq!(resp.status(), 401, "{method} {path} with {auth:?}");
            let body: serde_json::Value = resp.json().await.unwrap();
            assert_eq!(body["error"]["code"], "unauthorized");
        }
    }
    // Nothing changed.
    assert_eq!(app.booking(&booking).await["status"], "pending");
    assert_eq!(app.open_slot_ids().await, vec![spare]);
}

#[tokio::test]
async fn without_a_configured_token_bearer_access_is_off() {
    let app = spawn_app_with(|c| c.admin_token = None).await;
    for token in ["", "None", ADMIN_TOKEN] {
        let resp = app
            .client
            .get(app.url("/api/admin/bookings"))
            .header("authorization", format!("Bearer {token}"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 401, "token {token:?}");
    }
}

#[tokio::test]
async fn a_short_admin_token_stops_the_service_from_starting() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path());
    config.admin_token = Some("short".into());
    let err = guidance::startup::Application::build(config)
        .await
        .err()
        .expect("refused");
    assert!(err.to_string().contains("at least 16 characters"), "{err}");
}

#[tokio::test]
async fn the_owner_manages_slots() {
    let app = spawn_app().await;
    let start = hours_ahead(24);
    let end = start
        .checked_add(jiff::SignedDuration::from_mins(60))
        .unwrap();
    let slot = app.create_slot_at(start, end).await;

    // Overlaps are refused by the database; adjacent slots are fine.
    let half = start
        .checked_add(jiff::SignedDuration::from_mins(30))
        .unwrap();
    let (status, body) = app.admin(Method::POST, "/api/admin/slots", Some(json!({"starts_at": iso(half), "ends_at": iso(end.checked_add(jiff::SignedDuration::from_mins(30)).unwrap())}))).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "slot_overlap");
    let next = app
        .create_slot_at(
            end,
            end.checked_add(jiff::SignedDuration::from_mins(45))
                .unwrap(),
        )
        .await;

    // Bad windows are refused with the field named.
    for (body, field) in [
        (
            json!({"starts_at": iso(end), "ends_at": iso(start)}),
            "ends_at",
        ),
        (
            json!({"starts_at": "tomorrow", "ends_at": iso(end)}),
            "starts_at",
        ),
        (json!({"ends_at": iso(end)}), "starts_at"),
        (
            json!({"starts_at": "2020-01-01T10:00:00Z", "ends_at": "2020-01-01T11:00:00Z"}),
            "starts_at",
        ),
    ] {
        let (status, resp) = app
            .admin(Method::POST, "/api/admin/slots", Some(body.clone()))
            .await;
        assert_eq!(status, 422, "{body}: {resp}");
        assert!(
            resp["error"]["fields"].get(field).is_some(),
            "{body}: {resp}"
        );
    }

    // Mark unavailable: no longer offered; open again: offered.
    let (status, body) = app
        .admin(
            Method::PATCH,
            &format!("/api/admin/slots/{slot}"),
            Some(json!({"status": "unavailable"})),
        )
        .await;
    assert_eq!(
        (status, body["status"].clone()),
        (200, json!("unavailable"))
    );
    assert_eq!(app.open_slot_ids().await, vec![next.clone()]);
    let (status, _) = app
        .admin(
            Method::PATCH,
            &format!("/api/admin/slots/{slot}"),
            Some(json!({"status": "open"})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(app.open_slot_ids().await, vec![slot.clone(), next.clone()]);

    // A booked slot can be neither withdrawn nor deleted; an unbooked one can be deleted.
    assert_eq!(app.book(&intake(&slot)).await.0, 201);
    let (status, body) = app
        .admin(Method::DELETE, &format!("/api/admin/slots/{slot}"), None)
        .await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (409, json!("slot_booked"))
    );
    let (status, _) = app
        .admin(
            Method::PATCH,
            &format!("/api/admin/slots/{slot}"),
            Some(json!({"status": "unavailable"})),
        )
        .await;
    assert_eq!(status, 409);
    let (status, _) = app
        .admin(Method::DELETE, &format!("/api/admin/slots/{next}"), None)
        .await;
    assert_eq!(status, 204);
    let (status, list) = app.admin(Method::GET, "/api/admin/slots", None).await;
    assert_eq!(status, 200);
    let statuses: Vec<_> = list["slots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["status"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(statuses, vec!["booked"]);
}

#[tokio::test]
async fn the_owner_acts_on_bookings_through_the_api() {
    let app = spawn_app().await;
    let a = app.create_slot(24).await;
    let b = app.create_slot(26).await;
    let (_, first) = app.book(&intake(&a)).await;
    let (_, second) = app.book(&intake(&b)).await;
    let first = first["id"].as_str().unwrap().to_owned();
    let second = second["id"].as_str().unwrap().to_owned();

    let (status, list) = app
        .admin(Method::GET, "/api/admin/bookings?status=pending", None)
        .await;
    assert_eq!(
        (status, list["bookings"].as_array().unwrap().len()),
        (200, 2)
    );
    let (status, _) = app
        .admin(Method::GET, "/api/admin/bookings?status=nonsense", None)
        .await;
    assert_eq!(status, 422);

    let (status, body) = app.act(&first, "accept", None).await;
    assert_eq!((status, body["status"].clone()), (200, json!("accepted")));
    let (status, body) = app.act(&first, "decline", None).await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (409, json!("invalid_transition"))
    );
    let (status, body) = app
        .act(
            &second,
            "decline",
            Some(json!({"message": "Fully booked that week"})),
        )
        .await;
    assert_eq!((status, body["status"].clone()), (200, json!("declined")));
    assert_eq!(
        app.open_slot_ids().await,
        vec![b.clone()],
        "declining freed the slot"
    );
    let (status, body) = app.act(&first, "cancel", None).await;
    assert_eq!((status, body["status"].clone()), (200, json!("cancelled")));
    assert_eq!(app.open_slot_ids().await, vec![a.clone(), b.clone()]);
    let (status, _) = app.act(&first, "explode", None).await;
    assert_eq!(status, 404);

    let detail = app.booking(&second).await;
    let last = detail["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["note"], "Fully booked that week");
    assert_eq!(last["actor"], "owner");
    app.mail.wait_for("requester_declined", 1).await;
    assert_eq!(
        app.email_kinds(&second).await,
        vec![
            "owner_new_request",
            "requester_received",
            "requester_declined",
            "owner_calendar_cancel"
        ]
    );
}
