//! The contract on calendar replies read from the service mailbox: each email recorded once by
//! its Message-ID (with its booking's history), listed newest first, and the lease that lets
//! one process at a time read the mailbox.

use guidance_store::{CalendarReply, ReplyOutcome};

use super::*;

fn reply(
    message_id: &str,
    at: Timestamp,
    booking: Option<&Booking>,
    outcome: ReplyOutcome,
) -> CalendarReply {
    CalendarReply {
        message_id: message_id.to_owned(),
        received_at: at,
        sender: Some(OWNER.to_owned()),
        method: Some("REPLY".to_owned()),
        partstat: Some("TENTATIVE".to_owned()),
        ics_uid: booking.map(|b| b.ics_uid.clone()),
        booking_id: booking.map(|b| b.id),
        outcome,
        reason: (outcome == ReplyOutcome::Ignored).then(|| "not_authenticated".to_owned()),
    }
}

/// A reply is recorded once; a second email with its Message-ID changes nothing; one that
/// acted is named in the booking's history, one ignored is not.
pub async fn calendar_replies_are_recorded_once_and_listed_newest_first(store: Arc<dyn Store>) {
    let store = &*store;
    let t0 = now();
    let slot = slot_at(store, future(t0), 60).await;
    let booked = book(store, &slot, "ada", t0).await.booking;
    assert_eq!(
        store
            .booking_by_ics_uid(&booked.ics_uid)
            .await
            .unwrap()
            .map(|b| b.id),
        Some(booked.id)
    );
    assert!(
        store
            .booking_by_ics_uid("nobody@guidance")
            .await
            .unwrap()
            .is_none()
    );
    assert!(!store.calendar_reply_seen("m1@example.org").await.unwrap());

    let first = reply(
        "m1@example.org",
        t0 + mins(1),
        Some(&booked),
        ReplyOutcome::Tentative,
    );
    assert!(store.record_calendar_reply(&first).await.unwrap());
    assert!(store.calendar_reply_seen("m1@example.org").await.unwrap());
    let again = reply(
        "m1@example.org",
        t0 + mins(2),
        Some(&booked),
        ReplyOutcome::Tentative,
    );
    assert!(!store.record_calendar_reply(&again).await.unwrap());
    let forged = reply(
        "m2@example.org",
        t0 + mins(3),
        Some(&booked),
        ReplyOutcome::Ignored,
    );
    assert!(store.record_calendar_reply(&forged).await.unwrap());
    let unknown = reply("m3@example.org", t0 + mins(4), None, ReplyOutcome::Ignored);
    assert!(store.record_calendar_reply(&unknown).await.unwrap());

    let listed = store.list_calendar_replies(10).await.unwrap();
    assert_eq!(listed, vec![unknown, forged, first]);
    assert_eq!(store.list_calendar_replies(1).await.unwrap().len(), 1);

    let events = store.booking_events(booked.id).await.unwrap();
    let named: Vec<&str> = events
        .iter()
        .filter(|e| e.action.starts_with("calendar_"))
        .map(|e| e.action.as_str())
        .collect();
    assert_eq!(named, vec!["calendar_tentative"]);
    let last = events.last().unwrap();
    assert_eq!(
        (last.actor.as_str(), last.to_status.as_str()),
        ("owner", "pending")
    );
}

/// One process at a time holds the mailbox: another gets it only once the holder's time ran
/// out; the holder renews it and notes how each look went.
pub async fn inbox_lease_is_held_by_one_process_at_a_time(store: Arc<dyn Store>) {
    let store = &*store;
    let t0 = now();
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    assert_eq!(store.inbox_status().await.unwrap(), None);
    assert!(store.take_inbox_lease(a, t0, t0 + mins(1)).await.unwrap());
    assert!(
        !store
            .take_inbox_lease(b, t0 + mins(0), t0 + mins(1))
            .await
            .unwrap()
    );
    assert!(
        store
            .take_inbox_lease(a, t0 + mins(0), t0 + mins(2))
            .await
            .unwrap()
    );
    assert!(
        !store
            .take_inbox_lease(b, t0 + mins(1), t0 + mins(3))
            .await
            .unwrap()
    );
    store
        .record_inbox_check(a, t0 + mins(1), Some("connection refused"))
        .await
        .unwrap();
    // Only the holder's looks are noted.
    store
        .record_inbox_check(b, t0 + mins(1), None)
        .await
        .unwrap();
    let status = store.inbox_status().await.unwrap().unwrap();
    assert_eq!(status.holder, a);
    assert_eq!(status.checked_at, Some(t0 + mins(1)));
    assert_eq!(status.last_error.as_deref(), Some("connection refused"));
    // The holder went quiet: the other takes over.
    assert!(
        store
            .take_inbox_lease(b, t0 + mins(2), t0 + mins(4))
            .await
            .unwrap()
    );
    assert!(
        !store
            .take_inbox_lease(a, t0 + mins(3), t0 + mins(5))
            .await
            .unwrap()
    );
    assert_eq!(store.inbox_status().await.unwrap().unwrap().holder, b);
}
