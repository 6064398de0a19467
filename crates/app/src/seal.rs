//! Sealing secrets kept at rest (a calendar's private address, an app password): ChaCha20-
//! Poly1305 under a key derived from the site's secret for one purpose, with a random nonce
//! and the row's id as associated data, so a sealed value moved to another row does not open.
//!
//! One small module on purpose: other values that must not lie open at rest (queued emails'
//! links) can seal with it under their own purpose.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use guidance_core::TokenSecret;
use rand::RngCore;

const NONCE_LEN: usize = 12;

/// Why a sealed value did not open: another secret, another row, or damaged bytes.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("the sealed value does not open with this site's secret")]
pub struct Unseal;

/// The cipher for `purpose`: its key is the site secret's keyed hash of the purpose (an
/// HMAC-SHA-256 extract-and-expand in one block, as HKDF would give for 32 bytes).
fn cipher(secret: &TokenSecret, purpose: &str) -> ChaCha20Poly1305 {
    let key = secret.sign("guidance-seal-key", purpose.as_bytes());
    ChaCha20Poly1305::new(Key::from_slice(&key))
}

/// `plain` sealed for `purpose`, bound to `context` (say, the row's id): nonce, then ciphertext.
pub fn seal(secret: &TokenSecret, purpose: &str, context: &[u8], plain: &[u8]) -> Vec<u8> {
    let mut nonce = [0u8; NONCE_LEN];
    rand::rng().fill_bytes(&mut nonce);
    let sealed = cipher(secret, purpose)
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: plain,
                aad: context,
            },
        )
        .expect("encrypting in memory does not fail");
    let mut out = nonce.to_vec();
    out.extend(sealed);
    out
}

/// Opens what [`seal`] made with the same secret, purpose and context.
pub fn open(
    secret: &TokenSecret,
    purpose: &str,
    context: &[u8],
    sealed: &[u8],
) -> Result<Vec<u8>, Unseal> {
    if sealed.len() < NONCE_LEN {
        return Err(Unseal);
    }
    let (nonce, body) = sealed.split_at(NONCE_LEN);
    cipher(secret, purpose)
        .decrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: body,
                aad: context,
            },
        )
        .map_err(|_| Unseal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_value_opens_only_with_its_secret_purpose_and_context() {
        let secret = TokenSecret::generate();
        let sealed = seal(
            &secret,
            "calendar",
            b"row-1",
            b"https://cal.example/private.ics",
        );
        assert!(
            !sealed.windows(5).any(|w| w == b"https"),
            "nothing readable"
        );
        assert_eq!(
            open(&secret, "calendar", b"row-1", &sealed).unwrap(),
            b"https://cal.example/private.ics"
        );
        assert_eq!(open(&secret, "calendar", b"row-2", &sealed), Err(Unseal));
        assert_eq!(open(&secret, "email", b"row-1", &sealed), Err(Unseal));
        assert_eq!(
            open(&TokenSecret::generate(), "calendar", b"row-1", &sealed),
            Err(Unseal)
        );
        assert_ne!(
            sealed,
            seal(
                &secret,
                "calendar",
                b"row-1",
                b"https://cal.example/private.ics"
            )
        );
    }
}
