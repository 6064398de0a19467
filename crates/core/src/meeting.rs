//! Meeting rooms: a fresh, unguessable room name per accepted booking, put into the configured
//! address (`https://meet.example.org/guidance-{room}`), and for secured Jitsi installations a
//! JWT (HS256) that lets its holder in until just after the session.
//!
//! Only the room name is stored. The JWT is derived whenever a link is shown, from the secret in
//! the configuration: nothing at rest opens the room without it.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use jiff::{SignedDuration, Timestamp};
use sha2::Sha256;

/// The placeholder the room name replaces in the address.
pub const ROOM_PLACEHOLDER: &str = "{room}";
/// Shortest JWT secret, in bytes (HS256 wants at least as many as its output).
pub const MIN_SECRET_BYTES: usize = 32;

/// How the JWT of a secured installation is made.
#[derive(Clone)]
pub struct JwtSigning {
    secret: Vec<u8>,
    /// `iss`: the application id the installation knows.
    pub app_id: String,
    /// `aud`.
    pub audience: String,
    /// How long after the session's end the token still opens the room.
    pub valid_after_end: SignedDuration,
}

impl std::fmt::Debug for JwtSigning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtSigning")
            .field("app_id", &self.app_id)
            .field("audience", &self.audience)
            .field("valid_after_end", &self.valid_after_end)
            .finish_non_exhaustive()
    }
}

impl JwtSigning {
    /// Checks the signing settings: a secret of at least [`MIN_SECRET_BYTES`], an app id.
    pub fn new(
        secret: &str,
        app_id: &str,
        audience: &str,
        valid_after_end: SignedDuration,
    ) -> Result<JwtSigning, String> {
        if secret.len() < MIN_SECRET_BYTES {
            return Err(format!(
                "the meeting JWT secret must be at least {MIN_SECRET_BYTES} bytes long"
            ));
        }
        if app_id.trim().is_empty() {
            return Err("a meeting JWT needs an app id".into());
        }
        Ok(JwtSigning {
            secret: secret.as_bytes().to_vec(),
            app_id: app_id.trim().to_owned(),
            audience: audience.trim().to_owned(),
            valid_after_end,
        })
    }
}

/// Where meetings take place: the address with its `{room}`, and the JWT signing if secured.
#[derive(Debug, Clone)]
pub struct MeetingRooms {
    template: String,
    jwt: Option<JwtSigning>,
}

impl MeetingRooms {
    /// Checks the address: `http(s)://`, `{room}` exactly once, no spaces or quotes, no
    /// fragment (the JWT is added as a query parameter).
    pub fn new(template: &str, jwt: Option<JwtSigning>) -> Result<MeetingRooms, String> {
        let t = template.trim();
        let well_formed = (t.starts_with("https://") || t.starts_with("http://"))
            && t.matches(ROOM_PLACEHOLDER).count() == 1
            && !t.contains('#')
            && !t
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '"' | '<' | '>'));
        if !well_formed {
            return Err(format!(
                "the meeting address must be an http(s) URL holding {ROOM_PLACEHOLDER} once"
            ));
        }
        Ok(MeetingRooms {
            template: t.to_owned(),
            jwt,
        })
    }

    /// A fresh room name: 128 random bits as 32 hex digits.
    pub fn new_room() -> String {
        format!("{:032x}", rand::random::<u128>())
    }

    /// The address of `room` for a session ending at `session_end`, made at `now`; with a JWT
    /// (`?jwt=` or `&jwt=`) when the installation is secured.
    pub fn join_url(&self, room: &str, session_end: Timestamp, now: Timestamp) -> String {
        let url = self.template.replace(ROOM_PLACEHOLDER, room);
        match &self.jwt {
            None => url,
            Some(signing) => {
                let sep = if url.contains('?') { '&' } else { '?' };
                let token = room_jwt(signing, &self.host(), room, session_end, now);
                format!("{url}{sep}jwt={token}")
            }
        }
    }

    /// The address's host (the JWT's `sub`, as Jitsi expects).
    fn host(&self) -> String {
        let rest = self.template.split_once("://").map_or("", |(_, rest)| rest);
        rest.split(['/', '?', ':']).next().unwrap_or("").to_owned()
    }
}

/// The JWT that opens `room` on `host` from `now` until `valid_after_end` after `session_end`.
fn room_jwt(
    signing: &JwtSigning,
    host: &str,
    room: &str,
    session_end: Timestamp,
    now: Timestamp,
) -> String {
    let exp = session_end
        .checked_add(signing.valid_after_end)
        .unwrap_or(session_end);
    let claims = serde_json::json!({
        "iss": signing.app_id,
        "aud": signing.audience,
        "sub": host,
        "room": room,
        "iat": now.as_second(),
        "nbf": now.as_second(),
        "exp": exp.as_second(),
    });
    hs256(&claims, &signing.secret)
}

/// A compact JWS (RFC 7515) over `claims`, signed with HMAC-SHA256 (RFC 7518 `HS256`).
fn hs256(claims: &serde_json::Value, secret: &[u8]) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    let signing_input = format!("{header}.{payload}");
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(signing_input.as_bytes());
    let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{signing_input}.{signature}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "a meeting secret of thirty-two bytes or more";

    #[test]
    fn the_address_holds_the_room_once() {
        let rooms = MeetingRooms::new("https://meet.example.org/guidance-{room}", None).unwrap();
        let room = MeetingRooms::new_room();
        assert_eq!(room.len(), 32);
        assert_ne!(room, MeetingRooms::new_room());
        let now: Timestamp = "2030-01-01T10:00:00Z".parse().unwrap();
        assert_eq!(
            rooms.join_url(&room, now, now),
            format!("https://meet.example.org/guidance-{room}")
        );
        for bad in [
            "meet.example.org/{room}",
            "https://meet.example.org/",
            "https://meet.example.org/{room}/{room}",
            "https://meet.example.org/{room} x",
            "https://meet.example.org/{room}#x",
        ] {
            assert!(MeetingRooms::new(bad, None).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_secured_room_gets_a_signed_token_that_ends_after_the_session() {
        let signing =
            JwtSigning::new(SECRET, "guidance", "jitsi", SignedDuration::from_mins(30)).unwrap();
        let rooms =
            MeetingRooms::new("https://meet.example.org/g-{room}?lang=en", Some(signing)).unwrap();
        let now: Timestamp = "2030-01-01T10:00:00Z".parse().unwrap();
        let end: Timestamp = "2030-01-02T10:45:00Z".parse().unwrap();
        let url = rooms.join_url("abc", end, now);
        let token = url.split_once("&jwt=").unwrap().1;
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3);
        let claims: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        assert_eq!(claims["room"], "abc");
        assert_eq!(claims["sub"], "meet.example.org");
        assert_eq!(claims["exp"], end.as_second() + 30 * 60);
        assert!(JwtSigning::new("short", "guidance", "jitsi", SignedDuration::ZERO).is_err());
    }
}
