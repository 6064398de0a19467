//! Proposed times: held with a reschedule, taken by the visitor's link, given back with any
//! other change of the booking.

use super::*;
use guidance_store::NewProposal;

/// The owner asks `b` (accepted) for another time, proposing `slots`, at `at`.
fn reschedule_proposing(
    b: &Booking,
    slots: &[&Slot],
    hashes: &[TokenHash],
    at: Timestamp,
) -> Transition {
    let mut t = transition(b, BookingAction::Reschedule, None, None, at);
    t.proposals = slots
        .iter()
        .zip(hashes)
        .map(|(s, hash)| NewProposal {
            slot: SlotChange {
                slot_id: s.id,
                window: slot_window(s),
            },
            hash: hash.clone(),
        })
        .collect();
    t
}

/// The visitor takes `slot`, proposed as `proposal`.
fn take(b: &Booking, slot: &Slot, proposal: Uuid, at: Timestamp) -> Transition {
    let mut t = transition(b, BookingAction::TakeProposedTime, None, None, at);
    t.actor = Actor::Requester;
    t.new_slot = Some(SlotChange {
        slot_id: slot.id,
        window: slot_window(slot),
    });
    t.take_proposal = Some(proposal);
    t
}

pub async fn proposed_times_are_held_until_one_is_taken(store: Arc<dyn Store>) {
    let store = &*store;
    let t0 = now();
    let s0 = slot_at(store, future(t0), 60).await;
    let offered: Vec<Slot> = futures_slots(store, t0).await;
    let b = book(store, &s0, "ann", t0).await;
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
    let hashes = [token_hash(), token_hash(), token_hash()];
    let refs: Vec<&Slot> = offered.iter().collect();
    let t1 = t0 + mins(5);
    let waiting = store
        .transition(reschedule_proposing(&accepted, &refs, &hashes, t1))
        .await
        .expect("reschedule with proposals");
    assert_eq!(waiting.status, BookingStatus::NeedsReschedule);
    // The old slot is free, the proposed ones held: nobody else may book them.
    assert_eq!(slot_status(store, s0.id).await, SlotStatus::Open);
    for s in &offered {
        assert_eq!(slot_status(store, s.id).await, SlotStatus::Booked);
        assert_err!(
            store.create_booking(request(s, "bob", t1).new).await,
            StoreError::SlotTaken
        );
    }
    let listed = store.proposed_times(b.booking.id).await.expect("list");
    assert_eq!(
        listed.iter().map(|p| p.slot_id).collect::<Vec<_>>(),
        offered.iter().map(|s| Some(s.id)).collect::<Vec<_>>()
    );
    assert!(listed.iter().all(|p| p.is_live()));
    let found = store.find_proposal(&hashes[1]).await.expect("find");
    assert_eq!(found.as_ref().map(|p| p.slot_id), Some(Some(offered[1].id)));

    let second = found.expect("the second proposal").id;
    // One proposal cannot take another's slot.
    let t2 = t1 + mins(5);
    assert_err!(
        store
            .transition(take(&waiting, &offered[0], second, t2))
            .await,
        StoreError::TokenUsed
    );
    // The visitor takes the second: accepted on it, the other two open again at once.
    let moved = store
        .transition(take(&waiting, &offered[1], second, t2))
        .await
        .expect("take");
    assert_eq!(moved.status, BookingStatus::Accepted);
    assert_eq!(moved.slot_id, Some(offered[1].id));
    assert_eq!(slot_status(store, offered[1].id).await, SlotStatus::Booked);
    assert_eq!(slot_status(store, offered[0].id).await, SlotStatus::Open);
    assert_eq!(slot_status(store, offered[2].id).await, SlotStatus::Open);
    let after = store.proposed_times(b.booking.id).await.expect("list");
    assert_eq!(after[1].taken_at, Some(t2));
    assert_eq!(after[0].released_at, Some(t2));
    assert_eq!(after[2].released_at, Some(t2));
    // Taken once: the same proposal takes nothing again.
    let again = take(&waiting, &offered[1], second, t2 + mins(1));
    assert!(store.transition(again).await.is_err());
    // Someone else may now book a freed one.
    store
        .create_booking(request(&offered[0], "bob", t2).new)
        .await
        .expect("a freed time is bookable");
}

pub async fn proposed_times_are_given_back_when_the_booking_changes_otherwise(
    store: Arc<dyn Store>,
) {
    let store = &*store;
    let t0 = now();
    let s0 = slot_at(store, future(t0), 60).await;
    let offered = futures_slots(store, t0).await;
    let b = book(store, &s0, "ann", t0).await;
    let hashes = [token_hash(), token_hash()];
    let refs: Vec<&Slot> = offered.iter().take(2).collect();
    let waiting = store
        .transition(reschedule_proposing(&b.booking, &refs, &hashes, t0))
        .await
        .expect("reschedule");
    // A held slot cannot be proposed again to someone else, nor can a taken one: the whole
    // change is refused.
    let c = book(store, &offered[2], "cid", t0).await;
    let refused = reschedule_proposing(&c.booking, &[&offered[0]], &[token_hash()], t0);
    assert_err!(store.transition(refused).await, StoreError::SlotTaken);
    assert_eq!(
        store.get_booking(c.booking.id).await.expect("get").status,
        BookingStatus::Pending
    );
    assert_eq!(slot_status(store, offered[2].id).await, SlotStatus::Booked);

    // The visitor cancels instead: both holds are given back, and the links take nothing.
    let t1 = t0 + mins(5);
    let cancelled = store
        .transition(transition(&waiting, BookingAction::Cancel, None, None, t1))
        .await
        .expect("cancel");
    assert_eq!(cancelled.status, BookingStatus::Cancelled);
    for s in &offered[..2] {
        assert_eq!(slot_status(store, s.id).await, SlotStatus::Open);
    }
    let listed = store.proposed_times(b.booking.id).await.expect("list");
    assert!(listed.iter().all(|p| p.released_at == Some(t1)));
}

/// Three free slots after `future(t0)`'s first hour.
async fn futures_slots(store: &dyn Store, t0: Timestamp) -> Vec<Slot> {
    let mut out = Vec::new();
    for n in 1..=3 {
        out.push(slot_at(store, future(t0) + hours(2 * n), 60).await);
    }
    out
}
