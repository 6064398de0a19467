//! The contract on what happens around a session: a pending request's answer-by time, and
//! scheduled emails (reminders) that wait for their moment, are withdrawn by the booking's next
//! change, and are dropped — kept, with why — when their moment has passed.

use super::*;

// ---------------------------------------------------------------------------------------------
// 9. Around the session
// ---------------------------------------------------------------------------------------------

/// An email scheduled for `at`, pointless after `before`.
fn scheduled(kind: &str, at: Timestamp, before: Timestamp) -> NewEmail {
    NewEmail {
        send_after: Some(at),
        send_before: Some(before),
        ..email(kind, OWNER)
    }
}

pub async fn answer_by_decides_when_a_pending_request_is_overdue(store: Arc<dyn Store>) {
    let store = &*store;
    let t0 = now();
    let slot = slot_at(store, future(t0), 60).await;
    let mut request = request(&slot, "ada", t0);
    request.new.answer_by = Some(t0 + hours(2));
    let booking = store
        .create_booking(request.new.clone())
        .await
        .expect("booked");
    assert_eq!(booking.answer_by, Some(t0 + hours(2)));
    let overdue = |at| async move {
        store
            .list_overdue(at, t0 - hours(1000))
            .await
            .expect("overdue")
            .into_iter()
            .map(|b| b.id)
            .collect::<Vec<_>>()
    };
    assert!(overdue(t0 + hours(2) - mins(1)).await.is_empty());
    assert_eq!(
        overdue(t0 + hours(2)).await,
        [booking.id],
        "due at its answer-by time"
    );

    // Asked for a new time, the visitor picks one: the request is pending again, with a new
    // answer-by time; leaving pending clears it.
    let mut ask = transition(
        &booking,
        BookingAction::Reschedule,
        None,
        None,
        t0 + mins(5),
    );
    ask.answer_by = None;
    let asked = store.transition(ask).await.expect("reschedule");
    assert_eq!(asked.answer_by, None);
    let other = slot_at(store, future(t0) + hours(3), 60).await;
    let mut pick = pick_slot(&asked, &other, None, t0 + mins(10));
    pick.answer_by = Some(t0 + hours(30));
    let picked = store.transition(pick).await.expect("pick");
    assert_eq!(picked.answer_by, Some(t0 + hours(30)));
    assert!(overdue(t0 + hours(29)).await.is_empty());
    assert_eq!(overdue(t0 + hours(30)).await, [picked.id]);
}

pub async fn scheduled_email_waits_and_a_change_withdraws_it(store: Arc<dyn Store>) {
    let store = &*store;
    let t0 = now();
    let slot = slot_at(store, future(t0), 60).await;
    let mut request = request(&slot, "ada", t0);
    let reminder = scheduled("owner_answer_reminder", t0 + hours(2), t0 + hours(3));
    request.new.emails.push(reminder.clone());
    let booking = store
        .create_booking(request.new.clone())
        .await
        .expect("booked");
    // The two ordinary emails are due at once; the reminder only at its moment.
    let ordinary = claim_all(store, t0).await;
    assert_eq!(ordinary.len(), 2);
    for id in ordinary {
        store.mark_email_sent(id, t0).await.expect("sent");
    }
    let due = store.next_email_due(t0).await.expect("next due");
    assert_eq!(
        due,
        Some(t0 + hours(2)),
        "the reminder is the next email due"
    );
    let stored = store.booking_emails(booking.id).await.expect("emails");
    let queued = stored.iter().find(|m| m.kind == "owner_answer_reminder");
    let queued = queued.expect("the reminder is stored");
    assert_eq!(queued.next_attempt_at, t0 + hours(2));
    assert_eq!(queued.send_before, Some(t0 + hours(3)));
    assert_eq!(queued.withdrawn, None);

    // The owner answers first: the reminder is withdrawn, kept, never handed out.
    let accept = transition(&booking, BookingAction::Accept, None, None, t0 + hours(1));
    assert_eq!(booking.meeting_room, None);
    let mut accept = accept;
    accept.meeting_room = Some("room-one".into());
    let accepted = store.transition(accept).await.expect("accepted");
    assert_eq!(accepted.meeting_room.as_deref(), Some("room-one"));
    let stored = store.booking_emails(booking.id).await.expect("emails");
    let withdrawn = stored.iter().find(|m| m.id == queued.id).expect("kept");
    assert_eq!(
        withdrawn.withdrawn,
        Some((t0 + hours(1), "withdrawn".to_owned()))
    );
    assert_eq!(withdrawn.status, EmailStatus::Queued, "never sent");
    // The acceptance's own email is due; the withdrawn reminder never is.
    let accepted = claim_all(store, t0 + hours(2)).await;
    assert_eq!(accepted.len(), 1);
    store
        .mark_email_sent(accepted[0], t0 + hours(2))
        .await
        .expect("sent");
    assert_eq!(store.next_email_due(t0).await.expect("next due"), None);
    assert_err!(
        store
            .requeue_email(booking.id, queued.id, t0 + hours(2))
            .await,
        StoreError::Conflict
    );
    // An ordinary email is never withdrawn by a change.
    assert!(
        stored
            .iter()
            .filter(|m| m.id != queued.id)
            .all(|m| m.withdrawn.is_none())
    );
}

