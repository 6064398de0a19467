//! The contract every [`Store`] implementation keeps.
//!
//! Each `pub async fn` here is one test body, written against `dyn Store` only, so that every
//! database runs the very same checks: `tests/sqlite.rs` runs them on a fresh SQLite file, and a
//! PostgreSQL runner can do the same on a fresh schema. Every body expects an empty store.

use std::sync::Arc;

use guidance_core::intake::RawIntake;
use guidance_core::{
    ActionToken, BookingAction, BookingStatus, Intake, Priority, SlotStatus, SlotWindow, TokenHash,
    TokenSecret,
};
use guidance_store::{
    Actor, Booking, EmailStatus, NewBooking, NewEmail, NewToken, Slot, SlotChange, Store,
    StoreError, Transition,
};
use jiff::{SignedDuration, Timestamp};
use uuid::Uuid;

const OWNER: &str = "owner@guidance.test";

/// Calls `$runner! { name, … }` with every contract test, so that each backend's runner runs
/// them all and a new test is listed once, here.
#[allow(
    unused_macros,
    reason = "tests/copy.rs uses only the fixture of this module"
)]
macro_rules! all_contract_tests {
    ($runner:ident) => {
        $runner! {
            // 1. Slots
            slot_create_get_list,
            slot_list_filters_by_range_and_status,
            slot_overlap_refused_adjacent_allowed,
            slot_unavailable_does_not_block_but_cannot_reopen_over_another,
            slot_booked_cannot_be_changed_or_deleted,
            slot_delete_unbooked,
            // 2. Booking creation
            booking_reserves_slot_and_records_everything,
            booking_second_request_for_slot_writes_nothing,
            booking_unknown_slot_is_not_found,
            booking_refused_when_window_changed,
            booking_refused_when_slot_started,
            // 3. Concurrency
            booking_race_has_one_winner,
            // 3a. Pending requests per address
            pending_limit_counts_requests_awaiting_the_owner,
            pending_limit_holds_for_a_concurrent_burst,
            // 3b. Requests waiting for the visitor's email confirmation
            unconfirmed_request_holds_its_slot_until_confirmed,
            unconfirmed_request_expires_with_its_link_and_frees_the_slot,
            // 4. Transitions
            accept_consumes_token_and_records,
            replayed_token_changes_nothing,
            token_cannot_be_spent_on_another_booking,
            stale_version_conflicts_and_rolls_back,
            decline_frees_slot_for_others,
            cancel_of_accepted_frees_slot,
            reschedule_frees_slot_and_pick_slot_moves_booking,
            pick_slot_of_taken_slot_changes_nothing,
            failed_pick_slot_keeps_token,
            // 5. Overdue bookings
            list_overdue_finds_only_overtaken_bookings,
            // 5a. The order of the lists of bookings
            list_bookings_breaks_ties_by_request_time_then_id,
            list_overdue_breaks_ties_by_request_time_then_id,
            // 6. Outbox
            outbox_claims_oldest_first_and_leases,
            outbox_concurrent_claims_hand_each_email_out_once,
            outbox_retry_waits_until_due,
            outbox_failed_email_stays_out,
            outbox_sent_email_is_done,
            outbox_release_makes_email_claimable_at_once,
            outbox_requeue_sends_the_same_email_again,
            outbox_next_email_due_reports_earliest,
            // 7. Supplemental questions
            questions_replace_and_list_in_order,
            // 8. Owner (admin UI)
            slot_update_changes_window_unless_booked_or_overlapping,
            requeued_email_keeps_its_bytes_and_message_id,
            admin_password_setup_link_and_sessions,
            settings_are_stored_and_replaced,
        }
    };
}

