//! Abuse protection of booking requests: the honeypot field and the limit of requests awaiting
//! the owner per email address, through the JSON API and the plain form.

use guidance_testkit::api::intake;
use serde_json::Value;

use crate::helpers::*;

/// Books through the JSON API with `email` in the reader's language `lang`.
async fn book_as(app: &TestApp, slot: &str, email: &str, lang: &str) -> (u16, Value) {
    let mut body = intake(slot);
    body["email"] = email.into();
    let resp = app
        .client
        .post(app.url("/api/bookings"))
        .header("accept-language", lang)
        .json(&body)
        .send()
        .await
        .expect("request");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_filled_in_honeypot_is_refused_through_the_api_and_nothing_is_kept() {
    let app = spawn_app().await;
    let slot = app.create_slot(24).await;
    let mut body = intake(&slot);
    body["website"] = "https://spam.example".into();
    let resp = app
        .client
        .post(app.url("/api/bookings"))
        .header("accept-language", "de")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 422);
    let refused: Value = resp.json().await.unwrap();
    assert_eq!(refused["error"]["code"], "spam_suspected", "{refused}");
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("automatisiert"),
        "the message is in the reader's language: {refused}"
    );
    assert!(app.bookings().await.is_empty());
    assert_eq!(app.open_slot_ids().await, vec![slot.clone()]);

    // An empty (or blank) honeypot is what a person sends: booked as usual.
    body["website"] = "  ".into();
    body["slot_id"] = app.create_slot(26).await.into();
    let (status, booked) = app.book(&body).await;
    assert_eq!(status, 201, "{booked}");
    app.mail.wait_for("requester_received", 1).await;
    app.mail.wait_for("owner_new_request", 1).await;
    assert_eq!(app.mail.paths().len(), 2, "only the good request sent mail");
}

#[tokio::test]
async fn the_plain_form_carries_a_hidden_honeypot_and_refuses_it_filled_in() {
    let app = spawn_app().await;
    let slot = app.create_slot(24).await;
    let html = app.text("/book?lang=fr").await;
    let start = html.find("name=\"website\"").expect("the honeypot field");
    let field = &html[html[..start].rfind("<div").unwrap()..start + 80];
    for attribute in [
        "class=\"hp\"",
        "aria-hidden=\"true\"",
        "tabindex=\"-1\"",
        "autocomplete=\"off\"",
        "Laisser vide",
    ] {
        assert!(field.contains(attribute), "{attribute} in {field}");
    }

    let form = |website: &'static str| {
        [
            ("slot_id", slot.clone()),
            ("name", "Grace Hopper".to_owned()),
            ("email", "grace@example.net".to_owned()),
            ("topic", "Compilers".to_owned()),
            ("priority", "normal".to_owned()),
            ("answers.company", "Navy".to_owned()),
            ("time_zone", "Europe/Paris".to_owned()),
            ("locale", "fr".to_owned()),
            ("website", website.to_owned()),
        ]
    };
    let resp = app
        .post_form("/book?lang=fr", &form("http://spam.example"))
        .await;
    assert_eq!(resp.status(), 422);
    let html = resp.text().await.unwrap();
    assert!(html.contains("automatisée"), "a clear message: {html}");
    assert!(
        html.contains("value=\"Grace Hopper\""),
        "what was typed is kept"
    );
    assert!(
        !html.contains("spam.example"),
        "the honeypot is never shown back"
    );
    assert!(app.bookings().await.is_empty());

    let resp = app.post_form("/book?lang=fr", &form("")).await;
    assert_eq!(resp.status(), 303, "an empty honeypot books");
    assert_eq!(app.bookings().await.len(), 1);
}

#[tokio::test]
async fn an_address_may_have_only_so_many_requests_awaiting_the_owner() {
    an_address_may_have_only_so_many_requests_awaiting_the_owner_on(
        spawn_app_with(|c| c.max_pending_per_email = 2).await,
    )
    .await;
}

/// The body of the limit test, on any store with `GUIDANCE_MAX_PENDING_PER_EMAIL=2`
/// (`tests/api/postgres.rs` runs it on PostgreSQL).
pub async fn an_address_may_have_only_so_many_requests_awaiting_the_owner_on(app: TestApp) {
    let mut slots = Vec::new();
    for h in 0..6 {
        slots.push(app.create_slot(24 + 2 * h).await);
    }
    let (status, first) = book_as(&app, &slots[0], "ada@example.net", "en").await;
    assert_eq!(status, 201, "{first}");
    let (status, _) = book_as(&app, &slots[1], "Ada@Example.net", "en").await;
    assert_eq!(status, 201);

    // The third from the same address, however it is written, is refused: nothing is kept.
    let (status, refused) = book_as(&app, &slots[2], "  ADA@example.NET ", "it").await;
    assert_eq!(status, 429, "{refused}");
    assert_eq!(refused["error"]["code"], "too_many_pending");
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("in attesa"),
        "{refused}"
    );
    assert_eq!(app.bookings().await.len(), 2);
    assert!(app.open_slot_ids().await.contains(&slots[2]));

    // The plain form says the same, and keeps what was typed.
    let resp = app
        .post_form(
            "/book?lang=en",
            &[
                ("slot_id", slots[2].as_str()),
                ("name", "Ada Lovelace"),
                ("email", "ada@example.net"),
                ("topic", "Engines"),
                ("priority", "normal"),
                ("answers.company", "Difference Ltd"),
                ("time_zone", "Europe/London"),
                ("locale", "en"),
            ],
        )
        .await;
    assert_eq!(resp.status(), 429);
    let html = resp.text().await.unwrap();
    assert!(html.contains("waiting for an answer"), "{html}");
    assert!(html.contains("value=\"Ada Lovelace\""));
    assert_eq!(app.bookings().await.len(), 2);

    // Another address is not held back.
    let (status, _) = book_as(&app, &slots[2], "grace@example.net", "en").await;
    assert_eq!(status, 201);

    // Once the owner has answered one, the address may ask again.
    let id = first["id"].as_str().unwrap();
    let (status, body) = app.act(id, "decline", None).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = book_as(&app, &slots[3], "ada@example.net", "en").await;
    assert_eq!(status, 201, "{body}");
    let (status, _) = book_as(&app, &slots[4], "ada@example.net", "en").await;
    assert_eq!(status, 429);
}

