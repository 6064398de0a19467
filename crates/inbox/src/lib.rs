//! Calendar replies read from the service mailbox (issue "answer from the calendar").
//!
//! The owner's invitation names the service mailbox as `ORGANIZER`; when the owner presses Yes,
//! No or Maybe in their calendar app, the app mails an iMIP `METHOD:REPLY` (or, for "propose a
//! new time", `METHOD:COUNTER`) back to that mailbox. This crate reads such an email without
//! any IO of its own, except the DNS look-ups of DKIM keys:
//! - [`part`]: the `text/calendar` part, wherever and however the client put it;
//! - [`itip`]: the REPLY or COUNTER in it (UID, SEQUENCE, the answering attendee);
//! - [`auth`]: whether the owner really sent it (DKIM aligned with the owner's address, or the
//!   mailbox server's own `Authentication-Results`), and [`dkim`] to verify signatures;
//! - [`decide`]: what the reply may change in the booking it names.
//!
//! The IMAP client, the worker and the database live in `guidance-app` and `guidance-store`.

pub mod auth;
pub mod decide;
pub mod dkim;
pub mod itip;
pub mod part;
pub mod zones;

pub use auth::{AuthFailure, Authenticated, TrustedAuthserv};
pub use decide::{Booked, IgnoreReason, ReplyAction, decide};
pub use dkim::DkimVerifier;
pub use itip::{ItipMethod, ItipReply, PartStat};
pub use part::{ReadEmail, read_email};

/// An email address as compared here: trimmed, without `mailto:`, lower-cased. Calendar apps
/// change the case of addresses freely (`MAILTO:Owner@Example.org`).
pub fn normalize_address(raw: &str) -> String {
    let s = raw.trim();
    let s = match s.get(..7) {
        Some(p) if p.eq_ignore_ascii_case("mailto:") => &s[7..],
        _ => s,
    };
    s.trim().to_ascii_lowercase()
}

/// The domain of a normalized address (after the last `@`), if any.
pub fn address_domain(address: &str) -> Option<&str> {
    address
        .rsplit_once('@')
        .map(|(_, d)| d)
        .filter(|d| !d.is_empty())
}
