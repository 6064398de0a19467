//! Polling: each due source is claimed (one process at a time, by a lease), read, turned into
//! busy intervals over the booking horizon and recorded with its outcome — and, when it has
//! failed past the grace period or recovered, one email to the owner — in one transaction.

use std::time::Duration;

use guidance_mail::{CalendarNotice, render_calendar_notice};
use guidance_store::{CalendarKind, CalendarPoll, CalendarSource};
use jiff::{SignedDuration, Timestamp};
use reqwest::Method;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderValue};
use tokio::sync::watch;
use url::Url;

use super::fetch::{Fetched, Request, validators};
use super::{caldav, open_secret, reload};
use crate::settings as owner_settings;
use crate::{App, AppResult};

/// How long a claim on a source lasts: longer than any fetch ([`super::fetch::TIMEOUT`]).
const LEASE: SignedDuration = SignedDuration::from_secs(120);
/// A document answered by `304` for longer than this is read in full again, so that the busy
/// times, computed for a window, keep up with the moving horizon.
const FULL_READ_EVERY: SignedDuration = SignedDuration::from_hours(12);
/// How often the worker looks for due sources (in real time).
const TICK: Duration = Duration::from_secs(30);

/// Guidance's own events, by UID: they never block.
fn is_own(uid: &str) -> bool {
    uid.ends_with("@guidance")
}

/// Polls every source that is due and not held by another process, then reloads the busy
/// times (also those other processes polled); how many it polled.
pub async fn poll_due(app: &App) -> AppResult<usize> {
    let interval = SignedDuration::from_mins(i64::from(app.settings.config.calendar_poll_minutes));
    let now = app.now();
    let mut polled = 0;
    for source in app.store.list_calendar_sources().await? {
        let due = source
            .last_polled_at
            .is_none_or(|at| now.duration_since(at) >= interval);
        if due {
            poll_source(app, &source).await?;
            polled += 1;
        }
    }
    reload(app).await?;
    Ok(polled)
}

/// Runs [`poll_due`] every few seconds until `shutdown` turns true.
pub async fn poll_loop(app: App, mut shutdown: watch::Receiver<bool>) {
    loop {
        if let Err(e) = poll_due(&app).await {
            tracing::warn!(error = %e, "calendar poll failed");
        }
        tokio::select! {
            _ = tokio::time::sleep(TICK) => {}
            _ = shutdown.wait_for(|stop| *stop) => return,
        }
    }
}

/// Polls one source now (unless another process holds it), records the outcome and reloads
/// the busy times; the source as recorded.
pub async fn poll_source(app: &App, source: &CalendarSource) -> AppResult<CalendarSource> {
    let now = app.now();
    let lease_until = now.checked_add(LEASE).unwrap_or(now);
    if !app
        .store
        .claim_calendar_source(source.id, now, lease_until)
        .await?
    {
        return Ok(source.clone());
    }
    let owner = owner_settings::load(app).await?;
    let outcome = read(app, source, &owner, now).await;
    let polled_at = app.now();
    let mut poll = CalendarPoll {
        polled_at,
        succeeded: outcome.is_ok(),
        error: None,
        failing_since: None,
        failure_notified: false,
        etag: None,
        last_modified: None,
        busy: None,
        email: None,
    };
    match outcome {
        Ok(Read::Unchanged) => {
            poll.etag = source.etag.clone();
            poll.last_modified = source.last_modified.clone();
        }
        Ok(Read::Busy {
            busy,
            etag,
            last_modified,
        }) => {
            app.busy.note_full_read(source.id, polled_at);
            poll.busy = Some(busy);
            poll.etag = etag;
            poll.last_modified = last_modified;
        }
        Err(error) => {
            tracing::warn!(source = %source.id, %error, "calendar source could not be read");
            poll.error = Some(error);
            poll.failing_since = Some(source.failing_since.unwrap_or(polled_at));
        }
    }
    let failing_long = poll
        .failing_since
        .is_some_and(|since| polled_at.duration_since(since) >= super::grace(app));
    let notice = match (poll.succeeded, source.failure_notified) {
        (false, false) if failing_long => Some(CalendarNotice::Failing {
            source: source.name.clone(),
            since: poll.failing_since.unwrap_or(polled_at),
            error: poll.error.clone().unwrap_or_default(),
            slots_hidden: !owner.calendar_fail_open,
        }),
        (true, true) => Some(CalendarNotice::Recovered {
            source: source.name.clone(),
        }),
        _ => None,
    };
    poll.failure_notified = !poll.succeeded && (source.failure_notified || notice.is_some());
    poll.email = notice.map(|n| {
        let r = render_calendar_notice(&n, &app.mail_context_for(&owner), polled_at);
        crate::outgoing::queued_email(app, r)
    });
    let queued = poll.email.is_some();
    let recorded = app.store.record_calendar_poll(source.id, poll).await?;
    if queued {
        app.outbox_wake.notify_one();
    }
    reload(app).await?;
    Ok(recorded)
}

