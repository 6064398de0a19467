//! Proposed times: the owner asks for another time proposing up to three open slots; they are
//! held for the visitor (hidden from everyone else, refused to anyone who books them) until the
//! visitor takes one, the booking changes otherwise, or the reschedule window ends.

use guidance_testkit::api::intake;
use guidance_testkit::mail::plain_text;
use serde_json::{Value, json};

use crate::helpers::*;

/// The links under `<base>/<prefix>` in a message's text, in order.
fn links(raw: &[u8], base: &str, prefix: &str) -> Vec<String> {
    let start = format!("{base}{prefix}");
    plain_text(raw)
        .split_whitespace()
        .filter(|w| w.starts_with(&start))
        .map(str::to_owned)
        .collect()
}

/// An accepted booking of a fresh slot (30 hours ahead), and `n` more open slots after it.
async fn accepted_with_open_slots(app: &TestApp, n: usize) -> (String, String, Vec<String>) {
    let booked = app.create_slot(30).await;
    let open = app.create_slots(33, n).await;
    let (status, body) = app.book(&intake(&booked)).await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_str().unwrap().to_owned();
    assert_eq!(app.act(&id, "accept", None).await.0, 200);
    (id, booked, open)
}

async fn reschedule(app: &TestApp, id: &str, proposed: &[&String]) -> (u16, Value) {
    let body = json!({"message": "Any of these?", "proposed_slot_ids": proposed});
    app.act(id, "reschedule", Some(body)).await
}

#[tokio::test]
async fn a_visitor_takes_one_of_three_proposed_times_from_the_email_and_the_others_open_at_once() {
    let app = spawn_app().await;
    let (id, old, open) = accepted_with_open_slots(&app, 4).await;
    let (proposed, other) = (&open[..3], &open[3]);

    let (status, body) = reschedule(&app, &id, &proposed.iter().collect::<Vec<_>>()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "needs_reschedule");
    // Held for the visitor: nobody else sees or books them.
    assert_eq!(app.open_slot_ids().await, vec![old.clone(), other.clone()]);
    let (status, refused) = app.book(&intake(&proposed[0])).await;
    assert_eq!(status, 409, "{refused}");
    assert_eq!(refused["error"]["code"], "slot_taken");

    // The email offers each, one click away, beside the whole list.
    let ask = app
        .mail
        .wait_for("requester_pick_new_time", 1)
        .await
        .remove(0);
    let offered = links(&ask, &app.base, "/p/");
    assert_eq!(offered.len(), 3, "{offered:?}");
    assert_eq!(links(&ask, &app.base, "/a/").len(), 1, "see all open times");

    // The link shows a page; only its button acts.
    let page = app.get(&offered[1]).await;
    assert_eq!(page.status(), 200);
    assert!(
        page.text()
            .await
            .unwrap()
            .contains("<form method=\"post\">")
    );
    assert_eq!(app.booking(&id).await["status"], "needs_reschedule");

    let taken = app.post(&offered[1]).await;
    assert_eq!(taken.status(), 200);
    let booking = app.booking(&id).await;
    assert_eq!(booking["status"], "accepted", "the owner proposed it");
    assert_eq!(booking["slot_id"], proposed[1].as_str());
    assert_eq!(
        app.open_slot_ids().await,
        vec![old, proposed[0].clone(), proposed[2].clone(), other.clone()],
        "the other two are open again at once"
    );
    app.mail.wait_for("requester_accepted", 2).await;

    // The other links, and the same one again, take nothing.
    assert_eq!(app.post(&offered[0]).await.status(), 409);
    assert_eq!(app.post(&offered[1]).await.status(), 409);
    assert_eq!(app.booking(&id).await["slot_id"], proposed[1].as_str());
    let (status, _) = app.book(&intake(&proposed[0])).await;
    assert_eq!(status, 201, "a freed time is bookable");
}

