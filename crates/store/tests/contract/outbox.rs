//! The contract on the outbox: claims, leases, retries, failures, sends, releases and resends.

use super::*;

// ---------------------------------------------------------------------------------------------
// 6. Outbox
// ---------------------------------------------------------------------------------------------

pub async fn outbox_claims_oldest_first_and_leases(store: Arc<dyn Store>) {
    let store = &*store;
    let t0 = now();
    // Queued later first, earlier second: the order is by due time, not insertion.
    let newer = book(
        store,
        &slot_at(store, future(t0), 60).await,
        "newer",
        t0 - mins(10),
    )
    .await;
    let older = book(
        store,
        &slot_at(store, future(t0) + hours(2), 60).await,
        "older",
        t0 - mins(20),
    )
    .await;

    let first = store
        .claim_email(t0, t0 + mins(5))
        .await
        .expect("claim")
        .expect("an email is due");
    assert_eq!(first.booking_id, Some(older.booking.id), "oldest due first");
    assert_eq!(first.attempts, 1, "claiming counts the attempt");
    let stored = store
        .booking_emails(older.booking.id)
        .await
        .expect("emails");
    let stored = stored.iter().find(|m| m.id == first.id).expect("stored");
    assert_eq!(stored.attempts, 1);
    assert_eq!(stored.status, EmailStatus::Queued);
    assert_eq!(first.message, stored.message);

    let second = store
        .claim_email(t0, t0 + mins(5))
        .await
        .expect("claim")
        .expect("another email is due");
    assert_ne!(
        second.id, first.id,
        "a leased email is not handed out twice"
    );
    assert_eq!(second.booking_id, Some(older.booking.id));

    let rest = claim_all(store, t0).await;
    assert_eq!(rest.len(), 2, "the two emails of the newer booking");
    assert!(!rest.contains(&first.id) && !rest.contains(&second.id));
    let newer_ids: Vec<Uuid> = store
        .booking_emails(newer.booking.id)
        .await
        .expect("emails")
        .into_iter()
        .map(|m| m.id)
        .collect();
    let mut rest_sorted = rest.clone();
    rest_sorted.sort();
    let mut newer_sorted = newer_ids;
    newer_sorted.sort();
    assert_eq!(rest_sorted, newer_sorted);

    // All four are leased: nothing to claim until the leases run out.
    assert!(
        store
            .claim_email(t0 + mins(1), t0 + mins(6))
            .await
            .expect("claim")
            .is_none()
    );

    // A lease that ran out (the worker died) makes the email claimable again, counted again.
    let again = store
        .claim_email(t0 + mins(10), t0 + mins(15))
        .await
        .expect("claim")
        .expect("an expired lease is claimable");
    assert_eq!(again.booking_id, Some(older.booking.id));
    assert_eq!(again.attempts, 2);
    // The retry is the very same message: the receiving end can recognise a duplicate.
    assert_eq!(again.id, first.id);
    assert_eq!(again.message_id, first.message_id);
    assert_eq!(again.message, first.message);
}

/// Many workers claiming at once: each email is handed to exactly one of them.
pub async fn outbox_concurrent_claims_hand_each_email_out_once(store: Arc<dyn Store>) {
    let t0 = now();
    for i in 0..10 {
        book(
            &*store,
            &slot_at(&*store, future(t0) + hours(i), 60).await,
            &format!("visitor{i}"),
            t0 - mins(1),
        )
        .await;
    }
    let workers: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut mine = Vec::new();
                while let Some(m) = store.claim_email(t0, t0 + mins(5)).await.expect("claim") {
                    mine.push(m.id);
                }
                mine
            })
        })
        .collect();
    let mut all = Vec::new();
    for w in workers {
        all.extend(w.await.expect("worker"));
    }
    // A worker may stop early when the row it aimed at was taken; whatever is left is claimed here.
    all.extend(claim_all(&*store, t0).await);
    let unique: std::collections::BTreeSet<Uuid> = all.iter().copied().collect();
    assert_eq!(unique.len(), all.len(), "an email was claimed twice");
    assert_eq!(all.len(), 20, "every email claimed once");
}

