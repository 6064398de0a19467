//! The owner's feed: a secret address (`/feed/<token>.ics`) a calendar app subscribes to,
//! listing pending requests as tentative, accepted sessions as confirmed, and sessions called
//! off in the last 30 days as cancelled, with the UID and `SEQUENCE` of their invites.
//!
//! The token is the site secret's keyed hash of the feed's generation: nothing is stored that
//! opens the feed, and rotating (a new generation) kills the old address at once.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use guidance_core::BookingStatus;
use guidance_core::feed::{FeedEvent, feed};
use guidance_core::ics::EventStatus;
use jiff::SignedDuration;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::settings as owner_settings;
use crate::{App, AppError, AppResult};

/// How long a session called off stays in the feed as cancelled.
const CANCELLED_KEPT: SignedDuration = SignedDuration::from_hours(30 * 24);
/// How often calendar apps are asked to look again, in minutes.
pub const REFRESH_MINUTES: u32 = 15;

/// The feed as served: its bytes and a strong validator.
#[derive(Debug, Clone)]
pub struct FeedDocument {
    /// The iCalendar document.
    pub body: String,
    /// A quoted `ETag` over the bytes.
    pub etag: String,
}

fn token(app: &App, generation: i64) -> String {
    let mac = app
        .secret
        .sign("guidance-owner-feed", &generation.to_be_bytes());
    URL_SAFE_NO_PAD.encode(&mac[..24])
}

/// The feed's address now.
pub async fn feed_url(app: &App) -> AppResult<String> {
    let generation = app.store.feed_generation().await?;
    Ok(format!(
        "{}/feed/{}.ics",
        app.settings.public_url.trim_end_matches('/'),
        token(app, generation)
    ))
}

/// Moves the feed to a new address; the old one stops working at once.
pub async fn rotate_feed(app: &App) -> AppResult<String> {
    app.store.rotate_feed(app.now()).await?;
    tracing::info!("owner feed address rotated");
    feed_url(app).await
}

/// The feed for the token in its address; [`AppError::NotFound`] for any other token.
pub async fn feed_for(app: &App, presented: &str) -> AppResult<FeedDocument> {
    let generation = app.store.feed_generation().await?;
    let expected = token(app, generation);
    if !bool::from(expected.as_bytes().ct_eq(presented.as_bytes())) {
        return Err(AppError::NotFound);
    }
    let owner = owner_settings::load(app).await?;
    let now = app.now();
    let since = now.checked_sub(CANCELLED_KEPT).unwrap_or(now);
    let events: Vec<FeedEvent> = app
        .store
        .list_bookings(None)
        .await?
        .into_iter()
        .filter_map(|b| {
            let status = match b.status {
                BookingStatus::Pending => EventStatus::Tentative,
                BookingStatus::Accepted => EventStatus::Confirmed,
                // Nothing of it reached any calendar yet.
                BookingStatus::Unconfirmed => return None,
                _ if b.updated_at >= since => EventStatus::Cancelled,
                _ => return None,
            };
            Some(FeedEvent {
                uid: b.ics_uid,
                sequence: u32::try_from(b.ics_sequence).unwrap_or(u32::MAX),
                updated_at: b.updated_at,
                starts_at: b.starts_at,
                ends_at: b.ends_at,
                summary: format!("{} — {}", b.name, b.topic),
                status,
            })
        })
        .collect();
    let name = format!(
        "{} — {}",
        guidance_core::i18n::t(owner.language, "common.product"),
        owner.owner_name
    );
    let body = feed(&name, REFRESH_MINUTES, &events);
    let digest = Sha256::digest(body.as_bytes());
    let etag = format!("\"{}\"", URL_SAFE_NO_PAD.encode(&digest[..16]));
    Ok(FeedDocument { body, etag })
}
