//! The outbox worker: claims queued emails, hands them to a [`Mailer`], records the outcome.
//!
//! Emails were written to the outbox in the transaction that caused them, so none is lost if the
//! process stops; each keeps its Message-ID on every attempt. Failed attempts are retried with
//! exponential back-off and jitter; after the last one the email is marked failed with its error.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use guidance_store::{OutboxMessage, Store};
use jiff::{SignedDuration, Timestamp};
use rand::Rng;
use tokio::sync::{Notify, watch};

/// Attempts before an email is marked failed.
pub const MAX_ATTEMPTS: i64 = 8;
/// How long a claimed email is reserved for one sending attempt.
pub const LEASE: SignedDuration = SignedDuration::from_mins(5);

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

/// When to try again after `attempts` failed attempts: 30 s × 2^(attempts−1), at most 6 hours,
/// with up to 20% random jitter so that many failed emails do not retry in lock-step.
pub fn backoff(attempts: i64) -> SignedDuration {
    let exp = u32::try_from(attempts.saturating_sub(1).clamp(0, 16)).unwrap_or(16);
    let base = (30i64.saturating_mul(1 << exp)).min(6 * 3600);
    let jitter = rand::rng().random_range(0..=base / 5);
    SignedDuration::from_secs(base + jitter)
}

/// Sends one due email, if there is one. Returns whether one was handled.
pub async fn send_one<M: Mailer>(
    store: &dyn Store,
    mailer: &M,
) -> Result<bool, guidance_store::StoreError> {
    let now = Timestamp::now();
    let lease_until = now.checked_add(LEASE).expect("in range");
    let Some(msg) = store.claim_email(now, lease_until).await? else {
        return Ok(false);
    };
    match mailer.send(&msg).await {
        Ok(()) => {
            store.mark_email_sent(msg.id, Timestamp::now()).await?;
            tracing::info!(email = %msg.id, kind = %msg.kind, "email sent");
        }
        Err(error) if msg.attempts >= MAX_ATTEMPTS => {
            tracing::error!(email = %msg.id, %error, "email failed for good");
            store.mark_email_failed(msg.id, &error).await?;
        }
        Err(error) => {
            let next = Timestamp::now()
                .checked_add(backoff(msg.attempts))
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
        // Drain what is due; the email in hand is always finished before shutdown is looked at.
        loop {
            match send_one(store.as_ref(), &mailer).await {
                Ok(true) if !*shutdown.borrow() => continue,
                Ok(_) => break,
                Err(e) => {
                    tracing::error!(error = %e, "outbox: database error");
                    break;
                }
            }
        }
        let sleep = match store.next_email_due().await {
            Ok(Some(due)) => {
                let wait = due.duration_since(Timestamp::now());
                Duration::try_from(wait)
                    .unwrap_or(Duration::ZERO)
                    .clamp(Duration::from_millis(50), Duration::from_secs(60))
            }
            _ => Duration::from_secs(60),
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
        let first = backoff(1).as_secs();
        assert!((30..=36).contains(&first), "{first}");
        let third = backoff(3).as_secs();
        assert!((120..=144).contains(&third), "{third}");
        let late = backoff(40).as_secs();
        assert!((6 * 3600..=6 * 3600 + 6 * 720).contains(&late), "{late}");
    }
}
