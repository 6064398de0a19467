//! Action tokens: the secret part of every link in an email.
//!
//! A token is 192 random bits followed by a 96-bit HMAC tag under the site's secret, encoded as
//! 48 URL-safe characters. The tag lets the server refuse a tampered or made-up token before it
//! touches the database; the database stores only the SHA-256 of the token, so a copy of the
//! database gives nobody working links. Expiry, single use and the binding to the booking's state
//! are kept with that hash (see the store).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use jiff::{SignedDuration, Timestamp};
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 12;

/// The longest a token lives.
pub const MAX_LIFETIME: SignedDuration = SignedDuration::from_hours(14 * 24);

/// The site's signing key. Never logged, never shown.
#[derive(Clone)]
pub struct TokenSecret([u8; 32]);

impl std::fmt::Debug for TokenSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenSecret(…)")
    }
}

/// Why a configured secret was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the secret must be at least 32 characters long")]
pub struct WeakSecret;

impl TokenSecret {
    /// A fresh random secret.
    pub fn generate() -> Self {
        let mut k = [0u8; 32];
        rand::rng().fill_bytes(&mut k);
        Self(k)
    }

    /// Derives the key from a configured secret of at least 32 characters.
    pub fn from_config(s: &str) -> Result<Self, WeakSecret> {
        let s = s.trim();
        if s.chars().count() < 32 {
            return Err(WeakSecret);
        }
        Ok(Self(Sha256::digest(s.as_bytes()).into()))
    }

    /// The text form to keep in a file (hex), readable back by [`TokenSecret::from_config`]
    /// (which hashes it, so the file's text is the secret, not the key itself).
    pub fn generate_text() -> String {
        let mut k = [0u8; 32];
        rand::rng().fill_bytes(&mut k);
        hex(&k)
    }

    /// The key's bytes, for deriving keys of other purposes in this crate (see [`crate::sealed`]).
    pub(crate) fn key_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    fn tag(&self, nonce: &[u8]) -> [u8; TAG_LEN] {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("any key length");
        mac.update(b"guidance-action-token\0");
        mac.update(nonce);
        let full = mac.finalize().into_bytes();
        let mut out = [0u8; TAG_LEN];
        out.copy_from_slice(&full[..TAG_LEN]);
        out
    }

    /// A keyed hash for other purposes (CSRF tokens, cookies), domain-separated by `purpose`.
    pub fn sign(&self, purpose: &str, data: &[u8]) -> [u8; 32] {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("any key length");
        mac.update(purpose.as_bytes());
        mac.update(b"\0");
        mac.update(data);
        mac.finalize().into_bytes().into()
    }
}

/// A token as it goes into a link. Only its [`TokenHash`] is stored.
#[derive(Clone, PartialEq, Eq)]
pub struct ActionToken(String);

impl std::fmt::Debug for ActionToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ActionToken(…)")
    }
}

/// Why a presented token was refused before any lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("this link is not valid")]
pub struct MalformedToken;

impl ActionToken {
    /// A new random token signed with `secret`.
    pub fn generate(secret: &TokenSecret) -> Self {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let mut raw = Vec::with_capacity(NONCE_LEN + TAG_LEN);
        raw.extend_from_slice(&nonce);
        raw.extend_from_slice(&secret.tag(&nonce));
        Self(URL_SAFE_NO_PAD.encode(raw))
    }

    /// Checks the shape and signature of a token from a link.
    pub fn verify(secret: &TokenSecret, presented: &str) -> Result<Self, MalformedToken> {
        if presented.len() != 48 {
            return Err(MalformedToken);
        }
        let raw = URL_SAFE_NO_PAD
            .decode(presented)
            .map_err(|_| MalformedToken)?;
        if raw.len() != NONCE_LEN + TAG_LEN {
            return Err(MalformedToken);
        }
        let (nonce, tag) = raw.split_at(NONCE_LEN);
        if secret.tag(nonce).ct_eq(tag).into() {
            Ok(Self(presented.to_owned()))
        } else {
            Err(MalformedToken)
        }
    }

    /// The token text for a URL.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// What the database keeps.
    pub fn hash(&self) -> TokenHash {
        TokenHash(hex(&Sha256::digest(self.0.as_bytes())))
    }
}

/// The SHA-256 of a token, in hex: the only form a token is stored in.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TokenHash(String);

impl TokenHash {
    /// Wraps a stored hash.
    pub fn from_stored(s: String) -> Self {
        Self(s)
    }

    /// The hex text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// When a token issued at `now` expires: after 14 days, or when the session starts if earlier.
pub fn expiry(now: Timestamp, session_start: Option<Timestamp>) -> Timestamp {
    let max = now.checked_add(MAX_LIFETIME).expect("in range");
    match session_start {
        Some(s) if s < max => s,
        _ => max,
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_verify_only_under_their_secret_and_unchanged() {
        let s = TokenSecret::generate();
        let t = ActionToken::generate(&s);
        assert_eq!(t.expose().len(), 48);
        assert!(ActionToken::verify(&s, t.expose()).is_ok());
        assert!(ActionToken::verify(&TokenSecret::generate(), t.expose()).is_err());
        // Flip one character: refused.
        let mut chars: Vec<char> = t.expose().chars().collect();
        chars[5] = if chars[5] == 'A' { 'B' } else { 'A' };
        let tampered: String = chars.into_iter().collect();
        assert!(ActionToken::verify(&s, &tampered).is_err());
        assert!(ActionToken::verify(&s, &t.expose()[..40]).is_err());
        assert!(ActionToken::verify(&s, "").is_err());
    }

    #[test]
    fn tokens_are_random_and_only_hashes_are_kept() {
        let s = TokenSecret::generate();
        let a = ActionToken::generate(&s);
        let b = ActionToken::generate(&s);
        assert_ne!(a, b);
        assert_eq!(a.hash().as_str().len(), 64);
        assert!(!a.hash().as_str().contains(a.expose()));
        assert_eq!(
            a.hash(),
            ActionToken::verify(&s, a.expose()).unwrap().hash()
        );
    }

    #[test]
    fn expiry_is_the_earlier_of_session_start_and_fourteen_days() {
        let now: Timestamp = "2030-01-01T00:00:00Z".parse().unwrap();
        let soon: Timestamp = "2030-01-03T09:00:00Z".parse().unwrap();
        let late: Timestamp = "2030-03-01T09:00:00Z".parse().unwrap();
        assert_eq!(expiry(now, Some(soon)), soon);
        assert_eq!(
            expiry(now, Some(late)),
            "2030-01-15T00:00:00Z".parse().unwrap()
        );
        assert_eq!(expiry(now, None), "2030-01-15T00:00:00Z".parse().unwrap());
    }

    #[test]
    fn configured_secrets_must_be_long() {
        assert!(TokenSecret::from_config("short").is_err());
        assert!(TokenSecret::from_config(&TokenSecret::generate_text()).is_ok());
    }
}
