//! The counts behind [`crate::Health`], read alike on both databases; each backend adds what
//! it knows of its own migrations.

use guidance_core::BookingStatus;
use jiff::Timestamp;

use super::rows::{PlainColumns, StoredRow};
use super::tx::Db;
use super::tx::Value::Time;
use crate::{Health, StoreError, StoreResult};

/// Everything of [`Health`] but the migrations, read at `now`.
pub(crate) async fn counts<D: Db>(db: &D, now: Timestamp) -> StoreResult<Health> {
    let mut bookings = Vec::new();
    for row in db
        .read_all(
            "SELECT status, COUNT(*) AS n FROM guidance_bookings GROUP BY status ORDER BY status",
            &[],
        )
        .await?
    {
        let name = row.text("status")?;
        let status = BookingStatus::parse(&name)
            .ok_or_else(|| StoreError::Corrupt(format!("booking status {name:?}")))?;
        bookings.push((status, row.int("n")?));
    }
    let (mut emails_queued, mut emails_failed) = (0, 0);
    // Sent emails are most of the table and nobody needs their number here: each count stays
    // on the partial index of its status (waiting, failed).
    for row in db
        .read_all(
            "SELECT 'queued' AS status, COUNT(*) AS n FROM guidance_email_outbox \
             WHERE status = 'queued' AND withdrawn_at IS NULL \
               AND NOT (send_before IS NOT NULL AND next_attempt_at > $1) \
             UNION ALL \
             SELECT 'failed' AS status, COUNT(*) AS n FROM guidance_email_outbox \
             WHERE status = 'failed' AND withdrawn_at IS NULL",
            &[Time(now)],
        )
        .await?
    {
        match row.text("status")?.as_str() {
            "queued" => emails_queued = row.int("n")?,
            _ => emails_failed = row.int("n")?,
        }
    }
    let oldest = db
        .read_optional(
            "SELECT MIN(CASE WHEN send_before IS NULL THEN created_at \
                             WHEN next_attempt_at <= $1 THEN next_attempt_at END) AS queued, \
                    MIN(CASE WHEN lease_until IS NULL OR lease_until < $1 \
                             THEN next_attempt_at END) AS due \
             FROM guidance_email_outbox WHERE status = 'queued' AND withdrawn_at IS NULL",
            &[Time(now)],
        )
        .await?;
    let (oldest_queued_at, oldest_due_at) = match oldest {
        Some(row) => (row.opt_time("queued")?, row.opt_time("due")?),
        None => (None, None),
    };
    Ok(Health {
        bookings,
        emails_queued,
        emails_failed,
        oldest_queued_at,
        oldest_due_at,
        pending_migrations: Vec::new(),
    })
}
