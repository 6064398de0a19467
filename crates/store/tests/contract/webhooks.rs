//! Webhooks: endpoints, the messages a booking's change queues for them in its own
//! transaction, their claims, attempts, "send again", and the erasure of their bodies.

use guidance_store::{
    NewWebhookEndpoint, NewWebhookEvent, WebhookAttempt, WebhookOutcome, WebhookStatus,
};

use super::*;

fn new_endpoint(url: &str, events: &[&str], t0: Timestamp) -> NewWebhookEndpoint {
    NewWebhookEndpoint {
        id: Uuid::new_v4(),
        url: url.to_owned(),
        events: events.iter().map(|e| (*e).to_owned()).collect(),
        sealed_secret: vec![9, 8, 7, 0, 255],
        now: t0,
    }
}

fn event(name: &str) -> NewWebhookEvent {
    NewWebhookEvent {
        event: name.to_owned(),
        payload: format!(r#"{{"type":"{name}"}}"#),
    }
}

/// A booking requested at `t0` with a `booking.requested` message, and an endpoint for every
/// event (also used to populate a site). Returns the endpoint's id and the booking.
pub async fn a_booking_announced(store: &dyn Store, t0: Timestamp) -> (Uuid, Booking) {
    let endpoint = store
        .create_webhook_endpoint(new_endpoint(
            "https://hooks.example/all",
            &["booking.requested", "booking.accepted"],
            t0,
        ))
        .await
        .expect("endpoint");
    let slot = slot_at(store, future(t0) + hours(30), 60).await;
    let mut request = request(&slot, "wendy", t0);
    request.new.webhook = Some(event("booking.requested"));
    let booking = store.create_booking(request.new).await.expect("book");
    (endpoint.id, booking)
}

pub async fn webhook_endpoints_are_added_listed_and_removed_with_their_messages(
    store: Arc<dyn Store>,
) {
    let t0 = now();
    let store = store.as_ref();
    assert!(
        store
            .list_webhook_endpoints()
            .await
            .expect("list")
            .is_empty()
    );
    let (first, _) = a_booking_announced(store, t0).await;
    let second = store
        .create_webhook_endpoint(new_endpoint(
            "https://other.example/in",
            &["booking.cancelled"],
            t0 + mins(1),
        ))
        .await
        .expect("second");
    assert_eq!(second.events, ["booking.cancelled"]);
    assert_eq!(second.sealed_secret, [9, 8, 7, 0, 255]);
    let listed = store.list_webhook_endpoints().await.expect("list");
    assert_eq!(
        listed.iter().map(|e| e.id).collect::<Vec<_>>(),
        [first, second.id]
    );
    assert_eq!(listed[1], second);
    assert_eq!(
        store
            .webhook_deliveries(first, 50)
            .await
            .expect("log")
            .len(),
        1
    );

    store.delete_webhook_endpoint(first).await.expect("delete");
    assert!(
        store
            .webhook_deliveries(first, 50)
            .await
            .expect("log")
            .is_empty(),
        "its messages went with it"
    );
    assert_err!(
        store.delete_webhook_endpoint(first).await,
        StoreError::NotFound
    );
    assert_eq!(
        store.list_webhook_endpoints().await.expect("list"),
        [second]
    );
}

pub async fn webhook_changes_queue_a_message_for_each_endpoint_that_asked(store: Arc<dyn Store>) {
    let t0 = now();
    let store = store.as_ref();
    let (all, booked) = a_booking_announced(store, t0).await;
    let cancels = store
        .create_webhook_endpoint(new_endpoint(
            "https://other.example/in",
            &["booking.cancelled"],
            t0,
        ))
        .await
        .expect("endpoint")
        .id;
    let also_cancels = store
        .create_webhook_endpoint(new_endpoint(
            "https://third.example/in",
            &["booking.accepted", "booking.cancelled"],
            t0,
        ))
        .await
        .expect("endpoint")
        .id;
    let requested = store.webhook_deliveries(all, 50).await.expect("log");
    assert_eq!(requested.len(), 1);
    let m = &requested[0];
    assert_eq!(
        (m.booking_id, m.event.as_str(), m.status, m.attempts),
        (
            Some(booked.id),
            "booking.requested",
            WebhookStatus::Queued,
            0
        )
    );
    assert_eq!(m.payload, r#"{"type":"booking.requested"}"#);
    assert_eq!((m.next_attempt_at, m.created_at), (t0, t0));

    // Accepted: only the endpoints that asked for it hear of it.
    let mut accept = transition(&booked, BookingAction::Accept, None, None, t0 + mins(1));
    accept.webhook = Some(event("booking.accepted"));
    let accepted = store.transition(accept).await.expect("accept");
    assert_eq!(
        store.webhook_deliveries(all, 50).await.expect("log").len(),
        2
    );
    assert_eq!(
        store
            .webhook_deliveries(also_cancels, 50)
            .await
            .expect("log")
            .len(),
        1
    );
    assert!(
        store
            .webhook_deliveries(cancels, 50)
            .await
            .expect("log")
            .is_empty()
    );

    // A change that fails writes no message.
    let mut stale = transition(&booked, BookingAction::Cancel, None, None, t0 + mins(2));
    stale.webhook = Some(event("booking.cancelled"));
    assert_err!(store.transition(stale).await, StoreError::Conflict);
    assert!(
        store
            .webhook_deliveries(cancels, 50)
            .await
            .expect("log")
            .is_empty()
    );
    let mut cancel = transition(&accepted, BookingAction::Cancel, None, None, t0 + mins(3));
    cancel.webhook = Some(event("booking.cancelled"));
    store.transition(cancel).await.expect("cancel");
    let log = store.webhook_deliveries(cancels, 50).await.expect("log");
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].event, "booking.cancelled");
    // Two endpoints asked for the cancellation: one message each, from the one change.
    let log = store
        .webhook_deliveries(also_cancels, 50)
        .await
        .expect("log");
    let events: Vec<&str> = log.iter().map(|m| m.event.as_str()).collect();
    assert_eq!(events, ["booking.cancelled", "booking.accepted"]);
    assert_ne!(
        log[0].id,
        store.webhook_deliveries(cancels, 50).await.expect("log")[0].id
    );
    // Newest first.
    let events: Vec<String> = store
        .webhook_deliveries(all, 50)
        .await
        .expect("log")
        .into_iter()
        .map(|m| m.event)
        .collect();
    assert_eq!(events, ["booking.accepted", "booking.requested"]);
}

