//! The owner's supplemental questions, the answers held to them, the visitor's signed link, and
//! CORS for embedding, over HTTP.

use guidance_testkit::api::{intake, with};
use reqwest::Method;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn the_owner_configures_questions_and_answers_are_held_to_them() {
    the_owner_configures_questions_and_answers_are_held_to_them_on(spawn_app().await).await;
}

/// The body of the questions test, on any store (`tests/api/postgres.rs` runs it on PostgreSQL).
pub async fn the_owner_configures_questions_and_answers_are_held_to_them_on(app: TestApp) {
    let (status, body) = app.put_questions(json!({"questions": [
                {"key": "size", "label": "Team size", "kind": "choice", "required": true, "options": ["1", "2-10"]},
                {"key": "goal", "label": "Your goal", "kind": "long_text"},
                {"key": "consent", "label": "I agree", "kind": "checkbox", "required": true}
            ]})).await;
    assert_eq!(status, 200, "{body}");
    let (_, listed) = app.admin(Method::GET, "/api/admin/questions", None).await;
    assert_eq!(listed["questions"][0]["key"], "size");
    assert_eq!(listed["questions"][2]["kind"], "checkbox");

    // A bad list is refused field by field and changes nothing.
    let (status, body) = app
        .put_questions(json!({"questions": [{"key": "x y", "label": "", "kind": "radio"}]}))
        .await;
    assert_eq!(status, 422);
    let fields = body["error"]["fields"].as_object().unwrap();
    for f in ["questions.0.key", "questions.0.label", "questions.0.kind"] {
        assert!(fields.contains_key(f), "{body}");
    }
    assert_eq!(
        app.admin(Method::GET, "/api/admin/questions", None).await.1,
        listed
    );
    // The public form learns the questions too.
    let form: serde_json::Value = app.get_json("/api/intake?lang=en").await;
    assert_eq!(form["questions"], listed["questions"]);
    assert_eq!(form["limits"]["name"], 120);

    let slot = app.create_slot(24).await;
    let mut body = with(
        intake(&slot),
        "answers",
        json!({"size": "huge", "consent": false, "company": "x"}),
    );
    let (status, err) = app.book(&body).await;
    assert_eq!(status, 422, "{err}");
    let fields = err["error"]["fields"].as_object().unwrap();
    assert_eq!(fields["answers.size"]["code"], "unknown_value");
    assert_eq!(fields["answers.consent"]["code"], "empty");
    assert_eq!(fields["answers.company"]["code"], "unknown_value");
    assert_eq!(fields.len(), 3, "{err}");
    // The form carries the message of each refusal a booking meets, not those of the owner's
    // forms.
    for f in fields.values() {
        let key = format!("errors.field.{}", f["code"].as_str().unwrap());
        assert_eq!(form["texts"][&key], f["message"], "{key}");
    }
    assert!(form["texts"].get("errors.field.slot_overlap").is_none());
    assert_eq!(
        app.open_slot_ids().await,
        vec![slot.clone()],
        "nothing booked"
    );

    body["answers"] = json!({"size": "2-10", "consent": true, "goal": "Ship\nit"});
    let (status, created) = app.book(&body).await;
    assert_eq!(status, 201, "{created}");
    let stored = app.booking(created["id"].as_str().unwrap()).await;
    assert_eq!(stored["answers"]["goal"], "Ship\nit");

    // The no-JavaScript form sends the same answers by name.
    let other = app.create_slot(30).await;
    let resp = app
        .post_form(
            "/book",
            &[
                ("slot_id", other.as_str()),
                ("name", "Form Visitor"),
                ("email", "form@example.net"),
                ("topic", "By form"),
                ("priority", "normal"),
                ("time_zone", "UTC"),
                ("locale", "en"),
                ("answers.size", "1"),
            ],
        )
        .await;
    assert_eq!(resp.status(), 422, "the required box is not ticked");
    let html = resp.text().await.unwrap();
    assert!(
        html.contains("id=\"q-consent-error\">Please fill this in."),
        "{html}"
    );
    assert!(
        html.contains("<option value=\"1\" selected>"),
        "the choice is kept"
    );
}

