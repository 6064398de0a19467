//! The reply reader: one process at a time (a lease in the database) keeps a connection to the
//! service mailbox, handles every message in it, files each away, and waits for news with IDLE
//! where the server has it (polling otherwise). A lost connection is opened again with
//! back-off; nothing is lost meanwhile, since messages stay in the mailbox until handled, and
//! the database remembers each Message-ID.

use std::time::Duration;

use guidance_inbox::DkimVerifier;
use jiff::SignedDuration;
use tokio::sync::watch;
use uuid::Uuid;

use super::imap::{InboxSettings, Mailbox, Waiting};
use crate::App;

/// How long the lease lasts; renewed at every round, so a process that died is taken over
/// within this time.
const LEASE: SignedDuration = SignedDuration::from_secs(90);
/// The longest one wait lasts, so that the lease is renewed in time.
const MAX_WAIT: Duration = Duration::from_secs(30);
/// How often a process without the lease asks for it.
const FOLLOWER_WAIT: Duration = Duration::from_secs(5);
/// The first wait after a failed connection; it doubles up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
/// The longest wait between two connection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// Runs until `shutdown` turns true.
pub async fn run(
    app: App,
    inbox: InboxSettings,
    verifier: DkimVerifier,
    mut shutdown: watch::Receiver<bool>,
) {
    let holder = Uuid::new_v4();
    let mut mailbox: Option<Mailbox> = None;
    let mut backoff = FIRST_BACKOFF;
    tracing::info!(mailbox = %inbox.url, "reading calendar replies");
    while !*shutdown.borrow() {
        let now = app.now();
        let until = now.checked_add(LEASE).unwrap_or(now);
        match app.store.take_inbox_lease(holder, now, until).await {
            Ok(true) => {}
            Ok(false) => {
                // Another process reads the mailbox; be ready to take over.
                mailbox = None;
                pause(&mut shutdown, FOLLOWER_WAIT).await;
                continue;
            }
            Err(e) => {
                tracing::error!(error = %e, "replies: cannot take the mailbox lease");
                pause(&mut shutdown, FOLLOWER_WAIT).await;
                continue;
            }
        }
        let round = async {
            let mut open = match mailbox.take() {
                Some(m) => m,
                None => Mailbox::open(&inbox).await?,
            };
            handle_waiting(&app, &inbox, &verifier, &mut open).await?;
            Ok::<_, String>(open)
        };
        let outcome = tokio::select! {
            r = round => r,
            _ = shutdown.changed() => break,
        };
        match outcome {
            Ok(open) => {
                backoff = FIRST_BACKOFF;
                note_check(&app, holder, None).await;
                let wait = inbox.poll.min(MAX_WAIT);
                let waited = tokio::select! {
                    r = wait_for_news(open, wait) => r,
                    _ = shutdown.changed() => break,
                };
                match waited {
                    Ok(open) => mailbox = Some(open),
                    Err(e) => {
                        tracing::warn!(error = %e, "replies: the mailbox connection broke; reconnecting")
                    }
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, retry_in_ms = backoff.as_millis() as u64, "replies: cannot read the mailbox");
                note_check(&app, holder, Some(&e)).await;
                pause(&mut shutdown, backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}

/// Handles every message waiting in the mailbox, filing each away once recorded. A message
/// larger than [`super::MAX_MESSAGE_BYTES`] is recorded as refused without being downloaded.
async fn handle_waiting(
    app: &App,
    inbox: &InboxSettings,
    verifier: &DkimVerifier,
    mailbox: &mut Mailbox,
) -> Result<(), String> {
    for Waiting { uid, size } in mailbox.waiting().await? {
        let handled = match size {
            // Too large to be a reply: named from its envelope, never downloaded.
            Some(size) if size > super::MAX_MESSAGE_BYTES => {
                let envelope = mailbox.envelope(uid).await?;
                super::refuse_too_large(app, envelope.message_id, envelope.from, uid, size).await
            }
            _ => {
                let Some(raw) = mailbox.fetch(uid).await? else {
                    continue;
                };
                super::handle_email(app, verifier, inbox.trusted_authserv.as_ref(), &raw).await
            }
        };
        match handled {
            // Recorded (or recorded before): it can leave the mailbox.
            Ok(_) => mailbox.file_away(uid).await?,
            // The database is out of reach: leave the message for the next round.
            Err(e) => return Err(format!("database: {e}")),
        }
    }
    Ok(())
}

/// Waits for news: IDLE where the server has it, else a pause and a NOOP.
async fn wait_for_news(mut mailbox: Mailbox, wait: Duration) -> Result<Mailbox, String> {
    if mailbox.can_idle {
        mailbox.idle(wait).await
    } else {
        tokio::time::sleep(wait).await;
        mailbox.noop().await?;
        Ok(mailbox)
    }
}

async fn note_check(app: &App, holder: Uuid, error: Option<&str>) {
    if let Err(e) = app.store.record_inbox_check(holder, app.now(), error).await {
        tracing::error!(error = %e, "replies: cannot note the look at the mailbox");
    }
}

async fn pause(shutdown: &mut watch::Receiver<bool>, wait: Duration) {
    tokio::select! {
        () = tokio::time::sleep(wait) => {}
        _ = shutdown.changed() => {}
    }
}
