//! The contract on idempotency keys: kept in the transaction of the change they answer, read
//! back with that answer until they expire, never kept twice while alive, and gone with a
//! change that was refused.

use guidance_core::idempotency::{IdempotencyKey, Keyed, Scope};
use guidance_store::KeepAnswer;

use super::*;

// ---------------------------------------------------------------------------------------------
// 10. Idempotency keys
// ---------------------------------------------------------------------------------------------

/// An idempotency key kept with a change until `expires_at` (also used by `populate_a_site`).
pub fn keep(scope: Scope, key: &str, body: &[u8], expires_at: Timestamp) -> Option<KeepAnswer> {
    Some(KeepAnswer {
        keyed: Keyed::new(scope, IdempotencyKey::parse(key).expect("a key"), body),
        expires_at,
    })
}

fn key(k: &str) -> IdempotencyKey {
    IdempotencyKey::parse(k).expect("a key")
}

pub async fn idempotency_key_keeps_the_answer_until_it_expires(store: Arc<dyn Store>) {
    let store = &*store;
    let t0 = now();
    let s = slot_at(store, future(t0), 60).await;
    let mut request = request(&s, "ann", t0);
    request.new.keep_answer = keep(Scope::Booking, "k1", b"body", t0 + hours(24));
    let booking = store
        .create_booking(request.new.clone())
        .await
        .expect("booked");

    let kept = store
        .kept_answer(Scope::Booking, &key("k1"), t0 + hours(1))
        .await
        .expect("read")
        .expect("kept");
    assert_eq!(kept.booking, booking);
    assert_eq!(
        kept.request_hash,
        Keyed::new(Scope::Booking, key("k1"), b"body").request_hash
    );
    // Keys of another scope never meet.
    assert!(
        store
            .kept_answer(Scope::Action, &key("k1"), t0)
            .await
            .expect("read")
            .is_none()
    );

    // The answer kept is the booking as it was answered, whatever happens to it later.
    let accept = booking_with_token(&booking, &request);
    let moved = store.transition(accept).await.expect("accepted");
    assert_eq!(moved.status, BookingStatus::Accepted);
    let kept = store
        .kept_answer(Scope::Booking, &key("k1"), t0 + hours(2))
        .await
        .expect("read")
        .expect("kept");
    assert_eq!(kept.booking.status, BookingStatus::Pending);

    // Expired: not given any more, and forgotten (with the owner's key `a1`, as old).
    assert!(
        store
            .kept_answer(Scope::Booking, &key("k1"), t0 + hours(24))
            .await
            .expect("read")
            .is_none()
    );
    assert_eq!(
        store
            .forget_expired_answers(t0 + hours(24))
            .await
            .expect("forget"),
        2
    );
}

/// The owner's accept of `booking`, with the key `a1` kept.
fn booking_with_token(booking: &Booking, request: &Request) -> Transition {
    let mut t = transition(
        booking,
        BookingAction::Accept,
        Some(request.token(BookingAction::Accept)),
        None,
        booking.created_at + mins(5),
    );
    t.keep_answer = keep(
        Scope::Action,
        "a1",
        b"accept",
        booking.created_at + hours(24),
    );
    t
}

pub async fn idempotency_key_in_use_refuses_the_whole_change(store: Arc<dyn Store>) {
    let store = &*store;
    let t0 = now();
    let first = slot_at(store, future(t0), 60).await;
    let second = slot_at(store, future(t0) + hours(2), 60).await;
    let mut a = request(&first, "ann", t0);
    a.new.keep_answer = keep(Scope::Booking, "same", b"a", t0 + hours(24));
    store.create_booking(a.new.clone()).await.expect("booked");

    // Another request with the live key: refused whole, its slot still open.
    let mut b = request(&second, "bob", t0 + mins(1));
    b.new.keep_answer = keep(Scope::Booking, "same", b"b", t0 + hours(24));
    assert_err!(
        store.create_booking(b.new.clone()).await,
        StoreError::KeyInUse
    );
    assert_eq!(slot_status(store, second.id).await, SlotStatus::Open);
    assert_err!(store.get_booking(b.new.id).await, StoreError::NotFound);

    // Once the key expired, it may name a new request.
    b.new.now = t0 + hours(25);
    b.new.keep_answer = keep(Scope::Booking, "same", b"b", t0 + hours(49));
    let booked = store.create_booking(b.new.clone()).await.expect("booked");
    let kept = store
        .kept_answer(Scope::Booking, &key("same"), t0 + hours(26))
        .await
        .expect("read")
        .expect("kept");
    assert_eq!(kept.booking.id, booked.id);
}
