//! The outbox worker: takes due emails in rounds (handed over by this process's changes, or
//! claimed from the store), hands them to a [`Mailer`] several at once and records the
//! outcomes; every minute it also writes the owner's reminders that fell due, expires overdue
//! bookings and erases the visitors' data of sessions past the owner's retention. Beside it
//! runs the delivery of webhook messages ([`crate::webhooks::deliver`]).

use std::collections::HashMap;
use std::time::Duration;

use futures_util::{StreamExt as _, stream};
use guidance_store::OutboxMessage;
use jiff::Timestamp;
use tokio::sync::watch;
use tracing::Instrument;
use uuid::Uuid;

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
/// Emails taken per connection in one round: enough to keep every connection busy between
/// two rounds, few enough that each attempt of a round begins long before its lease ends.
const PER_CONNECTION: u32 = 8;
/// The pause after a round that took fewer emails than it could, before the next round.
///
/// While bookings keep coming, a round that goes on at once finds only the two or three emails
/// queued while the last one was sent, and pays a mark (and, when they came from the store, a
/// claim) for them. Waiting this long lets the emails of many bookings gather, so a round
/// carries up to its full size for the same statements, while an email still leaves well
/// within a second. A full round (a backlog) goes on at once.
const GATHER: Duration = Duration::from_millis(20);
/// While changes keep handing their emails over, how often the store is still asked for the
/// emails due there.
const STORE_TURN: Duration = Duration::from_secs(1);

/// The SMTP connections a round sends over at once (`GUIDANCE_SMTP_CONNECTIONS`, at least one).
fn connections(app: &App) -> u32 {
    app.settings.config.smtp_connections.max(1)
}

/// The most emails one round takes: [`PER_CONNECTION`] for each SMTP connection.
fn round_size(app: &App) -> u32 {
    connections(app) * PER_CONNECTION
}

/// What became of one claimed email.
enum Outcome {
    /// Handed to the mail system.
    Sent,
    /// The attempt failed with this reason.
    Failed(String),
    /// The stored message cannot be opened (another secret sealed it): no attempt can succeed.
    Unopenable(String),
    /// Not sent (a shutdown, or the connection failed before it): given back to the queue.
    Released,
    /// Not begun in time: left to its lease, after which it is claimed again.
    LeftToLease,
    /// A scheduled email whose last useful moment (`send_before`) has passed: dropped, unsent.
    TooLate,
}

/// Sends a round of due emails, if any: takes up to [`PER_CONNECTION`] per connection, those
/// handed over by this process's changes (see [`super::handoff`]) and those claimed from the
/// store in one statement, sends them over `GUIDANCE_SMTP_CONNECTIONS` connections at once, and
/// records the sent ones in one statement. Returns how many it took.
///
/// While changes keep handing emails over, the store is asked at most every [`STORE_TURN`]
/// (the emails due there, retries, reminders and other processes' emails, wait that long at
/// most), or every round while its claims come back full; on its turn it has half the round.
///
/// An email in hand is finished (sent, or its failure recorded) unless a shutdown signal came
/// and the attempt then took longer than the policy's grace: then it is released, unsent and
/// without counting the attempt, for the next worker to send; so are the emails of the round not
/// begun yet. An email whose attempt could not begin within half its lease is left to the lease,
/// so that it is never sent while another worker may hold it. Every path records the outcome,
/// so no email is ever dropped.
pub async fn send_due<M: Mailer>(
    app: &App,
    mailer: &M,
    shutdown: watch::Receiver<bool>,
) -> Result<usize, guidance_store::StoreError> {
    let policy = &app.settings.retry;
    let connections = connections(app);
    let size = round_size(app) as usize;
    let now = app.now();
    let half_lease = policy.lease / 2;
    let store_turn = app.handoff.store_turn(STORE_TURN);
    // Each leased when it was queued: it must begin within half its lease, as a claimed one.
    let mut round: Vec<(OutboxMessage, Timestamp)> = app
        .handoff
        .take(if store_turn { size / 2 } else { size })
        .into_iter()
        .map(|msg| {
            let begin_by = msg.created_at.checked_add(half_lease).expect("in range");
            (msg, begin_by)
        })
        .collect();
    if store_turn {
        let lease_until = now.checked_add(policy.lease).expect("in range");
        let begin_by = now.checked_add(half_lease).expect("in range");
        let limit = size - round.len();
        let claimed = app
            .store
            .claim_emails(now, lease_until, u32::try_from(limit).unwrap_or(u32::MAX))
            .await;
        match claimed {
            Ok(claimed) => {
                app.handoff.store_answered(claimed.len() == limit);
                round.extend(claimed.into_iter().map(|msg| (msg, begin_by)));
            }
            Err(e) if round.is_empty() => return Err(e),
            // The emails in hand go all the same.
            Err(e) => tracing::error!(error = %e, "outbox: claiming due emails failed"),
        }
    }
    let taken = round.len();
    let connections = usize::try_from(connections).unwrap_or(1);
    let batches = batches(round, connections, mailer.batch());
    let outcomes: Vec<(OutboxMessage, Outcome)> = stream::iter(batches)
        .map(|batch| attempt(app, mailer, batch, shutdown.clone()))
        .buffer_unordered(connections)
        .flat_map(stream::iter)
        .collect()
        .await;
    record(app, outcomes, shutdown).await?;
    Ok(taken)
}

