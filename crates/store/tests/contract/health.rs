//! The contract on what operators watch: bookings by status, waiting and failed emails, the
//! oldest of them, the migrations, the pools.

use super::*;

// ---------------------------------------------------------------------------------------------
// 9. Health
// ---------------------------------------------------------------------------------------------

pub async fn health_counts_bookings_and_waiting_emails(store: Arc<dyn Store>) {
    let store = &*store;
    let t0 = now();
    let empty = store.health(t0).await.expect("health");
    assert!(empty.bookings.is_empty(), "{empty:?}");
    assert_eq!((empty.emails_queued, empty.emails_failed), (0, 0));
    assert_eq!((empty.oldest_queued_at, empty.oldest_due_at), (None, None));
    assert!(
        empty.pending_migrations.is_empty(),
        "a migrated store has every migration: {:?}",
        empty.pending_migrations
    );

    let older = book(
        store,
        &slot_at(store, future(t0), 60).await,
        "older",
        t0 - mins(20),
    )
    .await;
    book(
        store,
        &slot_at(store, future(t0) + hours(2), 60).await,
        "newer",
        t0 - mins(10),
    )
    .await;
    let h = store.health(t0).await.expect("health");
    assert_eq!(h.bookings, vec![(BookingStatus::Pending, 2)]);
    assert_eq!((h.emails_queued, h.emails_failed), (4, 0));
    assert_eq!(h.oldest_queued_at, Some(t0 - mins(20)));
    assert_eq!(h.oldest_due_at, Some(t0 - mins(20)));

    // The older booking's two emails: one fails for good, one is being sent (leased).
    let first = store
        .claim_email(t0, t0 + mins(5))
        .await
        .expect("claim")
        .expect("due");
    assert_eq!(first.booking_id, Some(older.booking.id));
    store.mark_email_failed(first.id, "refused").await.unwrap();
    let second = store
        .claim_email(t0, t0 + mins(5))
        .await
        .expect("claim")
        .expect("due");
    assert_eq!(second.booking_id, Some(older.booking.id));
    let h = store.health(t0).await.expect("health");
    assert_eq!((h.emails_queued, h.emails_failed), (3, 1));
    assert_eq!(h.oldest_queued_at, Some(t0 - mins(20)), "still waiting");
    assert_eq!(
        h.oldest_due_at,
        Some(t0 - mins(10)),
        "the email a worker holds is not overdue"
    );
    store.mark_email_sent(second.id, t0).await.unwrap();
    let h = store.health(t0).await.expect("health");
    assert_eq!(h.emails_queued, 2);
    assert_eq!(h.oldest_queued_at, Some(t0 - mins(10)));

    let pools = store.pool_use();
    assert!(!pools.is_empty());
    for p in pools {
        assert!(p.size >= 1 && p.idle <= p.size && p.size <= p.max, "{p:?}");
    }
}
