//! The outbox worker: claims due emails one at a time, hands each to a [`Mailer`] and records
//! the outcome; every minute it also expires overdue bookings.

use std::time::Duration;

use tokio::sync::watch;
use tracing::Instrument;

use super::Mailer;
use crate::App;

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
    app: &App,
    mailer: &M,
    mut shutdown: watch::Receiver<bool>,
) -> Result<bool, guidance_store::StoreError> {
    let store = app.store.as_ref();
    let policy = &app.settings.retry;
    let now = app.now();
    let lease_until = now.checked_add(policy.lease).expect("in range");
    let Some(msg) = store.claim_email(now, lease_until).await? else {
        return Ok(false);
    };
    let span = tracing::info_span!("outbox_attempt", email = %msg.id, kind = %msg.kind, attempt = msg.attempts);
    let outcome = async {
        tokio::select! {
            biased;
            result = mailer.send(&msg) => Some(result),
            () = stopped_for(&mut shutdown, policy.shutdown_grace) => None,
        }
    }
    .instrument(span.clone())
    .await;
    // What became of the attempt is logged in its span too.
    async {
        match outcome {
            None => {
                tracing::warn!(email = %msg.id, kind = %msg.kind, "shutting down mid-send; email given back to the queue");
                store.release_email(msg.id).await?;
            }
            Some(Ok(())) => {
                if let Err(e) = store.mark_email_sent(msg.id, app.now()).await {
                    // Its lease runs out and it is sent again: twice rather than never.
                    tracing::error!(email = %msg.id, error = %e, "email sent but not recorded; it will be sent again");
                    return Err(e);
                }
                app.metrics.email_sent();
                tracing::info!(email = %msg.id, kind = %msg.kind, attempt = msg.attempts, "email sent");
            }
            Some(Err(error)) if msg.attempts >= policy.max_attempts => {
                tracing::error!(email = %msg.id, kind = %msg.kind, %error, attempts = msg.attempts, "email failed for good; the owner can resend it");
                store.mark_email_failed(msg.id, &error).await?;
                app.metrics.email_failed();
            }
            Some(Err(error)) => {
                let next = app
                    .now()
                    .checked_add(policy.backoff(msg.attempts))
                    .expect("in range");
                tracing::warn!(email = %msg.id, %error, attempt = msg.attempts, "email attempt failed; will retry");
                store.mark_email_retry(msg.id, &error, next).await?;
                app.metrics.email_retry();
            }
        }
        Ok(true)
    }
    .instrument(span)
    .await
}

/// Runs until `shutdown` turns true: sends due emails, sleeps until the next is due or it is
/// woken, and every minute expires overdue bookings.
pub async fn run<M: Mailer>(app: App, mailer: M, mut shutdown: watch::Receiver<bool>) {
    let mut last_tick = tokio::time::Instant::now() - Duration::from_secs(3600);
    loop {
        if *shutdown.borrow() {
            break;
        }
        if last_tick.elapsed() >= Duration::from_secs(60) {
            expire(&app).await;
            last_tick = tokio::time::Instant::now();
        }
        // Drain what is due; shutdown is looked at between emails.
        loop {
            match send_one(&app, &mailer, shutdown.clone()).await {
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
        let sleep = match app.store.next_email_due().await {
            Ok(Some(due)) => {
                let wait = due.duration_since(app.now());
                Duration::try_from(wait)
                    .unwrap_or(Duration::ZERO)
                    .clamp(Duration::from_millis(20), IDLE_POLL)
            }
            _ => IDLE_POLL,
        };
        tokio::select! {
            () = app.outbox_wake.notified() => {}
            () = tokio::time::sleep(sleep) => {}
            _ = shutdown.changed() => {}
        }
    }
}

/// One expiry run: overdue requests expire, and the slots they held are offered again.
async fn expire(app: &App) {
    let span = tracing::info_span!("expiry_run");
    let outcome = crate::bookings::expire_overdue(app)
        .instrument(span.clone())
        .await;
    app.metrics.expiry_run(&outcome);
    match outcome {
        Ok(0) => {}
        Ok(n) => tracing::info!(expired = n, "expired overdue bookings"),
        Err(e) => tracing::error!(error = %e, "expiring overdue bookings failed"),
    }
}