/// One attempt at a batch of claimed emails: opens their sealed messages and hands those still
/// to be sent to `mailer` together.
async fn attempt<M: Mailer>(
    app: &App,
    mailer: &M,
    batch: Vec<(OutboxMessage, Timestamp)>,
    mut shutdown: watch::Receiver<bool>,
) -> Vec<(OutboxMessage, Outcome)> {
    let mut outcomes = Vec::with_capacity(batch.len());
    let mut ready = Vec::with_capacity(batch.len());
    for (mut msg, begin_by) in batch {
        match not_now(app, &mut msg, begin_by, &shutdown) {
            None => ready.push(msg),
            Some(outcome) => outcomes.push((msg, outcome)),
        }
    }
    if ready.is_empty() {
        return outcomes;
    }
    let span = tracing::info_span!("outbox_attempt", emails = ready.len(), first = %ready[0].id);
    let mut done = Vec::with_capacity(ready.len());
    {
        let msgs: Vec<&OutboxMessage> = ready.iter().collect();
        tokio::select! {
            biased;
            () = mailer.send_all(&msgs, &mut done).instrument(span) => {}
            () = stopped_for(&mut shutdown, app.settings.retry.shutdown_grace) => {}
        }
    }
    // The emails left without a result were not sent: given back to the queue.
    let mut results = done.into_iter();
    outcomes.extend(ready.into_iter().map(|msg| {
        let outcome = match results.next() {
            Some(Ok(())) => Outcome::Sent,
            Some(Err(error)) => Outcome::Failed(error),
            None => Outcome::Released,
        };
        (msg, outcome)
    }));
    outcomes
}

/// Opens the sealed message of `msg` if it is to be sent now; otherwise what becomes of it.
fn not_now(
    app: &App,
    msg: &mut OutboxMessage,
    begin_by: Timestamp,
    shutdown: &watch::Receiver<bool>,
) -> Option<Outcome> {
    if *shutdown.borrow() {
        return Some(Outcome::Released);
    }
    // A scheduled email (a reminder) whose moment passed while nobody could send it is sent
    // late only while it still makes sense; after that it is dropped, and the row says why.
    if msg.send_before.is_some_and(|before| before <= app.now()) {
        return Some(Outcome::TooLate);
    }
    if app.now() > begin_by {
        return Some(Outcome::LeftToLease);
    }
    match app.seal.open(&msg.message_id, &msg.message) {
        Ok(bytes) => {
            msg.message = bytes;
            None
        }
        Err(e) => Some(Outcome::Unopenable(e.to_string())),
    }
}

