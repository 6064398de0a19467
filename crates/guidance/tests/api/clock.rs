//! Time passing, by moving the app's test clock: links that stop working, requests nobody
//! answered in time, and the minimum notice and the horizon as the days go by.

use guidance_testkit::api::intake;
use guidance_testkit::mail::action_links;
use serde_json::json;

use crate::helpers::*;

/// The owner's accept, decline and reschedule links of the (first) new request.
async fn owner_links(app: &TestApp) -> Vec<String> {
    let mail = app.mail.wait_for("owner_new_request", 1).await.remove(0);
    let links = action_links(&mail, &app.base);
    assert_eq!(links.len(), 3, "{links:?}");
    links
}

async fn settings(app: &TestApp, change: serde_json::Value) {
    let (status, body) = app.put_settings(change).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn an_unanswered_request_and_its_links_expire_when_the_session_starts() {
    let app = spawn_app().await;
    let slot = app.create_slot(3).await;
    let (status, body) = app.book(&intake(&slot)).await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_str().unwrap().to_owned();
    let accept = owner_links(&app).await.remove(0);

    // An hour before the session, the owner may still answer…
    app.pass_hours(2.0).await;
    assert_eq!(app.booking(&id).await["status"], "pending");
    let page = app.get(&accept).await;
    assert_eq!(page.status(), 200, "the link still works");

    // …but once it has started, the request has expired and the link says so.
    app.pass_hours(1.5).await;
    assert_eq!(app.booking(&id).await["status"], "expired");
    let resp = app.post(&accept).await;
    assert_eq!(resp.status(), 410, "an expired link");
    assert!(
        !app.open_slot_ids().await.contains(&slot),
        "a slot in the past is not offered"
    );
}

#[tokio::test]
async fn a_visitor_asked_for_a_new_time_has_fourteen_days_to_choose() {
    let app = spawn_app().await;
    let slot = app.create_slot(24 * 30).await;
    let other = app.create_slot(24 * 30 + 2).await;
    let (_, body) = app.book(&intake(&slot)).await;
    let id = body["id"].as_str().unwrap().to_owned();
    let reschedule = owner_links(&app).await.remove(2);
    let resp = app.post(&reschedule).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(app.booking(&id).await["status"], "needs_reschedule");
    let mail = app
        .mail
        .wait_for("requester_pick_new_time", 1)
        .await
        .remove(0);
    let pick = action_links(&mail, &app.base).remove(0);
    let token = pick.rsplit('/').next().unwrap().to_owned();

    app.pass_hours(13.0 * 24.0).await;
    assert_eq!(app.booking(&id).await["status"], "needs_reschedule");
    app.pass_hours(24.0 + 1.0).await;
    assert_eq!(app.booking(&id).await["status"], "expired");
    let (status, body) = app
        .post_json(
            "/api/actions",
            &json!({"token": token, "action": "pick_slot", "slot_id": other}),
        )
        .await;
    assert_eq!(status, 410, "{body}");
    assert_eq!(body["error"]["code"], "token_expired");
}

#[tokio::test]
async fn the_minimum_notice_closes_a_slot_as_its_time_comes_near() {
    let app = spawn_app().await;
    settings(&app, json!({"min_notice_hours": 24})).await;
    let slot = app.create_slot(30).await;
    assert!(app.open_slot_ids().await.contains(&slot), "30 hours ahead");

    app.clock.advance(jiff::SignedDuration::from_hours(7));
    assert!(
        !app.open_slot_ids().await.contains(&slot),
        "now within the notice"
    );
    let (status, body) = app.book(&intake(&slot)).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "slot_taken");
}

#[tokio::test]
async fn a_slot_beyond_the_horizon_opens_as_the_days_pass() {
    let app = spawn_app().await;
    settings(&app, json!({"horizon_days": 2})).await;
    let slot = app.create_slot(24 * 3).await;
    assert!(!app.open_slot_ids().await.contains(&slot), "three days out");
    let (status, _) = app.book(&intake(&slot)).await;
    assert_eq!(status, 409, "beyond the horizon");

    app.clock.advance(jiff::SignedDuration::from_hours(36));
    assert!(
        app.open_slot_ids().await.contains(&slot),
        "now within two days"
    );
    let (status, body) = app.book(&intake(&slot)).await;
    assert_eq!(status, 201, "{body}");
}
