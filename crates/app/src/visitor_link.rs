//! The visitor's own link to a booking: `/my/{booking id}/{signature}`.
//!
//! The signature is an HMAC of the booking id under the site's secret ([`TokenSecret::sign`]),
//! so the link needs no stored token and no schema change: whoever holds it may see the
//! booking's status and cancel it, nobody can make one up for another booking, and changing
//! `GUIDANCE_SECRET` retires every such link at once. It does not expire; it only ever shows the
//! booking's status and the actions the booking still allows.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use guidance_core::TokenSecret;
use subtle::ConstantTimeEq;
use uuid::Uuid;

const PURPOSE: &str = "guidance-visitor-link";
/// 128 bits of the HMAC are plenty against guessing and keep the link short.
const SIGNATURE_BYTES: usize = 16;

fn signature(secret: &TokenSecret, id: Uuid) -> String {
    let full = secret.sign(PURPOSE, id.as_bytes());
    URL_SAFE_NO_PAD.encode(&full[..SIGNATURE_BYTES])
}

/// The path of a booking's visitor page, e.g. `/my/5f0c…/Zm9v…`.
pub fn path(secret: &TokenSecret, id: Uuid) -> String {
    format!("/my/{id}/{}", signature(secret, id))
}

/// The booking a presented link is for, when its signature is right.
pub fn verify(secret: &TokenSecret, id: &str, presented: &str) -> Option<Uuid> {
    let id = Uuid::parse_str(id).ok()?;
    let expected = signature(secret, id);
    bool::from(expected.as_bytes().ct_eq(presented.as_bytes())).then_some(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_is_bound_to_its_booking_and_secret() {
        let secret = TokenSecret::generate();
        let id = Uuid::new_v4();
        let p = path(&secret, id);
        let sig = p.rsplit('/').next().unwrap();
        assert_eq!(verify(&secret, &id.to_string(), sig), Some(id));
        assert_eq!(verify(&secret, &Uuid::new_v4().to_string(), sig), None);
        assert_eq!(verify(&TokenSecret::generate(), &id.to_string(), sig), None);
        assert_eq!(verify(&secret, &id.to_string(), &sig[1..]), None);
        assert_eq!(verify(&secret, "not-a-uuid", sig), None);
    }
}