/// `round` split for the connections to send at once. A mailer that sends one email at a time
/// gets each alone. Otherwise the emails make batches of about `batch` emails, at least one for
/// each connection, and those about one booking go in one batch in the order they were queued,
/// so that its calendar updates reach each recipient in order (a connection sends its batch in
/// order; two connections race).
fn batches(
    round: Vec<(OutboxMessage, Timestamp)>,
    connections: usize,
    batch: usize,
) -> Vec<Vec<(OutboxMessage, Timestamp)>> {
    if batch <= 1 {
        return round.into_iter().map(|email| vec![email]).collect();
    }
    let count = connections
        .max(round.len().div_ceil(batch))
        .clamp(1, round.len().max(1));
    let mut batches: Vec<Vec<_>> = (0..count).map(|_| Vec::new()).collect();
    let mut batch_of: HashMap<Uuid, usize> = HashMap::new();
    for email in round {
        let msg = &email.0;
        let about = msg.booking_id.unwrap_or(msg.id);
        let next = batch_of.len() % count;
        let i = *batch_of.entry(about).or_insert(next);
        batches[i].push(email);
    }
    batches.retain(|b| !b.is_empty());
    batches
}

/// Records the outcomes of a round: the sent emails in one statement (see [`record_sent`]),
/// the others one by one.
async fn record(
    app: &App,
    outcomes: Vec<(OutboxMessage, Outcome)>,
    shutdown: watch::Receiver<bool>,
) -> Result<(), guidance_store::StoreError> {
    let store = app.store.as_ref();
    let policy = &app.settings.retry;
    let sent: Vec<Uuid> = outcomes
        .iter()
        .filter(|(_, o)| matches!(o, Outcome::Sent))
        .map(|(m, _)| m.id)
        .collect();
    record_sent(app, &sent, shutdown).await?;
    for (msg, outcome) in outcomes {
        match outcome {
            Outcome::Sent => {
                app.metrics.email_sent();
                tracing::info!(email = %msg.id, kind = %msg.kind, attempt = msg.attempts, "email sent");
            }
            Outcome::Released => {
                tracing::warn!(email = %msg.id, kind = %msg.kind, "email not sent; given back to the queue");
                store.release_email(msg.id).await?;
            }
            Outcome::TooLate => {
                tracing::warn!(email = %msg.id, kind = %msg.kind, "scheduled email dropped: its moment passed unsent");
                store.drop_late_email(msg.id, app.now()).await?;
            }
            Outcome::LeftToLease => {
                tracing::warn!(email = %msg.id, kind = %msg.kind, "email not begun within half its lease; it is sent after the lease");
            }
            Outcome::Unopenable(error) => {
                tracing::error!(email = %msg.id, kind = %msg.kind, %error, "email cannot be opened; the owner sees it failed");
                store.mark_email_failed(msg.id, &error).await?;
            }
            Outcome::Failed(error) if msg.attempts >= policy.max_attempts => {
                tracing::error!(email = %msg.id, kind = %msg.kind, %error, attempts = msg.attempts, "email failed for good; the owner can resend it");
                store.mark_email_failed(msg.id, &error).await?;
                app.metrics.email_failed();
            }
            Outcome::Failed(error) => {
                let next = app
                    .now()
                    .checked_add(policy.backoff(msg.attempts))
                    .expect("in range");
                tracing::warn!(email = %msg.id, %error, attempt = msg.attempts, "email attempt failed; will retry");
                store.mark_email_retry(msg.id, &error, next).await?;
                app.metrics.email_retry();
            }
        }
    }
    Ok(())
}

/// The first wait before the worker tries again to record emails it has sent, and the longest.
const RECORD_AGAIN: (Duration, Duration) = (Duration::from_millis(100), Duration::from_secs(5));

