//! The owner edits the booking form's supplemental questions in the admin UI: add, edit, delete
//! and reorder over HTTP (with the order reaching `/book`), bad input refused with nothing
//! changed, and one question added through the form in Chromium.

use guidance_testkit::Browser;
use reqwest::Method;
use serde_json::Value;

use crate::admin_browser::sign_in;
use crate::admin_ui::{Owner, login, spawn_admin_app};
use crate::helpers::*;

/// The stored questions as the owner API returns them.
async fn questions(app: &TestApp) -> Value {
    let (status, body) = app.admin(Method::GET, "/api/admin/questions", None).await;
    assert_eq!(status, 200, "{body}");
    body["questions"].clone()
}

fn keys(questions: &Value) -> Vec<String> {
    questions
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["key"].as_str().unwrap().to_owned())
        .collect()
}

/// Where `needle` first appears in `html` (panics when it does not).
fn at(html: &str, needle: &str) -> usize {
    html.find(needle)
        .unwrap_or_else(|| panic!("{needle:?} is missing"))
}

async fn add(app: &TestApp, owner: &Owner, form: &[(&str, &str)]) -> (u16, String) {
    owner.post(app, "/admin/settings/questions", form).await
}

#[tokio::test]
async fn the_owner_adds_reorders_edits_and_deletes_questions_and_book_follows() {
    let app = spawn_admin_app().await;
    app.create_slot(24).await;
    let owner = login(&app).await;

    let (status, settings) = owner.get(&app, "/admin/settings").await;
    assert_eq!(status, 200);
    assert!(settings.contains("href=\"/admin/settings/questions\""));
    assert!(
        !settings.contains("PUT /api/admin/questions"),
        "the old note is gone"
    );
    let (status, page) = owner.get(&app, "/admin/settings/questions").await;
    assert_eq!(status, 200);
    // The test app starts with one short-text question, `company`.
    assert!(page.contains("data-key=\"company\""), "{page}");

    // A choice question, its key made from the label, and a required checkbox with a typed key.
    let (status, to) = add(
        &app,
        &owner,
        &[
            ("label", "Team size?"),
            ("kind", "choice"),
            ("options", "1\r\n2-10\r\n\r\nmore than 10\r\n"),
        ],
    )
    .await;
    assert_eq!(
        (status, to.as_str()),
        (303, "/admin/settings/questions?done=question_added")
    );
    let (status, _) = add(
        &app,
        &owner,
        &[
            ("label", "I agree to the terms"),
            ("key", "consent"),
            ("kind", "checkbox"),
            ("required", "on"),
            // Options typed for another kind are dropped, not stored.
            ("options", "leftover"),
        ],
    )
    .await;
    assert_eq!(status, 303);
    let q = questions(&app).await;
    assert_eq!(keys(&q), ["company", "team_size", "consent"]);
    let q = Value::Array(q.as_array().unwrap()[1..].to_vec());
    assert_eq!(q[0]["kind"], "choice");
    assert_eq!(q[0]["required"], false);
    assert_eq!(
        q[0]["options"],
        serde_json::json!(["1", "2-10", "more than 10"])
    );
    assert_eq!(q[1]["kind"], "checkbox");
    assert_eq!(q[1]["required"], true);
    assert_eq!(q[1]["options"], serde_json::json!([]));
    let (_, page) = owner
        .get(&app, "/admin/settings/questions?done=question_added")
        .await;
    assert!(page.contains("The question was added."));
    assert!(at(&page, "Team size?") < at(&page, "I agree to the terms"));

    // Bad input: a repeated option, an empty option list, a taken key, a bad key. Each comes
    // back with a message and what was typed, and nothing changes.
    let before = questions(&app).await;
    let (status, html) = owner
        .post(
            &app,
            "/admin/settings/questions/team_size",
            &[
                ("label", "Team size now"),
                ("kind", "choice"),
                ("options", "small\nsmall"),
            ],
        )
        .await;
    assert_eq!(status, 422);
    assert!(html.contains("Each option may appear only once"), "{html}");
    assert!(html.contains(">small\nsmall</textarea>"), "{html}");
    assert!(html.contains("value=\"Team size now\""));
    for (form, message) in [
        (
            vec![("label", "Budget"), ("kind", "choice"), ("options", " \n")],
            "A choice question needs at least one option",
        ),
        (
            vec![("label", "Again"), ("key", "consent"), ("kind", "checkbox")],
            "Another question already uses this key.",
        ),
        (
            vec![("label", "Spaces"), ("key", "a b"), ("kind", "short_text")],
            "Use only letters, digits, _ and -, at most 64 characters.",
        ),
        (
            vec![("label", ""), ("kind", "long_text")],
            "Please fill this in.",
        ),
        (
            vec![("label", "Colour"), ("kind", "radio")],
            "This value is not valid.",
        ),
    ] {
        let (status, html) = add(&app, &owner, &form).await;
        assert_eq!(status, 422, "{form:?}");
        assert!(html.contains(message), "{form:?}: {html}");
        assert!(
            html.contains(&format!("value=\"{}\"", form[0].1)),
            "{form:?}"
        );
    }
    assert_eq!(questions(&app).await, before, "nothing changed");

    // A form post without the CSRF token is refused and changes nothing.
    for path in [
        "/admin/settings/questions",
        "/admin/settings/questions/team_size",
        "/admin/settings/questions/team_size/delete",
        "/admin/settings/questions/team_size/move",
    ] {
        let resp = app
            .client
            .post(app.url(path))
            .header("cookie", &owner.cookie)
            .form(&[
                ("label", "Sneaky"),
                ("kind", "short_text"),
                ("direction", "down"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 403, "{path}");
    }
    assert_eq!(questions(&app).await, before, "nothing changed");

    // Reorder: the checkbox goes first (a second move up changes nothing), `company` last.
    let (status, to) = owner
        .post(
            &app,
            "/admin/settings/questions/consent/move",
            &[("direction", "up")],
        )
        .await;
    assert_eq!(
        (status, to.as_str()),
        (303, "/admin/settings/questions?done=questions_reordered")
    );
    for _ in 0..2 {
        let (status, _) = owner
            .post(
                &app,
                "/admin/settings/questions/consent/move",
                &[("direction", "up")],
            )
            .await;
        assert_eq!(status, 303);
    }
    owner
        .post(
            &app,
            "/admin/settings/questions/company/move",
            &[("direction", "down")],
        )
        .await;
    assert_eq!(
        keys(&questions(&app).await),
        ["consent", "team_size", "company"]
    );
    let (_, page) = owner.get(&app, "/admin/settings/questions").await;
    assert!(at(&page, "I agree to the terms") < at(&page, "Team size?"));
    let (status, _) = owner
        .post(
            &app,
            "/admin/settings/questions/consent/move",
            &[("direction", "sideways")],
        )
        .await;
    assert_eq!(status, 422);

    // Edit: new label and options, now required; the key stays.
    let (status, edit) = owner.get(&app, "/admin/settings/questions/team_size").await;
    assert_eq!(status, 200);
    assert!(edit.contains(">1\n2-10\nmore than 10</textarea>"), "{edit}");
    let (status, to) = owner
        .post(
            &app,
            "/admin/settings/questions/team_size",
            &[
                ("label", "How big is your team?"),
                ("key", "ignored"),
                ("kind", "choice"),
                ("required", "on"),
                ("options", "just me\n2-10\n11+"),
            ],
        )
        .await;
    assert_eq!(
        (status, to.as_str()),
        (303, "/admin/settings/questions?done=question_saved")
    );
    let q = questions(&app).await;
    assert_eq!(keys(&q), ["consent", "team_size", "company"]);
    assert_eq!(q[1]["label"], "How big is your team?");
    assert_eq!(q[1]["required"], true);
    assert_eq!(
        q[1]["options"],
        serde_json::json!(["just me", "2-10", "11+"])
    );
    let (status, _) = owner.get(&app, "/admin/settings/questions/nope").await;
    assert_eq!(status, 404);

    // Delete the one the app started with.
    let (status, to) = owner
        .post(&app, "/admin/settings/questions/company/delete", &[])
        .await;
    assert_eq!(
        (status, to.as_str()),
        (303, "/admin/settings/questions?done=question_deleted")
    );
    assert_eq!(keys(&questions(&app).await), ["consent", "team_size"]);

    // The public page asks them in the new order.
    let book = app.text("/book?lang=en").await;
    assert!(at(&book, "I agree to the terms") < at(&book, "How big is your team?"));
    assert!(book.contains("just me"));
    assert!(!book.contains("name=\"answers.company\""));
    assert!(book.contains("name=\"answers.team_size\""));
}

#[tokio::test]
async fn the_owner_adds_a_question_through_the_form_in_chromium() {
    let app = spawn_admin_app().await;
    app.create_slot(24).await;
    let browser = Browser::start().await;
    let c = &browser.client;
    sign_in(&browser, &app).await;

    c.goto(&app.url("/admin/settings")).await.unwrap();
    browser.click("a[href='/admin/settings/questions']").await;
    browser.wait_for_url("/admin/settings/questions").await;
    browser
        .type_into("#q-label", "Which language do you prefer?")
        .await;
    browser.click("#q-kind option[value=choice]").await;
    browser
        .type_into("#q-options", "English\nDeutsch\n日本語")
        .await;
    browser.click("#q-required").await;
    browser.screenshot("admin-question-form").await;
    browser.click("#question-form button[type=submit]").await;
    browser.wait_for_url("done=question_added").await;
    assert_eq!(
        browser.text_of("tr.question:last-child .label").await,
        "Which language do you prefer?"
    );
    browser.screenshot("admin-questions").await;

    let q = questions(&app).await;
    assert_eq!(keys(&q), ["company", "which_language_do_you_prefer"]);
    assert_eq!(q[1]["kind"], "choice");
    assert_eq!(q[1]["required"], true);
    assert_eq!(
        q[1]["options"],
        serde_json::json!(["English", "Deutsch", "日本語"])
    );
}
