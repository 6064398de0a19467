//! Proposed times from the owner's emailed "ask for another time" link: its page offers the
//! next open times to propose and a message, and `POST /api/actions` takes the same; bad input
//! is refused field by field and changes nothing.

use guidance_testkit::Browser;
use guidance_testkit::api::intake;
use guidance_testkit::mail::{action_links, plain_text, token_of};
use serde_json::json;

use crate::helpers::*;

/// A pending request of a fresh slot (30 hours ahead), `n` open slots after it, and the path of
/// the owner's emailed reschedule link. Asking for another time frees the request's slot: it
/// comes first in the open slots from then on.
async fn pending_with_open_slots(app: &TestApp, n: usize) -> (String, Vec<String>, String) {
    let booked = app.create_slot(30).await;
    let open = app.create_slots(33, n).await;
    let (status, body) = app.book(&intake(&booked)).await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_str().unwrap().to_owned();
    let mail = app.mail.wait_for("owner_new_request", 1).await.remove(0);
    let reschedule = action_links(&mail, &app.base).remove(2);
    let path = reschedule.strip_prefix(&app.base).unwrap().to_owned();
    (id, open, path)
}

fn form<'a>(message: &'a str, proposed: &'a [String]) -> Vec<(&'a str, &'a str)> {
    let mut pairs = vec![("message", message)];
    pairs.extend(proposed.iter().map(|id| ("proposed_slot_ids", id.as_str())));
    pairs
}

#[tokio::test]
async fn the_owners_reschedule_link_page_proposes_times_and_refuses_four_keeping_what_was_typed() {
    let app = spawn_app().await;
    let (id, open, path) = pending_with_open_slots(&app, 4).await;
    let booked = app.booking(&id).await["slot_id"]
        .as_str()
        .unwrap()
        .to_owned();

    // The page offers every open time as a box to tick, and a message.
    let page = app.get(&path).await.text().await.unwrap();
    for slot in &open {
        assert!(
            page.contains(&format!("name=\"proposed_slot_ids\" value=\"{slot}\"")),
            "{slot} is offered"
        );
    }
    assert!(page.contains("<textarea id=\"message\" name=\"message\""));

    // Four are one too many: refused, nothing changed, the form comes back as it was sent.
    let refused = app.post_form(&path, &form("Any of these?", &open)).await;
    assert_eq!(refused.status(), 422);
    let page = refused.text().await.unwrap();
    assert!(
        page.contains("Proposed times: There are too many entries."),
        "{page}"
    );
    assert!(page.contains(">Any of these?</textarea>"));
    assert_eq!(page.matches(" checked>").count(), 4, "the four stay ticked");
    assert_eq!(app.booking(&id).await["status"], "pending");
    assert_eq!(app.open_slot_ids().await, open, "nothing is held");

    // A message too long is named too.
    let long = "x".repeat(2001);
    let refused = app.post_form(&path, &form(&long, &open[..1])).await;
    assert_eq!(refused.status(), 422);
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("Your message: This is too long.")
    );

    // Two, with a message: the visitor is asked, offered both, and nobody else can book them.
    let done = app
        .post_form(&path, &form("Any of these?", &open[1..3]))
        .await;
    assert_eq!(done.status(), 200);
    assert_eq!(app.booking(&id).await["status"], "needs_reschedule");
    assert_eq!(
        app.open_slot_ids().await,
        vec![booked, open[0].clone(), open[3].clone()]
    );
    let (status, body) = app.book(&intake(&open[1])).await;
    assert_eq!(status, 409, "{body}");
    let ask = app
        .mail
        .wait_for("requester_pick_new_time", 1)
        .await
        .remove(0);
    let text = plain_text(&ask);
    assert!(text.contains("Any of these?"), "{text}");
    let offered = text
        .split_whitespace()
        .filter(|w| w.starts_with(&format!("{}/p/", app.base)))
        .count();
    assert_eq!(offered, 2, "{text}");

    // The link is spent.
    assert_eq!(app.post_form(&path, &form("", &[])).await.status(), 409);
}

#[tokio::test]
async fn post_api_actions_takes_proposed_times_only_with_a_reschedule_link() {
    let app = spawn_app().await;
    let (id, open, path) = pending_with_open_slots(&app, 3).await;
    let booked = app.booking(&id).await["slot_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let token = token_of(&path);
    let mail = app.mail.wait_for("owner_new_request", 1).await.remove(0);
    let accept = action_links(&mail, &app.base).remove(0);
    let accept_token = token_of(&accept);

    // Proposed times with an accept link: refused by name, the link still works.
    let (status, body) = app
        .post_json(
            "/api/actions",
            &json!({"token": accept_token, "proposed_slot_ids": [open[0]]}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["error"]["fields"]["proposed_slot_ids"].is_object(),
        "{body}"
    );
    assert_eq!(app.get(&accept).await.status(), 200);

    // A proposed slot that is not a slot, and one given twice: each named.
    let (status, body) = app
        .post_json(
            "/api/actions",
            &json!({"token": token, "proposed_slot_ids": ["nope", open[0], open[0]]}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    let fields = &body["error"]["fields"];
    assert_eq!(
        fields["proposed_slot_ids.0"]["code"], "unknown_value",
        "{body}"
    );
    assert_eq!(fields["proposed_slot_ids.2"]["code"], "duplicate", "{body}");
    assert_eq!(app.booking(&id).await["status"], "pending");

    let (status, body) = app
        .post_json(
            "/api/actions",
            &json!({"token": token, "action": "reschedule", "message": "Later that day?",
                    "proposed_slot_ids": [open[2]]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "needs_reschedule");
    assert_eq!(
        app.open_slot_ids().await,
        vec![booked, open[0].clone(), open[1].clone()]
    );
    let history = app.booking(&id).await;
    assert!(
        history.to_string().contains("Later that day?"),
        "the message is in the history: {history}"
    );

    // The visitor's own link to choose a time takes no message.
    let ask = app
        .mail
        .wait_for("requester_pick_new_time", 1)
        .await
        .remove(0);
    let pick = action_links(&ask, &app.base).remove(0);
    let (status, body) = app
        .post_json(
            "/api/actions",
            &json!({"token": token_of(&pick), "slot_id": open[0],
                    "message": "hello"}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(body["error"]["fields"]["message"].is_object(), "{body}");
}

#[tokio::test]
async fn the_owner_proposes_two_times_from_the_email_link_in_chromium() {
    let app = spawn_app().await;
    let (id, open, path) = pending_with_open_slots(&app, 3).await;
    let booked = app.booking(&id).await["slot_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let browser = Browser::start().await;
    browser.client.goto(&app.url(&path)).await.unwrap();
    assert_eq!(
        browser.text_of("h1").await,
        "Ask the visitor to choose another time?"
    );
    browser
        .assert_accessible("the owner's reschedule link")
        .await;
    for slot in [&open[0], &open[2]] {
        browser
            .click(&format!("input[name=proposed_slot_ids][value='{slot}']"))
            .await;
    }
    browser.type_into("#message", "Either of these?").await;
    browser.screenshot("owner-link-propose").await;
    browser.click("button.primary").await;
    browser
        .wait_for_text("h1", "Visitor asked to choose another time")
        .await;
    assert_eq!(app.booking(&id).await["status"], "needs_reschedule");
    assert_eq!(app.open_slot_ids().await, vec![booked, open[1].clone()]);
    browser.close().await;
}
