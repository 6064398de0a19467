//! What the service tells its operator: whether it is ready for traffic (`/readyz`) and the
//! figures of `/metrics`. Both read the database's [`Health`] at most once a second (kept like
//! the slot list, see [`crate::kept`]), so that a scraper or a load balancer polling often costs
//! a few counting queries a second at most, and no request waits for them.

use guidance_store::Health;
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use crate::App;
use crate::exposition::{Exposition, Kind};

/// How long an email may be due without any worker taking it before the service is reported
/// not ready: far longer than a worker's sleep (seconds) or a default lease (5 minutes), so
/// only a worker that stopped (or never ran) trips it.
pub const OUTBOX_STUCK_AFTER: SignedDuration = SignedDuration::from_mins(15);

/// Why the service is not ready.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NotReady {
    /// The database does not answer.
    DatabaseUnavailable,
    /// The database lacks migrations this binary needs (`guidance migrate`).
    MigrationsPending,
    /// An email has been due for longer than [`OUTBOX_STUCK_AFTER`] and no worker took it.
    OutboxStuck,
}

/// The answer of `/readyz`.
#[derive(Debug, Clone, Serialize)]
pub struct Readiness {
    /// `ready` or `not_ready`.
    pub status: &'static str,
    /// Why not, when not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<NotReady>,
    /// The reason in words, for the operator reading it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl Readiness {
    /// Whether the service may take traffic.
    pub fn is_ready(&self) -> bool {
        self.reason.is_none()
    }

    fn not(reason: NotReady, detail: String) -> Self {
        Self {
            status: "not_ready",
            reason: Some(reason),
            detail: Some(detail),
        }
    }
}

/// The database's health, read at most once a second.
async fn health(app: &App) -> Result<Health, guidance_store::StoreError> {
    let now = app.now();
    app.health_kept
        .get_or_load((), || app.store.health(now))
        .await
}

/// Whether the database answers, has every migration, and the outbox is moving.
pub async fn readiness(app: &App) -> Readiness {
    let h = match health(app).await {
        Ok(h) => h,
        Err(e) => {
            // The cause stays in the log: `/readyz` is public and names no host or user.
            tracing::warn!(error = %e, "not ready: the database does not answer");
            return Readiness::not(
                NotReady::DatabaseUnavailable,
                "the database does not answer".into(),
            );
        }
    };
    if !h.pending_migrations.is_empty() {
        return Readiness::not(
            NotReady::MigrationsPending,
            format!(
                "{} migration(s) not applied: run `guidance migrate`",
                h.pending_migrations.len()
            ),
        );
    }
    let now = app.now();
    if let Some(due) = h.oldest_due_at {
        let waiting = now.duration_since(due);
        if waiting > OUTBOX_STUCK_AFTER {
            return Readiness::not(
                NotReady::OutboxStuck,
                format!(
                    "an email has been due for {} minutes and no worker sent it",
                    waiting.as_mins()
                ),
            );
        }
    }
    Readiness {
        status: "ready",
        reason: None,
        detail: None,
    }
}

/// Seconds from `then` to `now` (0 for none, or a time ahead).
fn age_seconds(now: Timestamp, then: Option<Timestamp>) -> f64 {
    then.map_or(0.0, |t| now.duration_since(t).as_secs_f64().max(0.0))
}

/// The application's part of `/metrics`: this process's counters, the database's figures and
/// the connection pools. The web layer adds its request counters.
pub async fn metrics(app: &App) -> Exposition {
    let mut out = Exposition::new();
    app.metrics.render(&mut out);
    let health = health(app).await;
    out.family(
        "guidance_database_up",
        Kind::Gauge,
        "Whether the database answered the last scrape (1) or not (0).",
    );
    out.sample("guidance_database_up", &[], i64::from(health.is_ok()));
    if let Ok(h) = &health {
        write_health(&mut out, h, app.now());
    }
    let pools = app.store.pool_use();
    for (name, help, pick) in [
        (
            "guidance_db_pool_connections",
            "Database connections open, by pool.",
            (|p: &guidance_store::PoolUse| p.size) as fn(&guidance_store::PoolUse) -> u32,
        ),
        (
            "guidance_db_pool_idle_connections",
            "Open database connections waiting unused, by pool.",
            |p| p.idle,
        ),
        (
            "guidance_db_pool_max_connections",
            "The most connections each pool opens.",
            |p| p.max,
        ),
    ] {
        out.family(name, Kind::Gauge, help);
        for p in &pools {
            out.sample(name, &[("pool", p.pool)], pick(p));
        }
    }
    out
}

/// The figures the database holds for every process.
fn write_health(out: &mut Exposition, h: &Health, now: Timestamp) {
    let name = "guidance_bookings";
    out.family(name, Kind::Gauge, "Bookings in the database, by status.");
    for status in guidance_core::BookingStatus::ALL {
        let n = h
            .bookings
            .iter()
            .find(|(s, _)| *s == status)
            .map_or(0, |(_, n)| *n);
        out.sample(name, &[("status", status.as_str())], n);
    }
    let name = "guidance_outbox_emails";
    out.family(
        name,
        Kind::Gauge,
        "Emails in the outbox waiting to be sent (queued) or given up on (failed).",
    );
    out.sample(name, &[("status", "queued")], h.emails_queued);
    out.sample(name, &[("status", "failed")], h.emails_failed);
    let name = "guidance_outbox_oldest_unsent_age_seconds";
    out.family(
        name,
        Kind::Gauge,
        "How long the oldest email still waiting has waited (0 when none waits).",
    );
    out.sample(name, &[], age_seconds(now, h.oldest_queued_at));
    let name = "guidance_outbox_oldest_due_age_seconds";
    out.family(
        name,
        Kind::Gauge,
        "How long the longest-due email that no worker holds has been due (0 when none).",
    );
    out.sample(name, &[], age_seconds(now, h.oldest_due_at));
    let name = "guidance_schema_pending_migrations";
    out.family(
        name,
        Kind::Gauge,
        "Migrations this binary has that the database has not applied.",
    );
    out.sample(
        name,
        &[],
        i64::try_from(h.pending_migrations.len()).unwrap_or(i64::MAX),
    );
}
