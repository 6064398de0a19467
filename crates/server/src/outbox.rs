//! The outbox worker: claims queued emails, hands them to a [`Mailer`], records the outcome.
//!
//! Emails were written to the outbox in the transaction that caused them, so none is lost if the
//! process stops; each keeps its Message-ID on every attempt. Failed attempts are retried with
//! exponential back-off and jitter; after the last one the email is marked failed with its error,
//! for the owner to see and resend ([`crate::service::resend_email`]).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use guidance_store::{OutboxMessage, Store};
use jiff::{SignedDuration, Timestamp};
use rand::Rng;
use tokio::sync::{Notify, watch};

/// How long a claimed email is reserved for one sending attempt by default (far longer than an
/// SMTP attempt can take, see [`crate::smtp::COMMAND_TIMEOUT`]).
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

/// Something that delivers a complete message.
pub trait Mailer: Send + Sync + 'static {
    /// Delivers `msg`; an `Err` carries a short reason for the owner to read.
    fn send(
        &self,
        msg: &OutboxMessage,
    ) -> impl std::future::Future<Output = Result<(), String>> + Send;
}

/// Writes each message as an `.eml` file into a directory: the default when no SMTP server is
/// configured, so a first run needs nothing.
#[derive(Debug, Clone)]
pub struct MailDirMailer {
    dir: PathBuf,
}

impl MailDirMailer {
    /// Delivers into `dir`, creating it when missing.
    pub fn new(dir: PathBuf) -> Self {
        Self { dir }
    }
}

impl Mailer for MailDirMailer {
    async fn send(&self, msg: &OutboxMessage) -> Result<(), String> {
        tokio::fs::create_dir_all(&self.dir)
            .await
            .map_err(|e| format!("cannot create {}: {e}", self.dir.display()))?;
        // Every delivery is a new file, never an overwrite: named by creation time, kind and id
        // plus a random suffix, and linked into place only if that name is free. A second
        // delivery of the same email (which the outbox lease should prevent) thus shows up as a
        // second file with the same Message-ID instead of vanishing.
        let stamp = msg.created_at.strftime("%Y%m%dT%H%M%SZ");
        let suffix: u64 = rand::rng().random();
        let name = format!("{stamp}-{}-{}-{suffix:016x}.eml", msg.kind, msg.id);
        let path = self.dir.join(&name);
        let tmp = self.dir.join(format!(".{name}.tmp"));
        let bytes = msg.message.clone();
        tokio::task::spawn_blocking(move || {
            use std::io::Write;
            let written = (|| {
                let mut file = std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .open(&tmp)?;
                file.write_all(&bytes)?;
                drop(file);
                // A hard link fails when the name exists: the file appears whole, or not at all.
                std::fs::hard_link(&tmp, &path)
            })();
            let _ = std::fs::remove_file(&tmp);
            written.map_err(|e| format!("cannot write {}: {e}", path.display()))
        })
        .await
        .map_err(|e| format!("writing the email stopped: {e}"))?
    }
}

/// The mailer chosen by configuration: SMTP when `GUIDANCE_SMTP_URL` is set, otherwise the
/// mail directory.
#[derive(Debug, Clone)]
pub enum Delivery {
    /// `.eml` files in a directory.
    Dir(MailDirMailer),
    /// An SMTP server.
    Smtp(crate::smtp::SmtpMailer),
}

impl Mailer for Delivery {
    async fn send(&self, msg: &OutboxMessage) -> Result<(), String> {
        match self {
            Delivery::Dir(m) => m.send(msg).await,
            Delivery::Smtp(m) => m.send(msg).await,
        }
    }
}

/// Resolves once `shutdown` is true and `grace` has passed since.
async fn stopped_for(shutdown: &mut watch::Receiver<bool>, grace: Duration) {
    if shutdown.wait_for(|stop| *stop).await.is_err() {
        // The sender is gone without a signal: nobody can ask us to stop any more.
        std::future::pending::<()>().await;
    }
    tokio::time::sleep(grace).await;
}

/// The longest the worker sleeps without looking at the outbox.
const IDLE_POLL: Duration = Duration::from_secs(3);

