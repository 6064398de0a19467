//! Webhooks, decided without IO: the events a booking's change is announced as, the endpoint's
//! signing secret, and the signature of one message as the Standard Webhooks specification
//! asks (`webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, the secret
//! written `whsec_<base64 key>`).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

use crate::booking::{BookingAction, BookingStatus};
use crate::fields::{FieldErrors, FieldReason};

/// Bytes of a new endpoint's signing key (the specification asks for 24 to 64).
const KEY_LEN: usize = 32;
/// The prefix the specification gives a secret's text form.
const SECRET_PREFIX: &str = "whsec_";
/// Most events one endpoint may name (there are only so many).
const MAX_EVENTS: usize = 16;
/// Longest endpoint URL accepted.
pub const URL_MAX: usize = 2000;

/// What happened to a booking, as a receiver is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum WebhookEvent {
    /// A request reached the owner (made, or confirmed by the visitor).
    Requested,
    /// The owner accepted.
    Accepted,
    /// The owner declined.
    Declined,
    /// The owner asked the visitor to choose another time.
    RescheduleRequested,
    /// The visitor chose another time.
    Rescheduled,
    /// Called off, by either side.
    Cancelled,
    /// Time ran out.
    Expired,
}

impl WebhookEvent {
    /// Every event, in the order the admin UI lists them.
    pub const ALL: [WebhookEvent; 7] = [
        WebhookEvent::Requested,
        WebhookEvent::Accepted,
        WebhookEvent::Declined,
        WebhookEvent::RescheduleRequested,
        WebhookEvent::Rescheduled,
        WebhookEvent::Cancelled,
        WebhookEvent::Expired,
    ];

    /// The event's name, as sent in the payload's `type` and named by the owner.
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookEvent::Requested => "booking.requested",
            WebhookEvent::Accepted => "booking.accepted",
            WebhookEvent::Declined => "booking.declined",
            WebhookEvent::RescheduleRequested => "booking.reschedule_requested",
            WebhookEvent::Rescheduled => "booking.rescheduled",
            WebhookEvent::Cancelled => "booking.cancelled",
            WebhookEvent::Expired => "booking.expired",
        }
    }

    /// The event named `name`, if there is one.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.as_str() == name)
    }

    /// The event a new booking in `status` is announced as: a request the owner sees at once;
    /// none for one waiting for the visitor to confirm their address (it is announced when
    /// confirmed).
    pub fn of_new_booking(status: BookingStatus) -> Option<Self> {
        (status == BookingStatus::Pending).then_some(WebhookEvent::Requested)
    }

    /// The event `action` taking a booking from `from` is announced as, if any. A request that
    /// never reached the owner (unconfirmed) lapses without a word, as it does by email.
    pub fn of_change(action: BookingAction, from: BookingStatus) -> Option<Self> {
        Some(match action {
            BookingAction::Confirm => WebhookEvent::Requested,
            BookingAction::Accept => WebhookEvent::Accepted,
            BookingAction::Decline => WebhookEvent::Declined,
            BookingAction::Reschedule => WebhookEvent::RescheduleRequested,
            // Taking a time the owner proposed moves the booking and accepts it: announced as
            // the move, whose payload carries the new times and the status `accepted`.
            BookingAction::PickSlot | BookingAction::TakeProposedTime => WebhookEvent::Rescheduled,
            BookingAction::Cancel if from == BookingStatus::Unconfirmed => return None,
            BookingAction::Cancel => WebhookEvent::Cancelled,
            BookingAction::Expire if from == BookingStatus::Unconfirmed => return None,
            BookingAction::Expire => WebhookEvent::Expired,
        })
    }
}

/// The events an endpoint asks for, parsed once: known names, at least one, each once (in the
/// order of [`WebhookEvent::ALL`]). Refused as field `events`.
pub fn parse_events<S: AsRef<str>>(names: &[S]) -> Result<Vec<WebhookEvent>, FieldErrors> {
    if names.is_empty() {
        return Err(FieldErrors::one("events", FieldReason::Empty));
    }
    if names.len() > MAX_EVENTS {
        return Err(FieldErrors::one("events", FieldReason::TooMany));
    }
    let mut events = Vec::new();
    for name in names {
        match WebhookEvent::parse(name.as_ref().trim()) {
            Some(e) => events.push(e),
            None => return Err(FieldErrors::one("events", FieldReason::UnknownValue)),
        }
    }
    events.sort();
    events.dedup();
    Ok(events)
}

