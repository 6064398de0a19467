//! The owner's calendars under load: `GET /api/slots` of a server whose slot list consults three
//! calendar sources of 2,000 events each, against the same bytes served precomputed, and the
//! CPU time the server spends on one poll of a 2,000-event feed. The feeds are served by the
//! bench itself on 127.0.0.1 (the server runs with `GUIDANCE_CALENDAR_ALLOW_PRIVATE`).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;
use jiff::{SignedDuration, Timestamp};

use crate::child::{ADMIN_TOKEN, Guidance, wait_healthy};
use crate::load::Outcome;
use crate::{BenchError, RunArgs, SlotsCapture, calendars, capture_slots, load, say, seed};

/// Events in each source.
pub const EVENTS: usize = 2_000;
/// Sources the slot list consults.
pub const SOURCES: usize = 3;
/// The booking horizon of this phase's server: the default.
pub const HORIZON_DAYS: u32 = 60;

/// What the calendars phase measured.
pub struct BusyFigures {
    /// `GET /api/slots` with the sources held.
    pub slots: Outcome,
    /// What it answered (replayed by the precomputed server).
    pub capture: SlotsCapture,
    /// Open slots of the month the list still shows.
    pub shown: usize,
    /// The precomputed reference.
    pub precomputed: Outcome,
    /// Server CPU time per poll of one 2,000-event feed (fetch, read, store), the average.
    pub poll_cpu: Duration,
    /// Polls measured.
    pub polls: usize,
    /// Bytes of one feed.
    pub feed_bytes: usize,
    /// The same reading in the bench's own process: the calendar crate alone, median.
    pub parse_only: Duration,
}

/// Serves `feeds[i]` at `/feed/<i>.ics`, without validators (every poll reads the whole feed).
async fn serve_feeds(feeds: Vec<String>) -> Result<SocketAddr, BenchError> {
    let feeds = Arc::new(feeds);
    let app = Router::new().route(
        "/feed/{file}",
        get(
            move |axum::extract::Path(file): axum::extract::Path<String>| {
                let feeds = feeds.clone();
                async move {
                    let i: Option<usize> = file.strip_suffix(".ics").and_then(|n| n.parse().ok());
                    match i.and_then(|i| feeds.get(i)) {
                        Some(body) => (
                            axum::http::StatusCode::OK,
                            [("content-type", "text/calendar; charset=utf-8")],
                            body.clone(),
                        ),
                        None => (
                            axum::http::StatusCode::NOT_FOUND,
                            [("content-type", "text/plain")],
                            String::new(),
                        ),
                    }
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(addr)
}

/// A fresh SQLite server with the month's slots and three sources of [`EVENTS`] events each;
/// the slot list for `args.seconds`, its bytes precomputed, and the CPU time of polls.
pub(crate) async fn measure_busy(
    guidance_bin: &Path,
    tmp: &Path,
    args: &RunArgs,
    now: Timestamp,
) -> Result<BusyFigures, BenchError> {
    let feeds: Vec<String> = (0..SOURCES)
        .map(|i| {
            // Each source's events shifted by a few hours, so that the three differ.
            calendars::busy_calendar(EVENTS, now + SignedDuration::from_hours(5 * i as i64))
        })
        .collect();
    let feed_bytes = feeds[0].len();
    let feed_addr = serve_feeds(feeds).await?;

    let dir = tmp.join("busy");
    let db = dir.join("guidance.db");
    let mut extra = BTreeMap::new();
    extra.insert(
        "GUIDANCE_CALENDAR_ALLOW_PRIVATE".to_owned(),
        "true".to_owned(),
    );
    // The default horizon, as an owner has it (the booking phases need years of slots): a
    // poll reads the busy times up to the horizon, so its cost grows with it.
    extra.insert(
        "GUIDANCE_BOOKING_HORIZON_DAYS".to_owned(),
        HORIZON_DAYS.to_string(),
    );
    let guidance = Guidance {
        binary: guidance_bin.to_owned(),
        dir: dir.clone(),
        database_url: format!("sqlite://{}", db.display()),
        extra,
    };
    guidance.migrate()?;
    seed::seed_sqlite(&db, &seed::month_plan(now)).await?;
    let (mut server, port) = guidance.serve("serve.log")?;
    wait_healthy(&mut server, port, Instant::now(), Duration::from_secs(30)).await?;
    let client = load::client(args.concurrency)?;

    let base = format!("http://127.0.0.1:{port}");
    let mut ids = Vec::new();
    for i in 0..SOURCES {
        let r = client
            .post(format!("{base}/api/admin/calendars"))
            .bearer_auth(ADMIN_TOKEN)
            .json(&serde_json::json!({
                "name": format!("Bench calendar {i}"),
                "url": format!("http://{feed_addr}/feed/{i}.ics"),
            }))
            .send()
            .await?;
        let status = r.status();
        let body: serde_json::Value = r.json().await?;
        if status != reqwest::StatusCode::CREATED || !body["error"].is_null() {
            return Err(format!("adding calendar {i} answered {status}: {body}").into());
        }
        say(&format!(
            "  calendar {i} added: {} busy intervals",
            body["busy_intervals"]
        ));
        ids.push(
            body["id"]
                .as_str()
                .ok_or("a calendar without an id")?
                .to_owned(),
        );
    }

    let (from, to) = seed::month(now);
    let path_and_query = format!("/api/slots?from={from}&to={to}");
    let capture = capture_slots(&client, port, &path_and_query, None).await?;
    let shown = serde_json::from_slice::<serde_json::Value>(&capture.body)?["slots"]
        .as_array()
        .map_or(0, Vec::len);
    if shown >= seed::MONTH_SLOTS {
        return Err("the calendars hid none of the month's slots".into());
    }
    say(&format!(
        "  GET /api/slots with {SOURCES} sources of {EVENTS} events ({shown} of {} slots shown) \
         and the same bytes precomputed, {} s each",
        seed::MONTH_SLOTS,
        args.seconds
    ));
    let (slots, precomputed) = crate::precomputed::beside(&dir, args, &capture, port).await?;
    server.check_alive()?;

    // Polls while nothing else runs: the server's CPU time over them, per poll.
    let polls = if args.quick { 5 } else { 20 };
    say(&format!("  {polls} polls of a {EVENTS}-event feed"));
    let refresh = format!("{base}/api/admin/calendars/{}/refresh", ids[0]);
    // The kernel counts CPU time in ticks (10 ms): the total over every poll, divided.
    let before = server.cpu_time()?;
    for _ in 0..polls {
        let r = client
            .post(&refresh)
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await?;
        let status = r.status();
        let body: serde_json::Value = r.json().await?;
        if status != reqwest::StatusCode::OK || !body["error"].is_null() {
            return Err(format!("refreshing a calendar answered {status}: {body}").into());
        }
    }
    let poll_cpu = server.cpu_time()?.saturating_sub(before) / polls as u32;
    server.stop(Duration::from_secs(10))?;

    let parse_only = calendars::parse_cost(if args.quick { 3 } else { 20 })?;
    Ok(BusyFigures {
        slots,
        capture,
        shown,
        precomputed,
        poll_cpu,
        polls,
        feed_bytes,
        parse_only,
    })
}
