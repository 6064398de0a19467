//! The JSON bodies of the public and owner APIs as their clients meet them: on every JSON
//! endpoint, several fields sent with the wrong JSON type are all named in one answer (`422
//! invalid`, each `wrong_type` with a message), next to the values refused for what they say,
//! and nothing changes; a body that is not a JSON object is a `400 bad_request` everywhere.

use guidance_testkit::api::{ADMIN_TOKEN, intake};
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;
use crate::hostile::{assert_same, dump, settle};

/// Asserts a `422 invalid` naming exactly `expected` (field → reason), each with a message.
fn assert_refused(status: u16, body: &Value, expected: &[(&str, &str)]) {
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["code"], "invalid", "{body}");
    let fields = body["error"]["fields"].as_object().expect("fields");
    let named: Vec<(&str, &str)> = fields
        .iter()
        .map(|(f, e)| (f.as_str(), e["code"].as_str().unwrap_or_default()))
        .collect();
    let mut expected = expected.to_vec();
    expected.sort_unstable();
    assert_eq!(named, expected, "{body}");
    for (field, e) in fields {
        assert!(
            !e["message"].as_str().unwrap_or_default().is_empty(),
            "{field} has no message: {body}"
        );
    }
}

/// A booking with its emails sent, and the id of its first email.
async fn booked(app: &TestApp) -> (String, String) {
    let slot = app.create_slot(30).await;
    let (status, b) = app.book(&intake(&slot)).await;
    assert_eq!(status, 201, "{b}");
    let id = b["id"].as_str().unwrap().to_owned();
    app.mail.wait_for("owner_new_request", 1).await;
    settle(app).await;
    let email = app.booking(&id).await["emails"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    (id, email)
}

#[tokio::test]
async fn mistyped_fields_are_all_named_in_one_answer_on_every_json_endpoint() {
    let app = spawn_app().await;
    let slot = app.create_slot(24).await;
    let (booking, email) = booked(&app).await;
    let before = dump(&app).await;

    // A booking request: two mistyped fields and a refused value, all at once.
    for path in ["/api/bookings", "/functions/v1/create-guidance-booking"] {
        let mut body = intake(&slot);
        body["name"] = json!(42);
        body["locale"] = json!(["en"]);
        body["email"] = json!("nope");
        let (status, b) = app.post_json(path, &body).await;
        assert_refused(
            status,
            &b,
            &[
                ("email", "invalid_email"),
                ("locale", "wrong_type"),
                ("name", "wrong_type"),
            ],
        );
    }
    // An emailed link's action.
    for path in ["/api/actions", "/functions/v1/update-guidance-booking"] {
        let (status, b) = app
            .post_json(
                path,
                &json!({"token": 7, "action": "accept", "slot_id": [slot]}),
            )
            .await;
        assert_refused(
            status,
            &b,
            &[("slot_id", "wrong_type"), ("token", "wrong_type")],
        );
    }
    // A new slot: mistyped times and details, and a time that is no time.
    let (status, b) = app
        .admin(
            Method::POST,
            "/api/admin/slots",
            Some(json!({"starts_at": 1, "ends_at": true, "meeting_details": ["Room 1"]})),
        )
        .await;
    assert_refused(
        status,
        &b,
        &[
            ("ends_at", "wrong_type"),
            ("meeting_details", "wrong_type"),
            ("starts_at", "wrong_type"),
        ],
    );
    let (status, b) = app
        .admin(
            Method::POST,
            "/api/admin/slots",
            Some(json!({"starts_at": false, "ends_at": "next week"})),
        )
        .await;
    assert_refused(
        status,
        &b,
        &[("ends_at", "unknown_value"), ("starts_at", "wrong_type")],
    );
    // A change of a slot: a mistyped status comes with the other mistyped fields.
    let path = format!("/api/admin/slots/{slot}");
    let (status, b) = app
        .admin(
            Method::PATCH,
            &path,
            Some(json!({"status": 1, "starts_at": false})),
        )
        .await;
    assert_refused(
        status,
        &b,
        &[("starts_at", "wrong_type"), ("status", "wrong_type")],
    );
    let (status, b) = app
        .admin(
            Method::PATCH,
            &path,
            Some(json!({"ends_at": 5, "meeting_details": {"room": 1}, "starts_at": "soon"})),
        )
        .await;
    assert_refused(
        status,
        &b,
        &[
            ("ends_at", "wrong_type"),
            ("meeting_details", "wrong_type"),
            ("starts_at", "unknown_value"),
        ],
    );
    // The bodies of one field: the owner's message and the email to resend.
    let (status, b) = app
        .act(&booking, "accept", Some(json!({"message": 5})))
        .await;
    assert_refused(status, &b, &[("message", "wrong_type")]);
    let (status, b) = app
        .admin(
            Method::POST,
            &format!("/api/admin/bookings/{booking}/resend"),
            Some(json!({"email_id": [email]})),
        )
        .await;
    assert_refused(status, &b, &[("email_id", "wrong_type")]);
    // The questions: the list itself, then each question by its place.
    let (status, b) = app
        .put_questions(json!({"questions": {"key": "company"}}))
        .await;
    assert_refused(status, &b, &[("questions", "wrong_type")]);
    let (status, b) = app
        .put_questions(json!({"questions": [
            {"key": "company", "label": "Company", "kind": "short_text", "required": "yes"},
            7,
        ]}))
        .await;
    assert_eq!(status, 422, "{b}");
    let fields = b["error"]["fields"].as_object().unwrap();
    assert_eq!(fields.len(), 2, "{b}");
    assert!(
        fields
            .keys()
            .all(|k| k.starts_with("questions.0") || k.starts_with("questions.1")),
        "{b}"
    );
    // The settings: booleans as booleans, numbers as numbers; `null`, unknown keys and refused
    // values are named together.
    let (status, b) = app
        .put_settings(
            json!({"booking_open": "false", "min_notice_hours": "24", "owner_name": null,
                "horizon_days": 0, "colour": "blue"}),
        )
        .await;
    assert_refused(
        status,
        &b,
        &[
            ("booking_open", "wrong_type"),
            ("colour", "unknown_value"),
            ("horizon_days", "out_of_range"),
            ("min_notice_hours", "wrong_type"),
            ("owner_name", "wrong_type"),
        ],
    );

    settle(&app).await;
    assert_same(&before, &dump(&app).await, "mistyped bodies");
}

#[tokio::test]
async fn a_body_that_is_not_a_json_object_is_a_bad_request_on_every_json_endpoint() {
    let app = spawn_app().await;
    let slot = app.create_slot(24).await;
    let (booking, _) = booked(&app).await;
    let endpoints = [
        (Method::POST, "/api/bookings".to_owned()),
        (Method::POST, "/api/actions".to_owned()),
        (Method::POST, "/api/admin/slots".to_owned()),
        (Method::POST, "/api/admin/slots/generate".to_owned()),
        (Method::PATCH, format!("/api/admin/slots/{slot}")),
        (
            Method::POST,
            format!("/api/admin/bookings/{booking}/resend"),
        ),
        (
            Method::POST,
            format!("/api/admin/bookings/{booking}/cancel"),
        ),
        (Method::PUT, "/api/admin/questions".to_owned()),
        (Method::PUT, "/api/admin/settings".to_owned()),
    ];
    let before = dump(&app).await;
    for (method, path) in &endpoints {
        for body in ["{nope", "[]", "null", "42", "\"text\""] {
            let resp = app
                .client
                .request(method.clone(), app.url(path))
                .bearer_auth(ADMIN_TOKEN)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 400, "{method} {path} {body}");
            let b: Value = resp.json().await.unwrap();
            assert_eq!(b["error"]["code"], "bad_request", "{method} {path} {body}");
        }
    }
    assert_same(&before, &dump(&app).await, "bodies that are not objects");
    // A pattern is read whole: a field of the wrong type refuses the body (documented `400`).
    let (status, b) = app
        .admin(
            Method::POST,
            "/api/admin/slots/generate",
            Some(
                json!({"weekdays": [1], "window_start": "09:00", "window_end": "12:00",
                "session_minutes": "45", "first_day": "2030-01-07", "last_day": "2030-01-08"}),
            ),
        )
        .await;
    assert_eq!(
        (status, b["error"]["code"].as_str()),
        (400, Some("bad_request"))
    );
}

#[tokio::test]
async fn typed_settings_change_only_what_they_name() {
    let app = spawn_app().await;
    let before = app.settings().await;
    let (status, after) = app
        .put_settings(
            json!({"min_notice_hours": 6, "confirm_email": true, "owner_name": "  Grete  "}),
        )
        .await;
    assert_eq!(status, 200, "{after}");
    let mut expected = before.clone();
    expected["min_notice_hours"] = json!(6);
    expected["confirm_email"] = json!(true);
    expected["owner_name"] = json!("Grete");
    assert_eq!(after, expected);
    let now = app.settings().await;
    assert_eq!(now, expected, "stored and read back");
    // An empty change is no change.
    let (status, same) = app.put_settings(json!({})).await;
    assert_eq!((status, same), (200, expected));
}
