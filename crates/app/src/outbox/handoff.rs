//! Emails handed from the change that queues them straight to this process's worker.
//!
//! A worker finds due emails by claiming them: an `UPDATE` that takes a lease on each row and
//! reads it back, message and all. For the emails of a change made in this very process, that is
//! work done twice: the process has them in hand already. So while a worker runs here, a change
//! queues its emails that are due at once already claimed (their rows hold a lease and count the
//! first attempt, as a claim writes them), and once its transaction has committed, hands them to
//! the worker through a bounded channel. The worker sends them as it sends the ones it claims,
//! and records the outcome in the same statements.
//!
//! Nothing of the outbox's promises changes. The row is written in the change's transaction, so
//! no email is lost; until its lease ends no other worker takes it. If this process dies before
//! sending it, the lease runs out and any worker sends it then, with its Message-ID, as after a
//! crash in the middle of a claimed round. An email the worker could not begin within half its
//! lease is left to the lease, and one still in the channel at shutdown is given back to the
//! queue. When no worker runs here, or its channel is full (the relay is slow), emails are queued
//! unclaimed and the workers' claims find them, as before.

use std::sync::Mutex;

use guidance_store::{EmailStatus, NewEmail, OutboxMessage};
use jiff::Timestamp;
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::App;

/// Emails that may wait in the channel: a few rounds' worth. A longer queue waits in the
/// database, where every worker can reach it.
pub const CAPACITY: usize = 256;

/// An email claimed as it was queued, for this process's worker.
#[derive(Debug)]
pub struct Handed {
    /// The email, as a claim would have read it.
    pub email: OutboxMessage,
    /// The last moment its attempt may begin (half its lease after it was queued).
    pub begin_by: Timestamp,
}

/// The channel's sending end, while a worker runs in this process.
#[derive(Debug, Default)]
pub struct Handoff {
    sender: Mutex<Option<mpsc::Sender<Handed>>>,
}

impl Handoff {
    /// Opens the channel for the worker starting in this process; emails are handed over until
    /// the returned end is dropped (or another worker opens it).
    pub fn open(&self) -> mpsc::Receiver<Handed> {
        let (sender, receiver) = mpsc::channel(CAPACITY);
        *self.sender.lock().unwrap_or_else(|e| e.into_inner()) = Some(sender);
        receiver
    }

    /// Claims the emails of `emails` that are due at once, as many as the channel has room
    /// for, before their change is written: each gets a lease and is kept to be handed over
    /// with [`Claimed::hand_over`] once the change has committed. The others (scheduled ones,
    /// and all of them when no worker runs here) are left to the workers' claims.
    pub fn claim(&self, app: &App, booking_id: Option<Uuid>, emails: &mut [NewEmail]) -> Claimed {
        let mut claimed = Claimed::default();
        let Some(sender) = self
            .sender
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
        else {
            claimed.left = emails.iter().any(|e| e.send_after.is_none());
            return claimed;
        };
        let now = app.now();
        let lease = app.settings.retry.lease;
        let lease_until = now.checked_add(lease).expect("in range");
        let begin_by = now.checked_add(lease / 2).expect("in range");
        for email in emails.iter_mut().filter(|e| e.send_after.is_none()) {
            let Ok(permit) = sender.clone().try_reserve_owned() else {
                claimed.left = true;
                continue;
            };
            email.lease_until = Some(lease_until);
            let handed = Handed {
                email: OutboxMessage {
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
                },
                begin_by,
            };
            claimed.emails.push((permit, handed));
        }
        claimed
    }
}

/// Emails claimed by [`Handoff::claim`], to hand over once their change has committed; dropped
/// unsent when it did not (their rows were never written).
#[derive(Debug, Default)]
pub struct Claimed {
    emails: Vec<(mpsc::OwnedPermit<Handed>, Handed)>,
    /// Some email due at once was left to the workers' claims.
    left: bool,
}

impl Claimed {
    /// Hands the emails to this process's worker, and wakes whoever must look at the
    /// database: the worker, for emails left to its claims, and the webhook loop, for the
    /// messages the change may have queued.
    pub fn hand_over(self, app: &App) {
        for (permit, handed) in self.emails {
            permit.send(handed);
        }
        if self.left {
            // The worker passes the wake-up on to the webhook loop.
            app.outbox_wake.notify_one();
        } else {
            app.webhooks.wake.notify_one();
        }
    }
}