pub async fn webhook_attempts_are_logged_retried_and_sent_again(store: Arc<dyn Store>) {
    let t0 = now();
    let store = store.as_ref();
    let (endpoint, _) = a_booking_announced(store, t0).await;
    let claimed = store
        .claim_webhook_delivery(t0, t0 + mins(5))
        .await
        .expect("claim")
        .expect("due");
    assert_eq!(claimed.attempts, 1);
    assert_eq!(claimed.last_attempt_at, Some(t0));
    // Leased: nobody else gets it.
    assert!(
        store
            .claim_webhook_delivery(t0, t0 + mins(5))
            .await
            .expect("claim")
            .is_none()
    );
    let retry_at = t0 + mins(10);
    store
        .record_webhook_attempt(
            claimed.id,
            &WebhookAttempt {
                status_code: Some(503),
                error: Some("HTTP 503".into()),
                outcome: WebhookOutcome::Retry(retry_at),
                now: t0,
            },
        )
        .await
        .expect("record");
    assert_eq!(store.next_webhook_due().await.expect("due"), Some(retry_at));
    assert!(
        store
            .claim_webhook_delivery(t0 + mins(9), t0 + mins(14))
            .await
            .expect("claim")
            .is_none(),
        "not before its next try"
    );
    let again = store
        .claim_webhook_delivery(retry_at, retry_at + mins(5))
        .await
        .expect("claim")
        .expect("due again");
    assert_eq!((again.id, again.attempts), (claimed.id, 2));
    assert_eq!(again.last_status, Some(503));
    store
        .record_webhook_attempt(
            again.id,
            &WebhookAttempt {
                status_code: None,
                error: Some("connection refused".into()),
                outcome: WebhookOutcome::Failed,
                now: retry_at,
            },
        )
        .await
        .expect("record");
    let failed = &store.webhook_deliveries(endpoint, 50).await.expect("log")[0];
    assert_eq!(failed.status, WebhookStatus::Failed);
    assert_eq!(failed.last_status, None);
    assert_eq!(failed.last_error.as_deref(), Some("connection refused"));
    assert_eq!(store.next_webhook_due().await.expect("due"), None);

    // Sent again: the same message, due at once, with a fresh budget.
    let later = retry_at + hours(1);
    assert_err!(
        store
            .requeue_webhook_delivery(Uuid::new_v4(), failed.id, later)
            .await,
        StoreError::NotFound
    );
    let requeued = store
        .requeue_webhook_delivery(endpoint, failed.id, later)
        .await
        .expect("requeue");
    assert_eq!(
        (requeued.id, requeued.status, requeued.attempts),
        (failed.id, WebhookStatus::Queued, 0)
    );
    assert_eq!(requeued.payload, failed.payload);
    let claimed = store
        .claim_webhook_delivery(later, later + mins(5))
        .await
        .expect("claim")
        .expect("due");
    assert_err!(
        store
            .requeue_webhook_delivery(endpoint, claimed.id, later)
            .await,
        StoreError::Conflict
    );
    store
        .record_webhook_attempt(
            claimed.id,
            &WebhookAttempt {
                status_code: Some(204),
                error: None,
                outcome: WebhookOutcome::Delivered,
                now: later,
            },
        )
        .await
        .expect("record");
    let delivered = &store.webhook_deliveries(endpoint, 50).await.expect("log")[0];
    assert_eq!(delivered.status, WebhookStatus::Delivered);
    assert_eq!(delivered.delivered_at, Some(later));
    assert_eq!(delivered.last_status, Some(204));
    assert_eq!(delivered.last_error, None);
}

