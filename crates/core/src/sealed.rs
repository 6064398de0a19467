//! What must not lie open at rest, sealed with ChaCha20-Poly1305 (ring) under keys derived from
//! the site's secret: one [`Seal`] per purpose, each sealed value bound to a context (the row's
//! id), so that a value moved to another row, or opened for another purpose or with another
//! secret, does not open. The sealed form is `nonce (12) ‖ ciphertext ‖ tag (16)`.
//!
//! Two users, two keys: calendar sources' addresses and app passwords ([`seal`], [`open`],
//! keyed by the purpose's HMAC under the secret), and stored emails ([`MessageSeal`]).
//!
//! Stored emails hold working links (`/a/<token>`, `/my/…`), so the outbox keeps each only
//! deflated and sealed. A copy of the database (or a backup) then opens nothing; the worker
//! opens the email when it sends it, and the bytes it sends are exactly the bytes that were
//! sealed, so a retry or a resend is byte-identical to the first sending. Their stored form is
//! `00 02 ‖ nonce (12) ‖ ChaCha20-Poly1305(deflate(message))`, with the email's Message-ID as
//! the context, deflated with [`EMAIL_DICTIONARY`] preset: every email repeats most of the
//! service's own MIME, HTML and calendar structure, which the dictionary holds once, so a stored
//! email keeps little more than what is its own (names, times, links). Format `00 01`, deflated
//! without a dictionary, is what earlier versions stored; it still opens. The leading NUL byte
//! tells both apart from a plain message kept by an older version still (an RFC 5322 message
//! starts with a header name), which [`MessageSeal::open`] reads as it is.

use std::cell::RefCell;
use std::sync::Arc;

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};
use rand::RngCore;
use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::hkdf::{HKDF_SHA256, Salt};

use crate::TokenSecret;

/// The first bytes of every sealed message: a NUL (no plain message starts with one) and the
/// format's version (2: deflated with [`EMAIL_DICTIONARY`]).
pub const SEALED_PREFIX: [u8; 2] = [0, 2];
/// The first bytes of a message sealed by earlier versions, deflated without a dictionary.
const SEALED_PREFIX_V1: [u8; 2] = [0, 1];
/// The dictionary of format 2: the five emails most often stored (a new request's three, the
/// two of an acceptance), rendered in English for a made-up booking, the most frequent last
/// (deflate reaches the end of a dictionary at the smallest cost). Every email sealed in format
/// 2 opens only with these very bytes: never edit the file; a better dictionary is a format 3.
pub const EMAIL_DICTIONARY: &[u8] = include_bytes!("sealed-email-dictionary.eml");
/// The label the emails' key is derived under: no other use of the secret yields this key.
const MESSAGE_KEY_LABEL: &[u8] = b"guidance email outbox seal v1";
/// What the purposes' keys are signed under (see [`Seal::for_purpose`]).
const PURPOSE_KEY_LABEL: &str = "guidance-seal-key";
/// The most a sealed message may inflate to: far above any email the service writes, so that a
/// damaged row cannot make the reader allocate without bound.
const MAX_OPENED: u64 = 16 * 1024 * 1024;

/// Why a sealed value did not open: another secret, another purpose or context, or damaged
/// bytes.
#[derive(Debug, Clone, Copy, thiserror::Error, PartialEq, Eq)]
#[error("the sealed value does not open with this site's secret")]
pub struct Unseal;

/// One key of the site's secret, for one purpose: seals and opens values bound to a context.
#[derive(Clone)]
pub struct Seal {
    key: Arc<LessSafeKey>,
}

impl std::fmt::Debug for Seal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Seal(…)")
    }
}

impl Seal {
    /// The seal for `purpose`: its key is the secret's HMAC-SHA-256 of the purpose (one
    /// extract-and-expand block, as HKDF would give for 32 bytes). Calendar sources sealed since
    /// they were introduced use this key, so it never changes.
    pub fn for_purpose(secret: &TokenSecret, purpose: &str) -> Self {
        Self::with_key(&secret.sign(PURPOSE_KEY_LABEL, purpose.as_bytes()))
    }