/// An endpoint's signing key. Shown to the owner once, as [`WebhookSecret::text`]; kept only
/// sealed.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret(Vec<u8>);

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecret(…)")
    }
}

impl WebhookSecret {
    /// A fresh random key.
    pub fn generate() -> Self {
        let mut key = vec![0u8; KEY_LEN];
        rand::rng().fill_bytes(&mut key);
        Self(key)
    }

    /// The key from its text form (`whsec_<base64>`, or the base64 alone); `None` when it is
    /// not one.
    pub fn from_text(text: &str) -> Option<Self> {
        let b64 = text.strip_prefix(SECRET_PREFIX).unwrap_or(text);
        let key = STANDARD.decode(b64).ok()?;
        (!key.is_empty()).then_some(Self(key))
    }

    /// The text form a receiver configures: `whsec_` and the key in base64.
    pub fn text(&self) -> String {
        format!("{SECRET_PREFIX}{}", STANDARD.encode(&self.0))
    }

    /// The `webhook-signature` value of message `id` sent at `timestamp` (Unix seconds) with
    /// `body`: `v1,` and the base64 HMAC-SHA256 of `{id}.{timestamp}.{body}`.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(format!("{id}.{timestamp}.").as_bytes());
        mac.update(body);
        format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use BookingAction as A;
    use BookingStatus as S;

    #[test]
    fn a_signature_matches_the_specifications_example() {
        // The example of the Standard Webhooks specification.
        let secret = WebhookSecret::from_text("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = br#"{"test": 2432232314}"#;
        assert_eq!(
            secret.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn a_secret_round_trips_through_its_text_form() {
        let secret = WebhookSecret::generate();
        let text = secret.text();
        assert!(text.starts_with("whsec_"));
        assert_eq!(WebhookSecret::from_text(&text), Some(secret));
        assert_eq!(WebhookSecret::from_text("whsec_"), None);
        assert_eq!(WebhookSecret::from_text("whsec_%%%"), None);
    }

    #[test]
    fn every_change_that_reaches_the_owner_is_announced() {
        assert_eq!(
            WebhookEvent::of_new_booking(S::Pending),
            Some(WebhookEvent::Requested)
        );
        assert_eq!(WebhookEvent::of_new_booking(S::Unconfirmed), None);
        assert_eq!(
            WebhookEvent::of_change(A::Confirm, S::Unconfirmed),
            Some(WebhookEvent::Requested)
        );
        assert_eq!(
            WebhookEvent::of_change(A::PickSlot, S::NeedsReschedule),
            Some(WebhookEvent::Rescheduled)
        );
        assert_eq!(
            WebhookEvent::of_change(A::Expire, S::Pending),
            Some(WebhookEvent::Expired)
        );
        assert_eq!(WebhookEvent::of_change(A::Expire, S::Unconfirmed), None);
        assert_eq!(WebhookEvent::of_change(A::Cancel, S::Unconfirmed), None);
        for e in WebhookEvent::ALL {
            assert_eq!(WebhookEvent::parse(e.as_str()), Some(e));
        }
    }

    #[test]
    fn events_are_known_names_each_once() {
        assert_eq!(
            parse_events(&["booking.expired", "booking.accepted", "booking.expired"]).unwrap(),
            [WebhookEvent::Accepted, WebhookEvent::Expired]
        );
        let unknown = parse_events(&["booking.accepted", "booking.paid"]).unwrap_err();
        assert_eq!(unknown.get("events"), Some(FieldReason::UnknownValue));
        let none: [&str; 0] = [];
        assert_eq!(
            parse_events(&none).unwrap_err().get("events"),
            Some(FieldReason::Empty)
        );
    }
}
