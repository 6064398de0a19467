//! The contract on transitions: tokens spent once, compare-and-swap on the version, slots freed
//! and claimed as bookings move.

use super::*;

// ---------------------------------------------------------------------------------------------
// 4. Transitions
// ---------------------------------------------------------------------------------------------

pub async fn accept_consumes_token_and_records(store: Arc<dyn Store>) {
    let store = &*store;
    let t0 = now();
    let s = slot_at(store, future(t0), 60).await;
    let b = book(store, &s, "ann", t0).await;
    let accept = b.request.token(BookingAction::Accept);
    let cancel = token_hash();
    let t1 = t0 + mins(10);

    let accepted = store
        .transition(transition(
            &b.booking,
            BookingAction::Accept,
            Some(accept.clone()),
            Some((BookingAction::Cancel, cancel.clone())),
            t1,
        ))
        .await
        .expect("accept");

    assert_eq!(accepted.status, BookingStatus::Accepted);
    assert_eq!(accepted.version, 1);
    assert_eq!(accepted.ics_sequence, 1);
    assert_eq!(accepted.accepted_at, Some(t1));
    assert_eq!(accepted.updated_at, t1);
    assert_eq!(accepted.created_at, t0);
    assert_eq!(accepted.slot_id, Some(s.id));
    assert_eq!(
        store.get_booking(b.booking.id).await.expect("get"),
        accepted
    );
    assert_eq!(slot_status(store, s.id).await, SlotStatus::Booked);

    let used = store
        .find_token(&accept)
        .await
        .expect("find")
        .expect("token");
    assert_eq!(used.used_at, Some(t1));
    let unused = store
        .find_token(&b.request.token(BookingAction::Decline))
        .await
        .expect("find")
        .expect("token");
    assert_eq!(unused.used_at, None);
    let issued = store
        .find_token(&cancel)
        .await
        .expect("find")
        .expect("new token");
    assert_eq!(issued.booking_id, b.booking.id);
    assert_eq!(issued.action, BookingAction::Cancel);
    assert_eq!(
        issued.booking_version, 1,
        "new tokens belong to the new version"
    );

    let events = store.booking_events(b.booking.id).await.expect("events");
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].action, "request");
    assert_eq!(events[1].action, "accept");
    assert_eq!(events[1].actor, "owner");
    assert_eq!(events[1].from_status.as_deref(), Some("pending"));
    assert_eq!(events[1].to_status, "accepted");
    assert_eq!(events[1].note.as_deref(), Some("accept by the owner"));
    assert_eq!(events[1].created_at, t1);

    let emails = store.booking_emails(b.booking.id).await.expect("emails");
    assert_eq!(
        emails.iter().map(|m| m.kind.as_str()).collect::<Vec<_>>(),
        vec![
            "owner_new_request",
            "requester_received",
            "requester_accept"
        ]
    );
    assert_eq!(emails[2].recipient, "ann@example.test");
    assert_eq!(emails[2].status, EmailStatus::Queued);
}

pub async fn replayed_token_changes_nothing(store: Arc<dyn Store>) {
    let store = &*store;
    let t0 = now();
    let s = slot_at(store, future(t0), 60).await;
    let b = book(store, &s, "ann", t0).await;
    let accept = b.request.token(BookingAction::Accept);
    let first = transition(
        &b.booking,
        BookingAction::Accept,
        Some(accept.clone()),
        None,
        t0 + mins(10),
    );
    store.transition(first.clone()).await.expect("accept");
    let before = snapshot(store, b.booking.id).await;

    // The very same request again (a double click, a mail scanner).
    let mut replay = first;
    replay.now = t0 + mins(20);
    replay.emails = vec![email("requester_accept", "ann@example.test")];
    assert_err!(store.transition(replay).await, StoreError::TokenUsed);
    // The same token for a move that would otherwise be allowed now.
    let cancel = transition(
        &before.0,
        BookingAction::Cancel,
        Some(accept.clone()),
        None,
        t0 + mins(30),
    );
    assert_err!(store.transition(cancel).await, StoreError::TokenUsed);

    assert_eq!(snapshot(store, b.booking.id).await, before);
    assert_eq!(before.0.version, 1);
    assert_eq!(before.0.status, BookingStatus::Accepted);
    let token = store
        .find_token(&accept)
        .await
        .expect("find")
        .expect("token");
    assert_eq!(token.used_at, Some(t0 + mins(10)), "first use is kept");
    assert_eq!(slot_status(store, s.id).await, SlotStatus::Booked);
}