/// Asserts that a store call failed with one particular [`StoreError`].
macro_rules! assert_err {
    ($result:expr, $pattern:pat) => {
        match $result {
            Err($pattern) => {}
            other => panic!(
                "expected Err({}), got {:?}",
                stringify!($pattern),
                other.map(|_| "Ok(..)")
            ),
        }
    };
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// Now, in whole seconds (what the store keeps).
fn now() -> Timestamp {
    Timestamp::from_second(Timestamp::now().as_second()).expect("in range")
}

fn mins(n: i64) -> SignedDuration {
    SignedDuration::from_mins(n)
}

fn hours(n: i64) -> SignedDuration {
    SignedDuration::from_hours(n)
}

/// Three days from `t0`: far enough ahead that every slot is bookable, well within 1970–2037.
fn future(t0: Timestamp) -> Timestamp {
    t0 + hours(72)
}

fn window(starts_at: Timestamp, minutes: i64) -> SlotWindow {
    SlotWindow::parse(starts_at, starts_at + mins(minutes)).expect("a valid window")
}

/// An open slot of `minutes` starting at `starts_at`.
async fn slot_at(store: &dyn Store, starts_at: Timestamp, minutes: i64) -> Slot {
    store
        .create_slot(window(starts_at, minutes), None, now())
        .await
        .expect("create slot")
}

fn slot_window(slot: &Slot) -> SlotWindow {
    SlotWindow::parse(slot.starts_at, slot.ends_at).expect("stored window is valid")
}

/// A valid intake from `who`.
fn intake(who: &str) -> Intake {
    Intake::parse(&RawIntake {
        name: format!("Visitor {who}"),
        email: format!("{who}@example.test"),
        topic: format!("Help {who} with the migration"),
        priority: "high".to_owned(),
        answers: serde_json::json!({ "company": "Acme", "tools": ["rust", "sqlite"] }),
        locale: "de".to_owned(),
        time_zone: "Europe/Berlin".to_owned(),
    })
    .expect("a valid intake")
}

fn token_hash() -> TokenHash {
    ActionToken::generate(&TokenSecret::generate()).hash()
}

/// A queued email with a unique Message-ID.
fn email(kind: &str, recipient: &str) -> NewEmail {
    let id = Uuid::new_v4();
    NewEmail {
        kind: kind.to_owned(),
        recipient: recipient.to_owned(),
        subject: format!("{kind} {id}"),
        message_id: format!("<{id}@guidance.test>"),
        message: format!("Message-ID: <{id}@guidance.test>\r\nSubject: {kind}\r\n\r\nHello\r\n")
            .into_bytes(),
    }
}

/// A request for `slot` from `who` at `now`, with owner tokens and the two usual emails.
struct Request {
    new: NewBooking,
    tokens: Vec<(BookingAction, TokenHash)>,
}

impl Request {
    fn token(&self, action: BookingAction) -> TokenHash {
        self.tokens
            .iter()
            .find(|(a, _)| *a == action)
            .map(|(_, h)| h.clone())
            .expect("a token for this action")
    }
}

fn request(slot: &Slot, who: &str, now: Timestamp) -> Request {
    request_for(slot.id, slot_window(slot), who, now)
}

fn request_for(slot_id: Uuid, window: SlotWindow, who: &str, now: Timestamp) -> Request {
    let id = Uuid::new_v4();
    let tokens: Vec<(BookingAction, TokenHash)> = [
        BookingAction::Accept,
        BookingAction::Decline,
        BookingAction::Reschedule,
    ]
    .into_iter()
    .map(|a| (a, token_hash()))
    .collect();
    let intake = intake(who);
    let emails = vec![
        email("owner_new_request", OWNER),
        email("requester_received", intake.email.as_str()),
    ];
    Request {
        new: NewBooking {
            id,
            slot_id,
            window,
            intake,
            status: BookingStatus::Pending,
            ics_uid: format!("{id}@guidance.test"),
            tokens: tokens
                .iter()
                .map(|(action, hash)| NewToken {
                    action: *action,
                    hash: hash.clone(),
                    expires_at: now + hours(14 * 24),
                })
                .collect(),
            emails,
            pending_limit: None,
            now,
        },
        tokens,
    }
}

/// A booking that was made, with the tokens issued with it.
struct Booked {
    booking: Booking,
    request: Request,
}

/// Books `slot` for `who` at `now`; panics when the store refuses.
async fn book(store: &dyn Store, slot: &Slot, who: &str, now: Timestamp) -> Booked {
    let request = request(slot, who, now);
    let booking = store
        .create_booking(request.new.clone())
        .await
        .expect("create booking");
    Booked { booking, request }
}

/// The owner's transition of `b` by `action` at `now`, with one email to the requester and one
/// new token (for `follow_up`) when given.
fn transition(
    b: &Booking,
    action: BookingAction,
    consume_token: Option<TokenHash>,
    follow_up: Option<(BookingAction, TokenHash)>,
    now: Timestamp,
) -> Transition {
    let to = action.apply(b.status).expect("a legal transition");
    Transition {
        booking_id: b.id,
        expected_version: b.version,
        from: b.status,
        action,
        to,
        actor: Actor::Owner,
        note: Some(format!("{action} by the owner")),
        consume_token,
        new_slot: None,
        ics_sequence: b.ics_sequence + 1,
        tokens: follow_up
            .into_iter()
            .map(|(action, hash)| NewToken {
                action,
                hash,
                expires_at: now + hours(24),
            })
            .collect(),
        emails: vec![email(&format!("requester_{action}"), &b.email)],
        now,
    }
}

/// The visitor picks `slot` for a booking that needs a new time.
fn pick_slot(
    b: &Booking,
    slot: &Slot,
    consume_token: Option<TokenHash>,
    now: Timestamp,
) -> Transition {
    let mut t = transition(b, BookingAction::PickSlot, consume_token, None, now);
    t.actor = Actor::Requester;
    t.new_slot = Some(SlotChange {
        slot_id: slot.id,
        window: slot_window(slot),
    });
    t.emails = vec![email("owner_new_request", OWNER)];
    t
}

async fn slot_status(store: &dyn Store, id: Uuid) -> SlotStatus {
    store.get_slot(id).await.expect("get slot").status
}

/// What a user could observe about a booking: the booking, its history, its emails.
async fn snapshot(store: &dyn Store, id: Uuid) -> (Booking, Vec<String>, Vec<Uuid>) {
    let booking = store.get_booking(id).await.expect("get booking");
    let events = store
        .booking_events(id)
        .await
        .expect("events")
        .into_iter()
        .map(|e| format!("{}:{:?}->{}", e.action, e.from_status, e.to_status))
        .collect();
    let emails = store
        .booking_emails(id)
        .await
        .expect("emails")
        .into_iter()
        .map(|m| m.id)
        .collect();
    (booking, events, emails)
}

/// Claims every email due at `at` (leasing each for five minutes) and returns their ids.
async fn claim_all(store: &dyn Store, at: Timestamp) -> Vec<Uuid> {
    let mut ids = Vec::new();
    while let Some(m) = store.claim_email(at, at + mins(5)).await.expect("claim") {
        assert!(!ids.contains(&m.id), "email {} claimed twice", m.id);
        ids.push(m.id);
        assert!(ids.len() <= 100, "claim_email keeps returning emails");
    }
    ids
}

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
    assert_eq!(store.next_email_due().await.expect("due"), Some(t0));
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
    assert_eq!(store.next_email_due().await.expect("due"), None);
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
    assert_eq!(store.next_email_due().await.expect("due"), None);
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
        store.next_email_due().await.expect("due"),
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
    assert_eq!(store.next_email_due().await.expect("due"), None);
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
    assert_eq!(store.next_email_due().await.expect("due"), None);
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
    assert_eq!(store.next_email_due().await.expect("due"), None);
    let b = book(
        store,
        &slot_at(store, future(t0), 60).await,
        "ann",
        t0 - mins(20),
    )
    .await;
    assert_eq!(
        store.next_email_due().await.expect("due"),
        Some(t0 - mins(20))
    );

    let claimed = claim_all(store, t0).await;
    assert_eq!(claimed.len(), 2);
    store
        .mark_email_retry(claimed[0], "timeout", t0 + mins(30))
        .await
        .expect("retry");
    store
        .mark_email_retry(claimed[1], "timeout", t0 + mins(10))
        .await
        .expect("retry");
    assert_eq!(
        store.next_email_due().await.expect("due"),
        Some(t0 + mins(10))
    );

    store.mark_email_sent(claimed[1], t0).await.expect("sent");
    assert_eq!(
        store.next_email_due().await.expect("due"),
        Some(t0 + mins(30))
    );

    store
        .mark_email_failed(claimed[0], "gave up")
        .await
        .expect("failed");
    assert_eq!(store.next_email_due().await.expect("due"), None);
    assert_eq!(
        store
            .booking_emails(b.booking.id)
            .await
            .expect("emails")
            .len(),
        2
    );
}

