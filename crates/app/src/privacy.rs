//! The visitor's data: what a visitor downloads of it from their own page, their deletion of
//! their request, the owner's erase of everything about one address, and retention (the data
//! of sessions long past erased by the outbox worker). Each erasure is one
//! [`guidance_store::Store::erase`] (every table, in one transaction) followed by the mail
//! directory's copies of the emails it deleted.

use guidance_core::{BookingAction, FieldReason};
use guidance_store::{Actor, Booking, Erase, Erased, Erasure};
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use uuid::Uuid;

use crate::{App, AppError, AppResult};

/// Longest address the owner's erase accepts (the longest an address can be).
const EMAIL_MAX: usize = 254;

/// Everything the service keeps about one booking of a visitor, as they download it.
#[derive(Debug, Clone, Serialize)]
pub struct VisitorData {
    /// The booking's id.
    pub id: Uuid,
    /// Their name as given.
    pub name: String,
    /// Their email address.
    pub email: String,
    /// Their language.
    pub locale: String,
    /// Their time zone.
    pub time_zone: String,
    /// What the session is about.
    pub topic: String,
    /// How urgent.
    pub priority: String,
    /// Their answers to the owner's questions.
    pub answers: serde_json::Value,
    /// Where the request stands.
    pub status: String,
    /// The session's start.
    pub starts_at: Timestamp,
    /// The session's end.
    pub ends_at: Timestamp,
    /// When they asked.
    pub created_at: Timestamp,
    /// Every move of the request, oldest first.
    pub history: Vec<HistoryEntry>,
    /// The emails sent to them about it, oldest first.
    pub emails: Vec<EmailEntry>,
}

/// One move of a booking, as the visitor's download shows it.
#[derive(Debug, Clone, Serialize)]
pub struct HistoryEntry {
    /// When.
    pub at: Timestamp,
    /// Who: `owner`, `requester` or `system`.
    pub actor: String,
    /// What was done.
    pub action: String,
    /// The status it moved to.
    pub status: String,
    /// The owner's message, if one went with it.
    pub note: Option<String>,
}

/// One email to the visitor, as their download shows it (its body holds working links, so it
/// is named, not included).
#[derive(Debug, Clone, Serialize)]
pub struct EmailEntry {
    /// Which email.
    pub kind: String,
    /// Its subject.
    pub subject: String,
    /// `queued`, `sent` or `failed`.
    pub status: String,
    /// When it was queued.
    pub created_at: Timestamp,
    /// When it was sent, if it was.
    pub sent_at: Option<Timestamp>,
}

/// What the service keeps about the visitor's booking `booking_id` (their link proved who they
/// are).
pub async fn visitor_data(app: &App, booking_id: Uuid) -> AppResult<VisitorData> {
    let b = app.store.get_booking(booking_id).await?;
    let history = app
        .store
        .booking_events(booking_id)
        .await?
        .into_iter()
        .map(|e| HistoryEntry {
            at: e.created_at,
            actor: e.actor,
            action: e.action,
            status: e.to_status,
            note: e.note,
        })
        .collect();
    let emails = app
        .store
        .booking_emails(booking_id)
        .await?
        .into_iter()
        .filter(|m| !b.email.is_empty() && m.recipient.eq_ignore_ascii_case(b.email.trim()))
        .map(|m| EmailEntry {
            kind: m.kind,
            subject: m.subject,
            status: m.status.as_str().to_owned(),
            created_at: m.created_at,
            sent_at: m.sent_at,
        })
        .collect();
    Ok(VisitorData {
        id: b.id,
        name: b.name,
        email: b.email,
        locale: b.locale,
        time_zone: b.time_zone,
        topic: b.topic,
        priority: b.priority.as_str().to_owned(),
        answers: b.answers,
        status: b.status.as_str().to_owned(),
        starts_at: b.starts_at,
        ends_at: b.ends_at,
        created_at: b.created_at,
        history,
        emails,
    })
}

/// Whether the booking's visitor data was erased already (an erased booking keeps no address).
pub fn is_erased(booking: &Booking) -> bool {
    booking.email.is_empty()
}

/// The visitor deletes their request from their own page: a live one is cancelled first, with
/// the usual emails (sent before their copies go), then their data is erased. Deleting twice
/// changes nothing more.
pub async fn delete_own(app: &App, booking_id: Uuid) -> AppResult<Booking> {
    let booking = app.store.get_booking(booking_id).await?;
    if is_erased(&booking) {
        return Ok(booking);
    }
    if BookingAction::Cancel.allowed_from(booking.status) {
        crate::bookings::requester_cancel(app, booking_id).await?;
    }
    erase(app, Erase::Booking(booking_id), Actor::Requester).await?;
    tracing::info!(booking = %booking_id, "the visitor deleted their request");
    Ok(app.store.get_booking(booking_id).await?)
}