#[tokio::test]
async fn the_visitors_link_is_signed_and_its_get_changes_nothing() {
    let app = spawn_app().await;
    let slot = app.create_slot(24).await;
    let (status, created) = app.book(&intake(&slot)).await;
    assert_eq!(status, 201);
    let url = created["status_url"].as_str().unwrap().to_owned();
    let path = url.strip_prefix(&app.base).unwrap().to_owned();
    assert!(path.starts_with("/my/"));
    let page = app.get(&url).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("(America/Los_Angeles)"),
        "the visitor's own zone"
    );

    // A changed signature, or the signature of another booking, is refused.
    let mut forged = path.clone();
    forged.pop();
    forged.push(if path.ends_with('A') { 'B' } else { 'A' });
    let resp = app.get(&forged).await;
    assert_eq!(resp.status(), 404);
    let (_, second) = app.book(&intake(&app.create_slot(30).await)).await;
    let sig = path.rsplit('/').next().unwrap();
    let swapped = format!("/my/{}/{sig}/cancel", second["id"].as_str().unwrap());
    let resp = app.post(&swapped).await;
    assert_eq!(resp.status(), 404);

    // GET of the cancel page asks; only POST cancels.
    let resp = app.get(&format!("{url}/cancel")).await;
    assert_eq!(resp.status(), 200);
    let id = created["id"].as_str().unwrap();
    assert_eq!(app.booking(id).await["status"], "pending");
    let resp = app.post(&format!("{url}/cancel")).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(app.booking(id).await["status"], "cancelled");
    let resp = app.post(&format!("{url}/cancel")).await;
    assert_eq!(resp.status(), 409, "a second cancel changes nothing");
    app.mail.wait_for("owner_calendar_cancel", 1).await;
}

#[tokio::test]
async fn a_visitor_asked_for_another_time_picks_it_on_their_page() {
    let app = spawn_app().await;
    let first = app.create_slot(24).await;
    let second = app.create_slot(30).await;
    let (_, created) = app.book(&intake(&first)).await;
    let id = created["id"].as_str().unwrap();
    let (status, _) = app.act(id, "reschedule", None).await;
    assert_eq!(status, 200);
    let url = created["status_url"].as_str().unwrap();
    let html = app.text(url).await;
    assert!(
        html.contains(&format!("value=\"{second}\"")),
        "open times offered"
    );
    let resp = app
        .client
        .post(format!("{url}/pick"))
        .form(&[("slot_id", second.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    let booking = app.booking(id).await;
    assert_eq!(booking["status"], "pending");
    assert_eq!(booking["slot_id"], second);
}

#[tokio::test]
async fn cors_is_for_the_public_api_and_configured_origins_only() {
    let app = spawn_app_with(|c| c.embed_origins = Some("https://www.example.org/".into())).await;
    let preflight = |path: &str, origin: &str| {
        app.client
            .request(Method::OPTIONS, app.url(path))
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .header("Access-Control-Request-Headers", "content-type")
            .send()
    };
    let ok = preflight("/api/bookings", "https://www.example.org")
        .await
        .unwrap();
    assert_eq!(ok.status(), 204);
    assert_eq!(
        ok.headers()["access-control-allow-origin"],
        "https://www.example.org"
    );
    let other = preflight("/api/bookings", "https://evil.example")
        .await
        .unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());
    let admin = preflight("/api/admin/slots", "https://www.example.org")
        .await
        .unwrap();
    assert!(admin.headers().get("access-control-allow-origin").is_none());

    let from_embedder = |path: &str| {
        app.client
            .get(app.url(path))
            .header("Origin", "https://www.example.org")
            .send()
    };
    let get = from_embedder("/embed/guidance-booking.js").await.unwrap();
    assert_eq!(
        get.headers()["access-control-allow-origin"],
        "https://www.example.org"
    );
    assert!(
        get.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    let page = from_embedder("/book").await.unwrap();
    assert!(
        page.headers().get("access-control-allow-origin").is_none(),
        "pages never"
    );
    let csp = page.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'self';"), "{csp}");
}

#[tokio::test]
async fn a_bad_embed_origin_stops_the_service_from_starting() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path());
    config.embed_origins = Some("www.example.org".into());
    let err = guidance::startup::Application::build(config)
        .await
        .err()
        .expect("refused");
    assert!(err.to_string().contains("GUIDANCE_EMBED_ORIGINS"), "{err}");
}
