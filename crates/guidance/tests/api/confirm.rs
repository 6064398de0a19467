//! Email confirmation (an owner setting): a new request holds its slot as `unconfirmed` and
//! reaches the owner only once the visitor has confirmed it with the link sent to their address.

use guidance_testkit::api::intake;
use guidance_testkit::mail::{action_links, calendar_part, header, ics_values, token_of};
use guidance_testkit::python;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

/// An app whose owner asks visitors to confirm their address.
async fn app_confirming() -> TestApp {
    let app = spawn_app().await;
    confirm_email(&app, true).await;
    app
}

async fn confirm_email(app: &TestApp, on: bool) {
    let (status, body) = app.put_settings(json!({ "confirm_email": on })).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["confirm_email"], on);
}

/// The confirm link of the (one) confirmation email.
async fn confirm_link(app: &TestApp) -> String {
    let mail = app.mail.wait_for("requester_confirm", 1).await.remove(0);
    let links = action_links(&mail, &app.base);
    assert_eq!(links.len(), 1, "one link: {links:?}");
    links[0].clone()
}

#[tokio::test]
async fn a_request_reaches_the_owner_only_once_the_visitor_confirmed_it() {
    a_request_reaches_the_owner_only_once_the_visitor_confirmed_it_on(spawn_app().await).await;
}

/// The body of the confirmation test, on any store (`tests/api/postgres.rs` runs it on
/// PostgreSQL).
pub async fn a_request_reaches_the_owner_only_once_the_visitor_confirmed_it_on(app: TestApp) {
    confirm_email(&app, true).await;
    let slot = app.create_slot(24).await;
    let (status, body) = app.book(&intake(&slot)).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["status"], "unconfirmed");
    let id = body["id"].as_str().unwrap().to_owned();

    // Only the visitor's confirmation email: the owner knows nothing yet.
    assert_eq!(app.email_kinds(&id).await, ["requester_confirm"]);
    let link = confirm_link(&app).await;
    let mail = app.mail.of_kind("requester_confirm").remove(0);
    let to = header(&mail, "To").unwrap();
    assert!(to.contains("ada@example.net"), "to the visitor: {to}");
    assert!(calendar_part(&mail).is_none(), "no calendar data");
    assert_eq!(app.mail.paths().len(), 1);
    // The held slot is not offered to anybody else.
    assert!(!app.open_slot_ids().await.contains(&slot));
    let mut other = intake(&slot);
    other["email"] = "grace@example.net".into();
    assert_eq!(app.book(&other).await.0, 409);

    // Opening the link (as a mail scanner would) changes nothing.
    let page = app.get(&link).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Confirm my request"), "{html}");
    assert_eq!(app.booking(&id).await["status"], "unconfirmed");
    assert_eq!(app.email_kinds(&id).await, ["requester_confirm"]);

    // Pressing the button confirms: now the owner gets the request, the visitor the receipt.
    let done = app.post(&link).await;
    assert_eq!(done.status(), 200);
    assert!(done.text().await.unwrap().contains("Request confirmed"));
    let booking = app.booking(&id).await;
    assert_eq!(booking["status"], "pending");
    let history: Vec<(&str, &str)> = booking["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap(),
                e["to_status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        history,
        [("request", "unconfirmed"), ("confirm", "pending")]
    );
    assert_eq!(
        app.email_kinds(&id).await,
        [
            "requester_confirm",
            "owner_new_request",
            "requester_received"
        ]
    );
    let invite = app.mail.wait_for("owner_new_request", 1).await.remove(0);
    app.mail.wait_for("requester_received", 1).await;
    let (method, ics) = calendar_part(&invite).expect("the owner's invitation");
    assert_eq!(method, "REQUEST");
    assert_eq!(
        ics_values(&ics, "SEQUENCE"),
        ["0"],
        "the first calendar message"
    );
    assert_eq!(action_links(&invite, &app.base).len(), 3);
    python::check_eml(&app.mail.paths());

    // The link is spent: a second use is refused, by the page and by the API.
    let again = app.post(&link).await;
    assert_eq!(again.status(), 409);
    let (status, body): (u16, Value) = app
        .post_json("/api/actions", &json!({ "token": token_of(&link) }))
        .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "token_used");
    assert_eq!(app.booking(&id).await["status"], "pending");
}

