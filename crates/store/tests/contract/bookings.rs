//! The contract on new bookings: what a request records, when it is refused, races for one
//! slot, the limit of requests per address, and requests awaiting the visitor's confirmation.

use super::*;

// ---------------------------------------------------------------------------------------------
// 2. Booking creation
// ---------------------------------------------------------------------------------------------

pub async fn booking_reserves_slot_and_records_everything(store: Arc<dyn Store>) {
    let store = &*store;
    let t0 = now();
    let s = slot_at(store, future(t0), 60).await;
    let req = request(&s, "ann", t0);
    let new = req.new.clone();
    let b = store
        .create_booking(new.clone())
        .await
        .expect("create booking");

    assert_eq!(b.id, new.id);
    assert_eq!(b.slot_id, Some(s.id));
    assert_eq!((b.starts_at, b.ends_at), (s.starts_at, s.ends_at));
    assert_eq!(b.status, BookingStatus::Pending);
    assert_eq!(b.version, 0);
    assert_eq!(b.ics_sequence, 0);
    assert_eq!(b.ics_uid, new.ics_uid);
    assert_eq!(b.name, "Visitor ann");
    assert_eq!(b.email, "ann@example.test");
    assert_eq!(b.topic, "Help ann with the migration");
    assert_eq!(b.priority, Priority::High);
    assert_eq!(b.locale, "de");
    assert_eq!(b.time_zone, "Europe/Berlin");
    assert_eq!(
        b.answers,
        serde_json::json!({ "company": "Acme", "tools": ["rust", "sqlite"] })
    );
    assert_eq!(b.parsed_answers(), new.intake.answers);
    assert_eq!((b.created_at, b.updated_at), (t0, t0));
    assert_eq!(
        (
            b.accepted_at,
            b.declined_at,
            b.reschedule_requested_at,
            b.cancelled_at,
            b.expired_at
        ),
        (None, None, None, None, None)
    );
    assert_eq!(store.get_booking(b.id).await.expect("get"), b);
    assert_eq!(
        store.list_bookings(None).await.expect("list"),
        vec![b.clone()]
    );
    assert_eq!(
        store
            .list_bookings(Some(BookingStatus::Pending))
            .await
            .expect("list"),
        vec![b.clone()]
    );
    assert!(
        store
            .list_bookings(Some(BookingStatus::Accepted))
            .await
            .expect("list")
            .is_empty()
    );

    // The slot is reserved.
    assert_eq!(slot_status(store, s.id).await, SlotStatus::Booked);

    // The request is in the history.
    let events = store.booking_events(b.id).await.expect("events");
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].actor, "requester");
    assert_eq!(events[0].action, "request");
    assert_eq!(events[0].from_status, None);
    assert_eq!(events[0].to_status, "pending");
    assert_eq!(events[0].created_at, t0);

    // The tokens work for this booking, at version 0.
    for (action, hash) in &req.tokens {
        let t = store
            .find_token(hash)
            .await
            .expect("find token")
            .expect("token stored");
        assert_eq!(t.booking_id, b.id);
        assert_eq!(t.action, *action);
        assert_eq!(t.booking_version, 0);
        assert_eq!(t.expires_at, t0 + hours(14 * 24));
        assert_eq!(t.used_at, None);
    }
    assert_eq!(store.find_token(&token_hash()).await.expect("find"), None);

    // The emails are queued, due at once.
    let emails = store.booking_emails(b.id).await.expect("emails");
    assert_eq!(emails.len(), 2);
    for (sent, queued) in new.emails.iter().zip(&emails) {
        assert_eq!(queued.booking_id, Some(b.id));
        assert_eq!(queued.kind, sent.kind);
        assert_eq!(queued.recipient, sent.recipient);
        assert_eq!(queued.subject, sent.subject);
        assert_eq!(queued.message_id, sent.message_id);
        assert_eq!(queued.message, sent.message);
        assert_eq!(queued.status, EmailStatus::Queued);
        assert_eq!(queued.attempts, 0);
        assert!(queued.next_attempt_at <= t0);
        assert_eq!(queued.last_error, None);
        assert_eq!(queued.sent_at, None);
    }
    assert_eq!(store.next_email_due(t0).await.expect("due"), Some(t0));
}

