//! The owner's admin UI: server-rendered pages for the dashboard, slots, bookings and settings,
//! plus sign-in. Every change goes through the same `guidance_app` use cases as the owner API;
//! these modules only read forms and lay out pages.
//!
//! Every page and form behind `/admin` except sign-in is registered through a [`Recorder`], so
//! that [`route_table`] lists exactly what [`session::require_session`] guards.
//!
//! This module holds only the routes. The page areas (`dashboard`, `slots`, `generate`,
//! `bookings`, `settings`, `questions`, `replies`, `calendars`, `privacy`, `webhooks`,
//! `login`) each own their handlers and page structs; what they share lives in `chrome` (the frame around a signed-in
//! page, flashes, the error page),
//! `form` (reading forms, messages at fields) and `format` (dates, times, rows); `slot_form` is
//! the one slot form that both slot pages show. Page modules import those and never each other.

use axum::Router;
use axum::middleware;

use super::recorder::{RecordedRoute, Recorder};
use crate::session;
use crate::state::WebState;

mod bookings;
mod calendars;
mod chrome;
mod dashboard;
mod form;
mod format;
mod generate;
mod login;
mod privacy;
mod questions;
mod replies;
mod settings;
mod slot_form;
mod slots;
mod webhooks;

/// Registers every signed-in page and form.
fn register(r: Recorder) -> Recorder {
    r.get("/admin", dashboard::dashboard)
        .get("/admin/slots", slots::slots_page)
        .post("/admin/slots", slots::add_slot)
        .post("/admin/slots/bulk", slots::slots_bulk)
        .get("/admin/slots/generate", generate::generate_form)
        .post("/admin/slots/generate", generate::generate_submit)
        .get("/admin/slots/{id}", slots::slot_edit_page)
        .post("/admin/slots/{id}", slots::slot_edit_submit)
        .get("/admin/bookings", bookings::bookings_page)
        .get("/admin/bookings/{id}", bookings::booking_page)
        .post("/admin/bookings/{id}/act", bookings::booking_act)
        .post(
            "/admin/bookings/{id}/emails/{email_id}/resend",
            bookings::booking_resend,
        )
        .post(
            "/admin/bookings/{id}/slot-unavailable",
            bookings::booking_slot_unavailable,
        )
        .get("/admin/settings", settings::settings_page)
        .get("/admin/replies", replies::replies_page)
        .post("/admin/settings", settings::settings_submit)
        .get("/admin/erase", privacy::erase_page)
        .post("/admin/erase", privacy::erase_submit)
        .get("/admin/settings/questions", questions::questions_page)
        .post("/admin/settings/questions", questions::question_add)
        .get(
            "/admin/settings/questions/{key}",
            questions::question_edit_page,
        )
        .post(
            "/admin/settings/questions/{key}",
            questions::question_edit_submit,
        )
        .post(
            "/admin/settings/questions/{key}/delete",
            questions::question_delete,
        )
        .post(
            "/admin/settings/questions/{key}/move",
            questions::question_move,
        )
        .get("/admin/calendars", calendars::calendars_page)
        .post("/admin/calendars", calendars::add_calendar)
        .post("/admin/calendars/{id}/refresh", calendars::refresh_calendar)
        .post("/admin/calendars/{id}/delete", calendars::remove_calendar)
        .post("/admin/feed/rotate", calendars::rotate_feed)
        .get("/admin/settings/webhooks", webhooks::webhooks_page)
        .post("/admin/settings/webhooks", webhooks::webhook_add)
        .get("/admin/settings/webhooks/{id}", webhooks::webhook_log_page)
        .post(
            "/admin/settings/webhooks/{id}/delete",
            webhooks::webhook_delete,
        )
        .post(
            "/admin/settings/webhooks/{id}/deliveries/{delivery_id}/send",
            webhooks::webhook_send_again,
        )
        .post("/admin/logout", login::logout)
}

/// Registers the sign-in pages, open to all.
fn register_open(r: Recorder) -> Recorder {
    r.get("/admin/login", login::login_page)
        .post("/admin/login", login::login_submit)
        .get("/admin/setup/{token}", login::setup_page)
        .post("/admin/setup/{token}", login::setup_submit)
}

/// The admin UI: sign-in pages open to all, everything else behind a session.
pub fn routes(state: WebState) -> Router<WebState> {
    let guarded =
        register(Recorder::new())
            .into_router()
            .route_layer(middleware::from_fn_with_state(
                state,
                session::require_session,
            ));
    register_open(Recorder::new()).into_router().merge(guarded)
}

/// The admin UI's routes open without a session (sign-in, setup link).
pub fn open_route_table() -> Vec<RecordedRoute> {
    register_open(Recorder::new()).table()
}

/// Every signed-in admin route as registered (method and path pattern).
pub fn route_table() -> Vec<RecordedRoute> {
    register(Recorder::new()).table()
}