pub async fn token_cannot_be_spent_on_another_booking(store: Arc<dyn Store>) {
    let store = &*store;
    let t0 = now();
    let first = slot_at(store, future(t0), 60).await;
    let second = slot_at(store, future(t0) + hours(2), 60).await;
    let a = book(store, &first, "ann", t0).await;
    let b = book(store, &second, "bob", t0).await;
    let before = snapshot(store, b.booking.id).await;
    // Ann's accept token, presented for Bob's booking.
    let wrong = transition(
        &b.booking,
        BookingAction::Accept,
        Some(a.request.token(BookingAction::Accept)),
        None,
        t0 + mins(5),
    );
    assert_err!(store.transition(wrong).await, StoreError::TokenUsed);
    assert_eq!(snapshot(store, b.booking.id).await, before);
    let token = store
        .find_token(&a.request.token(BookingAction::Accept))
        .await
        .expect("find")
        .expect("token");
    assert_eq!(token.used_at, None, "Ann's link still works for Ann");
}

pub async fn stale_version_conflicts_and_rolls_back(store: Arc<dyn Store>) {
    let store = &*store;
    let t0 = now();
    let s = slot_at(store, future(t0), 60).await;
    let b = book(store, &s, "ann", t0).await;
    // The owner accepts from the admin UI (no token) ...
    store
        .transition(transition(
            &b.booking,
            BookingAction::Accept,
            None,
            None,
            t0 + mins(5),
        ))
        .await
        .expect("accept");
    let before = snapshot(store, b.booking.id).await;

    // ... then clicks Decline in the old email, which read version 0 / pending.
    let decline = b.request.token(BookingAction::Decline);
    let stale = transition(
        &b.booking,
        BookingAction::Decline,
        Some(decline.clone()),
        None,
        t0 + mins(10),
    );
    assert_err!(store.transition(stale).await, StoreError::Conflict);

    // Right version, wrong status: also a lost compare-and-swap.
    let mut wrong_status = transition(
        &b.booking,
        BookingAction::Decline,
        Some(decline.clone()),
        None,
        t0 + mins(10),
    );
    wrong_status.expected_version = before.0.version;
    assert_err!(store.transition(wrong_status).await, StoreError::Conflict);

    assert_eq!(snapshot(store, b.booking.id).await, before);
    assert_eq!(before.0.status, BookingStatus::Accepted);
    let token = store
        .find_token(&decline)
        .await
        .expect("find")
        .expect("token");
    assert_eq!(
        token.used_at, None,
        "a refused transition must not consume its token"
    );
    assert_eq!(slot_status(store, s.id).await, SlotStatus::Booked);

    // Unknown booking.
    let mut ghost = transition(&b.booking, BookingAction::Decline, None, None, t0);
    ghost.booking_id = Uuid::new_v4();
    let r = store.transition(ghost).await;
    assert!(
        matches!(r, Err(StoreError::NotFound | StoreError::Conflict)),
        "{r:?}"
    );
}

pub async fn decline_frees_slot_for_others(store: Arc<dyn Store>) {
    let store = &*store;
    let t0 = now();
    let s = slot_at(store, future(t0), 60).await;
    let b = book(store, &s, "ann", t0).await;
    let t1 = t0 + mins(10);
    let declined = store
        .transition(transition(
            &b.booking,
            BookingAction::Decline,
            Some(b.request.token(BookingAction::Decline)),
            None,
            t1,
        ))
        .await
        .expect("decline");
    assert_eq!(declined.status, BookingStatus::Declined);
    assert_eq!(declined.declined_at, Some(t1));
    assert_eq!(declined.accepted_at, None);
    assert_eq!(slot_status(store, s.id).await, SlotStatus::Open);
    let open = store
        .list_slots(t0, future(t0) + hours(1), Some(SlotStatus::Open))
        .await
        .expect("list");
    assert_eq!(open.iter().map(|x| x.id).collect::<Vec<_>>(), vec![s.id]);

    // Someone else can take it now.
    let bob = book(store, &s, "bob", t1).await;
    assert_eq!(slot_status(store, s.id).await, SlotStatus::Booked);
    assert_eq!(
        store
            .list_bookings(Some(BookingStatus::Pending))
            .await
            .expect("list"),
        vec![bob.booking]
    );
    assert_eq!(
        store
            .list_bookings(Some(BookingStatus::Declined))
            .await
            .expect("list"),
        vec![declined]
    );
}