pub async fn webhook_message_is_claimed_by_one_worker_at_a_time(store: Arc<dyn Store>) {
    let t0 = now();
    let (endpoint, _) = a_booking_announced(store.as_ref(), t0).await;
    for n in 0..5 {
        let slot = slot_at(store.as_ref(), future(t0) + hours(40 + 2 * n), 60).await;
        let mut r = request(&slot, &format!("v{n}"), t0);
        r.new.webhook = Some(event("booking.requested"));
        store.create_booking(r.new).await.expect("book");
    }
    let claims = (0..8).map(|_| {
        let store = store.clone();
        tokio::spawn(async move {
            let mut got = Vec::new();
            while let Some(m) = store
                .claim_webhook_delivery(t0, t0 + mins(5))
                .await
                .expect("claim")
            {
                got.push(m.id);
            }
            got
        })
    });
    let mut all = Vec::new();
    for c in claims {
        all.extend(c.await.expect("task"));
    }
    let count = all.len();
    all.sort();
    all.dedup();
    assert_eq!((count, all.len()), (6, 6), "each message handed out once");
    assert_eq!(
        store
            .webhook_deliveries(endpoint, 3)
            .await
            .expect("log")
            .len(),
        3,
        "the log is cut at its limit"
    );
}

pub async fn webhook_payloads_of_a_booking_are_erased(store: Arc<dyn Store>) {
    let t0 = now();
    let store = store.as_ref();
    let (endpoint, erased) = a_booking_announced(store, t0).await;
    let slot = slot_at(store, future(t0) + hours(50), 60).await;
    let mut kept = request(&slot, "kim", t0);
    kept.new.webhook = Some(event("booking.requested"));
    let kept = store.create_booking(kept.new).await.expect("book");
    let erase = |now| guidance_store::Erasure {
        whom: guidance_store::Erase::Booking(erased.id),
        actor: Actor::Owner,
        now,
    };

    // A message still to be sent goes out as queued (like a cancellation's emails) ...
    store.erase(erase(t0)).await.expect("erase");
    let of = |log: &[guidance_store::WebhookDelivery], id: Uuid| {
        log.iter()
            .find(|m| m.booking_id == Some(id))
            .cloned()
            .expect("message")
    };
    let log = store.webhook_deliveries(endpoint, 50).await.expect("log");
    assert_ne!(of(&log, erased.id).payload, "");
    let first = store
        .claim_webhook_delivery(t0, t0 + mins(5))
        .await
        .expect("claim")
        .expect("a message");
    let second = store
        .claim_webhook_delivery(t0, t0 + mins(5))
        .await
        .expect("claim")
        .expect("the other one");
    for m in [&first, &second] {
        store
            .record_webhook_attempt(
                m.id,
                &WebhookAttempt {
                    status_code: Some(200),
                    error: None,
                    outcome: WebhookOutcome::Delivered,
                    now: t0,
                },
            )
            .await
            .expect("record");
    }
    // ... and once sent, the next erasure leaves only its times and status in the log.
    store
        .erase(guidance_store::Erasure {
            whom: guidance_store::Erase::Leftovers,
            ..erase(t0 + mins(1))
        })
        .await
        .expect("sweep");
    let log = store.webhook_deliveries(endpoint, 50).await.expect("log");
    assert_eq!(of(&log, erased.id).payload, "");
    assert_eq!(of(&log, erased.id).status, WebhookStatus::Delivered);
    assert_ne!(
        of(&log, kept.id).payload,
        "",
        "another visitor's message is kept"
    );
    // An erased message cannot be sent again.
    assert_err!(
        store
            .requeue_webhook_delivery(endpoint, of(&log, erased.id).id, t0 + hours(1))
            .await,
        StoreError::NotFound
    );
}

