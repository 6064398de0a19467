//! Guidance's application layer: every use case, the outbox worker and the expiry of overdue
//! bookings, the short-lived caches and the typed configuration. It knows nothing of HTTP: the
//! `web` crate reads a request, calls one function here and answers; the `guidance` binary
//! starts both. See `ARCHITECTURE.md` at the repository root.

pub mod bookings;
pub mod calendars;
pub mod clock;
pub mod config;
pub mod demo;
pub mod error;
pub mod exposition;
pub mod forwarded;
pub mod kept;
pub mod links;
pub mod meeting;
pub mod metrics;
pub mod ops;
pub mod outbound;
pub mod outbox;
mod outgoing;
pub mod owner_auth;
pub mod patterns;
pub mod preflight;
pub mod privacy;
pub mod private_files;
pub mod proposal_links;
pub mod proposals;
pub mod questions;
pub mod reminders;
pub mod replies;
pub mod server_url;
pub mod settings;
pub mod slots;
pub mod visitor_link;
pub mod webhooks;

use std::sync::Arc;

use guidance_core::TokenSecret;
use guidance_store::Store;
use jiff::Timestamp;
use tokio::sync::Notify;

pub use clock::Clock;
use config::Settings;
pub use error::{AppError, AppResult};

/// What every use case shares; cheap to clone.
#[derive(Clone)]
pub struct App {
    /// The database.
    pub store: Arc<dyn Store>,
    /// Checked configuration.
    pub settings: Arc<Settings>,
    /// Signs action tokens and the visitor's links.
    pub secret: TokenSecret,
    /// Seals the emails kept in the outbox (a key derived from `secret`).
    pub seal: guidance_core::sealed::MessageSeal,
    /// Tells the time; tests hold it still or move it.
    pub clock: Clock,
    /// Wakes the outbox worker when an email was queued.
    pub outbox_wake: Arc<Notify>,
    /// Emails handed straight to this process's outbox worker (see [`outbox::handoff`]).
    pub handoff: Arc<outbox::handoff::Handoff>,
    /// The public slot list as served, kept for a moment (see [`kept`]); dropped whenever
    /// slots may have changed.
    pub slot_lists: Arc<kept::SlotsCache>,
    /// The owner's stored settings, kept for a moment (read by every booking).
    pub settings_kept: Arc<kept::Kept<(), std::collections::BTreeMap<String, String>>>,
    /// The owner's questions, kept for a moment (read by every booking).
    pub questions_kept: Arc<kept::Kept<(), Vec<guidance_core::Question>>>,
    /// This process's counters for `/metrics` (see [`metrics`]).
    pub metrics: Arc<metrics::Metrics>,
    /// The database's health, kept for a moment (read by `/metrics` and `/readyz`).
    pub health_kept: Arc<kept::Kept<(), guidance_store::Health>>,
    /// The owner's calendars' busy times, held in memory between polls.
    pub busy: Arc<calendars::BusyTimes>,
    /// Reads the owner's calendars (https and public addresses unless configured otherwise).
    pub fetcher: calendars::fetch::Fetcher,
    /// Posts webhook messages (https and public addresses unless configured otherwise).
    pub webhooks: webhooks::deliver::Poster,
}

impl App {
    /// An application over `store` with checked `settings`, signing with `secret`.
    pub fn new(
        store: Arc<dyn Store>,
        settings: Settings,
        secret: TokenSecret,
        clock: Clock,
    ) -> Self {
        let fetcher = calendars::fetch::Fetcher::new(settings.config.calendar_allow_private);
        let webhooks = webhooks::deliver::Poster::new(settings.config.webhook_allow_private);
        Self {
            store,
            fetcher,
            webhooks,
            settings: Arc::new(settings),
            seal: guidance_core::sealed::MessageSeal::new(&secret),
            secret,
            outbox_wake: Arc::new(Notify::new()),
            handoff: Arc::default(),
            slot_lists: Arc::new(kept::Kept::with_clock(clock.clone())),
            settings_kept: Arc::new(kept::Kept::with_clock(clock.clone())),
            questions_kept: Arc::new(kept::Kept::with_clock(clock.clone())),
            metrics: Arc::new(metrics::Metrics::default()),
            health_kept: Arc::new(kept::Kept::with_clock(clock.clone())),
            busy: Arc::new(calendars::BusyTimes::default()),
            clock,
        }
    }

    /// The time now, by the application's clock.
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// The email settings for the owner settings in force (see [`settings`]).
    pub fn mail_context_for(
        &self,
        owner: &guidance_core::OwnerSettings,
    ) -> guidance_mail::MailContext {
        let c = &self.settings.config;
        guidance_mail::MailContext {
            from_email: c.mail_from.trim().to_owned(),
            from_name: guidance_core::i18n::t(owner.language, "common.product"),
            owner_email: owner.owner_email.clone(),
            owner_name: owner.owner_name.clone(),
            owner_time_zone: owner.time_zone.as_str().to_owned(),
            owner_lang: owner.language.to_owned(),
            public_url: self.settings.public_url.clone(),
        }
    }
}