    /// The emails' key: HKDF-SHA256 of the secret's key under [`MESSAGE_KEY_LABEL`]. It
    /// predates [`Seal::for_purpose`] and stays, so that emails already queued still open.
    fn for_messages(secret: &TokenSecret) -> Self {
        let prk = Salt::new(HKDF_SHA256, b"guidance").extract(secret.key_bytes());
        let okm = prk
            .expand(&[MESSAGE_KEY_LABEL], &CHACHA20_POLY1305)
            .expect("one key's length is a valid HKDF output length");
        Self {
            key: Arc::new(LessSafeKey::new(UnboundKey::from(okm))),
        }
    }

    fn with_key(key: &[u8; 32]) -> Self {
        let key = UnboundKey::new(&CHACHA20_POLY1305, key).expect("32 bytes is the key length");
        Self {
            key: Arc::new(LessSafeKey::new(key)),
        }
    }

    /// `header ‖ nonce ‖ sealed(plain) ‖ tag`, bound to `context`, with a fresh random nonce.
    fn seal_after(&self, header: &[u8], context: &[u8], plain: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let start = header.len() + NONCE_LEN;
        let mut out = Vec::with_capacity(start + plain.len() + CHACHA20_POLY1305.tag_len());
        out.extend_from_slice(header);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(plain);
        let tag = self
            .key
            .seal_in_place_separate_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(context),
                &mut out[start..],
            )
            .expect("a value in memory is far below the AEAD's length limit");
        out.extend_from_slice(tag.as_ref());
        out
    }

    /// `plain` sealed, bound to `context`: `nonce ‖ ciphertext ‖ tag`.
    pub fn seal(&self, context: &[u8], plain: &[u8]) -> Vec<u8> {
        self.seal_after(&[], context, plain)
    }

    /// Opens what [`Seal::seal`] made with the same key and context.
    pub fn open(&self, context: &[u8], sealed: &[u8]) -> Result<Vec<u8>, Unseal> {
        if sealed.len() < NONCE_LEN + CHACHA20_POLY1305.tag_len() {
            return Err(Unseal);
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| Unseal)?;
        let mut body = body.to_vec();
        let plain_len = self
            .key
            .open_in_place(nonce, Aad::from(context), &mut body)
            .map_err(|_| Unseal)?
            .len();
        body.truncate(plain_len);
        Ok(body)
    }
}

/// `plain` sealed for `purpose` under `secret`, bound to `context` (say, the row's id).
pub fn seal(secret: &TokenSecret, purpose: &str, context: &[u8], plain: &[u8]) -> Vec<u8> {
    Seal::for_purpose(secret, purpose).seal(context, plain)
}

/// Opens what [`seal`] made with the same secret, purpose and context.
pub fn open(
    secret: &TokenSecret,
    purpose: &str,
    context: &[u8],
    sealed: &[u8],
) -> Result<Vec<u8>, Unseal> {
    Seal::for_purpose(secret, purpose).open(context, sealed)
}

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

/// Seals and opens stored emails with the emails' key (a [`Seal`] of its own).
#[derive(Clone, Debug)]
pub struct MessageSeal {
    seal: Seal,
}

impl MessageSeal {
    /// The emails' seal of `secret`.
    pub fn new(secret: &TokenSecret) -> Self {
        Self {
            seal: Seal::for_messages(secret),
        }
    }

    /// `message` deflated and sealed, bound to its `message_id`, with a fresh random nonce.
    pub fn seal(&self, message_id: &str, message: &[u8]) -> Vec<u8> {
        self.seal
            .seal_after(&SEALED_PREFIX, message_id.as_bytes(), &deflate(message))
    }

    /// The message as it was sealed; a plain message (stored by an older version) as it is.
    pub fn open(&self, message_id: &str, stored: &[u8]) -> Result<Vec<u8>, OpenError> {
        if !is_sealed(stored) {
            return Ok(stored.to_vec());
        }
        let (sealed, dictionary) = if let Some(sealed) = stored.strip_prefix(&SEALED_PREFIX) {
            (sealed, Some(EMAIL_DICTIONARY))
        } else if let Some(sealed) = stored.strip_prefix(&SEALED_PREFIX_V1) {
            (sealed, None)
        } else {
            return Err(OpenError::Damaged);
        };
        if sealed.len() < NONCE_LEN + CHACHA20_POLY1305.tag_len() {
            return Err(OpenError::Damaged);
        }
        let deflated = self
            .seal
            .open(message_id.as_bytes(), sealed)
            .map_err(|_| OpenError::WrongKey)?;
        inflate(&deflated, dictionary).ok_or(OpenError::Damaged)
    }
}