/// What reading a source gave.
enum Read {
    /// Unchanged since the last read (`304`).
    Unchanged,
    /// Busy intervals over the window, with the document's validators.
    Busy {
        busy: Vec<(Timestamp, Timestamp)>,
        etag: Option<String>,
        last_modified: Option<String>,
    },
}

/// Fetches and reads a source; the error as the owner will see it.
async fn read(
    app: &App,
    source: &CalendarSource,
    owner: &guidance_core::OwnerSettings,
    now: Timestamp,
) -> Result<Read, String> {
    let secret = open_secret(app, source)?;
    let url = Url::parse(&secret.url).map_err(|e| e.to_string())?;
    // A day either side of what visitors can book: slots starting now, and the horizon.
    let from = now
        .checked_sub(SignedDuration::from_hours(24))
        .unwrap_or(now);
    let to = owner
        .horizon(now)
        .checked_add(SignedDuration::from_hours(48))
        .unwrap_or(now);
    let fetched = match source.kind {
        CalendarKind::Ics => {
            let fresh = app
                .busy
                .full_read(source.id)
                .is_some_and(|at| now.duration_since(at) < FULL_READ_EVERY);
            let headers = if fresh {
                validators(source.etag.as_deref(), source.last_modified.as_deref())
            } else {
                HeaderMap::new()
            };
            app.fetcher
                .send(Request {
                    method: Method::GET,
                    url: &url,
                    headers,
                    basic: None,
                    body: None,
                })
                .await
        }
        CalendarKind::Caldav => {
            let mut headers = HeaderMap::new();
            headers.insert("Depth", HeaderValue::from_static("1"));
            headers.insert(
                CONTENT_TYPE,
                HeaderValue::from_static("application/xml; charset=utf-8"),
            );
            let report = Method::from_bytes(b"REPORT").expect("a valid method name");
            app.fetcher
                .send(Request {
                    method: report,
                    url: &url,
                    headers,
                    basic: secret.username.as_deref().zip(secret.password.as_deref()),
                    body: Some(caldav::calendar_query(from, to)),
                })
                .await
                .map(|f| match f {
                    Fetched::Document { body, .. } => Fetched::Document {
                        body: caldav::calendar_data(&body),
                        etag: None,
                        last_modified: None,
                    },
                    unchanged => unchanged,
                })
        }
    }
    .map_err(|e| e.to_string())?;
    let Fetched::Document {
        body,
        etag,
        last_modified,
    } = fetched
    else {
        return Ok(Read::Unchanged);
    };
    let zone = owner.time_zone.zone();
    // Expanding thousands of events is CPU work: off the async threads.
    let intervals = tokio::task::spawn_blocking(move || {
        if body.trim().is_empty() {
            // A CalDAV collection with no event in the window.
            return Ok(Vec::new());
        }
        guidance_calendar::busy_intervals(&body, from, to, &zone, &is_own)
    })
    .await
    .map_err(|e| e.to_string())?
    .map_err(|e| e.to_string())?;
    Ok(Read::Busy {
        busy: intervals.iter().map(|i| (i.start, i.end)).collect(),
        etag,
        last_modified,
    })
}
