//! The owner's own calendars: sources added, tested and removed, polled into busy times that
//! hide the slots they overlap, failing closed after a grace period; and the owner's feed of
//! bookings (see [`feed`]).

pub mod caldav;
pub mod feed;
pub mod fetch;
mod poll;
mod state;

use guidance_core::{FieldErrors, FieldReason, OwnerSettings};
use guidance_store::{CalendarKind, CalendarSource, NewCalendarSource};
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use url::Url;
use uuid::Uuid;

pub use poll::{poll_due, poll_loop, poll_source};
pub use state::{BusyTimes, Snapshot, SourceBusy};

use crate::{App, AppError, AppResult};

/// Longest source name, in characters.
pub const NAME_MAX: usize = 80;
/// Longest address, user name or app password, in characters.
const FIELD_MAX: usize = 2000;
/// The purpose sources are sealed under.
const SEAL_PURPOSE: &str = "calendar-source";

/// A source as the owner types it: a CalDAV collection when a user name is given, else an ICS
/// address.
#[derive(Debug, Clone, Default)]
pub struct NewSource {
    /// The owner's name for it.
    pub name: String,
    /// Its address.
    pub url: String,
    /// CalDAV user name.
    pub username: Option<String>,
    /// CalDAV app password.
    pub password: Option<String>,
}

/// What is sealed: the address and credentials.
#[derive(Serialize, Deserialize)]
struct Secret {
    url: String,
    username: Option<String>,
    password: Option<String>,
}

/// A source as the owner sees it (never its address or password).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceView {
    /// Its id.
    pub id: Uuid,
    /// The owner's name for it.
    pub name: String,
    /// How it is read.
    pub kind: CalendarKind,
    /// The host it is read from.
    pub host: String,
    /// When it was last polled.
    pub last_polled_at: Option<Timestamp>,
    /// When a poll last succeeded.
    pub last_success_at: Option<Timestamp>,
    /// Since when it fails.
    pub failing_since: Option<Timestamp>,
    /// The last error.
    pub error: Option<String>,
    /// Busy intervals held.
    pub busy_intervals: i64,
}

impl From<CalendarSource> for SourceView {
    fn from(s: CalendarSource) -> Self {
        SourceView {
            id: s.id,
            name: s.name,
            kind: s.kind,
            host: s.host,
            last_polled_at: s.last_polled_at,
            last_success_at: s.last_success_at,
            failing_since: s.failing_since,
            error: s.last_error,
            busy_intervals: s.busy_count,
        }
    }
}

/// Every source, oldest first.
pub async fn list_sources(app: &App) -> AppResult<Vec<SourceView>> {
    Ok(app
        .store
        .list_calendar_sources()
        .await?
        .into_iter()
        .map(SourceView::from)
        .collect())
}

/// Checks what the owner typed; every refused field at once.
fn parse_new(app: &App, new: &NewSource) -> AppResult<(String, CalendarKind, Url, Secret)> {
    let mut fields = FieldErrors::new();
    let name = new.name.trim();
    if name.is_empty() {
        fields.add("name", FieldReason::Empty);
    } else if name.chars().count() > NAME_MAX {
        fields.add("name", FieldReason::TooLong);
    } else if name.chars().any(char::is_control) {
        fields.add("name", FieldReason::ControlCharacters);
    }
    let raw = new.url.trim();
    // `webcal://` is how many providers write their subscription links: it means https.
    let raw = raw
        .strip_prefix("webcal://")
        .map_or_else(|| raw.to_owned(), |rest| format!("https://{rest}"));
    let url = if raw.is_empty() {
        fields.add("url", FieldReason::Empty);
        None
    } else if raw.chars().count() > FIELD_MAX {
        fields.add("url", FieldReason::TooLong);
        None
    } else {
        match Url::parse(&raw) {
            Ok(u) if app.fetcher.check_url(&u).is_ok() && u.host_str().is_some() => Some(u),
            _ => {
                fields.add("url", FieldReason::UnknownValue);
                None
            }
        }
    };
    let username = new
        .username
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty());
    let password = new.password.as_deref();
    if username.is_some_and(|u| u.chars().count() > FIELD_MAX || u.chars().any(char::is_control)) {
        fields.add("username", FieldReason::UnknownValue);
    }
    if password.is_some_and(|p| p.chars().count() > FIELD_MAX) {
        fields.add("password", FieldReason::TooLong);
    }
    if username.is_some() && password.is_none_or(str::is_empty) {
        fields.add("password", FieldReason::Empty);
    }
    match url {
        Some(url) if fields.is_empty() => {
            let kind = if username.is_some() {
                CalendarKind::Caldav
            } else {
                CalendarKind::Ics
            };
            let secret = Secret {
                url: url.to_string(),
                username: username.map(str::to_owned),
                password: username.and(password).map(str::to_owned),
            };
            Ok((name.to_owned(), kind, url, secret))
        }
        _ => Err(AppError::Invalid(fields)),
    }
}