/// Records `sent` as sent. While the store cannot be reached (an outage may begin between an
/// email's sending and its record), the worker keeps trying, waiting longer each time, rather
/// than giving up and leaving the emails to be sent again once their leases end: until then no
/// other worker may take them, so a store back within the lease records each as sent once (and
/// with no other worker, however long it takes). Only a shutdown ends the wait: the emails are
/// then left to their leases and sent again, twice rather than never.
async fn record_sent(
    app: &App,
    sent: &[Uuid],
    mut shutdown: watch::Receiver<bool>,
) -> Result<(), guidance_store::StoreError> {
    let mut wait = RECORD_AGAIN.0;
    loop {
        let Err(e) = app.store.mark_emails_sent(sent, app.now()).await else {
            return Ok(());
        };
        let stopping = *shutdown.borrow()
            || tokio::select! {
                () = tokio::time::sleep(wait) => false,
                // A signal, or the sender gone: nobody waits for these records any more.
                _ = shutdown.changed() => true,
            };
        if stopping {
            tracing::error!(emails = sent.len(), error = %e, "emails sent but not recorded; they will be sent again");
            return Err(e);
        }
        tracing::warn!(emails = sent.len(), error = %e, "emails sent but not recorded yet; trying again");
        wait = (wait * 2).min(RECORD_AGAIN.1);
    }
}

/// Runs until `shutdown` turns true: sends due emails, sleeps until the next is due or it is
/// woken, and every minute writes the reminders that fell due and expires overdue bookings.
pub async fn run<M: Mailer>(app: App, mailer: M, mut shutdown: watch::Receiver<bool>) {
    // Webhook messages are delivered beside the emails, in a loop of their own so that a slow
    // receiver never holds up an email.
    let webhooks = tokio::spawn(crate::webhooks::deliver::run(app.clone(), shutdown.clone()));
    app.handoff.open();
    let mut last_tick = tokio::time::Instant::now() - Duration::from_secs(3600);
    loop {
        if *shutdown.borrow() {
            break;
        }
        if last_tick.elapsed() >= Duration::from_secs(60) {
            remind(&app).await;
            expire(&app).await;
            retention(&app).await;
            last_tick = tokio::time::Instant::now();
        }
        // Drain what is due; shutdown is looked at between emails.
        let mut sent_any = false;
        loop {
            match send_due(&app, &mailer, shutdown.clone()).await {
                Ok(n) if n > 0 && !*shutdown.borrow() => {
                    sent_any = true;
                    if n < round_size(&app) as usize {
                        tokio::select! {
                            () = tokio::time::sleep(GATHER) => {}
                            _ = shutdown.changed() => {}
                        }
                    }
                    continue;
                }
                Ok(_) => break,
                Err(e) => {
                    tracing::error!(error = %e, "outbox: database error");
                    break;
                }
            }
        }
        if sent_any {
            // An erased booking's last emails (a cancellation's) go once they are sent.
            if let Err(e) = crate::privacy::erase_leftovers(&app).await {
                tracing::error!(error = %e, "erasing the sent emails of erased bookings failed");
            }
        }
        // A booking's change wakes this worker; its webhook messages are news for the webhook
        // loop too.
        let woken = app.outbox_wake.notified();
        tokio::pin!(woken);
        if woken.as_mut().enable() {
            // Changes came while this round ran (under load, they always do): their emails are
            // due now, so go on at once without asking when the next one is due.
            app.webhooks.wake.notify_one();
            continue;
        }
        // Emails queued by other processes (several servers and workers on one PostgreSQL
        // database) wake nobody here, so look again every few seconds at most.
        let sleep = match app.store.next_email_due(app.now()).await {
            Ok(Some(due)) => {
                let wait = due.duration_since(app.now());
                Duration::try_from(wait)
                    .unwrap_or(Duration::ZERO)
                    .clamp(Duration::from_millis(20), IDLE_POLL)
            }
            _ => IDLE_POLL,
        };
        tokio::select! {
            () = woken => app.webhooks.wake.notify_one(),
            () = tokio::time::sleep(sleep) => {}
            _ = shutdown.changed() => {}
        }
    }
    give_back_handed_over(&app).await;
    if let Err(e) = webhooks.await {
        tracing::error!(error = %e, "the webhook loop ended abnormally");
    }
}