#[tokio::test]
async fn refused_requests_send_no_email() {
    let app = spawn_app_with(|c| c.max_pending_per_email = 1).await;
    let first = app.create_slot(24).await;
    let (status, _) = book_as(&app, &first, "ada@example.net", "en").await;
    assert_eq!(status, 201);
    app.mail.wait_for("requester_received", 1).await;
    app.mail.wait_for("owner_new_request", 1).await;
    let before = app.mail.paths().len();
    let second = app.create_slot(26).await;
    let (status, _) = book_as(&app, &second, "ada@example.net", "en").await;
    assert_eq!(status, 429);
    let mut spam = intake(&second);
    spam["email"] = "someone@example.org".into();
    spam["website"] = "x".into();
    assert_eq!(app.book(&spam).await.0, 422);
    // A good request afterwards: its two emails are the only new ones.
    let third = app.create_slot(28).await;
    let mut good = intake(&third);
    good["email"] = "grace@example.net".into();
    let (status, body) = app.book(&good).await;
    assert_eq!(status, 201, "{body}");
    app.mail.wait_for("requester_received", 2).await;
    app.mail.wait_for("owner_new_request", 2).await;
    assert_eq!(app.mail.paths().len(), before + 2);
}

/// Every header value and every part of `raw`, decoded (quoted-printable, base64, RFC 2047):
/// all a mail client could show of it.
fn decoded(raw: &[u8]) -> String {
    fn collect(mail: &mailparse::ParsedMail<'_>, out: &mut String) {
        for h in &mail.headers {
            out.push_str(&h.get_value());
            out.push('\n');
        }
        out.push_str(&String::from_utf8_lossy(
            &mail.get_body_raw().unwrap_or_default(),
        ));
        for part in &mail.subparts {
            collect(part, out);
        }
    }
    let mut out = String::new();
    collect(
        &mailparse::parse_mail(raw).expect("parsable email"),
        &mut out,
    );
    out
}

/// Anyone may type anyone's address: the emails to it before it has proved itself (the
/// "received" note, and the confirmation request when the owner asks for one) carry nothing the
/// visitor typed, so the site's mailbox cannot relay a stranger's lure. The owner still reads
/// everything, and the visitor reads their request on their own page.
#[tokio::test]
async fn a_strangers_text_never_reaches_an_address_that_has_not_proved_itself() {
    let app = spawn_app().await;
    let lure = |slot: &str| {
        let mut body = intake(slot);
        body["name"] = "http://evil.example".into();
        body["topic"] = "visit http://evil.example/login".into();
        body["answers"] = serde_json::json!({"company": "http://evil.example/answer"});
        body
    };
    let (status, booked) = app.book(&lure(&app.create_slot(30).await)).await;
    assert_eq!(status, 201, "{booked}");
    let received = app.mail.wait_for("requester_received", 1).await;
    let owner = app.mail.wait_for("owner_new_request", 1).await;
    let text = decoded(&received[0]);
    assert!(!text.contains("evil.example"), "relayed:\n{text}");
    assert!(text.contains("ada@example.net"), "{text}");
    let owner_text = decoded(&owner[0]);
    for typed in ["http://evil.example", "visit http://evil.example/login"] {
        assert!(owner_text.contains(typed), "the owner reads {typed:?}");
    }

    // The visitor's own page (linked from that email) shows what they asked, as text.
    let page = guidance_testkit::mail::plain_text(&received[0])
        .split_whitespace()
        .find(|w| w.starts_with(&format!("{}/my/", app.base)))
        .expect("a link to the visitor's page")
        .to_owned();
    let html = app.text(&page).await;
    assert!(html.contains("visit http://evil.example/login"), "{html}");
    assert!(html.contains("http://evil.example/answer"), "{html}");

    // With confirmation on, the first email to the address asks for it, and quotes nothing.
    let (status, _) = app
        .put_settings(serde_json::json!({ "confirm_email": true }))
        .await;
    assert_eq!(status, 200);
    let (status, booked) = app.book(&lure(&app.create_slot(32).await)).await;
    assert_eq!(status, 201, "{booked}");
    let confirm = app.mail.wait_for("requester_confirm", 1).await;
    let text = decoded(&confirm[0]);
    assert!(!text.contains("evil.example"), "relayed:\n{text}");
}