pub async fn outbox_retry_waits_until_due(store: Arc<dyn Store>) {
    let store = &*store;
    let t0 = now();
    let b = book(store, &slot_at(store, future(t0), 60).await, "ann", t0).await;
    let claimed = claim_all(store, t0).await;
    assert_eq!(claimed.len(), 2);
    let (retry, sent) = (claimed[0], claimed[1]);
    store.mark_email_sent(sent, t0).await.expect("sent");
    store
        .mark_email_retry(retry, "421 try later", t0 + mins(30))
        .await
        .expect("retry");

    let m = store
        .booking_emails(b.booking.id)
        .await
        .expect("emails")
        .into_iter()
        .find(|m| m.id == retry)
        .expect("stored");
    assert_eq!(m.status, EmailStatus::Queued);
    assert_eq!(m.last_error.as_deref(), Some("421 try later"));
    assert_eq!(m.next_attempt_at, t0 + mins(30));
    assert_eq!(m.attempts, 1);
    let message_id = m.message_id.clone();
    assert_eq!(
        store.next_email_due(t0).await.expect("due"),
        Some(t0 + mins(30))
    );

    for at in [t0, t0 + mins(10), t0 + mins(29)] {
        assert!(
            store
                .claim_email(at, at + mins(5))
                .await
                .expect("claim")
                .is_none(),
            "an email waiting for its retry must not be claimed at {at}"
        );
    }
    let m = store
        .claim_email(t0 + mins(30), t0 + mins(35))
        .await
        .expect("claim")
        .expect("due again");
    assert_eq!(m.id, retry);
    assert_eq!(m.attempts, 2);
    assert_eq!(
        m.message_id, message_id,
        "the same Message-ID on every attempt"
    );
}

pub async fn outbox_failed_email_stays_out(store: Arc<dyn Store>) {
    let store = &*store;
    let t0 = now();
    let b = book(store, &slot_at(store, future(t0), 60).await, "ann", t0).await;
    let claimed = claim_all(store, t0).await;
    let failed = claimed[0];
    store
        .mark_email_failed(failed, "550 mailbox unavailable")
        .await
        .expect("failed");

    let emails = store.booking_emails(b.booking.id).await.expect("emails");
    let m = emails.iter().find(|m| m.id == failed).expect("stored");
    assert_eq!(m.status, EmailStatus::Failed);
    assert_eq!(m.last_error.as_deref(), Some("550 mailbox unavailable"));
    assert_eq!(m.sent_at, None);

    // Long after every lease ran out, only the other email comes back.
    let later = claim_all(store, t0 + hours(24)).await;
    assert_eq!(later, vec![claimed[1]]);
    store
        .mark_email_sent(claimed[1], t0 + hours(24))
        .await
        .expect("sent");
    assert_eq!(store.next_email_due(t0).await.expect("due"), None);
    assert!(claim_all(store, t0 + hours(48)).await.is_empty());
}

pub async fn outbox_sent_email_is_done(store: Arc<dyn Store>) {
    let store = &*store;
    let t0 = now();
    let b = book(store, &slot_at(store, future(t0), 60).await, "ann", t0).await;
    let claimed = claim_all(store, t0).await;
    let t1 = t0 + mins(1);
    for id in &claimed {
        store.mark_email_sent(*id, t1).await.expect("sent");
    }
    for m in store.booking_emails(b.booking.id).await.expect("emails") {
        assert_eq!(m.status, EmailStatus::Sent);
        assert_eq!(m.sent_at, Some(t1));
        assert_eq!(m.attempts, 1);
        assert_eq!(m.last_error, None);
    }
    assert_eq!(store.next_email_due(t0).await.expect("due"), None);
    assert!(claim_all(store, t0 + hours(24)).await.is_empty());
}

pub async fn outbox_release_makes_email_claimable_at_once(store: Arc<dyn Store>) {
    let store = &*store;
    let t0 = now();
    let b = book(store, &slot_at(store, future(t0), 60).await, "ann", t0).await;
    let claimed = claim_all(store, t0).await;
    assert_eq!(claimed.len(), 2);
    let released = claimed[0];
    store.release_email(released).await.expect("release");

    let m = store
        .booking_emails(b.booking.id)
        .await
        .expect("emails")
        .into_iter()
        .find(|m| m.id == released)
        .expect("stored");
    assert_eq!(m.attempts, 0, "a released claim is not an attempt");
    assert_eq!(m.status, EmailStatus::Queued);

    // Claimable again right away, although its lease would have run for five more minutes.
    let again = store
        .claim_email(t0, t0 + mins(5))
        .await
        .expect("claim")
        .expect("released email is due");
    assert_eq!(again.id, released);
    assert_eq!(again.attempts, 1);
    // The other one is still leased.
    assert!(
        store
            .claim_email(t0, t0 + mins(5))
            .await
            .expect("claim")
            .is_none()
    );
}

