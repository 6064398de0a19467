//! Emails handed from the change that queues them straight to this process's outbox worker.
//!
//! A claim costs the database a write of every email it takes, and the worker then reads each
//! one back and opens it. An email due at once, queued by a process whose worker runs, needs
//! neither: it is queued already claimed (a lease, its first attempt counted; see
//! [`guidance_store::NewEmail::leased_until`]), and once the change has committed it is handed
//! to the worker as a claim would have returned it. The worker sends it and records the
//! outcome as for any claimed email, so delivery states, retries and Message-IDs are as before.
//!
//! Nothing is lost if this process stops: the worker gives back what it still holds when it
//! stops (as it gives back a claimed email), and after a crash the lease runs out and any
//! worker claims the email. The hand-off is bounded: a change finding it full (or the worker
//! not running) queues its emails for a claim, as before.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use guidance_store::{AfterCommit, EmailStatus, NewEmail, OutboxMessage};
use jiff::Timestamp;
use uuid::Uuid;

/// The most emails held for the worker, handed over or promised: far more than a round takes,
/// few enough that each is begun long before its lease ends.
const CAPACITY: usize = 2048;

/// The emails handed to this process's outbox worker (see the module's documentation).
#[derive(Debug, Default)]
pub struct Handoff {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// Whether the worker runs and takes emails.
    open: bool,
    /// Emails promised by changes not yet committed (see [`Reservation`]).
    promised: usize,
    /// Emails handed over, in the order they were queued.
    queue: VecDeque<OutboxMessage>,
    /// When the worker last asked the store for due emails.
    asked_store: Option<Instant>,
    /// Whether the store's last answer was a full claim.
    store_backlog: bool,
}

