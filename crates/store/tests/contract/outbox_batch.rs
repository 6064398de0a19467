//! The contract on sending in batches and on sealing the messages an older version kept plain.

use super::*;

pub async fn outbox_batch_claims_hand_each_email_out_once(store: Arc<dyn Store>) {
    let t0 = now();
    for i in 0..10 {
        book(
            &*store,
            &slot_at(&*store, future(t0) + hours(i), 60).await,
            &format!("batch{i}"),
            t0 - mins(1),
        )
        .await;
    }
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut mine = Vec::new();
                loop {
                    let batch = store
                        .claim_emails(t0, t0 + mins(5), 3)
                        .await
                        .expect("claim");
                    assert!(batch.len() <= 3, "no more than asked for");
                    if batch.is_empty() {
                        break mine;
                    }
                    assert!(
                        batch.iter().all(|m| m.attempts == 1),
                        "each attempt counted"
                    );
                    mine.extend(batch.iter().map(|m| m.id));
                }
            })
        })
        .collect();
    let mut all = Vec::new();
    for w in workers {
        all.extend(w.await.expect("worker"));
    }
    all.extend(claim_all(&*store, t0).await);
    let unique: std::collections::BTreeSet<Uuid> = all.iter().copied().collect();
    assert_eq!(unique.len(), all.len(), "an email was claimed twice");
    assert_eq!(all.len(), 20, "every email claimed once");

    store.mark_emails_sent(&all, t0).await.expect("sent");
    let bookings = store.list_bookings(None).await.expect("bookings");
    for b in bookings {
        for m in store.booking_emails(b.id).await.expect("emails") {
            assert_eq!(m.status, EmailStatus::Sent, "{}", m.id);
            assert_eq!(m.sent_at, Some(t0));
        }
    }
    // Sent emails are never claimed again, even after their leases would have run out.
    let later = store
        .claim_emails(t0 + hours(1), t0 + hours(2), 50)
        .await
        .expect("claim");
    assert!(later.is_empty(), "{later:?}");
}

pub async fn outbox_plain_messages_are_found_and_sealed_once(store: Arc<dyn Store>) {
    let store = &*store;
    let t0 = now();
    let b = book(store, &slot_at(store, future(t0), 60).await, "plain", t0).await;
    let plain = store.unsealed_emails(10).await.expect("unsealed");
    assert_eq!(plain.len(), 2, "both emails were stored plain");
    let sealed = [0u8, 1, 42, 42];
    store
        .seal_stored_email(plain[0].id, &sealed)
        .await
        .expect("seal");
    let left = store.unsealed_emails(10).await.expect("unsealed");
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].id, plain[1].id);
    // A sealed message is never replaced again.
    store
        .seal_stored_email(plain[0].id, &[0u8, 1, 7])
        .await
        .expect("seal");
    let emails = store.booking_emails(b.booking.id).await.expect("emails");
    let first = emails.iter().find(|m| m.id == plain[0].id).expect("kept");
    assert_eq!(first.message, sealed);
    let second = emails.iter().find(|m| m.id == plain[1].id).expect("kept");
    assert_eq!(second.message, plain[1].message, "the other is untouched");
}

/// An email claimed as it is queued (for the queueing process's own worker) is held as a claim
/// would hold it: no worker claims it until its lease ends, its first attempt is counted, and
/// if its sender died with it, the next claim after the lease takes it, the same email.
pub async fn outbox_email_claimed_as_queued_waits_for_its_lease(store: Arc<dyn Store>) {
    let store = &*store;
    let t0 = now();
    let slot = slot_at(store, future(t0), 60).await;
    let mut request = request(&slot, "handed", t0);
    request.new.emails[0].lease_until = Some(t0 + mins(5));
    let handed = request.new.emails[0].id;
    let booking = store
        .create_booking(request.new.clone())
        .await
        .expect("booked");
    let queued = store.booking_emails(booking.id).await.expect("emails");
    let first = queued.iter().find(|m| m.id == handed).expect("kept");
    assert_eq!((first.status, first.attempts), (EmailStatus::Queued, 1));

    let claimed = store
        .claim_emails(t0 + mins(1), t0 + mins(20), 10)
        .await
        .expect("claim");
    let ids: Vec<Uuid> = claimed.iter().map(|m| m.id).collect();
    assert_eq!(ids.len(), 1, "only the email left to the workers: {ids:?}");
    assert_ne!(ids[0], handed, "the handed email is held by its lease");
    assert_eq!(
        store.next_email_due().await.expect("next due"),
        Some(t0 + mins(5)),
        "the handed email is due again when its lease ends"
    );

    // Its sender died with it: once the lease has run out, a worker takes it.
    let again = store
        .claim_emails(t0 + mins(6), t0 + mins(11), 10)
        .await
        .expect("claim");
    assert_eq!(again.len(), 1, "{again:?}");
    assert_eq!((again[0].id, again[0].attempts), (handed, 2));
    assert_eq!(again[0].message_id, first.message_id);
}
