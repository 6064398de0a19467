//! The contract on slots: creating, listing, overlapping, withdrawing, deleting.

use super::*;

// ---------------------------------------------------------------------------------------------
// 1. Slots
// ---------------------------------------------------------------------------------------------

pub async fn slot_create_get_list(store: Arc<dyn Store>) {
    let store = &*store;
    let t0 = now();
    let w = window(future(t0), 45);
    let created = store
        .create_slot(w, Some("https://meet.example/abc".to_owned()), t0)
        .await
        .expect("create slot");
    assert_eq!(created.starts_at, w.starts_at());
    assert_eq!(created.ends_at, w.ends_at());
    assert_eq!(created.status, SlotStatus::Open);
    assert_eq!(
        created.meeting_details.as_deref(),
        Some("https://meet.example/abc")
    );
    assert_eq!(created.created_at, t0);

    assert_eq!(store.get_slot(created.id).await.expect("get slot"), created);
    let listed = store
        .list_slots(t0, future(t0) + hours(1), None)
        .await
        .expect("list");
    assert_eq!(listed, vec![created]);

    assert_err!(store.get_slot(Uuid::new_v4()).await, StoreError::NotFound);
}

pub async fn slot_list_filters_by_range_and_status(store: Arc<dyn Store>) {
    let store = &*store;
    let t0 = now();
    let base = future(t0);
    // Created out of order: the list is in start order all the same.
    let c = slot_at(store, base + hours(3), 60).await;
    let a = slot_at(store, base + hours(1), 60).await;
    let b = slot_at(store, base + hours(2), 60).await;
    let ids = |slots: Vec<Slot>| slots.into_iter().map(|s| s.id).collect::<Vec<_>>();

    let all = store
        .list_slots(base, base + hours(10), None)
        .await
        .expect("list");
    assert_eq!(ids(all), vec![a.id, b.id, c.id]);

    // [from, to) by start: `to` at b's start leaves b out, `from` at b's start keeps it.
    let early = store
        .list_slots(base, b.starts_at, None)
        .await
        .expect("list");
    assert_eq!(ids(early), vec![a.id]);
    let middle = store
        .list_slots(b.starts_at, c.starts_at, None)
        .await
        .expect("list");
    assert_eq!(ids(middle), vec![b.id]);
    let none = store
        .list_slots(base + hours(5), base + hours(10), None)
        .await
        .expect("list");
    assert!(none.is_empty());

    // One of each status.
    book(store, &a, "ann", t0).await;
    store
        .set_slot_available(c.id, false, t0)
        .await
        .expect("withdraw");
    let by = |status| async move {
        store
            .list_slots(base, base + hours(10), Some(status))
            .await
            .expect("list")
    };
    assert_eq!(ids(by(SlotStatus::Open).await), vec![b.id]);
    assert_eq!(ids(by(SlotStatus::Booked).await), vec![a.id]);
    assert_eq!(ids(by(SlotStatus::Unavailable).await), vec![c.id]);
    let all = store
        .list_slots(base, base + hours(10), None)
        .await
        .expect("list");
    assert_eq!(
        all.iter().map(|s| s.status).collect::<Vec<_>>(),
        vec![
            SlotStatus::Booked,
            SlotStatus::Open,
            SlotStatus::Unavailable
        ]
    );
}

pub async fn slot_overlap_refused_adjacent_allowed(store: Arc<dyn Store>) {
    let store = &*store;
    let t0 = now();
    let start = future(t0) + hours(10);
    let s = slot_at(store, start, 60).await;

    let overlapping = [
        ("identical", start, 60),
        ("overlaps its end", start + mins(30), 60),
        ("overlaps its start", start - mins(30), 60),
        ("contains it", start - mins(60), 180),
        ("inside it", start + mins(15), 30),
    ];
    for (what, at, len) in overlapping {
        let r = store.create_slot(window(at, len), None, t0).await;
        assert!(
            matches!(r, Err(StoreError::SlotOverlap)),
            "a slot that {what} must be refused with SlotOverlap, got {r:?}"
        );
    }
    let listed = store
        .list_slots(t0, start + hours(10), None)
        .await
        .expect("list");
    assert_eq!(listed, vec![s.clone()], "refused slots must not be stored");

    // Adjacent on both sides (end == start) is fine.
    let before = slot_at(store, start - mins(60), 60).await;
    let after = slot_at(store, start + mins(60), 60).await;
    let listed = store
        .list_slots(t0, start + hours(10), None)
        .await
        .expect("list");
    assert_eq!(
        listed.iter().map(|x| x.id).collect::<Vec<_>>(),
        vec![before.id, s.id, after.id]
    );

    // A booked slot is live too.
    book(store, &s, "ann", t0).await;
    assert_err!(
        store
            .create_slot(window(start + mins(10), 20), None, t0)
            .await,
        StoreError::SlotOverlap
    );
}