/// `deflated` (raw deflate) inflated with `dictionary` preset; `None` if it is damaged or would
/// inflate beyond [`MAX_OPENED`].
fn inflate(deflated: &[u8], dictionary: Option<&[u8]>) -> Option<Vec<u8>> {
    INFLATER.with_borrow_mut(|inflater| {
        inflater.reset(false);
        if let Some(dictionary) = dictionary {
            inflater.set_dictionary(dictionary).ok()?;
        }
        inflate_with(inflater, deflated)
    })
}

/// `deflated` inflated by `inflater`, which is ready for a new stream.
fn inflate_with(inflater: &mut Decompress, deflated: &[u8]) -> Option<Vec<u8>> {
    let mut message = Vec::with_capacity(deflated.len() * 8);
    loop {
        let read = usize::try_from(inflater.total_in())
            .ok()?
            .min(deflated.len());
        let before = inflater.total_out();
        let status = inflater
            .decompress_vec(&deflated[read..], &mut message, FlushDecompress::Finish)
            .ok()?;
        match status {
            Status::StreamEnd => return Some(message),
            _ if message.len() as u64 >= MAX_OPENED => return None,
            // No progress with room to spare: the stream ends before its last block.
            _ if inflater.total_out() == before && message.len() < message.capacity() => {
                return None;
            }
            _ => message.reserve(message.capacity().max(1024)),
        }
    }
}

/// How much of [`EMAIL_DICTIONARY`], from its end, the compressor is preset with. Presetting
/// is the costliest step of sealing a small message (every byte of the preset is hashed), so
/// the compressor takes only the dictionary's last 8 KB, which hold the most frequent emails: a
/// deflate stream refers back no further than what its compressor was given, and the inflater,
/// preset with the whole dictionary, finds those same bytes at the same distances. So this is
/// still format 2, and emails sealed with the whole dictionary open as before.
const PRESET_LEN: usize = 8 * 1024;

thread_local! {
    /// One inflater per thread, reset for each message, as the compressor below: the worker
    /// opens every email it claims, and a new inflater allocates its window each time.
    static INFLATER: RefCell<Decompress> = RefCell::new(Decompress::new(false));
    /// One compressor per thread, reset for each message: a new one allocates and zeroes about
    /// 160 KB of tables, which cost a booking (three emails) as much as the compressing did.
    /// The fastest level: with the dictionary's last 8 KB it seals a booking's three emails in
    /// a quarter of the time the default level took with the whole dictionary, for stored
    /// emails about 40% larger (a kilobyte a booking).
    static DEFLATER: RefCell<Compress> = RefCell::new(Compress::new(Compression::fast(), false));
}