/// Sends one due email, if there is one. Returns whether one was handled.
///
/// The email in hand is finished (sent, or its failure recorded) unless a shutdown signal came
/// and the attempt then took longer than the policy's grace: then it is released, unsent and
/// without counting the attempt, for the next worker to send. Every path records the outcome,
/// so no email is ever dropped.
pub async fn send_one<M: Mailer>(
    store: &dyn Store,
    mailer: &M,
    policy: &RetryPolicy,
    mut shutdown: watch::Receiver<bool>,
) -> Result<bool, guidance_store::StoreError> {
    let now = Timestamp::now();
    let lease_until = now.checked_add(policy.lease).expect("in range");
    let Some(msg) = store.claim_email(now, lease_until).await? else {
        return Ok(false);
    };
    let outcome = tokio::select! {
        biased;
        result = mailer.send(&msg) => Some(result),
        () = stopped_for(&mut shutdown, policy.shutdown_grace) => None,
    };
    match outcome {
        None => {
            tracing::warn!(email = %msg.id, kind = %msg.kind, "shutting down mid-send; email given back to the queue");
            store.release_email(msg.id).await?;
        }
        Some(Ok(())) => {
            if let Err(e) = store.mark_email_sent(msg.id, Timestamp::now()).await {
                // Its lease runs out and it is sent again: twice rather than never.
                tracing::error!(email = %msg.id, error = %e, "email sent but not recorded; it will be sent again");
                return Err(e);
            }
            tracing::info!(email = %msg.id, kind = %msg.kind, attempt = msg.attempts, "email sent");
        }
        Some(Err(error)) if msg.attempts >= policy.max_attempts => {
            tracing::error!(email = %msg.id, kind = %msg.kind, %error, attempts = msg.attempts, "email failed for good; the owner can resend it");
            store.mark_email_failed(msg.id, &error).await?;
        }
        Some(Err(error)) => {
            let next = Timestamp::now()
                .checked_add(policy.backoff(msg.attempts))
                .expect("in range");
            tracing::warn!(email = %msg.id, %error, attempt = msg.attempts, "email attempt failed; will retry");
            store.mark_email_retry(msg.id, &error, next).await?;
        }
    }
    Ok(true)
}

/// Runs until `shutdown` turns true: sends due emails, sleeps until the next is due or it is
/// woken, and every minute expires overdue bookings through `on_tick`.
pub async fn run<M, F, Fut>(
    store: Arc<dyn Store>,
    mailer: M,
    policy: RetryPolicy,
    wake: Arc<Notify>,
    mut shutdown: watch::Receiver<bool>,
    on_tick: F,
) where
    M: Mailer,
    F: Fn() -> Fut + Send,
    Fut: std::future::Future<Output = ()> + Send,
{
    let mut last_tick = tokio::time::Instant::now() - Duration::from_secs(3600);
    loop {
        if *shutdown.borrow() {
            break;
        }
        if last_tick.elapsed() >= Duration::from_secs(60) {
            on_tick().await;
            last_tick = tokio::time::Instant::now();
        }
        // Drain what is due; shutdown is looked at between emails.
        loop {
            match send_one(store.as_ref(), &mailer, &policy, shutdown.clone()).await {
                Ok(true) if !*shutdown.borrow() => continue,
                Ok(_) => break,
                Err(e) => {
                    tracing::error!(error = %e, "outbox: database error");
                    break;
                }
            }
        }
        // Emails queued by other processes (several servers and workers on one PostgreSQL
        // database) wake nobody here, so look again every few seconds at most.
        let sleep = match store.next_email_due().await {
            Ok(Some(due)) => {
                let wait = due.duration_since(Timestamp::now());
                Duration::try_from(wait)
                    .unwrap_or(Duration::ZERO)
                    .clamp(Duration::from_millis(20), IDLE_POLL)
            }
            _ => IDLE_POLL,
        };
        tokio::select! {
            () = wake.notified() => {}
            () = tokio::time::sleep(sleep) => {}
            _ = shutdown.changed() => {}
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
