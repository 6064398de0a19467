//! Meeting rooms made by the service (`GUIDANCE_MEETING_URL`): the configuration, a room name
//! for a booking when it is accepted (kept across new times), and the address to join it,
//! derived whenever it is shown — with a JWT for secured installations, signed then from the
//! configured secret, so that nothing stored opens a room (see [`guidance_core::meeting`]).

use clap::Args;
use guidance_core::meeting::{JwtSigning, MeetingRooms};
use guidance_store::Booking;
use jiff::{SignedDuration, Timestamp};

use crate::App;
use crate::config::ConfigError;

/// The meeting room settings.
#[derive(Debug, Clone, Args)]
pub struct MeetingConfig {
    /// Address of a meeting room, `{room}` standing for a fresh unguessable name per booking,
    /// e.g. `https://meet.example.org/guidance-{room}` (Jitsi Meet and similar). Unset: no rooms
    /// (the slots' own meeting details are still sent).
    #[arg(long, env = "GUIDANCE_MEETING_URL")]
    pub meeting_url: Option<String>,
    /// Secured Jitsi: the secret that signs each room's JWT (HS256, at least 32 bytes).
    #[arg(long, env = "GUIDANCE_MEETING_JWT_SECRET", hide_env_values = true)]
    pub meeting_jwt_secret: Option<String>,
    /// Secured Jitsi: the JWT's issuer (`iss`), the app id the installation knows.
    #[arg(long, env = "GUIDANCE_MEETING_JWT_APP_ID")]
    pub meeting_jwt_app_id: Option<String>,
    /// Secured Jitsi: the JWT's audience (`aud`).
    #[arg(long, env = "GUIDANCE_MEETING_JWT_AUDIENCE", default_value = "jitsi")]
    pub meeting_jwt_audience: String,
    /// Secured Jitsi: how many minutes after the session's end its JWT still opens the room.
    #[arg(long, env = "GUIDANCE_MEETING_JWT_MINUTES_AFTER", default_value_t = 30)]
    pub meeting_jwt_minutes_after: u32,
}

impl Default for MeetingConfig {
    /// No rooms; the JWT defaults as on the command line.
    fn default() -> Self {
        MeetingConfig {
            meeting_url: None,
            meeting_jwt_secret: None,
            meeting_jwt_app_id: None,
            meeting_jwt_audience: "jitsi".into(),
            meeting_jwt_minutes_after: 30,
        }
    }
}

/// A setting given and not blank.
fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

impl MeetingConfig {
    /// The checked rooms, if configured. A JWT secret without an address, or without an app id,
    /// is a mistake worth stopping for.
    pub fn check(&self) -> Result<Option<MeetingRooms>, ConfigError> {
        let jwt = match given(&self.meeting_jwt_secret) {
            None => None,
            Some(secret) => Some(
                JwtSigning::new(
                    secret,
                    given(&self.meeting_jwt_app_id).unwrap_or_default(),
                    &self.meeting_jwt_audience,
                    SignedDuration::from_mins(i64::from(self.meeting_jwt_minutes_after)),
                )
                .map_err(|e| ConfigError(format!("GUIDANCE_MEETING_JWT_*: {e}")))?,
            ),
        };
        match (given(&self.meeting_url), jwt) {
            (None, None) => Ok(None),
            (None, Some(_)) => Err(ConfigError(
                "GUIDANCE_MEETING_JWT_SECRET is set, but GUIDANCE_MEETING_URL is not".into(),
            )),
            (Some(url), jwt) => MeetingRooms::new(url, jwt)
                .map(Some)
                .map_err(|e| ConfigError(format!("GUIDANCE_MEETING_URL: {e}"))),
        }
    }
}

/// The room of a booking being accepted: the one it has, or a fresh one when the service makes
/// rooms.
pub(crate) fn room_for(app: &App, booking: &Booking) -> Option<String> {
    app.settings.meeting.as_ref()?;
    Some(
        booking
            .meeting_room
            .clone()
            .unwrap_or_else(MeetingRooms::new_room),
    )
}

/// The address to join `room` for a session ending at `ends_at`, as shown now.
pub fn join_url(app: &App, room: Option<&str>, ends_at: Timestamp) -> Option<String> {
    let rooms = app.settings.meeting.as_ref()?;
    Some(rooms.join_url(room?, ends_at, app.now()))
}
