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