// ---------------------------------------------------------------------------------------------
// A populated site, for tests that move data between stores (tests/copy.rs)
// ---------------------------------------------------------------------------------------------

/// Fills an empty store the way a site in use looks: slots of every status, bookings in several
/// states with used and unused tokens, their audit trails, and emails queued, leased, retried,
/// sent and failed. Returns the hashes of every token issued.
#[allow(
    dead_code,
    reason = "used by tests/copy.rs only; the contract runners share this module"
)]
pub async fn populate_a_site(store: &dyn Store) -> Vec<TokenHash> {
    let t0 = now();
    let mut hashes = Vec::new();
    store
        .create_slot(
            window(future(t0), 60),
            Some("Room 1, https://meet.example/abc".into()),
            t0,
        )
        .await
        .expect("slot");
    let withdrawn = slot_at(store, future(t0) + hours(2), 45).await;
    store
        .set_slot_available(withdrawn.id, false, t0)
        .await
        .expect("withdraw");
    let _past = slot_at(store, t0 - hours(30), 30).await;

    // Pending, untouched.
    let pending = book(
        store,
        &slot_at(store, future(t0) + hours(4), 60).await,
        "pia",
        t0,
    )
    .await;
    hashes.extend(pending.request.tokens.iter().map(|(_, h)| h.clone()));
    // Accepted through its token (used), with a follow-up token.
    let accepted = book(
        store,
        &slot_at(store, future(t0) + hours(6), 60).await,
        "abe",
        t0,
    )
    .await;
    hashes.extend(accepted.request.tokens.iter().map(|(_, h)| h.clone()));
    let cancel = token_hash();
    hashes.push(cancel.clone());
    store
        .transition(transition(
            &accepted.booking,
            BookingAction::Accept,
            Some(accepted.request.token(BookingAction::Accept)),
            Some((BookingAction::Cancel, cancel)),
            t0 + mins(1),
        ))
        .await
        .expect("accept");
    // Declined: its slot is open again.
    let declined = book(
        store,
        &slot_at(store, future(t0) + hours(8), 60).await,
        "dee",
        t0,
    )
    .await;
    hashes.extend(declined.request.tokens.iter().map(|(_, h)| h.clone()));
    store
        .transition(transition(
            &declined.booking,
            BookingAction::Decline,
            Some(declined.request.token(BookingAction::Decline)),
            None,
            t0 + mins(2),
        ))
        .await
        .expect("decline");
    // Waiting for a new time.
    let moving = book(
        store,
        &slot_at(store, future(t0) + hours(10), 60).await,
        "max",
        t0,
    )
    .await;
    hashes.extend(moving.request.tokens.iter().map(|(_, h)| h.clone()));
    let pick = token_hash();
    hashes.push(pick.clone());
    store
        .transition(transition(
            &moving.booking,
            BookingAction::Reschedule,
            None,
            Some((BookingAction::PickSlot, pick)),
            t0 + mins(3),
        ))
        .await
        .expect("reschedule");

    // The outbox in every state: one sent, one failed, one waiting to retry, one leased by a
    // worker that is still sending (or died), the rest queued.
    let claimed = [
        store.claim_email(t0 + mins(5), t0 + mins(10)).await,
        store.claim_email(t0 + mins(5), t0 + mins(10)).await,
        store.claim_email(t0 + mins(5), t0 + mins(10)).await,
        store.claim_email(t0 + mins(5), t0 + mins(10)).await,
    ]
    .map(|c| c.expect("claim").expect("an email is due").id);
    store
        .mark_email_sent(claimed[0], t0 + mins(5))
        .await
        .expect("sent");
    store
        .mark_email_failed(claimed[1], "550 no such user")
        .await
        .expect("failed");
    store
        .mark_email_retry(claimed[2], "421 try later", t0 + hours(1))
        .await
        .expect("retry");

    // The owner's supplemental questions, one of each kind.
    let questions = guidance_core::Question::parse_list(&serde_json::json!([
        {"key": "size", "label": "Team size", "kind": "choice", "required": true, "options": ["1", "2-10", "more"]},
        {"key": "company", "label": "Company", "kind": "short_text"},
        {"key": "context", "label": "Context", "kind": "long_text"},
        {"key": "consent", "label": "I agree", "kind": "checkbox", "required": true}
    ]))
    .expect("questions");
    store
        .replace_questions(&questions, t0)
        .await
        .expect("questions");

    // The owner: a password, a signed-in session, an open setup link and stored settings.
    store
        .set_admin_password_hash("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA", t0)
        .await
        .expect("password");
    store
        .create_admin_session(guidance_store::NewAdminSession {
            id_hash: TokenHash::from_stored("5e".repeat(32)),
            now: t0,
            idle_expires_at: t0 + hours(8),
            expires_at: t0 + hours(24 * 7),
        })
        .await
        .expect("session");
    store
        .create_admin_setup_token(&TokenHash::from_stored("5f".repeat(32)), t0 + hours(24), t0)
        .await
        .expect("setup link");
    store
        .save_settings(
            &std::collections::BTreeMap::from([
                ("owner_name".to_owned(), "Olga «O» Owner".to_owned()),
                ("time_zone".to_owned(), "Europe/Berlin".to_owned()),
            ]),
            t0,
        )
        .await
        .expect("settings");
    hashes
}