pub async fn outbox_requeue_sends_the_same_email_again(store: Arc<dyn Store>) {
    let store = &*store;
    let t0 = now();
    let b = book(store, &slot_at(store, future(t0), 60).await, "ann", t0).await;
    let other = book(
        store,
        &slot_at(store, future(t0) + hours(3), 60).await,
        "bob",
        t0,
    )
    .await;
    let claimed = claim_all(store, t0).await;
    assert_eq!(claimed.len(), 4);
    let emails = store.booking_emails(b.booking.id).await.expect("emails");
    let (failed, leased) = (emails[0].clone(), emails[1].clone());

    // Someone else's booking, an unknown id, and an email being sent right now are refused.
    assert_err!(
        store.requeue_email(other.booking.id, failed.id, t0).await,
        StoreError::NotFound
    );
    assert_err!(
        store.requeue_email(b.booking.id, Uuid::new_v4(), t0).await,
        StoreError::NotFound
    );
    assert_err!(
        store.requeue_email(b.booking.id, leased.id, t0).await,
        StoreError::Conflict
    );

    store
        .mark_email_failed(failed.id, "550 mailbox unavailable")
        .await
        .expect("failed");
    for id in claimed.iter().filter(|id| **id != failed.id) {
        store.mark_email_sent(*id, t0).await.expect("sent");
    }
    let t1 = t0 + hours(1);
    let again = store
        .requeue_email(b.booking.id, failed.id, t1)
        .await
        .expect("requeue");
    assert_eq!(again.status, EmailStatus::Queued);
    assert_eq!(again.attempts, 0);
    assert_eq!(again.next_attempt_at, t1);
    assert_eq!(again.last_error.as_deref(), Some("550 mailbox unavailable"));
    assert_eq!(again.message_id, failed.message_id, "the same Message-ID");
    assert_eq!(again.message, failed.message, "the same bytes");

    let claimed = store
        .claim_email(t1, t1 + mins(5))
        .await
        .expect("claim")
        .expect("the resent email is due");
    assert_eq!(claimed.id, failed.id);
    assert_eq!(claimed.attempts, 1);
    store.mark_email_sent(failed.id, t1).await.expect("sent");

    // A sent email can be sent once more too (the owner lost it).
    let resent = store
        .requeue_email(b.booking.id, failed.id, t1 + mins(1))
        .await
        .expect("requeue a sent email");
    assert_eq!(resent.status, EmailStatus::Queued);
    assert_eq!(resent.sent_at, None);
}

pub async fn outbox_next_email_due_reports_earliest(store: Arc<dyn Store>) {
    let store = &*store;
    let t0 = now();
    assert_eq!(store.next_email_due(t0).await.expect("due"), None);
    let b = book(
        store,
        &slot_at(store, future(t0), 60).await,
        "ann",
        t0 - mins(20),
    )
    .await;
    assert_eq!(
        store.next_email_due(t0).await.expect("due"),
        Some(t0 - mins(20))
    );

    let claimed = claim_all(store, t0).await;
    assert_eq!(claimed.len(), 2);
    // Both held by a worker: the next is due when their lease (five minutes) runs out, asked
    // then as at any later moment.
    for at in [t0, t0 + mins(1), t0 + mins(6)] {
        assert_eq!(
            store.next_email_due(at).await.expect("due"),
            Some(t0 + mins(5))
        );
    }
    store
        .mark_email_retry(claimed[0], "timeout", t0 + mins(30))
        .await
        .expect("retry");
    store
        .mark_email_retry(claimed[1], "timeout", t0 + mins(10))
        .await
        .expect("retry");
    assert_eq!(
        store.next_email_due(t0).await.expect("due"),
        Some(t0 + mins(10))
    );

    store.mark_email_sent(claimed[1], t0).await.expect("sent");
    assert_eq!(
        store.next_email_due(t0).await.expect("due"),
        Some(t0 + mins(30))
    );

    store
        .mark_email_failed(claimed[0], "gave up")
        .await
        .expect("failed");
    assert_eq!(store.next_email_due(t0).await.expect("due"), None);
    assert_eq!(
        store
            .booking_emails(b.booking.id)
            .await
            .expect("emails")
            .len(),
        2
    );
}