/// `message` as raw deflate with the end of [`EMAIL_DICTIONARY`] preset (what
/// [`MessageSeal::open`] inflates, presetting the whole dictionary).
fn deflate(message: &[u8]) -> Vec<u8> {
    DEFLATER.with_borrow_mut(|deflater| {
        deflater.reset();
        deflater
            .set_dictionary(&EMAIL_DICTIONARY[EMAIL_DICTIONARY.len() - PRESET_LEN..])
            .expect("a fresh raw stream takes a dictionary");
        let mut out = Vec::with_capacity(message.len() / 2 + 64);
        loop {
            let read = usize::try_from(deflater.total_in())
                .map_or(message.len(), |n| n.min(message.len()));
            let status = deflater
                .compress_vec(&message[read..], &mut out, FlushCompress::Finish)
                .expect("deflating into memory cannot fail");
            if status == Status::StreamEnd {
                return out;
            }
            // The output filled its room: give it as much again.
            out.reserve(out.capacity().max(64));
        }
    })
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
    fn messages_of_any_size_one_after_another_open_to_their_own_bytes() {
        // The compressor is kept between messages: each must come out whole and alone, also
        // one that does not compress and outgrows the first guess of the output's size.
        let mut noise = vec![0u8; 200_000];
        rand::rng().fill_bytes(&mut noise);
        let small = b"Subject: hi\r\n\r\nbody\r\n".to_vec();
        for message in [small.clone(), noise, Vec::new(), small] {
            let sealed = seal().seal(ID, &message);
            assert_eq!(seal().open(ID, &sealed).expect("opens"), message);
        }
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
    fn a_damaged_stream_does_not_spoil_the_next_email() {
        // The inflater is kept between emails: one whose deflate stream is cut short (sealed
        // as it is, so the seal verifies) or is not deflate at all fails alone.
        let message = b"Subject: hi\r\n\r\nbody\r\n".repeat(50);
        let whole = deflate(&message);
        let damaged = [&whole[..whole.len() / 2], &[0xff; 64][..]];
        for bytes in damaged {
            let sealed = seal().seal.seal_after(&SEALED_PREFIX, ID.as_bytes(), bytes);
            assert_eq!(seal().open(ID, &sealed), Err(OpenError::Damaged));
            let good = seal().seal(ID, &message);
            assert_eq!(seal().open(ID, &good).expect("opens"), message);
        }
    }

    #[test]
    fn a_sealed_value_opens_only_with_its_secret_purpose_and_context() {
        let secret = TokenSecret::generate();
        let plain = b"https://cal.example/private.ics";
        let sealed = super::seal(&secret, "calendar", b"row-1", plain);
        assert!(
            !sealed.windows(5).any(|w| w == b"https"),
            "nothing readable"
        );
        assert_eq!(open(&secret, "calendar", b"row-1", &sealed).unwrap(), plain);
        assert_eq!(open(&secret, "calendar", b"row-2", &sealed), Err(Unseal));
        assert_eq!(open(&secret, "email", b"row-1", &sealed), Err(Unseal));
        assert_eq!(
            open(&TokenSecret::generate(), "calendar", b"row-1", &sealed),
            Err(Unseal)
        );
        assert_eq!(
            open(&secret, "calendar", b"row-1", &sealed[..20]),
            Err(Unseal)
        );
        // A fresh nonce each time.
        assert_ne!(sealed, super::seal(&secret, "calendar", b"row-1", plain));
    }

    /// A calendar source's address and password as the former sealing module (the
    /// `chacha20poly1305` crate, key `sign("guidance-seal-key", purpose)`) stored them: they
    /// open unchanged, so sources added before the move to ring keep working.
    #[test]
    fn calendar_sources_sealed_by_the_former_module_still_open() {
        const SEALED_BEFORE: &str = "070102030405060708090a0b9cc713af8ec6355089b54d314f8af7ad\
            693ed58eefca7dc4c237c35ff2b457a0352dc729f38d4108f595871b4b12df18c2c3a1f376b590dc7e375\
            199787138338c264ed2c118b8a70a0ff8cec6e65108b2d3d9cbd838643d3473e7";
        let sealed = hex(SEALED_BEFORE);
        let secret = TokenSecret::from_config("fixture-secret-fixture-secret-fixture-secret")
            .expect("long enough");
        let row = hex("6f1c2b1e8f0a4c439d570a3c0b5e2d11");
        let opened = open(&secret, "calendar-source", &row, &sealed).expect("opens");
        assert_eq!(
            opened,
            br#"{"url":"https://cal.example/dav/","username":"owner","password":"app-pass"}"#
        );
        // And what ring seals now, the former module's format, opens the same way.
        let again = super::seal(&secret, "calendar-source", &row, &opened);
        assert_eq!(again.len(), sealed.len());
        assert_eq!(
            open(&secret, "calendar-source", &row, &again).unwrap(),
            opened
        );
    }

    /// An email as the outbox sealed it before the seal was shared with calendar sources.
    #[test]
    fn emails_sealed_before_still_open() {
        const SEALED_BEFORE: &str = "00013e81532fc19c1c0c5e6a7558556ebb373ca62767fbc5d4554a90a6\
            8f2980da7aa682b7d8a1665b6bc1e9b913d234cffbba07f8d028afcecc7bbecb455f7d447c736f409349c9\
            93b8562e014c43a056809891236e8ec4f25b957546a9fa9d1096fd79ae11";
        let secret = TokenSecret::from_config("fixture-secret-fixture-secret-fixture-secret")
            .expect("long enough");
        let opened = MessageSeal::new(&secret)
            .open("<fixture@guidance.test>", &hex(SEALED_BEFORE))
            .expect("opens");
        assert_eq!(
            opened,
            b"Subject: Your request\r\n\r\nOpen http://guidance.test/a/fixturetoken\r\n"
        );
    }

    /// An email sealed in format 2 by the compressor of earlier versions (the default level,
    /// preset with the whole dictionary, so that it refers back into all of it) still opens.
    #[test]
    fn emails_sealed_with_the_whole_dictionary_still_open() {
        const SEALED_BEFORE: &str = "0002609d25b46013878b8978b4313c2e11e0b38d25c97249772f7ef443\
            ec355145613f5236e26725c8d1cea08b84abab9ccebafb6e901cb85cb1fd55e02fabf96e8aeec3aa83e576\
            4ffa8eadb932bf13c4b9b3a04f8d1759a4c96df1c48a419570fa3c4c5d5d5944fa34e223ddb7f3d7e8f8e9\
            96abf150550d8bdf65913734e206c5001e98d3e886d5912e5957b8414b4478b9592d7369";
        let secret = TokenSecret::from_config("fixture-secret-fixture-secret-fixture-secret")
            .expect("long enough");
        let dictionary = std::str::from_utf8(EMAIL_DICTIONARY).expect("text");
        let start = dictionary.rfind("From: ").expect("the last email");
        let message = dictionary[start..].replace("Visitor", "Marie Curie");
        let opened = MessageSeal::new(&secret)
            .open("<fixture@guidance.test>", &hex(SEALED_BEFORE))
            .expect("opens");
        assert_eq!(opened, message.as_bytes());
    }

    fn hex(hex: &str) -> Vec<u8> {
        (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
            .collect()
    }

    /// An email of the service's own shape keeps little more than what is its own: the
    /// dictionary holds the rest.
    #[test]
    fn an_email_of_the_services_shape_is_stored_in_a_fraction_of_its_size() {
        let dictionary = std::str::from_utf8(EMAIL_DICTIONARY).expect("text");
        let start = dictionary.rfind("From: ").expect("the last email");
        let message = dictionary[start..]
            .replace("Visitor", "Marie Curie")
            .replace("Topic", "Radioactivity, and what to measure next")
            .replace("2027", "2028");
        let sealed = seal().seal(ID, message.as_bytes());
        let without_dictionary = deflated_without_dictionary(message.as_bytes());
        assert!(
            sealed.len() * 4 < without_dictionary,
            "{} bytes sealed, {} deflated alone, of {}",
            sealed.len(),
            without_dictionary,
            message.len()
        );
        assert_eq!(seal().open(ID, &sealed).expect("opens"), message.as_bytes());
    }

    fn deflated_without_dictionary(message: &[u8]) -> usize {
        let mut deflater = Compress::new(Compression::best(), false);
        let mut out = Vec::with_capacity(message.len() + 64);
        deflater
            .compress_vec(message, &mut out, FlushCompress::Finish)
            .expect("deflates");
        out.len()
    }

    /// The dictionary is part of format 2: emails already stored open only with its exact bytes.
    #[test]
    fn the_dictionary_of_format_2_never_changes() {
        use ring::digest::{SHA256, digest};
        let hash: String = digest(&SHA256, EMAIL_DICTIONARY)
            .as_ref()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(
            hash, "44e5954fab5140db20578ec22d4459711aea8b981eca4d09e1b954d590d8a5ec",
            "sealed-email-dictionary.eml changed: emails sealed with it no longer open; \
             restore it and add a new format for a new dictionary"
        );
    }

    #[test]
    fn plain_messages_of_older_versions_read_as_they_are() {
        let plain = b"Date: Mon, 1 Jan 2024 00:00:00 +0000\r\n\r\nbody\r\n";
        assert!(!is_sealed(plain));
        assert_eq!(seal().open(ID, plain).expect("plain"), plain.to_vec());
    }
}