/// Work that counts how often it ran, for [`NewBooking::after_commit`].
fn counting(ran: &Arc<std::sync::atomic::AtomicUsize>) -> AfterCommit {
    let ran = Arc::clone(ran);
    AfterCommit::new(move || {
        ran.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    })
}

/// What a visitor typed reaches the database as it was typed, whatever it holds (PostgreSQL
/// writes a booking's values into the text of its query; see `postgres::one_trip`), and an
/// email's bytes come back as they went in.
pub async fn booking_keeps_every_character_and_byte_it_was_sent_with(store: Arc<dyn Store>) {
    let store = &*store;
    let t0 = now();
    let s = slot_at(store, future(t0), 60).await;
    let mut req = request(&s, "quote", t0);
    let tricky = r#"O'Brien \' ''; DROP TABLE guidance_bookings; -- $1 E'\x41' "Zoë" 🌱 %s \n"#;
    req.new.intake = Intake::parse(&RawIntake {
        name: tricky.to_owned(),
        email: "o'brien+x@example.test".to_owned(),
        topic: format!("{tricky}\nsecond line\ttab"),
        priority: "high".to_owned(),
        answers: serde_json::json!({ "company": tricky, "tools": ["\\", "'", "\u{2028}"] }),
        locale: "de".to_owned(),
        time_zone: "Europe/Berlin".to_owned(),
    })
    .expect("a valid intake");
    let bytes: Vec<u8> = (0..=255u8).chain(*b"'\\").collect();
    req.new.emails[0].message = bytes.clone();
    let new = req.new.clone();
    let b = store
        .create_booking(new.clone())
        .await
        .expect("create booking");
    for stored in [b.clone(), store.get_booking(b.id).await.expect("get")] {
        assert_eq!(stored.name, new.intake.name.as_str());
        assert_eq!(stored.email, new.intake.email.as_str());
        assert_eq!(stored.topic, new.intake.topic.as_str());
        assert_eq!(stored.parsed_answers(), new.intake.answers);
    }
    let mut messages = Vec::new();
    while let Some(m) = store.claim_email(t0, t0 + mins(5)).await.expect("claim") {
        messages.push((m.id, m.message));
    }
    assert!(
        messages.contains(&(new.emails[0].id, bytes)),
        "the email's bytes come back as stored"
    );
}

pub async fn after_commit_runs_once_committed_and_not_for_a_refused_change(store: Arc<dyn Store>) {
    let store = &*store;
    let t0 = now();
    let s = slot_at(store, future(t0), 60).await;
    let ran = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let runs = || ran.load(std::sync::atomic::Ordering::SeqCst);

    // A clone runs nothing, and neither does the original, dropped unused: the work is the
    // original's, for its own commit.
    let other_slot = slot_at(store, future(t0) + hours(2), 60).await;
    let mut other = request(&other_slot, "cid", t0);
    other.new.after_commit = counting(&ran);
    store
        .create_booking(other.new.clone())
        .await
        .expect("booked");
    drop(other);
    assert_eq!(runs(), 0);

    let mut first = request(&s, "ann", t0);
    first.new.after_commit = counting(&ran);
    let b = store.create_booking(first.new).await.expect("booked");
    assert_eq!(runs(), 1);

    // Refused (the slot is taken): nothing committed, nothing run.
    let mut second = request(&s, "bob", t0 + mins(1));
    second.new.after_commit = counting(&ran);
    assert_err!(
        store.create_booking(second.new).await,
        StoreError::SlotTaken
    );
    assert_eq!(runs(), 1);

    // A transition likewise: run once it has committed, and not when it lost to another.
    let mut accept = transition(&b, BookingAction::Accept, None, None, t0 + mins(2));
    accept.after_commit = counting(&ran);
    let stale = transition(&b, BookingAction::Decline, None, None, t0 + mins(3));
    store.transition(accept).await.expect("accepted");
    assert_eq!(runs(), 2);
    let mut stale = stale;
    stale.after_commit = counting(&ran);
    assert_err!(store.transition(stale).await, StoreError::Conflict);
    assert_eq!(runs(), 2);
}