/// On stopping: no change hands its emails over any more, and those handed over and not sent
/// go back to the queue for the next worker, as a claimed email does on shutdown. A change that
/// was committing meanwhile hands its emails over a moment later; they are waited for briefly
/// (after that, their leases run out and any worker sends them).
async fn give_back_handed_over(app: &App) {
    let waited = tokio::time::Instant::now();
    loop {
        let (left, promised) = app.handoff.close();
        for msg in left {
            tracing::warn!(email = %msg.id, kind = %msg.kind, "email not sent; given back to the queue");
            if let Err(e) = app.store.release_email(msg.id).await {
                tracing::error!(email = %msg.id, error = %e, "giving an email back failed; it is sent once its lease ends");
            }
        }
        if promised == 0 || waited.elapsed() >= app.settings.retry.shutdown_grace {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// One retention run: the visitors' data of sessions past the owner's retention is erased.
async fn retention(app: &App) {
    if let Err(e) = crate::privacy::erase_past_retention(app).await {
        tracing::error!(error = %e, "erasing visitors' data past retention failed");
    }
}

/// One reminder run: the owner's reminders that fell due are written.
async fn remind(app: &App) {
    match crate::reminders::queue_due_answer_reminders(app).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(reminders = n, "queued the owner's reminders that fell due"),
        Err(e) => tracing::error!(error = %e, "writing the owner's reminders that fell due failed"),
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

#[cfg(test)]
mod tests {
    use guidance_store::EmailStatus;

    use super::*;

    fn email(booking: u128, n: u128) -> (OutboxMessage, Timestamp) {
        let at = Timestamp::UNIX_EPOCH;
        let msg = OutboxMessage {
            id: Uuid::from_u128(1000 + n),
            booking_id: Some(Uuid::from_u128(booking)),
            kind: "owner_new_request".into(),
            recipient: "owner@example.org".into(),
            subject: "A request".into(),
            message_id: format!("<{n}@guidance.test>"),
            message: Vec::new(),
            status: EmailStatus::Queued,
            attempts: 1,
            next_attempt_at: at,
            last_error: None,
            sent_at: None,
            created_at: at,
            send_before: None,
            withdrawn: None,
        };
        (msg, at)
    }

    fn numbers(batches: &[Vec<(OutboxMessage, Timestamp)>]) -> Vec<Vec<u128>> {
        batches
            .iter()
            .map(|b| b.iter().map(|(m, _)| m.id.as_u128() - 1000).collect())
            .collect()
    }

    #[test]
    fn a_bookings_emails_share_a_batch_in_order_and_the_bookings_spread_over_the_connections() {
        // Bookings 1, 2, 3 and 4; booking 1's emails queued first, third and last.
        let round = vec![
            email(1, 0),
            email(2, 1),
            email(1, 2),
            email(3, 3),
            email(4, 4),
            email(2, 5),
            email(1, 6),
        ];
        assert_eq!(
            numbers(&batches(round.clone(), 3, 8)),
            [vec![0, 2, 4, 6], vec![1, 5], vec![3]]
        );
        // More connections than bookings: no empty batch.
        assert_eq!(numbers(&batches(round[..2].to_vec(), 4, 8)), [[0], [1]]);
        // More emails than the connections' batches hold: more batches.
        assert_eq!(
            numbers(&batches(round.clone(), 1, 2)),
            [vec![0, 2, 6], vec![1, 5], vec![3], vec![4]]
        );
        // A mailer that sends one at a time gets each email alone, in the order queued.
        let alone = numbers(&batches(round, 3, 1));
        assert_eq!(alone, (0..7).map(|n| vec![n]).collect::<Vec<_>>());
        assert!(batches(Vec::new(), 3, 8).is_empty());
    }
}