pub async fn slot_unavailable_does_not_block_but_cannot_reopen_over_another(store: Arc<dyn Store>) {
    let store = &*store;
    let t0 = now();
    let start = future(t0);
    let old = slot_at(store, start, 60).await;
    let withdrawn = store
        .set_slot_available(old.id, false, t0)
        .await
        .expect("withdraw");
    assert_eq!(withdrawn.status, SlotStatus::Unavailable);
    // Withdrawing twice is harmless.
    let again = store
        .set_slot_available(old.id, false, t0)
        .await
        .expect("withdraw again");
    assert_eq!(again.status, SlotStatus::Unavailable);

    // A withdrawn slot cannot be booked.
    assert_err!(
        store.create_booking(request(&old, "ann", t0).new).await,
        StoreError::SlotTaken
    );
    assert_eq!(slot_status(store, old.id).await, SlotStatus::Unavailable);

    // It does not block a new slot at the same time...
    let new = store
        .create_slot(window(start + mins(30), 60), None, t0)
        .await
        .expect("an unavailable slot must not block a new one");
    // ...but it cannot come back over it.
    assert_err!(
        store.set_slot_available(old.id, true, t0).await,
        StoreError::SlotOverlap
    );
    assert_eq!(slot_status(store, old.id).await, SlotStatus::Unavailable);
    assert_eq!(slot_status(store, new.id).await, SlotStatus::Open);

    // Once the new slot is gone it can.
    store.delete_slot(new.id).await.expect("delete");
    let reopened = store
        .set_slot_available(old.id, true, t0)
        .await
        .expect("reopen");
    assert_eq!(reopened.status, SlotStatus::Open);

    assert_err!(
        store.set_slot_available(Uuid::new_v4(), true, t0).await,
        StoreError::NotFound
    );
}

pub async fn slot_booked_cannot_be_changed_or_deleted(store: Arc<dyn Store>) {
    let store = &*store;
    let t0 = now();
    let s = slot_at(store, future(t0), 60).await;
    let b = book(store, &s, "ann", t0).await;

    assert_err!(
        store.set_slot_available(s.id, false, t0).await,
        StoreError::SlotBooked
    );
    assert_err!(
        store.set_slot_available(s.id, true, t0).await,
        StoreError::SlotBooked
    );
    assert_eq!(slot_status(store, s.id).await, SlotStatus::Booked);

    assert_err!(store.delete_slot(s.id).await, StoreError::SlotBooked);
    assert_eq!(slot_status(store, s.id).await, SlotStatus::Booked);
    let booking = store.get_booking(b.booking.id).await.expect("booking");
    assert_eq!(booking.slot_id, Some(s.id));
}

pub async fn slot_delete_unbooked(store: Arc<dyn Store>) {
    let store = &*store;
    let t0 = now();
    let open = slot_at(store, future(t0), 60).await;
    let withdrawn = slot_at(store, future(t0) + hours(1), 60).await;
    store
        .set_slot_available(withdrawn.id, false, t0)
        .await
        .expect("withdraw");

    for s in [&open, &withdrawn] {
        store.delete_slot(s.id).await.expect("delete");
        assert_err!(store.get_slot(s.id).await, StoreError::NotFound);
        assert_err!(store.delete_slot(s.id).await, StoreError::NotFound);
    }
    let listed = store
        .list_slots(t0, future(t0) + hours(10), None)
        .await
        .expect("list");
    assert!(
        listed.is_empty(),
        "deleted slots are still listed: {listed:?}"
    );
    // The time is free again.
    slot_at(store, future(t0), 60).await;
}