#[tokio::test]
async fn an_unconfirmed_hold_expires_and_frees_the_slot() {
    let app = app_confirming().await;
    let slot = app.create_slot(24).await;
    let (status, body) = app.book(&intake(&slot)).await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_str().unwrap().to_owned();
    let link = confirm_link(&app).await;

    // Half an hour later (the configured hold), the expiry run frees the slot.
    app.pass_hours(0.25).await;
    assert_eq!(
        app.booking(&id).await["status"],
        "unconfirmed",
        "still held"
    );
    app.pass_hours(0.26).await;
    let status = app.booking(&id).await["status"].clone();
    assert_eq!(status, "expired");
    assert!(
        app.open_slot_ids().await.contains(&slot),
        "the slot is offered again"
    );
    // The owner never heard of it; the link no longer works.
    assert_eq!(app.email_kinds(&id).await, ["requester_confirm"]);
    assert_eq!(app.post(&link).await.status(), 410);
    // Someone else can book the time now.
    let mut other = intake(&slot);
    other["email"] = "grace@example.net".into();
    assert_eq!(app.book(&other).await.0, 201);
}

#[tokio::test]
async fn the_visitor_or_the_owner_may_call_off_an_unconfirmed_request() {
    let app = app_confirming().await;
    let first = app.create_slot(24).await;
    let (_, body) = app.book(&intake(&first)).await;
    let id = body["id"].as_str().unwrap().to_owned();
    let link = confirm_link(&app).await;

    // The visitor, from their own page.
    let status_url = body["status_url"].as_str().unwrap().to_owned();
    let page = app.get(&status_url).await;
    assert!(
        page.text()
            .await
            .unwrap()
            .contains("please confirm your request"),
        "the page says what is missing"
    );
    let resp = app.post(&format!("{status_url}/cancel")).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(app.booking(&id).await["status"], "cancelled");
    assert!(app.open_slot_ids().await.contains(&first));
    assert_eq!(
        app.post(&link).await.status(),
        409,
        "the confirm link is out of date"
    );
    let kinds = app.email_kinds(&id).await;
    assert_eq!(kinds, ["requester_confirm", "requester_cancelled"]);

    // The owner, from the owner API; no calendar cancellation, as their calendar has nothing.
    let second = app.create_slot(26).await;
    let (_, body) = app.book(&intake(&second)).await;
    let id = body["id"].as_str().unwrap().to_owned();
    let (status, _) = app
        .admin(Method::GET, "/api/admin/bookings?status=unconfirmed", None)
        .await;
    assert_eq!(status, 200);
    for refused in ["accept", "decline", "reschedule"] {
        let (status, _) = app.act(&id, refused, None).await;
        assert_eq!(status, 409, "{refused}");
    }
    let (status, body) = app.act(&id, "cancel", None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        app.email_kinds(&id).await,
        ["requester_confirm", "requester_cancelled"]
    );
    assert!(app.open_slot_ids().await.contains(&second));
}

#[tokio::test]
async fn the_plain_form_tells_the_visitor_to_check_their_inbox() {
    let app = app_confirming().await;
    let slot = app.create_slot(24).await;
    let resp = app
        .post_form(
            "/book?lang=de",
            &[
                ("slot_id", slot.as_str()),
                ("name", "Grete Müller"),
                ("email", "grete@example.net"),
                ("topic", "Migration"),
                ("priority", "normal"),
                ("answers.company", "Müller AG"),
                ("time_zone", "Europe/Berlin"),
                ("locale", "de"),
            ],
        )
        .await;
    assert_eq!(resp.status(), 303);
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    let html = app.text(&location).await;
    assert!(html.contains("sehen Sie in Ihr Postfach"), "{html}");
    assert!(html.contains("Wartet auf Ihre Bestätigung"));
    // The confirmation email is in the visitor's language, and its page too.
    let link = confirm_link(&app).await;
    let page = app.text(&link).await;
    assert!(page.contains("Meine Anfrage bestätigen"), "{page}");
}

#[tokio::test]
async fn without_the_setting_a_request_goes_to_the_owner_at_once() {
    let app = spawn_app().await;
    let settings = app.settings().await;
    assert_eq!(settings["confirm_email"], false, "off by default");
    confirm_email(&app, true).await;
    confirm_email(&app, false).await;
    let slot = app.create_slot(24).await;
    let (status, body) = app.book(&intake(&slot)).await;
    assert_eq!(status, 201);
    assert_eq!(body["status"], "pending");
    let id = body["id"].as_str().unwrap();
    assert_eq!(
        app.email_kinds(id).await,
        ["owner_new_request", "requester_received"]
    );
}
