//! What happened in this process, counted for `/metrics`: bookings requested, moves by the
//! status they reached, emails sent, retried and failed, expiry runs. The use cases bump these
//! after the change is committed; each is one atomic add, no lock and no allocation.
//!
//! What the database knows across processes (bookings by status, the emails waiting, how old
//! the oldest is) is not counted here but read at scrape time: see [`crate::ops`].

use std::sync::atomic::{AtomicU64, Ordering};

use guidance_core::BookingStatus;

use crate::exposition::{Exposition, Kind};

/// This process's counters. Cheap to share (`App` holds it in an `Arc`).
#[derive(Debug, Default)]
pub struct Metrics {
    bookings_created: AtomicU64,
    /// Moves by the status reached, in the order of [`BookingStatus::ALL`].
    transitions: [AtomicU64; BookingStatus::ALL.len()],
    emails_sent: AtomicU64,
    email_retries: AtomicU64,
    emails_failed: AtomicU64,
    expiry_runs: AtomicU64,
    expiry_failures: AtomicU64,
    bookings_expired: AtomicU64,
}

/// Adds one, for counters nobody reads on the request's path (only `/metrics` does).
fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

impl Metrics {
    /// A booking request was recorded.
    pub fn booking_created(&self) {
        bump(&self.bookings_created);
    }

    /// A booking moved to `to`.
    pub fn booking_moved(&self, to: BookingStatus) {
        if let Some(i) = BookingStatus::ALL.iter().position(|s| *s == to) {
            bump(&self.transitions[i]);
        }
    }

    /// An email left (the SMTP server took it, or its file was written).
    pub fn email_sent(&self) {
        bump(&self.emails_sent);
    }

    /// An attempt to send an email failed; it will be tried again.
    pub fn email_retry(&self) {
        bump(&self.email_retries);
    }

    /// An email failed for good (until the owner resends it).
    pub fn email_failed(&self) {
        bump(&self.emails_failed);
    }

    /// An expiry run ended: `Ok(n)` bookings expired, or it failed.
    pub fn expiry_run<E>(&self, outcome: &Result<usize, E>) {
        bump(&self.expiry_runs);
        match outcome {
            Ok(n) => {
                self.bookings_expired
                    .fetch_add(u64::try_from(*n).unwrap_or(u64::MAX), Ordering::Relaxed);
            }
            Err(_) => bump(&self.expiry_failures),
        }
    }

    /// Writes every counter.
    pub fn render(&self, out: &mut Exposition) {
        let read = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let plain: [(&str, &str, &AtomicU64); 7] = [
            (
                "guidance_bookings_created_total",
                "Booking requests recorded by this process.",
                &self.bookings_created,
            ),
            (
                "guidance_emails_sent_total",
                "Emails this process delivered (to the SMTP server or the mail directory).",
                &self.emails_sent,
            ),
            (
                "guidance_email_retries_total",
                "Sending attempts of this process that failed and will be retried.",
                &self.email_retries,
            ),
            (
                "guidance_emails_failed_total",
                "Emails this process gave up on after the last attempt.",
                &self.emails_failed,
            ),
            (
                "guidance_expiry_runs_total",
                "Runs of the expiry of overdue bookings in this process.",
                &self.expiry_runs,
            ),
            (
                "guidance_expiry_failures_total",
                "Expiry runs of this process that failed.",
                &self.expiry_failures,
            ),
            (
                "guidance_bookings_expired_total",
                "Bookings this process expired.",
                &self.bookings_expired,
            ),
        ];
        for (name, help, counter) in plain {
            out.family(name, Kind::Counter, help);
            out.sample(name, &[], read(counter));
        }
        let name = "guidance_booking_transitions_total";
        out.family(
            name,
            Kind::Counter,
            "Bookings this process moved, by the status they reached.",
        );
        for (status, counter) in BookingStatus::ALL.iter().zip(&self.transitions) {
            out.sample(name, &[("to", status.as_str())], read(counter));
        }
    }
}
