//! The dashboard: what needs an answer, emails and calendars that fail, what comes next, open
//! slots this week.

use askama::Template;
use axum::extract::{Extension, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use guidance_app::calendars::{self, FailingEffect};
use guidance_app::owner_auth::AdminSession;
use guidance_core::{BookingStatus, Priority};
use guidance_store::Booking;

use super::chrome::{Chrome, FlashQuery, chrome, error_response, render};
use super::format::{
    BookingRow, EmailRow, booking_row, email_row, short_moment, time_of_day, zoned,
};
use crate::error::HttpError;
use crate::state::WebState;

#[derive(Template)]
#[template(path = "admin/dashboard.html")]
struct DashboardPage {
    chrome: Chrome,
    title: String,
    pending: Vec<BookingRow>,
    /// "3 requests need an answer, the first by 14:00 today" (empty when none does).
    answer_by: String,
    waiting: Vec<BookingRow>,
    upcoming: Vec<BookingRow>,
    failing: Vec<EmailRow>,
    /// The owner's calendars that cannot be read: which, since when, and what it does to slots.
    calendars_failing: Vec<FailingCalendar>,
    open_this_week: String,
}

/// A calendar that cannot be read, as the dashboard says it.
struct FailingCalendar {
    /// "“Work” cannot be read since 14:00 today: HTTP 503".
    what: String,
    /// Whether its slots are hidden now, kept by its last busy times, or left bookable.
    effect: String,
}

/// The owner's calendars that fail, oldest failure first.
async fn failing_calendars(
    state: &WebState,
    tr: &crate::i18n::Tr,
    owner: &guidance_core::OwnerSettings,
    now: jiff::Timestamp,
) -> Result<Vec<FailingCalendar>, HttpError> {
    let mut failing: Vec<_> = calendars::list_sources(&state.app)
        .await?
        .into_iter()
        .filter_map(|s| s.failing_since.map(|since| (since, s)))
        .collect();
    failing.sort_by_key(|(since, _)| *since);
    Ok(failing
        .into_iter()
        .map(|(since, s)| FailingCalendar {
            what: tr.fmt(
                "admin.dashboard.calendar_failing",
                &[
                    ("source", &s.name),
                    ("since", &relative_moment(tr, owner, now, since)),
                    ("error", s.error.as_deref().unwrap_or_default()),
                ],
            ),
            effect: tr.get(match calendars::failing_effect(&state.app, owner, since) {
                FailingEffect::KeptOpen => "admin.dashboard.calendar_open",
                FailingEffect::Hidden => "admin.dashboard.calendar_hiding",
                FailingEffect::Grace => "admin.dashboard.calendar_grace",
            }),
        })
        .collect())
}

/// `GET /admin`.
pub(super) async fn dashboard(
    State(state): State<WebState>,
    Extension(session): Extension<AdminSession>,
    Query(flash): Query<FlashQuery>,
) -> Response {
    let result = async {
        let (chrome, owner) = chrome(&state, &session, "dashboard", &flash).await?;
        let tr = &chrome.tr;
        let now = state.app.now();
        let mut pending = state
            .app
            .store
            .list_bookings(Some(BookingStatus::Pending))
            .await?;
        // What needs an answer first: the most urgent, then the soonest.
        pending.sort_by_key(|b| (std::cmp::Reverse(priority_rank(b.priority)), b.starts_at));
        let waiting = state
            .app
            .store
            .list_bookings(Some(BookingStatus::NeedsReschedule))
            .await?;
        let upcoming: Vec<Booking> = state
            .app
            .store
            .list_bookings(Some(BookingStatus::Accepted))
            .await?
            .into_iter()
            .filter(|b| b.ends_at > now)
            .take(10)
            .collect();
        let failing = state.app.store.emails_with_errors().await?;
        let week = now
            .checked_add(jiff::SignedDuration::from_hours(7 * 24))
            .unwrap_or(now);
        // What visitors can book: a slot the owner's calendar fills is not counted.
        let open_this_week = guidance_app::slots::open_slots(&state.app, Some(now), Some(week))
            .await?
            .len();
        let first_due = pending
            .iter()
            .map(|b| b.answer_by.unwrap_or(b.starts_at))
            .min();
        let answer_by = first_due.map_or_else(String::new, |due| {
            tr.count(
                "admin.dashboard.answer_by",
                u64::try_from(pending.len()).unwrap_or(0),
                &[("when", &relative_moment(tr, &owner, now, due))],
            )
        });
        let calendars_failing = failing_calendars(&state, tr, &owner, now).await?;
        Ok::<_, HttpError>(DashboardPage {
            answer_by,
            calendars_failing,
            title: tr.get("admin.dashboard.title"),
            pending: pending.iter().map(|b| booking_row(tr, &owner, b)).collect(),
            waiting: waiting.iter().map(|b| booking_row(tr, &owner, b)).collect(),
            upcoming: upcoming
                .iter()
                .map(|b| booking_row(tr, &owner, b))
                .collect(),
            failing: failing.iter().map(|m| email_row(tr, &owner, m)).collect(),
            open_this_week: tr.count(
                "admin.dashboard.open_this_week",
                u64::try_from(open_this_week).unwrap_or(0),
                &[],
            ),
            chrome,
        })
    }
    .await;
    match result {
        Ok(page) => render(StatusCode::OK, &page),
        Err(e) => error_response(&state, &session, e).await,
    }
}

/// A moment as the owner thinks of it: "14:00 today", "9:00 tomorrow", or a date and time.
fn relative_moment(
    tr: &crate::i18n::Tr,
    owner: &guidance_core::OwnerSettings,
    now: jiff::Timestamp,
    at: jiff::Timestamp,
) -> String {
    let (day, today) = (zoned(at, owner).date(), zoned(now, owner).date());
    let time = time_of_day(tr, &zoned(at, owner));
    if day == today {
        tr.fmt("admin.datetime.today_at", &[("time", &time)])
    } else if today.tomorrow().is_ok_and(|t| t == day) {
        tr.fmt("admin.datetime.tomorrow_at", &[("time", &time)])
    } else {
        short_moment(tr, owner, at)
    }
}

/// Where `p` stands among the priorities, the most urgent last.
fn priority_rank(p: Priority) -> usize {
    Priority::ALL.iter().position(|x| *x == p).unwrap_or(0)
}