pub async fn cancel_of_accepted_frees_slot(store: Arc<dyn Store>) {
    let store = &*store;
    let t0 = now();
    let s = slot_at(store, future(t0), 60).await;
    let b = book(store, &s, "ann", t0).await;
    let accepted = store
        .transition(transition(
            &b.booking,
            BookingAction::Accept,
            None,
            None,
            t0,
        ))
        .await
        .expect("accept");
    let t1 = t0 + mins(1);
    let cancelled = store
        .transition(transition(&accepted, BookingAction::Cancel, None, None, t1))
        .await
        .expect("cancel");
    assert_eq!(cancelled.status, BookingStatus::Cancelled);
    assert_eq!(cancelled.cancelled_at, Some(t1));
    assert_eq!(cancelled.version, 2);
    assert_eq!(cancelled.ics_sequence, 2);
    assert_eq!(slot_status(store, s.id).await, SlotStatus::Open);
    book(store, &s, "bob", t1).await;
}

pub async fn reschedule_frees_slot_and_pick_slot_moves_booking(store: Arc<dyn Store>) {
    let store = &*store;
    let t0 = now();
    let s1 = slot_at(store, future(t0), 60).await;
    let s2 = slot_at(store, future(t0) + hours(2), 60).await;
    let b = book(store, &s1, "ann", t0).await;
    let accepted = store
        .transition(transition(
            &b.booking,
            BookingAction::Accept,
            None,
            None,
            t0,
        ))
        .await
        .expect("accept");

    // The owner asks for another time: the old slot is free at once.
    let pick = token_hash();
    let t1 = t0 + mins(10);
    let waiting = store
        .transition(transition(
            &accepted,
            BookingAction::Reschedule,
            None,
            Some((BookingAction::PickSlot, pick.clone())),
            t1,
        ))
        .await
        .expect("reschedule");
    assert_eq!(waiting.status, BookingStatus::NeedsReschedule);
    assert_eq!(waiting.reschedule_requested_at, Some(t1));
    assert_eq!(slot_status(store, s1.id).await, SlotStatus::Open);

    // Someone else takes the old slot meanwhile.
    let bob = book(store, &s1, "bob", t1).await;

    // The visitor picks the other slot.
    let t2 = t0 + mins(20);
    let moved = store
        .transition(pick_slot(&waiting, &s2, Some(pick.clone()), t2))
        .await
        .expect("pick a new slot");
    assert_eq!(moved.status, BookingStatus::Pending);
    assert_eq!(moved.slot_id, Some(s2.id));
    assert_eq!((moved.starts_at, moved.ends_at), (s2.starts_at, s2.ends_at));
    assert_eq!(moved.version, 3);
    assert_eq!(moved.ics_uid, b.booking.ics_uid, "the calendar UID stays");
    assert_eq!(store.get_booking(b.booking.id).await.expect("get"), moved);
    assert_eq!(slot_status(store, s2.id).await, SlotStatus::Booked);
    assert_eq!(slot_status(store, s1.id).await, SlotStatus::Booked);
    assert_eq!(
        store
            .get_booking(bob.booking.id)
            .await
            .expect("bob")
            .slot_id,
        Some(s1.id)
    );
    let used = store.find_token(&pick).await.expect("find").expect("token");
    assert_eq!(used.used_at, Some(t2));

    let events = store.booking_events(b.booking.id).await.expect("events");
    assert_eq!(
        events
            .iter()
            .map(|e| (
                e.action.as_str(),
                e.from_status.as_deref(),
                e.to_status.as_str()
            ))
            .collect::<Vec<_>>(),
        vec![
            ("request", None, "pending"),
            ("accept", Some("pending"), "accepted"),
            ("reschedule", Some("accepted"), "needs_reschedule"),
            ("pick_slot", Some("needs_reschedule"), "pending"),
        ]
    );
    assert_eq!(events[3].actor, "requester");

    // The old time can no longer be double-booked through the moved booking: s2 is held.
    assert_err!(
        store.create_booking(request(&s2, "carol", t2).new).await,
        StoreError::SlotTaken
    );
}

