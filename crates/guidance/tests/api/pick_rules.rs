//! A new time chosen from the visitor's link is held to the rules of a new booking: booking
//! open, the owner's minimum notice, their horizon — with the same answers.

use guidance_testkit::api::intake;
use guidance_testkit::mail::{action_links, token_of};
use serde_json::json;

use crate::helpers::*;

/// Books a slot and has the owner ask for another time; returns the visitor's pick token.
async fn asked_for_another_time(app: &TestApp) -> String {
    let (status, body) = app.book(&intake(&app.create_slot(30).await)).await;
    assert_eq!(status, 201, "{body}");
    let owner_mail = app.mail.wait_for("owner_new_request", 1).await.remove(0);
    let reschedule = action_links(&owner_mail, &app.base)[2].clone();
    assert_eq!(app.post(&reschedule).await.status(), 200);
    let ask = app
        .mail
        .wait_for("requester_pick_new_time", 1)
        .await
        .remove(0);
    token_of(&action_links(&ask, &app.base)[0])
}

async fn pick(app: &TestApp, token: &str, slot: &str) -> (u16, serde_json::Value) {
    app.post_json(
        "/api/actions",
        &json!({"token": token, "action": "pick_slot", "slot_id": slot}),
    )
    .await
}

#[tokio::test]
async fn a_new_time_inside_the_minimum_notice_is_refused_as_a_new_booking_is() {
    let app = spawn_app().await;
    let token = asked_for_another_time(&app).await;
    let two_days_out = app.create_slot(48).await;
    let (status, body) = app.put_settings(json!({"min_notice_hours": 720})).await;
    assert_eq!(status, 200, "{body}");

    let (new_status, new_body) = app.book(&intake(&two_days_out)).await;
    let (pick_status, pick_body) = pick(&app, &token, &two_days_out).await;
    assert_eq!(new_status, 409, "{new_body}");
    assert_eq!(
        (pick_status, &pick_body["error"]["code"]),
        (new_status, &new_body["error"]["code"]),
        "{pick_body}"
    );
    assert_eq!(
        app.open_slot_ids().await.len(),
        0,
        "nothing is offered inside the notice"
    );

    // With a notice that the slot keeps, the same pick goes through.
    app.put_settings(json!({"min_notice_hours": 24})).await;
    let (status, body) = pick(&app, &token, &two_days_out).await;
    assert_eq!(
        (status, &body["status"]),
        (200, &json!("pending")),
        "{body}"
    );
}

#[tokio::test]
async fn a_new_time_beyond_the_horizon_or_while_booking_is_closed_is_refused() {
    let app = spawn_app().await;
    let token = asked_for_another_time(&app).await;
    let far = app.create_slot(24 * 20).await;
    let near = app.create_slot(50).await;

    app.put_settings(json!({"horizon_days": 10})).await;
    let (status, body) = pick(&app, &token, &far).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (409, &json!("slot_taken"))
    );

    app.put_settings(json!({"booking_open": false})).await;
    let (new_status, new_body) = app.book(&intake(&near)).await;
    let (status, body) = pick(&app, &token, &near).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (new_status, &new_body["error"]["code"])
    );
    assert_eq!(
        (status, &body["error"]["code"]),
        (403, &json!("booking_closed"))
    );
}