pub async fn late_scheduled_email_is_dropped_and_kept(store: Arc<dyn Store>) {
    let store = &*store;
    let t0 = now();
    let slot = slot_at(store, future(t0), 60).await;
    let mut request = request(&slot, "ada", t0);
    request.new.emails = vec![scheduled("session_reminder", t0 + hours(1), t0 + hours(2))];
    let booking = store
        .create_booking(request.new.clone())
        .await
        .expect("booked");
    let late = store
        .claim_email(t0 + hours(5), t0 + hours(5) + mins(5))
        .await
        .expect("claim")
        .expect("the reminder is due");
    assert_eq!(late.send_before, Some(t0 + hours(2)));
    store
        .drop_late_email(late.id, t0 + hours(5))
        .await
        .expect("dropped");
    let stored = store.booking_emails(booking.id).await.expect("emails");
    assert_eq!(
        stored[0].withdrawn,
        Some((t0 + hours(5), "too_late".to_owned()))
    );
    assert!(claim_all(store, t0 + hours(6)).await.is_empty());
}

pub async fn a_booking_keeps_its_first_meeting_room(store: Arc<dyn Store>) {
    let store = &*store;
    let t0 = now();
    let slot = slot_at(store, future(t0), 60).await;
    let booked = book(store, &slot, "ada", t0).await.booking;
    let mut accept = transition(&booked, BookingAction::Accept, None, None, t0 + mins(1));
    accept.meeting_room = Some("first".into());
    let accepted = store.transition(accept).await.expect("accepted");
    // Asked for another time, picking one and accepted again: the room stays the first.
    let ask = transition(
        &accepted,
        BookingAction::Reschedule,
        None,
        None,
        t0 + mins(2),
    );
    let asked = store.transition(ask).await.expect("reschedule");
    assert_eq!(asked.meeting_room.as_deref(), Some("first"));
    let other = slot_at(store, future(t0) + hours(3), 60).await;
    let picked = store
        .transition(pick_slot(&asked, &other, None, t0 + mins(3)))
        .await
        .expect("pick");
    let mut again = transition(&picked, BookingAction::Accept, None, None, t0 + mins(4));
    again.meeting_room = Some("second".into());
    let again = store.transition(again).await.expect("accepted again");
    assert_eq!(again.meeting_room.as_deref(), Some("first"));
}

/// The owner's reminder of `booking`, as the worker writes it at `now`: one link, due at once,
/// pointless after `before`.
fn answer_reminder(booking: &Booking, before: Timestamp, now: Timestamp) -> AnswerReminder {
    AnswerReminder {
        booking_id: booking.id,
        version: booking.version,
        tokens: vec![NewToken {
            action: BookingAction::Accept,
            hash: token_hash(),
            expires_at: before,
        }],
        email: NewEmail {
            send_before: Some(before),
            ..email("owner_answer_reminder", OWNER)
        },
        now,
    }
}