pub async fn booking_second_request_for_slot_writes_nothing(store: Arc<dyn Store>) {
    let store = &*store;
    let t0 = now();
    let s = slot_at(store, future(t0), 60).await;
    let first = book(store, &s, "ann", t0).await;

    let second = request(&s, "bob", t0 + mins(1));
    assert_err!(
        store.create_booking(second.new.clone()).await,
        StoreError::SlotTaken
    );

    assert_eq!(
        store.list_bookings(None).await.expect("list"),
        vec![first.booking.clone()]
    );
    assert_err!(store.get_booking(second.new.id).await, StoreError::NotFound);
    assert!(
        store
            .booking_events(second.new.id)
            .await
            .expect("events")
            .is_empty()
    );
    assert!(
        store
            .booking_emails(second.new.id)
            .await
            .expect("emails")
            .is_empty()
    );
    for (_, hash) in &second.tokens {
        assert_eq!(store.find_token(hash).await.expect("find"), None);
    }
    // Only the first booking's two emails exist anywhere.
    assert_eq!(claim_all(store, t0 + hours(1)).await.len(), 2);
    assert_eq!(
        store
            .booking_emails(first.booking.id)
            .await
            .expect("emails")
            .len(),
        2
    );
    assert_eq!(slot_status(store, s.id).await, SlotStatus::Booked);
}

pub async fn booking_unknown_slot_is_not_found(store: Arc<dyn Store>) {
    let store = &*store;
    let t0 = now();
    let req = request_for(Uuid::new_v4(), window(future(t0), 60), "ann", t0);
    assert_err!(
        store.create_booking(req.new.clone()).await,
        StoreError::NotFound
    );
    assert!(store.list_bookings(None).await.expect("list").is_empty());
    assert_eq!(store.next_email_due(t0).await.expect("due"), None);
    assert_eq!(
        store
            .find_token(&req.token(BookingAction::Accept))
            .await
            .expect("find"),
        None
    );
}

pub async fn booking_refused_when_window_changed(store: Arc<dyn Store>) {
    let store = &*store;
    let t0 = now();
    let s = slot_at(store, future(t0), 60).await;
    for (what, w) in [
        ("longer", window(s.starts_at, 90)),
        ("shorter", window(s.starts_at, 30)),
        ("moved", window(s.starts_at + mins(15), 60)),
    ] {
        let r = store
            .create_booking(request_for(s.id, w, "ann", t0).new)
            .await;
        assert!(
            matches!(r, Err(StoreError::SlotTaken)),
            "a {what} window must be refused with SlotTaken, got {r:?}"
        );
    }
    assert_eq!(slot_status(store, s.id).await, SlotStatus::Open);
    assert!(store.list_bookings(None).await.expect("list").is_empty());
    // The window as stored still works.
    book(store, &s, "ann", t0).await;
}

pub async fn booking_refused_when_slot_started(store: Arc<dyn Store>) {
    let store = &*store;
    let t0 = now();
    let s = slot_at(store, t0 + hours(1), 60).await;
    // Booked two hours later: the session started an hour ago.
    assert_err!(
        store
            .create_booking(request(&s, "ann", t0 + hours(2)).new)
            .await,
        StoreError::SlotTaken
    );
    // Nor at the very moment it starts.
    assert_err!(
        store
            .create_booking(request(&s, "ann", s.starts_at).new)
            .await,
        StoreError::SlotTaken
    );
    assert_eq!(slot_status(store, s.id).await, SlotStatus::Open);
    assert!(store.list_bookings(None).await.expect("list").is_empty());
    assert_eq!(store.next_email_due(t0).await.expect("due"), None);
}

