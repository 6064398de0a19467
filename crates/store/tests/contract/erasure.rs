//! The contract on erasing a visitor's data: the bookings chosen keep their times, status and
//! moves, and every other row holding the visitor's name, email, topic or answers goes; emails
//! still to be sent go once sent; nobody else's data is touched.

use guidance_core::idempotency::Scope;
use guidance_store::{CalendarReply, Erase, Erased, Erasure, ReplyOutcome};

use super::*;

fn erasure(whom: Erase, actor: Actor, now: Timestamp) -> Erasure {
    Erasure { whom, actor, now }
}

fn reply(
    message_id: &str,
    sender: &str,
    booking: Option<&Booking>,
    at: Timestamp,
) -> CalendarReply {
    CalendarReply {
        message_id: message_id.to_owned(),
        received_at: at,
        sender: Some(sender.to_owned()),
        method: Some("REPLY".to_owned()),
        partstat: Some("ACCEPTED".to_owned()),
        ics_uid: booking.map(|b| b.ics_uid.clone()),
        booking_id: booking.map(|b| b.id),
        outcome: ReplyOutcome::Ignored,
        reason: Some("not_authenticated".to_owned()),
    }
}

// ---------------------------------------------------------------------------------------------
// 14. The visitor's data
// ---------------------------------------------------------------------------------------------

/// The owner's erase of one address (any case, spaces around) reaches the booking, its moves'
/// notes, its stored emails, its kept answers, its tokens and its calendar replies, and leaves
/// the other visitor's alone; an email still queued goes once sent.
pub async fn erasure_reaches_every_table_and_spares_others(store: Arc<dyn Store>) {
    let store = &*store;
    let t0 = now();
    let slot = slot_at(store, future(t0), 60).await;
    let mut ada = request(&slot, "ada", t0);
    ada.new.keep_answer = super::keep(Scope::Booking, "ada-key", b"ada", t0 + hours(24));
    let booking = store.create_booking(ada.new.clone()).await.expect("booked");
    let mut accept = transition(
        &booking,
        BookingAction::Accept,
        Some(ada.token(BookingAction::Accept)),
        None,
        t0 + mins(1),
    );
    accept.note = Some("See you then, Visitor ada".to_owned());
    store.transition(accept).await.expect("accepted");
    let other = slot_at(store, future(t0) + hours(2), 60).await;
    let mut bob = request(&other, "bob", t0);
    bob.new.keep_answer = super::keep(Scope::Booking, "bob-key", b"bob", t0 + hours(24));
    let bob_booking = store.create_booking(bob.new.clone()).await.expect("booked");
    // No booking erased yet: the outbox worker's sweep after each round finds nothing to do.
    let nothing = store
        .erase(erasure(Erase::Leftovers, Actor::System, t0 + mins(1)))
        .await
        .expect("nothing to sweep");
    assert_eq!(nothing, Erased::default());
    // Every email claimed; ada's "received" sent, the others still waiting for their send.
    let claimed = store
        .claim_emails(t0 + mins(2), t0 + mins(10), 20)
        .await
        .expect("claimed");
    let sent: Vec<Uuid> = claimed
        .iter()
        .filter(|m| m.booking_id == Some(booking.id) && m.kind == "requester_received")
        .map(|m| m.id)
        .collect();
    assert_eq!(sent.len(), 1);
    store
        .mark_emails_sent(&sent, t0 + mins(2))
        .await
        .expect("sent");
    let ada_reply = reply("r1@example.org", OWNER, Some(&booking), t0 + mins(3));
    let ada_sent = reply("r2@example.org", "ADA@example.test", None, t0 + mins(3));
    let bob_reply = reply("r3@example.org", OWNER, Some(&bob_booking), t0 + mins(3));
    for r in [&ada_reply, &ada_sent, &bob_reply] {
        assert!(store.record_calendar_reply(r).await.expect("recorded"));
    }

    let erased = store
        .erase(erasure(
            Erase::Email("  Ada@Example.TEST ".into()),
            Actor::Owner,
            t0 + mins(4),
        ))
        .await
        .expect("erased");
    assert_eq!(erased.bookings, vec![booking.id]);
    assert_eq!(erased.emails, sent);

    let after = store.get_booking(booking.id).await.expect("kept");
    assert_eq!(
        (
            after.name.as_str(),
            after.email.as_str(),
            after.topic.as_str()
        ),
        ("", "", "")
    );
    assert_eq!(after.answers, serde_json::json!({}));
    // Times and status stay, for the slot statistics.
    assert_eq!(
        (after.status, after.starts_at, after.ends_at, after.slot_id),
        (
            BookingStatus::Accepted,
            booking.starts_at,
            booking.ends_at,
            booking.slot_id
        )
    );
    let events = store.booking_events(booking.id).await.expect("events");
    assert!(events.iter().all(|e| e.note.is_none()), "{events:?}");
    let last = events.last().expect("an event");
    assert_eq!(
        (
            last.action.as_str(),
            last.actor.as_str(),
            last.to_status.as_str()
        ),
        ("erased", "owner", "accepted")
    );
    // The emails still to be sent wait for their send; nothing else of ada's is left.
    let left = store.booking_emails(booking.id).await.expect("emails");
    assert!(!left.is_empty());
    assert!(
        left.iter().all(|m| m.status == EmailStatus::Queued),
        "{left:?}"
    );
    let key = |k: &str| guidance_core::idempotency::IdempotencyKey::parse(k).expect("a key");
    let later = t0 + mins(5);
    let ada_key = store
        .kept_answer(Scope::Booking, &key("ada-key"), later)
        .await;
    assert!(ada_key.expect("read").is_none());
    let bob_key = store
        .kept_answer(Scope::Booking, &key("bob-key"), later)
        .await;
    assert!(bob_key.expect("read").is_some());
    for action in [BookingAction::Decline, BookingAction::Reschedule] {
        assert!(
            store
                .find_token(&ada.token(action))
                .await
                .expect("read")
                .is_none()
        );
    }
    assert!(
        store
            .find_token(&bob.token(BookingAction::Accept))
            .await
            .expect("read")
            .is_some()
    );
    let replies = store.list_calendar_replies(10).await.expect("replies");
    assert_eq!(replies, vec![bob_reply]);
    // The other visitor is untouched.
    assert_eq!(
        store.get_booking(bob_booking.id).await.expect("bob"),
        bob_booking
    );
    assert_eq!(
        store
            .booking_emails(bob_booking.id)
            .await
            .expect("bob's")
            .len(),
        2
    );

    // Once sent, the waiting emails go with the next erasure, whatever it names.
    let waiting: Vec<Uuid> = left.iter().map(|m| m.id).collect();
    store
        .mark_emails_sent(&waiting, t0 + mins(6))
        .await
        .expect("sent");
    let swept = store
        .erase(erasure(Erase::Leftovers, Actor::System, t0 + mins(7)))
        .await
        .expect("swept");
    assert!(swept.bookings.is_empty() && swept.changed);
    let mut swept_emails = swept.emails.clone();
    swept_emails.sort();
    let mut expected = waiting.clone();
    expected.sort();
    assert_eq!(swept_emails, expected);
    assert!(
        store
            .booking_emails(booking.id)
            .await
            .expect("emails")
            .is_empty()
    );
    // Erasing again changes nothing.
    let again = store
        .erase(erasure(
            Erase::Email("ada@example.test".into()),
            Actor::Owner,
            t0 + mins(8),
        ))
        .await
        .expect("again");
    assert!(again.bookings.is_empty() && again.emails.is_empty() && !again.changed);
    let swept_again = store
        .erase(erasure(Erase::Leftovers, Actor::System, t0 + mins(9)))
        .await
        .expect("swept again");
    assert_eq!(swept_again, Erased::default(), "nothing left to sweep");
    assert_eq!(
        store
            .booking_events(booking.id)
            .await
            .expect("events")
            .len(),
        events.len()
    );
}