pub async fn webhook_messages_go_by_whole_event_names_and_only_with_a_change_made(
    store: Arc<dyn Store>,
) {
    let t0 = now();
    let store = store.as_ref();
    let endpoint = |url: &'static str, events: &'static [&'static str]| {
        store.create_webhook_endpoint(new_endpoint(url, events, t0))
    };
    let exact = endpoint(
        "https://a.example/",
        &["booking.reschedule_requested", "booking.cancelled"],
    )
    .await
    .expect("endpoint")
    .id;
    // Names that a pattern would take for the one announced: `_` as any character, and the
    // announced name as the start of a longer one.
    let lookalike = endpoint(
        "https://b.example/",
        &["booking.reschedule-requested", "booking.requested.late"],
    )
    .await
    .expect("endpoint")
    .id;
    let requests = endpoint("https://c.example/", &["booking.requested"])
        .await
        .expect("endpoint")
        .id;
    let messages = |id: Uuid| async move {
        store
            .webhook_deliveries(id, 50)
            .await
            .expect("log")
            .into_iter()
            .map(|m| m.event)
            .collect::<Vec<String>>()
    };

    let slot = slot_at(store, future(t0) + hours(30), 60).await;
    let mut first = request(&slot, "ann", t0);
    first.new.webhook = Some(event("booking.requested"));
    let booked = store.create_booking(first.new).await.expect("book");
    assert_eq!(messages(requests).await, ["booking.requested"]);
    // Refused (the slot is taken): no message.
    let mut second = request(&slot, "bob", t0 + mins(1));
    second.new.webhook = Some(event("booking.requested"));
    assert_err!(
        store.create_booking(second.new).await,
        StoreError::SlotTaken
    );
    assert_eq!(messages(requests).await, ["booking.requested"]);

    // Two changes at one moment: their messages in the order the changes were made.
    let t1 = t0 + mins(2);
    let mut accept = transition(&booked, BookingAction::Accept, None, None, t1);
    accept.webhook = Some(event("booking.reschedule_requested"));
    let accepted = store.transition(accept).await.expect("accept");
    let mut cancel = transition(&accepted, BookingAction::Cancel, None, None, t1);
    cancel.webhook = Some(event("booking.cancelled"));
    store.transition(cancel).await.expect("cancel");
    // Newest first.
    assert_eq!(
        messages(exact).await,
        ["booking.cancelled", "booking.reschedule_requested"]
    );
    assert!(messages(lookalike).await.is_empty());
    assert_eq!(messages(requests).await, ["booking.requested"]);
}
