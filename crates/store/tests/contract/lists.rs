//! The contract on lists of bookings: which are overdue, and the one order both databases give.

use super::*;

// ---------------------------------------------------------------------------------------------
// 5. Overdue bookings
// ---------------------------------------------------------------------------------------------

pub async fn list_overdue_finds_only_overtaken_bookings(store: Arc<dyn Store>) {
    let store = &*store;
    let t0 = now();
    // Pending, starts in an hour: overdue at t0 + 2h.
    let started = book(
        store,
        &slot_at(store, t0 + hours(1), 30).await,
        "started",
        t0,
    )
    .await;
    // Accepted, starts in 90 minutes: not overdue, it is simply happening.
    let accepted = book(
        store,
        &slot_at(store, t0 + mins(90), 30).await,
        "accepted",
        t0,
    )
    .await;
    store
        .transition(transition(
            &accepted.booking,
            BookingAction::Accept,
            None,
            None,
            t0,
        ))
        .await
        .expect("accept");
    // Pending, starts later: not overdue.
    let later = book(store, &slot_at(store, t0 + hours(5), 30).await, "later", t0).await;
    // Waiting for a new time since t0: overdue with a deadline of t0 + 1h.
    let long_waiting = book(store, &slot_at(store, t0 + hours(6), 30).await, "long", t0).await;
    store
        .transition(transition(
            &long_waiting.booking,
            BookingAction::Reschedule,
            None,
            None,
            t0,
        ))
        .await
        .expect("reschedule");
    // Waiting since t0 + 90 min: not yet.
    let recent = book(
        store,
        &slot_at(store, t0 + hours(7), 30).await,
        "recent",
        t0,
    )
    .await;
    store
        .transition(transition(
            &recent.booking,
            BookingAction::Reschedule,
            None,
            None,
            t0 + mins(90),
        ))
        .await
        .expect("reschedule");
    // Declined, started long ago: finished, not overdue.
    let declined = book(
        store,
        &slot_at(store, t0 + mins(30), 30).await,
        "declined",
        t0,
    )
    .await;
    store
        .transition(transition(
            &declined.booking,
            BookingAction::Decline,
            None,
            None,
            t0,
        ))
        .await
        .expect("decline");

    let mut overdue: Vec<Uuid> = store
        .list_overdue(t0 + hours(2), t0 + hours(1))
        .await
        .expect("overdue")
        .into_iter()
        .map(|b| b.id)
        .collect();
    overdue.sort();
    let mut expected = vec![started.booking.id, long_waiting.booking.id];
    expected.sort();
    assert_eq!(overdue, expected);

    // The boundary: a pending booking is overdue from the moment it starts.
    let at_start: Vec<Uuid> = store
        .list_overdue(started.booking.starts_at, t0 - hours(1))
        .await
        .expect("overdue")
        .into_iter()
        .map(|b| b.id)
        .collect();
    assert_eq!(at_start, vec![started.booking.id]);

    // Before anything started and with an early deadline, nothing.
    assert!(
        store
            .list_overdue(t0, t0 - hours(1))
            .await
            .expect("overdue")
            .is_empty()
    );
    let _ = later;
}

// ---------------------------------------------------------------------------------------------
// 5a. The order of the lists of bookings: by session time, then request time, then id
// ---------------------------------------------------------------------------------------------

/// Ids in the order the lists must give them, whichever order they are inserted in. Their text
/// (SQLite) and their bytes (PostgreSQL) sort alike.
fn ordered_ids() -> [Uuid; 3] {
    [
        "1f000000-0000-4000-8000-000000000000",
        "9e000000-0000-4000-8000-000000000000",
        "a1000000-0000-4000-8000-000000000000",
    ]
    .map(|id| Uuid::parse_str(id).expect("a valid id"))
}

/// Books `slot` at `now` under a chosen id.
async fn book_as(store: &dyn Store, slot: &Slot, id: Uuid, now: Timestamp) -> Booking {
    let mut request = request(slot, &format!("v{}", &id.to_string()[..2]), now);
    request.new.id = id;
    request.new.ics_uid = format!("{id}@guidance.test");
    store
        .create_booking(request.new)
        .await
        .expect("create booking")
}

pub async fn list_bookings_breaks_ties_by_request_time_then_id(store: Arc<dyn Store>) {
    let store = &*store;
    let t0 = now();
    let [low, middle, high] = ordered_ids();
    // One slot, requested three times: two requests at t0, each declined (which frees the slot),
    // then one made a minute earlier by the caller's clock, which stays pending.
    let slot = slot_at(store, future(t0), 60).await;
    for id in [high, low] {
        let b = book_as(store, &slot, id, t0).await;
        store
            .transition(transition(&b, BookingAction::Decline, None, None, t0))
            .await
            .expect("decline");
    }
    let earlier = book_as(store, &slot, middle, t0 - mins(1)).await;
    // A session that starts sooner, requested last: first whatever its id and request time.
    let sooner = book_as(
        store,
        &slot_at(store, future(t0) - hours(2), 60).await,
        Uuid::new_v4(),
        t0 + mins(1),
    )
    .await;

    let ids = |bookings: Vec<Booking>| bookings.into_iter().map(|b| b.id).collect::<Vec<_>>();
    assert_eq!(
        ids(store.list_bookings(None).await.expect("list")),
        vec![sooner.id, earlier.id, low, high],
        "by starts_at, then created_at, then id"
    );
    assert_eq!(
        ids(store
            .list_bookings(Some(BookingStatus::Declined))
            .await
            .expect("list declined")),
        vec![low, high],
        "the same order among one status"
    );
}

pub async fn list_overdue_breaks_ties_by_request_time_then_id(store: Arc<dyn Store>) {
    let store = &*store;
    let t0 = now();
    let [low, middle, high] = ordered_ids();
    // One slot, requested three times and each time sent back for a new time (which frees the
    // slot): two requests at t0, then one made a minute earlier by the caller's clock, with the
    // highest id.
    let slot = slot_at(store, future(t0), 60).await;
    for (id, requested) in [(middle, t0), (low, t0), (high, t0 - mins(1))] {
        let b = book_as(store, &slot, id, requested).await;
        store
            .transition(transition(&b, BookingAction::Reschedule, None, None, t0))
            .await
            .expect("reschedule");
    }
    // Pending and started by t0 + 2h, requested last: first, it starts sooner.
    let started = book_as(
        store,
        &slot_at(store, t0 + hours(1), 30).await,
        Uuid::new_v4(),
        t0 + mins(1),
    )
    .await;

    let overdue: Vec<Uuid> = store
        .list_overdue(t0 + hours(2), t0 + hours(1))
        .await
        .expect("overdue")
        .into_iter()
        .map(|b| b.id)
        .collect();
    assert_eq!(
        overdue,
        vec![started.id, high, low, middle],
        "by starts_at, then created_at, then id"
    );
}