impl Handoff {
    /// Leases the emails of `emails` that are due at once until `lease_until`, if the worker
    /// runs and has room for them, and returns the promise to hand them over once the change
    /// that queues them has committed. `None` (nothing leased) otherwise.
    pub(crate) fn lease(
        self: &Arc<Self>,
        emails: &mut [NewEmail],
        booking_id: Option<Uuid>,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> Option<Reservation> {
        let due = emails.iter().filter(|e| e.send_after.is_none()).count();
        if due == 0 {
            return None;
        }
        {
            let mut state = self.lock();
            if !state.open || state.promised + state.queue.len() + due > CAPACITY {
                return None;
            }
            state.promised += due;
        }
        let messages = emails
            .iter_mut()
            .filter(|e| e.send_after.is_none())
            .map(|email| {
                email.leased_until = Some(lease_until);
                claimed(email, booking_id, now)
            })
            .collect();
        Some(Reservation {
            handoff: Arc::clone(self),
            messages,
        })
    }

    /// How many emails are handed over and not taken by the worker yet.
    pub fn waiting(&self) -> usize {
        self.lock().queue.len()
    }

    /// Takes up to `max` emails handed over, the oldest first.
    pub(crate) fn take(&self, max: usize) -> Vec<OutboxMessage> {
        let mut state = self.lock();
        let n = max.min(state.queue.len());
        state.queue.drain(..n).collect()
    }

    /// Whether the worker asks the store for the emails due there in this round: when nothing
    /// was handed over, when its last claim came back full (a backlog there shares the rounds),
    /// and otherwise once `every` has passed since it last asked.
    pub(crate) fn store_turn(&self, every: Duration) -> bool {
        let mut state = self.lock();
        let now = Instant::now();
        let turn = state.queue.is_empty()
            || state.store_backlog
            || state.asked_store.is_none_or(|at| now - at >= every);
        if turn {
            state.asked_store = Some(now);
        }
        turn
    }

    /// The worker's claim from the store came back `full`: there may be more due there.
    pub(crate) fn store_answered(&self, full: bool) {
        self.lock().store_backlog = full;
    }

    /// The worker runs: changes may hand it their emails from now on.
    pub(crate) fn open(&self) {
        self.lock().open = true;
    }

    /// The worker stops: no change leases its emails any more. Returns the emails handed over
    /// and not taken, and how many are still promised by changes not yet committed.
    pub(crate) fn close(&self) -> (Vec<OutboxMessage>, usize) {
        let mut state = self.lock();
        state.open = false;
        (state.queue.drain(..).collect(), state.promised)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // The state is a counter and a queue, each changed in one step: never half-done.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Leased emails promised to the worker: [`Reservation::hand_over`] once their change has
/// committed. Dropped unused (the change failed, and its rows with it), it frees their room.
#[derive(Debug)]
pub(crate) struct Reservation {
    handoff: Arc<Handoff>,
    messages: Vec<OutboxMessage>,
}

impl Reservation {
    /// Hands the emails to the worker (their rows are committed, claimed by this process).
    pub(crate) fn hand_over(mut self) {
        let messages = std::mem::take(&mut self.messages);
        let mut state = self.handoff.lock();
        state.promised -= messages.len();
        state.queue.extend(messages);
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if !self.messages.is_empty() {
            self.handoff.lock().promised -= self.messages.len();
        }
    }
}

/// Leases the emails of `emails` due at once to this process's worker, for the retry policy's
/// lease from now (see [`Handoff::lease`]), and returns the hand-over, for the store to run
/// once the change that queues them has committed: in the store's own task, so that a request
/// whose client hung up meanwhile still hands them over rather than leaving them to their
/// lease. Nothing to run if nothing was leased.
pub(crate) fn lease_due(
    app: &crate::App,
    emails: &mut [NewEmail],
    booking_id: Option<Uuid>,
) -> AfterCommit {
    let now = app.now();
    let Ok(lease_until) = now.checked_add(app.settings.retry.lease) else {
        return AfterCommit::default();
    };
    match app.handoff.lease(emails, booking_id, now, lease_until) {
        Some(reservation) => AfterCommit::new(move || reservation.hand_over()),
        None => AfterCommit::default(),
    }
}

/// `email` as a claim at `now` would return its row: queued, one attempt counted.
fn claimed(email: &NewEmail, booking_id: Option<Uuid>, now: Timestamp) -> OutboxMessage {
    OutboxMessage {
        id: email.id,
        booking_id,
        kind: email.kind.clone(),
        recipient: email.recipient.clone(),
        subject: email.subject.clone(),
        message_id: email.message_id.clone(),
        message: email.message.clone(),
        status: EmailStatus::Queued,
        attempts: 1,
        next_attempt_at: now,
        last_error: None,
        sent_at: None,
        created_at: now,
        send_before: email.send_before,
        withdrawn: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email(kind: &str, send_after: Option<Timestamp>) -> NewEmail {
        NewEmail {
            id: guidance_core::ids::new_row_id(),
            kind: kind.to_owned(),
            recipient: "owner@example.org".to_owned(),
            subject: format!("About {kind}"),
            message_id: format!("<{kind}@guidance.test>"),
            message: kind.as_bytes().to_vec(),
            send_after,
            send_before: send_after,
            leased_until: None,
        }
    }

    fn t(s: &str) -> Timestamp {
        s.parse().expect("a timestamp")
    }

    #[test]
    fn only_emails_due_at_once_are_leased_and_handed_over_once_committed() {
        let handoff = Arc::new(Handoff::default());
        handoff.open();
        let now = t("2026-12-07T10:00:00Z");
        let until = t("2026-12-07T10:05:00Z");
        let later = t("2026-12-08T10:00:00Z");
        let mut emails = vec![
            email("request", None),
            email("reminder", Some(later)),
            email("receipt", None),
        ];
        let booking = Some(Uuid::from_u128(7));
        let handed = handoff
            .lease(&mut emails, booking, now, until)
            .expect("room");
        let leased: Vec<_> = emails.iter().map(|e| e.leased_until).collect();
        assert_eq!(leased, [Some(until), None, Some(until)]);
        // Not before the change has committed.
        assert!(handoff.take(10).is_empty());
        handed.hand_over();
        let taken = handoff.take(10);
        let kinds: Vec<_> = taken.iter().map(|m| m.kind.as_str()).collect();
        assert_eq!(kinds, ["request", "receipt"]);
        let first = &taken[0];
        assert_eq!(
            (first.id, first.booking_id, first.attempts, first.created_at),
            (emails[0].id, booking, 1, now)
        );
        assert_eq!(first.message, b"request");
        assert!(handoff.take(10).is_empty(), "each is handed over once");
    }

    #[test]
    fn nothing_is_leased_while_the_worker_is_not_running_or_has_no_room() {
        let handoff = Arc::new(Handoff::default());
        let now = t("2026-12-07T10:00:00Z");
        let mut emails = vec![email("request", None)];
        assert!(handoff.lease(&mut emails, None, now, now).is_none());
        assert_eq!(emails[0].leased_until, None);

        handoff.open();
        let mut many: Vec<_> = (0..CAPACITY).map(|_| email("request", None)).collect();
        let held = handoff
            .lease(&mut many, None, now, now)
            .expect("room for them");
        assert!(handoff.lease(&mut emails, None, now, now).is_none(), "full");
        assert_eq!(emails[0].leased_until, None);
        // A change that failed frees the room it had promised.
        drop(held);
        assert!(handoff.lease(&mut emails, None, now, now).is_some());
    }

    #[test]
    fn closing_gives_back_what_was_not_taken_and_counts_what_is_still_promised() {
        let handoff = Arc::new(Handoff::default());
        handoff.open();
        let now = t("2026-12-07T10:00:00Z");
        let mut first = vec![email("request", None)];
        let mut second = vec![email("receipt", None)];
        handoff
            .lease(&mut first, None, now, now)
            .expect("room")
            .hand_over();
        let pending = handoff.lease(&mut second, None, now, now).expect("room");
        let (left, promised) = handoff.close();
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].id, first[0].id);
        assert_eq!(promised, 1);
        // Committed after the close: handed over all the same, for the worker to give back.
        pending.hand_over();
        let (left, promised) = handoff.close();
        assert_eq!((left.len(), promised), (1, 0));
        assert_eq!(left[0].id, second[0].id);
        assert!(
            handoff.lease(&mut second, None, now, now).is_none(),
            "closed"
        );
    }
}
