//! Runs the [`Store`] contract suite (`tests/contract/`) on SQLite: each test gets a fresh
//! database file in its own temporary directory.

mod contract;

use std::sync::Arc;

use guidance_store::Store;
use guidance_store::sqlite::SqliteStore;

/// A fresh, migrated SQLite store; the directory lives as long as the returned guard.
async fn fresh_store() -> (tempfile::TempDir, Arc<dyn Store>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(&dir.path().join("guidance.db"))
        .await
        .expect("open SQLite store");
    (dir, Arc::new(store))
}

/// One `#[tokio::test]` per contract function, each on its own database.
macro_rules! contract_tests {
    ($($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let (_dir, store) = fresh_store().await;
                contract::$name(store).await;
            }
        )*
    };
}

contract_tests! {
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
    // 6. Outbox
    outbox_claims_oldest_first_and_leases,
    outbox_retry_waits_until_due,
    outbox_failed_email_stays_out,
    outbox_sent_email_is_done,
    outbox_release_makes_email_claimable_at_once,
    outbox_next_email_due_reports_earliest,
    // 7. Owner (admin UI)
    slot_update_changes_window_unless_booked_or_overlapping,
    requeued_email_keeps_its_bytes_and_message_id,
    admin_password_setup_link_and_sessions,
    settings_are_stored_and_replaced,
}