pub async fn answer_reminder_is_written_once_while_the_request_waits(store: Arc<dyn Store>) {
    let store = &*store;
    let t0 = now();
    let slot = slot_at(store, future(t0), 60).await;
    let mut request = request(&slot, "ada", t0);
    request.new.answer_by = Some(t0 + hours(10));
    request.new.answer_reminder_at = Some(t0 + hours(2));
    let booking = store
        .create_booking(request.new.clone())
        .await
        .expect("booked");
    // A request without a reminder (made when there was no time for one) is never due.
    let other = slot_at(store, future(t0) + hours(2), 60).await;
    let mut quiet = request_for(other.id, slot_window(&other), "bo", t0);
    quiet.new.answer_by = Some(t0 + hours(1));
    store.create_booking(quiet.new).await.expect("booked");
    let due = |at| async move {
        store
            .answer_reminders_due(at)
            .await
            .expect("due reminders")
            .into_iter()
            .map(|b| b.id)
            .collect::<Vec<_>>()
    };
    assert!(due(t0 + hours(2) - mins(1)).await.is_empty());
    assert_eq!(due(t0 + hours(2)).await, [booking.id]);
    assert_eq!(
        due(t0 + hours(10)).await,
        [] as [Uuid; 0],
        "not once the answer-by time has come: the request expires instead"
    );

    // Written: its email and its link are stored, and it is due no more.
    let at = t0 + hours(2);
    let reminder = answer_reminder(&booking, t0 + hours(10), at);
    let hash = reminder.tokens[0].hash.clone();
    assert!(store.queue_answer_reminder(reminder).await.expect("queued"));
    assert!(due(at).await.is_empty());
    let token = store
        .find_token(&hash)
        .await
        .expect("token")
        .expect("stored");
    assert_eq!(
        (token.booking_id, token.booking_version),
        (booking.id, booking.version)
    );
    let reminders = |emails: Vec<OutboxMessage>| {
        emails
            .into_iter()
            .filter(|m| m.kind == "owner_answer_reminder")
            .collect::<Vec<_>>()
    };
    let stored = reminders(store.booking_emails(booking.id).await.expect("emails"));
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].next_attempt_at, at, "due at once");
    assert_eq!(stored[0].send_before, Some(t0 + hours(10)));

    // A second worker at the same moment writes nothing, not even its link.
    let again = answer_reminder(&booking, t0 + hours(10), at);
    let again_hash = again.tokens[0].hash.clone();
    assert!(!store.queue_answer_reminder(again).await.expect("refused"));
    assert!(
        store
            .find_token(&again_hash)
            .await
            .expect("token")
            .is_none()
    );
    assert_eq!(
        reminders(store.booking_emails(booking.id).await.expect("emails")).len(),
        1
    );

    // Asked for a new time, then pending again with a reminder of its own: due at its time,
    // and only for the booking as it now stands.
    let mut ask = transition(&booking, BookingAction::Reschedule, None, None, at);
    ask.answer_reminder_at = Some(t0 + hours(3));
    let asked = store.transition(ask).await.expect("reschedule");
    assert!(due(t0 + hours(3)).await.is_empty(), "not while not pending");
    let later = slot_at(store, future(t0) + hours(5), 60).await;
    let mut pick = pick_slot(&asked, &later, None, t0 + hours(3));
    pick.answer_by = Some(t0 + hours(30));
    pick.answer_reminder_at = Some(t0 + hours(20));
    let picked = store.transition(pick).await.expect("pick");
    assert_eq!(due(t0 + hours(20)).await, [picked.id]);
    let stale = answer_reminder(&booking, t0 + hours(30), t0 + hours(20));
    assert!(
        !store.queue_answer_reminder(stale).await.expect("refused"),
        "a worker that read the booking before its change writes nothing"
    );
    let fresh = answer_reminder(&picked, t0 + hours(30), t0 + hours(20));
    assert!(store.queue_answer_reminder(fresh).await.expect("queued"));
    assert!(due(t0 + hours(20)).await.is_empty());
}
