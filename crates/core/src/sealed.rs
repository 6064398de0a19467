//! Stored emails, sealed: an email holds working links (`/a/<token>`, `/my/…`), so the outbox
//! keeps it only deflated and encrypted under a key derived from the site's secret. A copy of the
//! database (or a backup) then opens nothing; the worker opens the email when it sends it, and
//! the bytes it sends are exactly the bytes that were sealed, so a retry or a resend is
//! byte-identical to the first sending.
//!
//! The stored form is `00 01 ‖ nonce (12) ‖ ChaCha20-Poly1305(deflate(message))`, with the
//! email's Message-ID as associated data (a sealed message cannot be moved to another row). The
//! leading NUL byte tells it apart from a plain message kept by an older version (an RFC 5322
//! message starts with a header name), which [`MessageSeal::open`] still reads as it is.

use std::io::{Read, Write};

use flate2::Compression;
use flate2::read::DeflateDecoder;
use flate2::write::DeflateEncoder;
use rand::RngCore;
use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::hkdf::{HKDF_SHA256, Salt};

use crate::TokenSecret;

/// The first bytes of every sealed message: a NUL (no plain message starts with one) and the
/// format's version.
pub const SEALED_PREFIX: [u8; 2] = [0, 1];
/// The label the sealing key is derived under: no other use of the secret yields this key.
const KEY_LABEL: &[u8] = b"guidance email outbox seal v1";
/// The most a sealed message may inflate to: far above any email the service writes, so that a
/// damaged row cannot make the reader allocate without bound.
const MAX_OPENED: u64 = 16 * 1024 * 1024;

/// Why a stored message could not be opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    /// The seal does not verify: another secret sealed it (was `GUIDANCE_SECRET` changed?), or
    /// the row was altered.
    #[error("the stored email cannot be opened with this secret (was GUIDANCE_SECRET changed?)")]
    WrongKey,
    /// The bytes are not a sealed message of a known version.
    #[error("the stored email is damaged")]
    Damaged,
}

/// Seals and opens stored emails with the key derived from the site's secret.
#[derive(Clone)]
pub struct MessageSeal {
    key: std::sync::Arc<LessSafeKey>,
}

impl std::fmt::Debug for MessageSeal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MessageSeal(…)")
    }
}

impl MessageSeal {
    /// The seal of `secret`: HKDF-SHA256 of the secret's key under [`KEY_LABEL`].
    pub fn new(secret: &TokenSecret) -> Self {
        let prk = Salt::new(HKDF_SHA256, b"guidance").extract(secret.key_bytes());
        let okm = prk
            .expand(&[KEY_LABEL], &CHACHA20_POLY1305)
            .expect("one key's length is a valid HKDF output length");
        Self {
            key: std::sync::Arc::new(LessSafeKey::new(UnboundKey::from(okm))),
        }
    }

    /// `message` deflated and sealed, bound to its `message_id`, with a fresh random nonce.
    pub fn seal(&self, message_id: &str, message: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let mut out = Vec::with_capacity(message.len() / 3 + 64);
        out.extend_from_slice(&SEALED_PREFIX);
        out.extend_from_slice(&nonce);
        let mut deflate = DeflateEncoder::new(out, Compression::best());
        deflate
            .write_all(message)
            .expect("writing into memory cannot fail");
        let mut out = deflate.finish().expect("writing into memory cannot fail");
        let header = SEALED_PREFIX.len() + NONCE_LEN;
        let tag = self
            .key
            .seal_in_place_separate_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(message_id.as_bytes()),
                &mut out[header..],
            )
            .expect("an email is far below the AEAD's length limit");
        out.extend_from_slice(tag.as_ref());
        out
    }

    /// The message as it was sealed; a plain message (stored by an older version) as it is.
    pub fn open(&self, message_id: &str, stored: &[u8]) -> Result<Vec<u8>, OpenError> {
        if !is_sealed(stored) {
            return Ok(stored.to_vec());
        }
        let header = SEALED_PREFIX.len() + NONCE_LEN;
        if stored.len() < header + CHACHA20_POLY1305.tag_len() {
            return Err(OpenError::Damaged);
        }
        let nonce = Nonce::try_assume_unique_for_key(&stored[SEALED_PREFIX.len()..header])
            .map_err(|_| OpenError::Damaged)?;
        let mut sealed = stored[header..].to_vec();
        let deflated = self
            .key
            .open_in_place(nonce, Aad::from(message_id.as_bytes()), &mut sealed)
            .map_err(|_| OpenError::WrongKey)?;
        let mut message = Vec::with_capacity(deflated.len() * 4);
        DeflateDecoder::new(&deflated[..])
            .take(MAX_OPENED)
            .read_to_end(&mut message)
            .map_err(|_| OpenError::Damaged)?;
        Ok(message)
    }
}

/// Whether stored bytes are a sealed message (rather than a plain one from an older version).
pub fn is_sealed(stored: &[u8]) -> bool {
    stored.first() == Some(&0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seal() -> MessageSeal {
        MessageSeal::new(&TokenSecret::from_config(&"s".repeat(40)).expect("long enough"))
    }

    const ID: &str = "<a@example.org>";

    #[test]
    fn opens_to_the_same_bytes_and_hides_them() {
        let message =
            b"Subject: hi\r\n\r\nopen http://example.org/a/tokentokentoken\r\n".repeat(20);
        let sealed = seal().seal(ID, &message);
        assert!(is_sealed(&sealed));
        assert!(
            sealed.len() < message.len() / 4,
            "deflated: {}",
            sealed.len()
        );
        assert!(!sealed.windows(5).any(|w| w == b"token"));
        assert_eq!(seal().open(ID, &sealed).expect("opens"), message);
        // A fresh nonce each time: the same message never seals to the same bytes.
        assert_ne!(seal().seal(ID, &message), sealed);
    }

    #[test]
    fn refuses_another_key_another_row_and_damage() {
        let sealed = seal().seal(ID, b"Subject: hi\r\n\r\nbody\r\n");
        let other = MessageSeal::new(&TokenSecret::from_config(&"t".repeat(40)).expect("long"));
        assert_eq!(other.open(ID, &sealed), Err(OpenError::WrongKey));
        assert_eq!(
            seal().open("<b@example.org>", &sealed),
            Err(OpenError::WrongKey)
        );
        let mut flipped = sealed.clone();
        *flipped.last_mut().expect("bytes") ^= 1;
        assert_eq!(seal().open(ID, &flipped), Err(OpenError::WrongKey));
        assert_eq!(seal().open(ID, &sealed[..10]), Err(OpenError::Damaged));
    }

    #[test]
    fn plain_messages_of_older_versions_read_as_they_are() {
        let plain = b"Date: Mon, 1 Jan 2024 00:00:00 +0000\r\n\r\nbody\r\n";
        assert!(!is_sealed(plain));
        assert_eq!(seal().open(ID, plain).expect("plain"), plain.to_vec());
    }
}