// ---------------------------------------------------------------------------------------------
// 7. Supplemental questions
// ---------------------------------------------------------------------------------------------

/// Questions come back in the order saved; saving again replaces the whole list.
pub async fn questions_replace_and_list_in_order(store: Arc<dyn Store>) {
    assert!(store.list_questions().await.unwrap().is_empty());
    let list = guidance_core::Question::parse_list(&serde_json::json!([
        {"key": "size", "label": "Team size", "kind": "choice", "required": true, "options": ["1", "2-10"]},
        {"key": "company", "label": "Company", "kind": "short_text"},
        {"key": "consent", "label": "I agree", "kind": "checkbox", "required": true}
    ]))
    .unwrap();
    store.replace_questions(&list, now()).await.unwrap();
    assert_eq!(store.list_questions().await.unwrap(), list);
    let shorter = vec![list[1].clone()];
    store.replace_questions(&shorter, now()).await.unwrap();
    assert_eq!(store.list_questions().await.unwrap(), shorter);
    store.replace_questions(&[], now()).await.unwrap();
    assert!(store.list_questions().await.unwrap().is_empty());
}

// ---------------------------------------------------------------------------------------------
// 8. Owner (admin UI): slot edits, resending emails, sign-in, settings
// ---------------------------------------------------------------------------------------------