/// Adds a source and polls it at once; the source with its first poll's result.
pub async fn add_source(app: &App, new: NewSource) -> AppResult<SourceView> {
    let (name, kind, url, secret) = parse_new(app, &new)?;
    let id = Uuid::new_v4();
    let plain = serde_json::to_vec(&secret).map_err(|e| AppError::Internal(e.to_string()))?;
    let sealed = guidance_core::sealed::seal(&app.secret, SEAL_PURPOSE, id.as_bytes(), &plain);
    let source = app
        .store
        .create_calendar_source(NewCalendarSource {
            id,
            name,
            kind,
            host: url.host_str().unwrap_or_default().to_owned(),
            sealed,
            now: app.now(),
        })
        .await?;
    tracing::info!(source = %id, kind = kind.as_str(), "calendar source added");
    Ok(poll_source(app, &source).await?.into())
}

/// Removes a source; its busy times stop hiding slots at once.
pub async fn remove_source(app: &App, id: Uuid) -> AppResult<()> {
    app.store.delete_calendar_source(id).await?;
    reload(app).await?;
    tracing::info!(source = %id, "calendar source removed");
    Ok(())
}

/// Polls one source now (the owner's "test" and "refresh"); the source with the result.
pub async fn refresh_source(app: &App, id: Uuid) -> AppResult<SourceView> {
    let source = app
        .store
        .list_calendar_sources()
        .await?
        .into_iter()
        .find(|s| s.id == id)
        .ok_or(AppError::NotFound)?;
    Ok(poll_source(app, &source).await?.into())
}

/// Reads every source's busy times from the store into memory, and drops the kept slot lists.
pub async fn reload(app: &App) -> AppResult<std::sync::Arc<Snapshot>> {
    let sources = app.store.list_calendar_sources().await?;
    let busy = app.store.calendar_busy().await?;
    app.busy.set(Snapshot::build(&sources, &busy));
    app.slot_lists.invalidate();
    Ok(app.busy.get().unwrap_or_default())
}

/// The snapshot in memory, read from the store the first time.
pub async fn snapshot(app: &App) -> AppResult<std::sync::Arc<Snapshot>> {
    match app.busy.get() {
        Some(s) => Ok(s),
        None => reload(app).await,
    }
}

/// The grace period before a failing source hides slots.
pub fn grace(app: &App) -> SignedDuration {
    SignedDuration::from_mins(i64::from(app.settings.config.calendar_grace_minutes))
}

/// Which source hides `[start, end)` for `owner` now, by name; `None` when it is free.
pub async fn hidden_by(
    app: &App,
    owner: &OwnerSettings,
    start: Timestamp,
    end: Timestamp,
) -> AppResult<Option<String>> {
    let snapshot = snapshot(app).await?;
    Ok(hider(app, owner, &snapshot)(start, end))
}

/// A check for many slots against one snapshot: which source hides `[start, end)`, by name.
pub fn hider<'s>(
    app: &App,
    owner: &OwnerSettings,
    snapshot: &'s Snapshot,
) -> impl Fn(Timestamp, Timestamp) -> Option<String> + 's {
    let buffer = SignedDuration::from_mins(owner.busy_buffer_minutes);
    let closed = closed_if_failing_since(app, owner);
    move |start, end| {
        snapshot
            .hidden_by(start, end, buffer, closed)
            .map(|s| s.name.clone())
    }
}

/// A source failing since this moment or earlier hides its slots (fail closed); `None` when the
/// owner keeps slots bookable while a calendar cannot be read.
fn closed_if_failing_since(app: &App, owner: &OwnerSettings) -> Option<Timestamp> {
    (!owner.calendar_fail_open)
        .then(|| app.now().checked_sub(grace(app)).ok())
        .flatten()
}

/// What a source failing since `since` does to its slots now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailingEffect {
    /// The owner's setting keeps its slots bookable.
    KeptOpen,
    /// Within the grace period: its last busy times still apply.
    Grace,
    /// Past the grace period: every slot it covers is hidden.
    Hidden,
}

/// What a source failing since `since` does to `owner`'s slots now (the rule [`hider`] applies).
pub fn failing_effect(app: &App, owner: &OwnerSettings, since: Timestamp) -> FailingEffect {
    match closed_if_failing_since(app, owner) {
        None => FailingEffect::KeptOpen,
        Some(limit) if since <= limit => FailingEffect::Hidden,
        Some(_) => FailingEffect::Grace,
    }
}

/// Opens a source's sealed address and credentials.
fn open_secret(app: &App, source: &CalendarSource) -> Result<Secret, String> {
    let plain = guidance_core::sealed::open(
        &app.secret,
        SEAL_PURPOSE,
        source.id.as_bytes(),
        &source.sealed,
    )
    .map_err(|e| e.to_string())?;
    serde_json::from_slice(&plain).map_err(|e| e.to_string())
}
