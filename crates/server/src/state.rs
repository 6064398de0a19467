//! What every request handler and the worker share.

use std::sync::Arc;

use guidance_core::TokenSecret;
use guidance_store::Store;
use tokio::sync::Notify;

use crate::config::Settings;
use crate::rate_limit::RateLimiter;

/// Shared application state; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub store: Arc<dyn Store>,
    /// Checked configuration.
    pub settings: Arc<Settings>,
    /// Signs action tokens.
    pub secret: TokenSecret,
    /// Wakes the outbox worker when an email was queued.
    pub outbox_wake: Arc<Notify>,
    /// Limits booking and action requests per client address.
    pub limiter: Arc<RateLimiter>,
    /// Slows down repeated failed owner logins per client address.
    pub login_throttle: Arc<crate::auth::LoginThrottle>,
    /// The public slot list, kept for a moment (see [`crate::kept`]).
    pub slots_cache: Arc<crate::kept::SlotsCache>,
    /// The owner's stored settings, kept for a moment (read by every booking).
    pub settings_kept: Arc<crate::kept::Kept<(), std::collections::BTreeMap<String, String>>>,
    /// The owner's questions, kept for a moment (read by every booking).
    pub questions_kept: Arc<crate::kept::Kept<(), Vec<guidance_core::Question>>>,
}

impl AppState {
    /// The email settings for the owner settings in force (see [`crate::owner_settings`]).
    pub fn mail_context_for(
        &self,
        owner: &crate::owner_settings::OwnerSettings,
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

    /// The email settings derived from configuration alone (stored owner settings ignored).
    pub fn mail_context(&self) -> guidance_mail::MailContext {
        let c = &self.settings.config;
        guidance_mail::MailContext {
            from_email: c.mail_from.trim().to_owned(),
            from_name: guidance_core::i18n::t(&c.owner_language, "common.product"),
            owner_email: c.owner_email.trim().to_owned(),
            owner_name: c.owner_name.trim().to_owned(),
            owner_time_zone: self.settings.time_zone.as_str().to_owned(),
            owner_lang: guidance_core::i18n::resolve(&c.owner_language).to_owned(),
            public_url: self.settings.public_url.clone(),
        }
    }
}