// ---------------------------------------------------------------------------------------------
// 3. Concurrency
// ---------------------------------------------------------------------------------------------

pub async fn booking_race_has_one_winner(store: Arc<dyn Store>) {
    let t0 = now();
    let s = slot_at(&*store, future(t0), 60).await;
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let store = Arc::clone(&store);
            let new = request(&s, &format!("visitor{i}"), t0).new;
            tokio::spawn(async move { store.create_booking(new).await })
        })
        .collect();
    let mut won = Vec::new();
    let mut taken = 0;
    for task in tasks {
        match task.await.expect("task") {
            Ok(b) => won.push(b),
            Err(StoreError::SlotTaken) => taken += 1,
            Err(e) => panic!("a racing booking must win or get SlotTaken, got {e:?}"),
        }
    }
    assert_eq!(won.len(), 1, "exactly one booking wins");
    assert_eq!(taken, 49);
    assert_eq!(store.list_bookings(None).await.expect("list"), won);
    assert_eq!(slot_status(&*store, s.id).await, SlotStatus::Booked);
    assert_eq!(claim_all(&*store, t0 + hours(1)).await.len(), 2);
}

// ---------------------------------------------------------------------------------------------
// 3a. Pending requests per address
// ---------------------------------------------------------------------------------------------

/// A request from `who`, typed as `email`, limited to `limit` requests awaiting the owner.
fn limited_request(slot: &Slot, who: &str, email: &str, limit: u32, now: Timestamp) -> Request {
    let mut r = request(slot, who, now);
    r.new.intake = Intake::parse(&RawIntake {
        name: format!("Visitor {who}"),
        email: email.to_owned(),
        topic: format!("Help {who} with the migration"),
        priority: "normal".to_owned(),
        answers: serde_json::json!({}),
        locale: "en".to_owned(),
        time_zone: "Europe/Berlin".to_owned(),
    })
    .expect("a valid intake");
    r.new.pending_limit = Some(limit);
    r
}

pub async fn pending_limit_counts_requests_awaiting_the_owner(store: Arc<dyn Store>) {
    let store = &*store;
    let t0 = now();
    let mut slots = Vec::new();
    for i in 0..6 {
        slots.push(slot_at(store, future(t0) + hours(i), 60).await);
    }
    let first = store
        .create_booking(limited_request(&slots[0], "ann", "ann@example.test", 2, t0).new)
        .await
        .expect("first request");
    let second = store
        .create_booking(limited_request(&slots[1], "ann", "Ann@Example.test", 2, t0).new)
        .await
        .expect("second request");

    // A third from the same address, written differently, is refused and leaves no trace.
    let third = limited_request(&slots[2], "ann", "ANN@example.TEST", 2, t0);
    assert_err!(
        store.create_booking(third.new.clone()).await,
        StoreError::TooManyPending
    );
    assert_err!(store.get_booking(third.new.id).await, StoreError::NotFound);
    assert!(
        store
            .booking_emails(third.new.id)
            .await
            .expect("emails")
            .is_empty()
    );
    assert_eq!(slot_status(store, slots[2].id).await, SlotStatus::Open);
    assert_eq!(store.list_bookings(None).await.expect("list").len(), 2);

    // Another address is not held back; without a limit, neither is this one.
    store
        .create_booking(limited_request(&slots[2], "bob", "bob@example.test", 2, t0).new)
        .await
        .expect("another address");
    let mut unlimited = limited_request(&slots[3], "ann", "ann@example.test", 2, t0);
    unlimited.new.pending_limit = None;
    let unlimited = store.create_booking(unlimited.new).await.expect("no limit");
    store
        .transition(transition(
            &unlimited,
            BookingAction::Cancel,
            None,
            None,
            t0,
        ))
        .await
        .expect("cancel");

    // Once the owner has answered one (declined here, accepted there), the address may ask again.
    store
        .transition(transition(&first, BookingAction::Decline, None, None, t0))
        .await
        .expect("decline");
    let again = store
        .create_booking(limited_request(&slots[4], "ann", "ann@example.test", 2, t0).new)
        .await
        .expect("a request after a decline");
    assert_err!(
        store
            .create_booking(limited_request(&slots[5], "ann", "ann@example.test", 2, t0).new)
            .await,
        StoreError::TooManyPending
    );
    store
        .transition(transition(&second, BookingAction::Accept, None, None, t0))
        .await
        .expect("accept");
    store
        .create_booking(limited_request(&slots[5], "ann", "ann@example.test", 2, t0).new)
        .await
        .expect("a request after an acceptance");
    assert_eq!(again.status, BookingStatus::Pending);
}

