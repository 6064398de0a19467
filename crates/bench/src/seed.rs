//! Where the bench's slots lie, and seeding them into SQLite (PostgreSQL: `pg.rs`).
//!
//! - 200 open slots in the month that starts tomorrow (07:00–14:00 UTC, seven a day), read by
//!   the `GET /api/slots` phase;
//! - from day 40 on, back to back, the slots the booking phase books (one per request, in a
//!   random order) and then those `pgbench` claims.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use rand::seq::SliceRandom;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{Connection, Row};
use uuid::Uuid;

use crate::BenchError;

/// Open slots in the month the `GET /api/slots` phase reads.
pub const MONTH_SLOTS: usize = 200;

/// A set of slots to create: their starts and common length.
#[derive(Debug, Clone)]
pub struct SlotPlan {
    /// When each slot starts (UTC, whole seconds).
    pub starts: Vec<Timestamp>,
    /// How long each lasts.
    pub length: Duration,
}

/// Midnight UTC of the day after `now`.
fn tomorrow(now: Timestamp) -> Timestamp {
    let day = 86_400;
    Timestamp::from_second(now.as_second() - now.as_second().rem_euclid(day) + day)
        .expect("in range")
}

/// The month the slots phase reads: `[from, to)`.
pub fn month(now: Timestamp) -> (Timestamp, Timestamp) {
    let from = tomorrow(now);
    (
        from,
        from.checked_add(SignedDuration::from_hours(24 * 30))
            .expect("in range"),
    )
}

/// 200 slots of 30 minutes inside [`month`].
pub fn month_plan(now: Timestamp) -> SlotPlan {
    let (from, _) = month(now);
    let starts = (0..MONTH_SLOTS)
        .map(|i| {
            let day = (i / 7) as i64;
            let hour = 7 + (i % 7) as i64;
            from.checked_add(SignedDuration::from_hours(24 * day + hour))
                .expect("in range")
        })
        .collect();
    SlotPlan {
        starts,
        length: Duration::from_secs(1800),
    }
}

/// `count` back-to-back slots of 5 minutes (the shortest a slot may be, so that the long run's
/// 110,000 fit in the longest horizon an owner may set), the first `offset` slots after day 40.
pub fn booking_plan(now: Timestamp, offset: usize, count: usize) -> SlotPlan {
    let first = tomorrow(now)
        .checked_add(SignedDuration::from_hours(24 * 40))
        .expect("in range");
    let starts = (offset..offset + count)
        .map(|i| {
            first
                .checked_add(SignedDuration::from_mins(5 * i as i64))
                .expect("in range")
        })
        .collect();
    SlotPlan {
        starts,
        length: Duration::from_secs(300),
    }
}

/// A seeded slot as a visitor's page shows it: its id and its time, which the bench's booking
/// requests send as the element does.
#[derive(Debug, Clone, Copy)]
pub struct Seeded {
    pub id: Uuid,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
}

impl SlotPlan {
    /// The planned slots with new ids, in the plan's order.
    pub fn seeded(&self) -> Result<Vec<Seeded>, BenchError> {
        let length = SignedDuration::try_from(self.length)?;
        self.starts
            .iter()
            .map(|&starts_at| {
                Ok(Seeded {
                    id: Uuid::new_v4(),
                    starts_at,
                    ends_at: starts_at.checked_add(length)?,
                })
            })
            .collect()
    }
}

/// The slots in a random order: requests then book slots scattered over the calendar, not in
/// the order they were created.
pub fn shuffled<T>(mut ids: Vec<T>) -> Vec<T> {
    ids.shuffle(&mut rand::rng());
    ids
}

/// Inserts the planned slots (open) into a migrated SQLite database, latest first (the schema's
/// overlap trigger then finds no earlier-starting slot to look at), in one transaction, and
/// returns them in the plan's order.
pub async fn seed_sqlite(db: &Path, plan: &SlotPlan) -> Result<Vec<Seeded>, BenchError> {
    let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", db.display()))?;
    let mut conn = SqliteConnection::connect_with(&options).await?;
    let slots = plan.seeded()?;
    let now = Timestamp::from_second(Timestamp::now().as_second())?.to_string();
    let mut tx = conn.begin().await?;
    for slot in slots.iter().rev() {
        sqlx::query(
            "INSERT INTO guidance_availability (id, starts_at, ends_at, status, created_at, updated_at) \
             VALUES (?, ?, ?, 'open', ?, ?)",
        )
        .bind(slot.id.to_string())
        .bind(slot.starts_at.to_string())
        .bind(slot.ends_at.to_string())
        .bind(&now)
        .bind(&now)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    conn.close().await?;
    Ok(slots)
}

/// The SQLite library version (the same bundled build guidance links: one workspace, one
/// `libsqlite3-sys`).
pub async fn sqlite_version() -> Result<String, BenchError> {
    let mut conn = SqliteConnection::connect("sqlite::memory:").await?;
    let row = sqlx::query("SELECT sqlite_version() AS v")
        .fetch_one(&mut conn)
        .await?;
    Ok(row.try_get("v")?)
}

/// Bookings in a SQLite database and slots held by more than one live booking (must be 0).
pub async fn sqlite_count_bookings(db: &Path) -> Result<(i64, i64), BenchError> {
    let options =
        SqliteConnectOptions::from_str(&format!("sqlite://{}", db.display()))?.read_only(true);
    let mut conn = SqliteConnection::connect_with(&options).await?;
    let bookings: i64 = sqlx::query_scalar("SELECT count(*) FROM guidance_bookings")
        .fetch_one(&mut conn)
        .await?;
    let doubles: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT slot_id FROM guidance_bookings \
         WHERE status IN ('pending', 'accepted') GROUP BY slot_id HAVING count(*) > 1)",
    )
    .fetch_one(&mut conn)
    .await?;
    conn.close().await?;
    Ok((bookings, doubles))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn month_slots_lie_in_the_month_and_do_not_overlap() {
        let now: Timestamp = "2026-11-30T15:20:00Z".parse().unwrap();
        let (from, to) = month(now);
        assert_eq!(from.to_string(), "2026-12-01T00:00:00Z");
        let plan = month_plan(now);
        assert_eq!(plan.starts.len(), MONTH_SLOTS);
        assert!(plan.starts.iter().all(|s| *s >= from && *s < to));
        let mut s = plan.starts.clone();
        s.sort();
        assert!(
            s.windows(2)
                .all(|w| w[1].as_second() - w[0].as_second() >= 1800)
        );
    }

    #[test]
    fn booking_slots_follow_the_month_back_to_back() {
        let now: Timestamp = "2026-11-30T15:20:00Z".parse().unwrap();
        let a = booking_plan(now, 0, 3);
        let b = booking_plan(now, 3, 2);
        assert!(a.starts[0] > month(now).1);
        assert_eq!(b.starts[0].as_second() - a.starts[2].as_second(), 300);
    }
}