#[tokio::test]
async fn bad_proposals_are_refused_field_by_field_and_change_nothing() {
    let app = spawn_app().await;
    let (id, _, open) = accepted_with_open_slots(&app, 4).await;
    let taken = app.create_slot(50).await;
    let (status, _) = app.book(&intake(&taken)).await;
    assert_eq!(status, 201);
    let emails_before = app.email_kinds(&id).await.len();

    let bad = json!({"proposed_slot_ids": ["not-an-id", open[0], open[0]]});
    let (status, body) = app.act(&id, "reschedule", Some(bad)).await;
    assert_eq!(status, 422, "{body}");
    let fields = &body["error"]["fields"];
    assert_eq!(fields["proposed_slot_ids.0"]["code"], "unknown_value");
    assert_eq!(fields["proposed_slot_ids.2"]["code"], "duplicate");
    assert!(fields.get("proposed_slot_ids.1").is_none(), "{body}");

    let (status, body) = reschedule(&app, &id, &[&open[1], &taken]).await;
    assert_eq!(status, 422);
    let fields = &body["error"]["fields"];
    assert_eq!(fields["proposed_slot_ids.1"]["code"], "slot_not_open");

    let unknown = uuid::Uuid::new_v4().to_string();
    let (status, body) = reschedule(&app, &id, &[&unknown]).await;
    assert_eq!(status, 422);
    assert_eq!(
        body["error"]["fields"]["proposed_slot_ids.0"]["code"],
        "unknown_value"
    );

    let (status, body) = reschedule(&app, &id, &open.iter().collect::<Vec<_>>()).await;
    assert_eq!(status, 422);
    assert_eq!(
        body["error"]["fields"]["proposed_slot_ids"]["code"],
        "too_many"
    );

    let (status, body) = app
        .act(&id, "cancel", Some(json!({"proposed_slot_ids": [open[0]]})))
        .await;
    assert_eq!(
        status, 422,
        "times are proposed only with a reschedule: {body}"
    );

    let (status, body) = app
        .act(&id, "reschedule", Some(json!({"proposed_slot_ids": "x"})))
        .await;
    assert_eq!(status, 422);
    assert_eq!(
        body["error"]["fields"]["proposed_slot_ids"]["code"],
        "wrong_type"
    );

    // Nothing changed: still accepted on its slot, every slot as it was, no email.
    assert_eq!(app.booking(&id).await["status"], "accepted");
    let listed = app.open_slot_ids().await;
    assert!(open.iter().all(|s| listed.contains(s)), "{listed:?}");
    assert_eq!(app.email_kinds(&id).await.len(), emails_before);
}

#[tokio::test]
async fn the_holds_end_with_the_reschedule_window_and_the_links_with_them() {
    let app = spawn_app().await;
    // Sessions after the window (14 days), so that only the window's end frees them.
    let booked = app.create_slot(16 * 24).await;
    let open = app.create_slots(16 * 24 + 3, 2).await;
    let (_, body) = app.book(&intake(&booked)).await;
    let id = body["id"].as_str().unwrap().to_owned();
    let (status, body) = reschedule(&app, &id, &open.iter().collect::<Vec<_>>()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(app.open_slot_ids().await, vec![booked.clone()]);
    let ask = app
        .mail
        .wait_for("requester_pick_new_time", 1)
        .await
        .remove(0);
    let offered = links(&ask, &app.base, "/p/");

    app.pass_hours(13.0 * 24.0).await;
    assert_eq!(app.booking(&id).await["status"], "needs_reschedule");
    assert_eq!(
        app.open_slot_ids().await,
        vec![booked.clone()],
        "still held"
    );

    app.pass_hours(24.0 + 1.0).await;
    assert_eq!(app.booking(&id).await["status"], "expired");
    assert_eq!(
        app.open_slot_ids().await,
        vec![booked, open[0].clone(), open[1].clone()],
        "the window ended: every hold is given back"
    );
    assert_eq!(
        app.get(&offered[0]).await.status(),
        409,
        "the link is out of date"
    );
}

#[tokio::test]
async fn with_approval_on_a_time_taken_from_the_visitors_page_goes_back_to_the_owner() {
    let app = spawn_app().await;
    let (status, body) = app
        .put_settings(json!({"proposed_time_needs_approval": true}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["proposed_time_needs_approval"], true);
    let (id, _, open) = accepted_with_open_slots(&app, 2).await;
    let (status, _) = reschedule(&app, &id, &open.iter().collect::<Vec<_>>()).await;
    assert_eq!(status, 200);

    // The visitor's own page lists the proposals as buttons.
    let received = app.mail.wait_for("requester_received", 1).await.remove(0);
    let my = links(&received, &app.base, "/my/").remove(0);
    let html = app.text(&my).await;
    let proposal_ids: Vec<&str> = html
        .split("name=\"proposal_id\" value=\"")
        .skip(1)
        .map(|s| s.split('"').next().unwrap())
        .collect();
    assert_eq!(proposal_ids.len(), 2, "{html}");
    let take = format!("{}/take", my.split('?').next().unwrap());
    let resp = app
        .client
        .post(&take)
        .form(&[("proposal_id", proposal_ids[0])])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303, "back to the visitor's page");

    let booking = app.booking(&id).await;
    assert_eq!(booking["status"], "pending", "waits for the owner");
    assert_eq!(booking["slot_id"], open[0].as_str());
    assert!(app.open_slot_ids().await.contains(&open[1]));
    app.mail.wait_for("owner_new_request", 2).await;
}

#[tokio::test]
async fn cancelling_gives_the_proposed_times_back() {
    let app = spawn_app().await;
    let (id, _, open) = accepted_with_open_slots(&app, 2).await;
    let (status, _) = reschedule(&app, &id, &open.iter().collect::<Vec<_>>()).await;
    assert_eq!(status, 200);
    assert!(!app.open_slot_ids().await.contains(&open[0]));
    assert_eq!(app.act(&id, "cancel", None).await.0, 200);
    let listed = app.open_slot_ids().await;
    assert!(open.iter().all(|s| listed.contains(s)), "{listed:?}");
}