pub async fn pending_limit_holds_for_a_concurrent_burst(store: Arc<dyn Store>) {
    let t0 = now();
    let mut slots = Vec::new();
    for i in 0..20 {
        slots.push(slot_at(&*store, future(t0) + hours(i), 60).await);
    }
    let tasks: Vec<_> = slots
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let store = Arc::clone(&store);
            // The same address, written in two ways.
            let email = if i % 2 == 0 {
                "burst@example.test"
            } else {
                "Burst@Example.test"
            };
            let new = limited_request(s, &format!("burst{i}"), email, 3, t0).new;
            tokio::spawn(async move { store.create_booking(new).await })
        })
        .collect();
    let (mut won, mut refused) = (0, 0);
    for task in tasks {
        match task.await.expect("task") {
            Ok(_) => won += 1,
            Err(StoreError::TooManyPending) => refused += 1,
            Err(e) => panic!("a request must be booked or refused as too many, got {e:?}"),
        }
    }
    assert_eq!((won, refused), (3, 17));
    assert_eq!(store.list_bookings(None).await.expect("list").len(), 3);
    let mut open = 0;
    for s in &slots {
        if slot_status(&*store, s.id).await == SlotStatus::Open {
            open += 1;
        }
    }
    assert_eq!(open, 17, "refused requests hold no slot");
    assert_eq!(claim_all(&*store, t0 + hours(1)).await.len(), 6);
}

// ---------------------------------------------------------------------------------------------
// 3b. Requests waiting for the visitor's email confirmation
// ---------------------------------------------------------------------------------------------

/// A request that waits for the visitor's confirmation: one `confirm` link, valid for `hold`,
/// and one email (to the visitor).
fn unconfirmed_request(slot: &Slot, who: &str, now: Timestamp, hold: SignedDuration) -> Request {
    let mut r = request(slot, who, now);
    let hash = token_hash();
    r.new.status = BookingStatus::Unconfirmed;
    r.new.tokens = vec![NewToken {
        action: BookingAction::Confirm,
        hash: hash.clone(),
        expires_at: now + hold,
    }];
    r.new.emails = vec![email("requester_confirm", r.new.intake.email.as_str())];
    r.tokens = vec![(BookingAction::Confirm, hash)];
    r
}

