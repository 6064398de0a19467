//! The contract every [`Store`] implementation keeps.
//!
//! Each `pub async fn` of the modules below is one test body, written against `dyn Store` only,
//! so that every database runs the very same checks: `tests/sqlite.rs` runs them on a fresh
//! SQLite file, `tests/postgres.rs` on a fresh PostgreSQL database. Every body expects an empty
//! store. This module lists them all and holds the helpers they share.

use std::sync::Arc;

use guidance_core::intake::RawIntake;
use guidance_core::{
    ActionToken, BookingAction, BookingStatus, Intake, Priority, SlotStatus, SlotWindow, TokenHash,
    TokenSecret,
};
use guidance_store::{
    Actor, AfterCommit, AnswerReminder, Booking, EmailStatus, NewBooking, NewEmail, NewToken,
    OutboxMessage, Slot, SlotChange, Store, StoreError, Transition,
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
            booking_keeps_every_character_and_byte_it_was_sent_with,
            booking_second_request_for_slot_writes_nothing,
            booking_unknown_slot_is_not_found,
            booking_refused_when_window_changed,
            booking_refused_when_slot_started,
            after_commit_runs_once_committed_and_not_for_a_refused_change,
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
            outbox_batch_claims_hand_each_email_out_once,
            outbox_plain_messages_are_found_and_sealed_once,
            // 7. Supplemental questions
            questions_replace_and_list_in_order,
            // 8. Owner (admin UI)
            slot_update_changes_window_unless_booked_or_overlapping,
            requeued_email_keeps_its_bytes_and_message_id,
            admin_password_setup_link_and_sessions,
            settings_are_stored_and_replaced,
            // 9. Health
            health_counts_bookings_and_waiting_emails,
            // 10. Idempotency keys
            idempotency_key_keeps_the_answer_until_it_expires,
            idempotency_key_in_use_refuses_the_whole_change,
            // 11. Around the session
            answer_by_decides_when_a_pending_request_is_overdue,
            scheduled_email_waits_and_a_change_withdraws_it,
            late_scheduled_email_is_dropped_and_kept,
            answer_reminder_is_written_once_while_the_request_waits,
            a_booking_keeps_its_first_meeting_room,
            // 12. Calendar replies read from the service mailbox
            calendar_replies_are_recorded_once_and_listed_newest_first,
            inbox_lease_is_held_by_one_process_at_a_time,
            // 13. The owner's calendars
            calendar_sources_are_added_listed_and_removed_with_their_busy_times,
            calendar_poll_replaces_busy_times_and_queues_its_email_at_once,
            calendar_unchanged_poll_keeps_busy_times_and_validators,
            calendar_source_is_claimed_by_one_poller_at_a_time,
            calendar_feed_rotation_moves_the_generation,
            // 14. The visitor's data
            erasure_reaches_every_table_and_spares_others,
            erasure_by_session_end_and_by_booking,
            // 15. Proposed times
            proposed_times_are_held_until_one_is_taken,
            proposed_times_are_given_back_when_the_booking_changes_otherwise,
            // 16. Webhooks
            webhook_endpoints_are_added_listed_and_removed_with_their_messages,
            webhook_changes_queue_a_message_for_each_endpoint_that_asked,
            webhook_attempts_are_logged_retried_and_sent_again,
            webhook_message_is_claimed_by_one_worker_at_a_time,
            webhook_payloads_of_a_booking_are_erased,
            webhook_messages_go_by_whole_event_names_and_only_with_a_change_made,
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

mod bookings;
mod calendars;
mod erasure;
mod health;
mod idempotency;
mod lists;
mod outbox;
mod outbox_batch;
mod owner;
mod proposals;
mod replies;
mod scheduled;
mod site;
mod slots;
mod transitions;
mod webhooks;

// The runners call every body as `contract::name`; tests/copy.rs uses only the site.
#[allow(
    unused_imports,
    reason = "each test crate that includes this module uses a different part of it"
)]
pub use {
    bookings::*, calendars::*, erasure::*, health::*, idempotency::*, lists::*, outbox::*,
    outbox_batch::*, owner::*, proposals::*, replies::*, scheduled::*, site::*, slots::*,
    transitions::*, webhooks::*,
};

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
pub(crate) fn future(t0: Timestamp) -> Timestamp {
    t0 + hours(72)
}

fn window(starts_at: Timestamp, minutes: i64) -> SlotWindow {
    SlotWindow::parse(starts_at, starts_at + mins(minutes)).expect("a valid window")
}

/// An open slot of `minutes` starting at `starts_at`.
pub(crate) async fn slot_at(store: &dyn Store, starts_at: Timestamp, minutes: i64) -> Slot {
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
        id,
        kind: kind.to_owned(),
        recipient: recipient.to_owned(),
        subject: format!("{kind} {id}"),
        message_id: format!("<{id}@guidance.test>"),
        message: format!("Message-ID: <{id}@guidance.test>\r\nSubject: {kind}\r\n\r\nHello\r\n")
            .into_bytes(),
        send_after: None,
        send_before: None,
        leased_until: None,
    }
}

/// A request for `slot` from `who` at `now`, with owner tokens and the two usual emails.
pub(crate) struct Request {
    /// What the store is asked to book.
    pub(crate) new: NewBooking,
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

/// A request of `slot` by the visitor `who`, made at `now`.
pub(crate) fn request(slot: &Slot, who: &str, now: Timestamp) -> Request {
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
            webhook: None,
            answer_by: None,
            answer_reminder_at: None,
            pending_limit: None,
            keep_answer: None,
            after_commit: Default::default(),
            now,
        },
        tokens,
    }
}

/// A booking that was made, with the tokens issued with it.
pub(crate) struct Booked {
    pub(crate) booking: Booking,
    request: Request,
}

/// Books `slot` for `who` at `now`; panics when the store refuses.
pub(crate) async fn book(store: &dyn Store, slot: &Slot, who: &str, now: Timestamp) -> Booked {
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
        webhook: None,
        keep_answer: None,
        after_commit: Default::default(),
        answer_by: None,
        answer_reminder_at: None,
        meeting_room: None,
        proposals: Vec::new(),
        take_proposal: None,
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
