//! A booking's emails go from the request straight to the worker of the same process (see
//! `guidance_app::outbox::handoff`), claimed as they are queued. A worker that dies with them
//! loses none: once their lease has run out, they are sent, each once, as any claimed email.

use guidance_store::EmailStatus;
use guidance_testkit::api::intake;
use guidance_testkit::mail::message_id;

use crate::helpers::*;

/// Books a slot `hours` ahead and returns the booking's id.
async fn book_in(app: &TestApp, hours: i64) -> uuid::Uuid {
    let slot = app.create_slot(hours).await;
    let (status, body) = app.book(&intake(&slot)).await;
    assert_eq!(status, 201, "{body}");
    body["id"].as_str().unwrap().parse().expect("a booking id")
}

#[tokio::test]
async fn emails_handed_to_a_worker_that_died_are_sent_once_their_lease_has_run_out() {
    let app = spawn_app().await;
    // The app's own worker sends what it is handed at once.
    book_in(&app, 48).await;
    app.mail.wait_for("owner_new_request", 1).await;

    // A worker that takes the next booking's emails and dies with them.
    let dead = app.app.handoff.open();
    let id = book_in(&app, 72).await;
    assert_eq!(dead.len(), 2, "the request's two emails were handed over");
    let rows = app.app.store.booking_emails(id).await.expect("emails");
    let handed: Vec<_> = rows.iter().filter(|m| m.send_before.is_none()).collect();
    assert_eq!(handed.len(), 2, "{rows:?}");
    for m in &handed {
        assert_eq!(
            (m.status, m.attempts),
            (EmailStatus::Queued, 1),
            "{}: claimed as it was queued",
            m.kind
        );
    }
    drop(dead);

    // Once the lease has run out, the app's worker claims and sends them.
    app.pass_hours(0.1).await;
    let requests = app.mail.wait_for("owner_new_request", 2).await;
    app.mail.wait_for("requester_received", 2).await;
    let ids: Vec<String> = requests.iter().map(|raw| message_id(raw)).collect();
    let of_dead = handed
        .iter()
        .find(|m| m.kind == "owner_new_request")
        .expect("the owner's email");
    assert!(
        ids.iter().any(|i| of_dead.message_id.contains(i.as_str())),
        "the very email that was handed over: {ids:?} against {}",
        of_dead.message_id
    );

    // With nobody to take handed emails, the next booking's are left to the worker's claims.
    book_in(&app, 96).await;
    app.mail.wait_for("owner_new_request", 3).await;
    app.mail.wait_for("requester_received", 3).await;
    let delivered = app.mail.delivered(None);
    assert!(
        delivered.values().all(|n| *n == 1),
        "each email once: {delivered:?}"
    );
    for m in app.app.store.booking_emails(id).await.expect("emails") {
        if m.send_before.is_none() {
            assert_eq!((m.status, m.attempts), (EmailStatus::Sent, 2), "{}", m.kind);
        }
    }
}
