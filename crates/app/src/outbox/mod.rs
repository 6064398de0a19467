//! Sending the emails queued in the outbox: the worker, the retry policy, and the two ways an
//! email leaves (SMTP, or a file in the mail directory).
//!
//! Emails were written to the outbox in the transaction that caused them, so none is lost if the
//! process stops; each keeps its Message-ID on every attempt. Failed attempts are retried with
//! exponential back-off and jitter; after the last one the email is marked failed with its error,
//! for the owner to see and resend ([`crate::bookings::resend_email`]).

pub mod handoff;
pub mod maildir;
pub mod relay;
pub mod smtp;
pub mod worker;

use std::time::Duration;

use guidance_store::OutboxMessage;
use jiff::SignedDuration;
use rand::Rng;

pub use maildir::{Delivery, MailDirMailer};
pub use worker::{run, send_due};

/// How long a claimed email is reserved for one sending attempt by default (far longer than an
/// SMTP attempt can take, see [`crate::outbox::smtp::COMMAND_TIMEOUT`]).
pub const LEASE: SignedDuration = SignedDuration::from_mins(5);
/// The longest wait between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(6 * 3600);

/// When to retry and when to give up; configurable so that tests can run a whole retry cycle in
/// a moment.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// The wait after the first failed attempt; each further failure doubles it.
    pub base: Duration,
    /// Attempts before an email is marked failed.
    pub max_attempts: i64,
    /// After a shutdown signal, how long the email in hand may still take before it is given
    /// back to the queue unsent.
    pub shutdown_grace: Duration,
    /// How long a claimed email is reserved for its attempt: when the process sending it dies,
    /// the email is claimed and sent again (same Message-ID) once the lease has run out.
    pub lease: SignedDuration,
}

impl Default for RetryPolicy {
    /// 30 s, 1 min, 2 min, … 32 min: eight attempts over about an hour; 10 s to finish on shutdown.
    fn default() -> Self {
        Self {
            base: Duration::from_secs(30),
            max_attempts: 8,
            shutdown_grace: Duration::from_secs(10),
            lease: LEASE,
        }
    }
}

impl RetryPolicy {
    /// When to try again after `attempts` failed attempts: base × 2^(attempts−1), at most
    /// 6 hours, plus up to 20% random jitter so that many failed emails do not retry in
    /// lock-step.
    pub fn backoff(&self, attempts: i64) -> SignedDuration {
        let exp = u32::try_from(attempts.saturating_sub(1).clamp(0, 20)).unwrap_or(20);
        let base = self.base.saturating_mul(1 << exp).min(MAX_BACKOFF);
        let millis = u64::try_from(base.as_millis()).unwrap_or(u64::MAX);
        let jitter = rand::rng().random_range(0..=millis / 5);
        SignedDuration::try_from(base + Duration::from_millis(jitter))
            .unwrap_or(SignedDuration::from_hours(6))
    }
}

/// Seals the emails an older version kept plain (see [`guidance_core::sealed`]), so that a copy
/// of the database opens nothing. Runs at start-up; safe in several processes at once. Returns
/// how many were sealed.
pub async fn seal_stored(app: &crate::App) -> Result<u64, guidance_store::StoreError> {
    let mut sealed = 0;
    loop {
        let plain = app.store.unsealed_emails(200).await?;
        if plain.is_empty() {
            break;
        }
        for m in &plain {
            let bytes = app.seal.seal(&m.message_id, &m.message);
            app.store.seal_stored_email(m.id, &bytes).await?;
            sealed += 1;
        }
    }
    if sealed > 0 {
        tracing::info!(
            emails = sealed,
            "sealed the emails an older version kept plain"
        );
    }
    Ok(sealed)
}

/// What an email said, for the owner to read in the admin UI: its plain-text part, opened from
/// the sealed outbox. `None` when it cannot be opened (another secret sealed it).
pub fn readable_text(app: &crate::App, msg: &OutboxMessage) -> Option<String> {
    let bytes = app.seal.open(&msg.message_id, &msg.message).ok()?;
    guidance_mail::plain_text(&bytes)
}

/// Something that delivers a complete message.
pub trait Mailer: Send + Sync + 'static {
    /// Delivers `msg`; an `Err` carries a short reason for the owner to read.
    fn send(
        &self,
        msg: &OutboxMessage,
    ) -> impl std::future::Future<Output = Result<(), String>> + Send;

    /// How many emails [`Mailer::send_all`] takes at once; one, unless sending several together
    /// saves something (SMTP's round trips).
    fn batch(&self) -> usize {
        1
    }

    /// Delivers `msgs` in order, pushing each one's result onto `done` as soon as it is known,
    /// so that a caller that stops waiting knows which were delivered. The emails it leaves
    /// without a result were not sent.
    fn send_all(
        &self,
        msgs: &[&OutboxMessage],
        done: &mut Vec<Result<(), String>>,
    ) -> impl std::future::Future<Output = ()> + Send {
        async move {
            for msg in msgs {
                let sent = self.send(msg).await;
                done.push(sent);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_bounded() {
        let policy = RetryPolicy::default();
        let first = policy.backoff(1).as_secs();
        assert!((30..=36).contains(&first), "{first}");
        let third = policy.backoff(3).as_secs();
        assert!((120..=144).contains(&third), "{third}");
        let late = policy.backoff(40).as_secs();
        assert!((6 * 3600..=6 * 3600 + 6 * 720).contains(&late), "{late}");
    }
}