pub async fn unconfirmed_request_holds_its_slot_until_confirmed(store: Arc<dyn Store>) {
    let store = &*store;
    let t0 = now();
    let s = slot_at(store, future(t0), 60).await;
    let other = slot_at(store, future(t0) + hours(2), 60).await;
    let req = unconfirmed_request(&s, "ann", t0, mins(30));
    let b = store
        .create_booking(req.new.clone())
        .await
        .expect("an unconfirmed request");
    assert_eq!(b.status, BookingStatus::Unconfirmed);
    assert_eq!(
        store
            .list_bookings(Some(BookingStatus::Unconfirmed))
            .await
            .expect("list"),
        vec![b.clone()]
    );
    let events = store.booking_events(b.id).await.expect("events");
    assert_eq!(events[0].to_status, "unconfirmed");

    // It holds the slot: nobody else can take it, and it is not offered.
    assert_eq!(slot_status(store, s.id).await, SlotStatus::Booked);
    let open = store
        .list_slots(t0, future(t0) + hours(24), Some(SlotStatus::Open))
        .await
        .expect("open slots");
    assert_eq!(open.iter().map(|x| x.id).collect::<Vec<_>>(), [other.id]);
    assert_err!(
        store
            .create_booking(request(&s, "bob", t0 + mins(1)).new)
            .await,
        StoreError::SlotTaken
    );
    // It counts as awaiting the owner for its address.
    assert_err!(
        store
            .create_booking(limited_request(&other, "ann", "ann@example.test", 1, t0).new)
            .await,
        StoreError::TooManyPending
    );
    // Not overdue while its link is valid.
    assert!(
        store
            .list_overdue(t0 + mins(29), t0 - hours(24))
            .await
            .expect("overdue")
            .is_empty()
    );

    // The visitor confirms: pending, in one step with its audit event, the link spent.
    let mut confirm = transition(
        &b,
        BookingAction::Confirm,
        Some(req.token(BookingAction::Confirm)),
        Some((BookingAction::Accept, token_hash())),
        t0 + mins(5),
    );
    confirm.actor = Actor::Requester;
    let confirmed = store.transition(confirm.clone()).await.expect("confirm");
    assert_eq!(confirmed.status, BookingStatus::Pending);
    assert_eq!(slot_status(store, s.id).await, SlotStatus::Booked);
    let events = store.booking_events(b.id).await.expect("events");
    let last = events.last().expect("an event");
    assert_eq!(
        (
            last.actor.as_str(),
            last.action.as_str(),
            last.from_status.as_deref(),
            last.to_status.as_str()
        ),
        ("requester", "confirm", Some("unconfirmed"), "pending")
    );
    let used = store
        .find_token(&req.token(BookingAction::Confirm))
        .await
        .expect("find")
        .expect("token");
    assert!(used.used_at.is_some());
    // The same link again changes nothing.
    let mut again = confirm;
    again.expected_version = confirmed.version;
    again.from = BookingStatus::Pending;
    assert_err!(store.transition(again).await, StoreError::TokenUsed);
    assert_eq!(store.get_booking(b.id).await.expect("get"), confirmed);
    // Once confirmed, the end of the link's validity means nothing any more.
    assert!(
        store
            .list_overdue(t0 + mins(31), t0 - hours(24))
            .await
            .expect("overdue")
            .is_empty()
    );
}

pub async fn unconfirmed_request_expires_with_its_link_and_frees_the_slot(store: Arc<dyn Store>) {
    let store = &*store;
    let t0 = now();
    let s = slot_at(store, future(t0), 60).await;
    let b = store
        .create_booking(unconfirmed_request(&s, "ann", t0, mins(30)).new)
        .await
        .expect("an unconfirmed request");
    let overdue = store
        .list_overdue(t0 + mins(30), t0 - hours(24))
        .await
        .expect("overdue");
    assert_eq!(overdue, vec![b.clone()]);

    let mut expire = transition(&b, BookingAction::Expire, None, None, t0 + mins(30));
    expire.actor = Actor::System;
    expire.emails.clear();
    let expired = store.transition(expire).await.expect("expire");
    assert_eq!(expired.status, BookingStatus::Expired);
    assert_eq!(slot_status(store, s.id).await, SlotStatus::Open);
    // The time can be booked again.
    book(store, &s, "bob", t0 + mins(31)).await;

    // A hold also ends when its session starts, whatever its link says.
    let soon = slot_at(store, t0 + hours(1), 30).await;
    let held = store
        .create_booking(unconfirmed_request(&soon, "cy", t0, hours(24)).new)
        .await
        .expect("an unconfirmed request");
    let overdue = store
        .list_overdue(t0 + hours(1), t0 - hours(24))
        .await
        .expect("overdue");
    assert_eq!(overdue.iter().map(|x| x.id).collect::<Vec<_>>(), [held.id]);
}
