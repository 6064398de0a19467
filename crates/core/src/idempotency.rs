//! Idempotency keys: a client that sends a request again — because the answer to the first
//! was lost on a flaky connection — names both sends with one `Idempotency-Key`, and gets the
//! first answer again instead of a refusal caused by its own first request.
//!
//! A key is kept with a hash of the request's body and the answer, for [`LIFETIME`]; the same
//! key with another body is refused, so that a key cannot fetch someone else's answer by luck
//! or replay a different request.

use jiff::SignedDuration;
use sha2::{Digest, Sha256};

/// How long a key and its answer are kept (by the application's clock).
pub const LIFETIME: SignedDuration = SignedDuration::from_hours(24);

/// The longest key accepted, in bytes (a UUID needs 36).
pub const MAX_LEN: usize = 255;

/// A key as a client sent it: 1 to [`MAX_LEN`] visible ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

/// A key that is empty, too long, or holds other than visible ASCII characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("an idempotency key is 1 to 255 visible ASCII characters")]
pub struct MalformedKey;

impl IdempotencyKey {
    /// Checks a key as sent.
    pub fn parse(raw: &str) -> Result<Self, MalformedKey> {
        let ok =
            !raw.is_empty() && raw.len() <= MAX_LEN && raw.bytes().all(|b| b.is_ascii_graphic());
        ok.then(|| Self(raw.to_owned())).ok_or(MalformedKey)
    }

    /// The key.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Which kind of request a key names: keys of different kinds never meet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// A booking request (`POST /api/bookings`).
    Booking,
    /// An emailed link carried out (`POST /api/actions`).
    Action,
}

impl Scope {
    /// The stable name, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Booking => "booking",
            Scope::Action => "action",
        }
    }
}

/// A request that names itself with a key: its scope, key, and the SHA-256 of its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keyed {
    /// Which kind of request.
    pub scope: Scope,
    /// The client's key.
    pub key: IdempotencyKey,
    /// The SHA-256 of the request's body, in hex.
    pub request_hash: String,
}

impl Keyed {
    /// A request of `scope` named `key` whose body is `body`.
    pub fn new(scope: Scope, key: IdempotencyKey, body: &[u8]) -> Self {
        let request_hash = Sha256::digest(body)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Self {
            scope,
            key,
            request_hash,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_one_to_255_visible_ascii_characters() {
        assert!(IdempotencyKey::parse("5f0c1d2e-aaaa-4bbb-8ccc-0123456789ab").is_ok());
        assert!(IdempotencyKey::parse(&"k".repeat(MAX_LEN)).is_ok());
        for bad in [
            "",
            " ",
            "a b",
            "schlüssel",
            "tab\t",
            &"k".repeat(MAX_LEN + 1),
        ] {
            assert_eq!(IdempotencyKey::parse(bad), Err(MalformedKey), "{bad:?}");
        }
    }

    #[test]
    fn the_same_body_gives_the_same_hash_and_another_body_another() {
        let key = IdempotencyKey::parse("k").unwrap();
        let a = Keyed::new(Scope::Booking, key.clone(), b"{\"a\":1}");
        let b = Keyed::new(Scope::Booking, key.clone(), b"{\"a\":1}");
        let c = Keyed::new(Scope::Booking, key, b"{\"a\":2}");
        assert_eq!(a.request_hash, b.request_hash);
        assert_ne!(a.request_hash, c.request_hash);
        assert_eq!(a.request_hash.len(), 64);
    }
}