pub async fn slot_update_changes_window_unless_booked_or_overlapping(store: Arc<dyn Store>) {
    let store = &*store;
    let t0 = now();
    let a = slot_at(store, future(t0), 60).await;
    let b = slot_at(store, future(t0) + hours(2), 60).await;
    let moved = store
        .update_slot(
            a.id,
            window(future(t0) + mins(30), 45),
            Some("Room 2".into()),
            t0,
        )
        .await
        .expect("moved");
    assert_eq!(moved.starts_at, future(t0) + mins(30));
    assert_eq!(moved.ends_at, future(t0) + mins(75));
    assert_eq!(moved.meeting_details.as_deref(), Some("Room 2"));
    assert_eq!(store.get_slot(a.id).await.expect("slot"), moved);
    assert_err!(
        store
            .update_slot(a.id, window(future(t0) + hours(2) + mins(30), 60), None, t0)
            .await,
        StoreError::SlotOverlap
    );
    assert_err!(
        store
            .update_slot(Uuid::new_v4(), window(future(t0), 60), None, t0)
            .await,
        StoreError::NotFound
    );
    book(store, &b, "ann", t0).await;
    assert_err!(
        store
            .update_slot(b.id, window(future(t0) + hours(5), 60), None, t0)
            .await,
        StoreError::SlotBooked
    );
    assert_eq!(
        store.get_slot(b.id).await.expect("slot").starts_at,
        b.starts_at
    );
    assert_eq!(store.get_slot(a.id).await.expect("slot"), moved);
}