/// The owner erases everything about one email address (compared trimmed, ignoring case): its
/// live requests are cancelled first, with the usual emails, then every booking of it is
/// erased. How many bookings were erased.
pub async fn erase_address(app: &App, raw: &str) -> AppResult<usize> {
    let email = check_address(raw)?;
    let live = app
        .store
        .list_bookings(None)
        .await?
        .into_iter()
        .filter(|b| b.email.trim().eq_ignore_ascii_case(email))
        .filter(|b| BookingAction::Cancel.allowed_from(b.status));
    for b in live {
        match crate::bookings::owner_action(app, b.id, BookingAction::Cancel, None).await {
            // Moved at the same moment (say, expired): erased all the same.
            Ok(_) | Err(AppError::Conflict | AppError::InvalidTransition) => {}
            Err(e) => return Err(e),
        }
    }
    let erased = erase(app, Erase::Email(email.to_owned()), Actor::Owner).await?;
    tracing::info!(
        bookings = erased.bookings.len(),
        "the owner erased a visitor's data"
    );
    Ok(erased.bookings.len())
}

/// The address an erase names, trimmed; refused when empty, too long or not an address at
/// all. An address stored long ago need not pass today's rules, so only its shape is checked.
pub fn check_address(raw: &str) -> AppResult<&str> {
    let email = raw.trim();
    if email.is_empty() {
        return Err(AppError::field("email", FieldReason::Empty));
    }
    if email.chars().count() > EMAIL_MAX {
        return Err(AppError::field("email", FieldReason::TooLong));
    }
    if !email.contains('@') || email.chars().any(char::is_control) {
        return Err(AppError::field("email", FieldReason::InvalidEmail));
    }
    Ok(email)
}

/// The moment before which sessions have their visitors' data erased: `retention_days` before
/// `now`.
pub fn retention_cutoff(now: Timestamp, retention_days: i64) -> Timestamp {
    // In seconds, saturating: `from_hours` panics past what seconds in an i64 can hold.
    now.checked_sub(SignedDuration::from_secs(
        retention_days.saturating_mul(24 * 60 * 60),
    ))
    .unwrap_or(Timestamp::MIN)
}

/// Erases the visitors' data of sessions that ended more than the owner's `retention_days`
/// ago; the outbox worker runs this every minute. How many bookings were erased.
pub async fn erase_past_retention(app: &App) -> AppResult<usize> {
    let owner = crate::settings::load(app).await?;
    let cutoff = retention_cutoff(app.now(), owner.retention_days);
    let erased = erase(app, Erase::EndedBefore(cutoff), Actor::System).await?;
    if !erased.bookings.is_empty() {
        tracing::info!(
            bookings = erased.bookings.len(),
            "retention erased visitors' data"
        );
    }
    Ok(erased.bookings.len())
}

/// Deletes the emails of erased bookings that were still to be sent when their booking was
/// erased and are sent now; the worker runs this after each round that sent something.
pub async fn erase_leftovers(app: &App) -> AppResult<()> {
    erase(app, Erase::Leftovers, Actor::System).await?;
    Ok(())
}

/// One erasure in the store, then the mail directory's copies of the emails it deleted.
async fn erase(app: &App, whom: Erase, actor: Actor) -> AppResult<Erased> {
    let erased = app
        .store
        .erase(Erasure {
            whom,
            actor,
            now: app.now(),
        })
        .await?;
    if !erased.emails.is_empty() {
        let dir = app.settings.config.mail_dir.clone();
        let ids = erased.emails.clone();
        tokio::task::spawn_blocking(move || remove_copies(&dir, &ids))
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?;
    }
    Ok(erased)
}

/// Removes the `.eml` files of the emails `ids` from the mail directory (each file's name
/// holds its email's id, see [`crate::outbox::maildir`]).
fn remove_copies(dir: &std::path::Path, ids: &[Uuid]) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let marks: Vec<String> = ids.iter().map(|id| format!("-{id}-")).collect();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if marks.iter().any(|m| name.contains(m.as_str()))
            && let Err(e) = std::fs::remove_file(entry.path())
        {
            tracing::error!(file = %name, error = %e, "an erased email's copy could not be removed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::retention_cutoff;
    use jiff::Timestamp;

    #[test]
    fn the_cutoff_is_retention_days_before_now() {
        let now: Timestamp = "2031-01-01T00:00:00Z".parse().unwrap();
        assert_eq!(
            retention_cutoff(now, 365),
            "2030-01-01T00:00:00Z".parse::<Timestamp>().unwrap()
        );
        assert_eq!(retention_cutoff(now, i64::MAX), Timestamp::MIN);
    }
}
