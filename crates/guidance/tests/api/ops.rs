//! `/readyz` when the outbox stops moving: the worker hangs on an SMTP server that never answers
//! the message, and once the emails have waited long past due the instance says it is not
//! ready, with the reason. Time passes on the test clock.

use std::time::Duration;

use guidance_testkit::api::intake;
use guidance_testkit::smtp::Sink;
use guidance_testkit::wait::poll;
use serde_json::Value;

use crate::helpers::*;

async fn readyz(app: &TestApp) -> (u16, Value) {
    let resp = reqwest::get(app.url("/readyz"))
        .await
        .expect("/readyz answers");
    let status = resp.status().as_u16();
    (status, resp.json().await.expect("a JSON body"))
}

#[tokio::test]
async fn readyz_says_the_outbox_is_stuck_when_no_worker_sends_for_long() {
    let sink = Sink::start(&["--stall"]);
    let url = sink.url(None);
    let app = spawn_app_with(|c| c.smtp_url = Some(url)).await;
    assert_eq!(
        readyz(&app).await,
        (200, serde_json::json!({"status": "ready"}))
    );

    let slot = app.create_slot(80).await;
    let (status, body) = app.book(&intake(&slot)).await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_str().expect("an id").to_owned();
    // The worker took the emails (each counted as an attempt from its queueing, as it was
    // handed over) and hangs in the middle of sending the first.
    let in_hand = poll(Duration::from_secs(30), || async {
        let emails = app.emails(&id).await;
        let counted = emails.iter().any(|e| e["attempts"] == 1);
        (counted && app.app.handoff.waiting() == 0).then_some(())
    })
    .await;
    assert!(in_hand.is_some(), "the worker never started sending");
    let (status, _) = readyz(&app).await;
    assert_eq!(status, 200, "just due is not stuck");

    app.pass_hours(1.0).await;
    let (status, body) = readyz(&app).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["status"], "not_ready");
    assert_eq!(body["reason"], "outbox_stuck");
    assert!(
        body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("no worker")),
        "{body}"
    );
}