pub async fn requeued_email_keeps_its_bytes_and_message_id(store: Arc<dyn Store>) {
    let store = &*store;
    let t0 = now();
    let b = book(store, &slot_at(store, future(t0), 60).await, "ann", t0).await;
    let claimed = claim_all(store, t0).await;
    let (failed, sent) = (claimed[0], claimed[1]);
    // While a worker holds it, it cannot be queued again.
    assert_err!(
        store.requeue_email(b.booking.id, failed, t0).await,
        StoreError::Conflict
    );
    store
        .mark_email_failed(failed, "disk full")
        .await
        .expect("failed");
    store.mark_email_sent(sent, t0).await.expect("sent");
    let email = |id: Uuid| async move {
        store
            .booking_emails(b.booking.id)
            .await
            .expect("emails")
            .into_iter()
            .find(|m| m.id == id)
            .expect("stored")
    };
    let before = email(failed).await;
    assert_eq!(
        store
            .emails_with_errors()
            .await
            .expect("errors")
            .iter()
            .map(|m| m.id)
            .collect::<Vec<_>>(),
        vec![failed]
    );

    let t1 = t0 + mins(5);
    let again = store
        .requeue_email(b.booking.id, failed, t1)
        .await
        .expect("requeued");
    assert_eq!(again.status, EmailStatus::Queued);
    assert_eq!(again.attempts, 0);
    assert_eq!(again.next_attempt_at, t1);
    assert_eq!(again.message, before.message);
    assert_eq!(again.message_id, before.message_id);
    assert_eq!(claim_all(store, t1).await, vec![failed]);
    store.mark_email_sent(failed, t1).await.expect("sent");
    assert!(store.emails_with_errors().await.expect("errors").is_empty());

    // A sent email can be sent again too: still one row, same Message-ID.
    let resent = store
        .requeue_email(b.booking.id, sent, t1)
        .await
        .expect("requeued");
    assert_eq!(resent.status, EmailStatus::Queued);
    assert_eq!(resent.sent_at, None);
    assert_eq!(
        store
            .booking_emails(b.booking.id)
            .await
            .expect("emails")
            .len(),
        2
    );
    assert_err!(
        store.requeue_email(b.booking.id, Uuid::new_v4(), t1).await,
        StoreError::NotFound
    );
    // An email of another booking is not found through this one.
    let other = book(
        store,
        &slot_at(store, future(t0) + hours(3), 60).await,
        "bob",
        t0,
    )
    .await;
    assert_err!(
        store.requeue_email(other.booking.id, failed, t1).await,
        StoreError::NotFound
    );
}

fn some_hash(n: u8) -> TokenHash {
    TokenHash::from_stored(format!("{n:02x}").repeat(32))
}