/// Retention erases the bookings whose session ended by the cutoff, and only those; one booking
/// is erased by its id alone.
pub async fn erasure_by_session_end_and_by_booking(store: Arc<dyn Store>) {
    let store = &*store;
    let t0 = now();
    let early = book(store, &slot_at(store, future(t0), 60).await, "eve", t0)
        .await
        .booking;
    let late = book(
        store,
        &slot_at(store, future(t0) + hours(3), 60).await,
        "lou",
        t0,
    )
    .await
    .booking;
    let third = book(
        store,
        &slot_at(store, future(t0) + hours(6), 60).await,
        "tom",
        t0,
    )
    .await
    .booking;
    let none = store
        .erase(erasure(
            Erase::EndedBefore(early.ends_at - SignedDuration::from_secs(1)),
            Actor::System,
            t0,
        ))
        .await
        .expect("nothing");
    assert!(none.bookings.is_empty());
    let retained = store
        .erase(erasure(
            Erase::EndedBefore(early.ends_at),
            Actor::System,
            t0,
        ))
        .await
        .expect("erased");
    assert_eq!(retained.bookings, vec![early.id]);
    let events = store.booking_events(early.id).await.expect("events");
    assert_eq!(events.last().map(|e| e.actor.as_str()), Some("system"));
    assert_eq!(store.get_booking(late.id).await.expect("late"), late);

    let own = store
        .erase(erasure(Erase::Booking(third.id), Actor::Requester, t0))
        .await
        .expect("erased");
    assert_eq!(own.bookings, vec![third.id]);
    assert!(
        store
            .get_booking(third.id)
            .await
            .expect("kept")
            .email
            .is_empty()
    );
    assert_eq!(store.get_booking(late.id).await.expect("late"), late);
    // Counting by status still sees every booking.
    assert_eq!(
        store
            .list_bookings(Some(BookingStatus::Pending))
            .await
            .expect("list")
            .len(),
        3
    );
}