pub async fn pick_slot_of_taken_slot_changes_nothing(store: Arc<dyn Store>) {
    let store = &*store;
    let t0 = now();
    let s1 = slot_at(store, future(t0), 60).await;
    let s2 = slot_at(store, future(t0) + hours(2), 60).await;
    let s3 = slot_at(store, future(t0) + hours(4), 60).await;
    let withdrawn = slot_at(store, future(t0) + hours(6), 60).await;
    store
        .set_slot_available(withdrawn.id, false, t0)
        .await
        .expect("withdraw");
    let b = book(store, &s1, "ann", t0).await;
    let waiting = store
        .transition(transition(
            &b.booking,
            BookingAction::Reschedule,
            Some(b.request.token(BookingAction::Reschedule)),
            None,
            t0,
        ))
        .await
        .expect("reschedule");
    assert_eq!(slot_status(store, s1.id).await, SlotStatus::Open);
    let bob = book(store, &s2, "bob", t0).await;
    let before = snapshot(store, b.booking.id).await;

    for (what, target) in [("held by bob", &s2), ("withdrawn", &withdrawn)] {
        let r = store
            .transition(pick_slot(&waiting, target, None, t0 + mins(5)))
            .await;
        assert!(
            matches!(r, Err(StoreError::SlotTaken)),
            "picking a slot {what} must fail with SlotTaken, got {r:?}"
        );
    }
    let r = store
        .transition(pick_slot(
            &waiting,
            &Slot {
                id: Uuid::new_v4(),
                ..s3.clone()
            },
            None,
            t0 + mins(5),
        ))
        .await;
    assert!(
        matches!(r, Err(StoreError::NotFound | StoreError::SlotTaken)),
        "picking a slot that does not exist, got {r:?}"
    );

    let after = snapshot(store, b.booking.id).await;
    assert_eq!(after, before);
    assert_eq!(after.0.status, BookingStatus::NeedsReschedule);
    assert_eq!(after.0.slot_id, Some(s1.id));
    assert_eq!(slot_status(store, s2.id).await, SlotStatus::Booked);
    assert_eq!(
        slot_status(store, withdrawn.id).await,
        SlotStatus::Unavailable
    );
    assert_eq!(
        store.get_booking(bob.booking.id).await.expect("bob"),
        bob.booking
    );

    // A stale pick of a free slot loses the compare-and-swap and leaves that slot open.
    let mut stale = pick_slot(&waiting, &s3, None, t0 + mins(5));
    stale.expected_version -= 1;
    assert_err!(store.transition(stale).await, StoreError::Conflict);
    assert_eq!(slot_status(store, s3.id).await, SlotStatus::Open);
    assert_eq!(snapshot(store, b.booking.id).await, before);

    // A free slot still works afterwards.
    let moved = store
        .transition(pick_slot(&waiting, &s3, None, t0 + mins(6)))
        .await
        .expect("pick a free slot");
    assert_eq!(moved.slot_id, Some(s3.id));
    assert_eq!(slot_status(store, s3.id).await, SlotStatus::Booked);
}

pub async fn failed_pick_slot_keeps_token(store: Arc<dyn Store>) {
    let store = &*store;
    let t0 = now();
    let s1 = slot_at(store, future(t0), 60).await;
    let s2 = slot_at(store, future(t0) + hours(2), 60).await;
    let b = book(store, &s1, "ann", t0).await;
    let pick = token_hash();
    let waiting = store
        .transition(transition(
            &b.booking,
            BookingAction::Reschedule,
            None,
            Some((BookingAction::PickSlot, pick.clone())),
            t0,
        ))
        .await
        .expect("reschedule");
    book(store, &s2, "bob", t0).await;
    assert_err!(
        store
            .transition(pick_slot(&waiting, &s2, Some(pick.clone()), t0 + mins(1)))
            .await,
        StoreError::SlotTaken
    );
    let token = store.find_token(&pick).await.expect("find").expect("token");
    assert_eq!(
        token.used_at, None,
        "the visitor may try another slot with the same link"
    );
    let moved = store
        .transition(pick_slot(&waiting, &s1, Some(pick), t0 + mins(2)))
        .await
        .expect("pick the old slot again");
    assert_eq!(moved.slot_id, Some(s1.id));
    assert_eq!(moved.status, BookingStatus::Pending);
}