pub async fn admin_password_setup_link_and_sessions(store: Arc<dyn Store>) {
    let store = &*store;
    let t0 = now();
    assert_eq!(store.admin_password_hash().await.expect("read"), None);

    // A setup link works once, before it expires.
    let link = some_hash(1);
    store
        .create_admin_setup_token(&link, t0 + hours(1), t0)
        .await
        .expect("link");
    assert!(
        store
            .admin_setup_token_valid(&link, t0)
            .await
            .expect("valid")
    );
    assert!(
        !store
            .admin_setup_token_valid(&link, t0 + hours(2))
            .await
            .expect("valid")
    );
    assert_err!(
        store
            .use_admin_setup_token(&link, "$argon2id$late", t0 + hours(2))
            .await,
        StoreError::NotFound
    );
    assert_err!(
        store
            .use_admin_setup_token(&some_hash(9), "$argon2id$x", t0)
            .await,
        StoreError::NotFound
    );
    assert_eq!(store.admin_password_hash().await.expect("read"), None);
    store
        .use_admin_setup_token(&link, "$argon2id$first", t0)
        .await
        .expect("used");
    assert_eq!(
        store.admin_password_hash().await.expect("read").as_deref(),
        Some("$argon2id$first")
    );
    assert_err!(
        store
            .use_admin_setup_token(&link, "$argon2id$again", t0)
            .await,
        StoreError::TokenUsed
    );
    assert!(
        !store
            .admin_setup_token_valid(&link, t0)
            .await
            .expect("valid")
    );

    // Sessions: idle expiry moves with use but never past the absolute expiry.
    let s = some_hash(2);
    store
        .create_admin_session(guidance_store::NewAdminSession {
            id_hash: s.clone(),
            now: t0,
            idle_expires_at: t0 + hours(1),
            expires_at: t0 + hours(3),
        })
        .await
        .expect("session");
    assert!(
        store
            .touch_admin_session(&s, t0 + mins(50), t0 + mins(110))
            .await
            .expect("touch")
    );
    assert!(
        store
            .touch_admin_session(&s, t0 + mins(100), t0 + hours(5))
            .await
            .expect("touch")
    );
    assert!(
        !store
            .touch_admin_session(&s, t0 + hours(3), t0 + hours(4))
            .await
            .expect("touch")
    );
    assert!(
        !store
            .touch_admin_session(&some_hash(3), t0, t0 + hours(1))
            .await
            .expect("touch")
    );
    let idle = some_hash(4);
    store
        .create_admin_session(guidance_store::NewAdminSession {
            id_hash: idle.clone(),
            now: t0,
            idle_expires_at: t0 + hours(1),
            expires_at: t0 + hours(3),
        })
        .await
        .expect("session");
    assert!(
        !store
            .touch_admin_session(&idle, t0 + mins(61), t0 + hours(2))
            .await
            .expect("touch")
    );

    // Logout ends a session; a new password ends them all and kills open setup links.
    let a = some_hash(5);
    let b = some_hash(6);
    for h in [&a, &b] {
        store
            .create_admin_session(guidance_store::NewAdminSession {
                id_hash: h.clone(),
                now: t0,
                idle_expires_at: t0 + hours(1),
                expires_at: t0 + hours(3),
            })
            .await
            .expect("session");
    }
    store.delete_admin_session(&a).await.expect("logout");
    assert!(
        !store
            .touch_admin_session(&a, t0, t0 + hours(1))
            .await
            .expect("touch")
    );
    assert!(
        store
            .touch_admin_session(&b, t0, t0 + hours(1))
            .await
            .expect("touch")
    );
    let link = some_hash(7);
    store
        .create_admin_setup_token(&link, t0 + hours(1), t0)
        .await
        .expect("link");
    store
        .set_admin_password_hash("$argon2id$second", t0)
        .await
        .expect("set");
    assert!(
        !store
            .touch_admin_session(&b, t0, t0 + hours(1))
            .await
            .expect("touch")
    );
    assert!(
        !store
            .admin_setup_token_valid(&link, t0)
            .await
            .expect("valid")
    );
    assert_eq!(
        store.admin_password_hash().await.expect("read").as_deref(),
        Some("$argon2id$second")
    );
}

pub async fn settings_are_stored_and_replaced(store: Arc<dyn Store>) {
    let store = &*store;
    let t0 = now();
    assert!(store.settings().await.expect("settings").is_empty());
    let mut values = std::collections::BTreeMap::new();
    values.insert("booking_open".to_owned(), "false".to_owned());
    values.insert("owner_name".to_owned(), "Olga «O» Owner".to_owned());
    store.save_settings(&values, t0).await.expect("saved");
    assert_eq!(store.settings().await.expect("settings"), values);
    let mut more = std::collections::BTreeMap::new();
    more.insert("booking_open".to_owned(), "true".to_owned());
    more.insert("time_zone".to_owned(), "Europe/Berlin".to_owned());
    store.save_settings(&more, t0).await.expect("saved");
    let stored = store.settings().await.expect("settings");
    assert_eq!(stored.len(), 3);
    assert_eq!(stored["booking_open"], "true");
    assert_eq!(stored["owner_name"], "Olga «O» Owner");
    assert_eq!(stored["time_zone"], "Europe/Berlin");
}
