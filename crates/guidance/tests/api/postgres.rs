//! The end-to-end tests that matter most for a shared database, run on PostgreSQL (a fresh
//! database each, Supabase's roles emulated so the server runs as `service_role`): the whole
//! flow, the reschedule round trip, a taken slot, the 50-way race, supplemental questions, and
//! the owner's sign-in, sessions, settings and slot edits, email confirmation and the limit of
//! requests awaiting the owner per address.

use crate::admin_ui::{self, spawn_admin_app_on_postgres};
use crate::helpers::*;
use crate::{abuse, booking, confirm, flow, public};

#[tokio::test]
async fn full_flow_on_postgres() {
    flow::a_booking_goes_from_slot_to_accepted_through_the_owners_email_on(
        spawn_app_on_postgres().await,
    )
    .await;
}

#[tokio::test]
async fn reschedule_round_trip_on_postgres() {
    flow::asking_for_another_time_frees_the_slot_and_the_visitors_pick_goes_back_to_the_owner_on(
        spawn_app_on_postgres().await,
    )
    .await;
}

#[tokio::test]
async fn taken_slot_answers_409_on_postgres() {
    booking::a_taken_slot_answers_409_under_both_path_names_on(spawn_app_on_postgres().await).await;
}

#[tokio::test]
async fn fifty_concurrent_requests_give_one_booking_on_postgres() {
    booking::fifty_concurrent_requests_for_one_slot_give_one_booking_on(
        spawn_app_on_postgres().await,
    )
    .await;
}

#[tokio::test]
async fn questions_and_answers_on_postgres() {
    public::the_owner_configures_questions_and_answers_are_held_to_them_on(
        spawn_app_on_postgres().await,
    )
    .await;
}

#[tokio::test]
async fn owner_sessions_on_postgres() {
    admin_ui::sessions_end_at_logout_and_when_the_password_changes_on(
        spawn_admin_app_on_postgres().await,
    )
    .await;
}

#[tokio::test]
async fn owner_settings_on_postgres() {
    admin_ui::manage::closed_booking_and_notice_and_horizon_come_from_the_settings_on(
        spawn_admin_app_on_postgres().await,
    )
    .await;
}

#[tokio::test]
async fn slot_edits_on_postgres() {
    admin_ui::manage::slots_are_edited_and_changed_in_bulk_through_the_ui_on(
        spawn_admin_app_on_postgres().await,
    )
    .await;
}

#[tokio::test]
async fn email_confirmation_on_postgres() {
    confirm::a_request_reaches_the_owner_only_once_the_visitor_confirmed_it_on(
        spawn_app_on_postgres().await,
    )
    .await;
}

#[tokio::test]
async fn pending_requests_per_address_on_postgres() {
    abuse::an_address_may_have_only_so_many_requests_awaiting_the_owner_on(
        spawn_app_on_postgres_with(|c| c.max_pending_per_email = 2).await,
    )
    .await;
}
