//! A site with a history: the booking rate of a fresh SQLite database against the same server's
//! rate after `--bulk-bookings` (100,000) more, and what each booking adds to the database.

use std::collections::BTreeMap;
use std::path::Path;
use std::str::FromStr;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use sqlx::Connection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};

use crate::bookings::booking_requests;
use crate::child::{Guidance, wait_healthy};
use crate::load::{Outcome, Until};
use crate::{BenchError, RunArgs, load, say, seed};

/// Untimed bookings before the fresh database's timed ones (connections and caches warm).
pub const WARM_UP: usize = 200;

/// What the long run measured.
pub struct BulkFigures {
    /// Timed bookings on the fresh database.
    pub fresh: Outcome,
    /// The bookings in between, untimed as figures but counted.
    pub bulk: Outcome,
    /// The same number of timed bookings after them.
    pub after: Outcome,
    /// Database bytes (pages in use) before and after the bulk bookings.
    pub bytes_before: Sizes,
    /// See `bytes_before`.
    pub bytes_after: Sizes,
    /// Clients of every run.
    pub clients: usize,
}

impl BulkFigures {
    /// Bytes the database grew by per booking of the bulk run.
    pub fn bytes_per_booking(&self) -> f64 {
        self.bytes_after
            .total
            .saturating_sub(self.bytes_before.total) as f64
            / self.bulk.count(201).max(1) as f64
    }

    /// What each table (with its indexes) grew by per booking of the bulk run, largest first.
    pub fn tables_per_booking(&self) -> Vec<(String, f64)> {
        let bookings = self.bulk.count(201).max(1) as f64;
        let mut grown: Vec<(String, f64)> = self
            .bytes_after
            .by_table
            .iter()
            .map(|(table, after)| {
                let before = self.bytes_before.by_table.get(table).copied().unwrap_or(0);
                (
                    table.clone(),
                    after.saturating_sub(before) as f64 / bookings,
                )
            })
            .collect();
        grown.sort_by(|a, b| b.1.total_cmp(&a.1));
        grown
    }
}

/// The bytes a database holds: its pages in use, and the pages of each table with its indexes.
#[derive(Default)]
pub struct Sizes {
    /// Pages in use (the write-ahead log included, as a reader sees it), in bytes.
    pub total: u64,
    /// The pages of each table and of its indexes, by the table's name (`dbstat`).
    pub by_table: BTreeMap<String, u64>,
}

/// The bytes `db` holds.
async fn database_bytes(db: &Path) -> Result<Sizes, BenchError> {
    let options =
        SqliteConnectOptions::from_str(&format!("sqlite://{}", db.display()))?.read_only(true);
    let mut conn = SqliteConnection::connect_with(&options).await?;
    let total: i64 = sqlx::query_scalar(
        "SELECT (page_count - freelist_count) * page_size \
         FROM pragma_page_count(), pragma_freelist_count(), pragma_page_size()",
    )
    .fetch_one(&mut conn)
    .await?;
    // An index's pages count for its table: what a booking costs is its rows and their keys.
    let objects: Vec<(String, i64)> = sqlx::query_as(
        "SELECT coalesce(m.tbl_name, d.name), SUM(d.pgsize) \
         FROM dbstat AS d LEFT JOIN sqlite_schema AS m ON m.name = d.name \
         GROUP BY 1",
    )
    .fetch_all(&mut conn)
    .await?;
    conn.close().await?;
    let mut by_table = BTreeMap::new();
    for (table, bytes) in objects {
        by_table.insert(table, u64::try_from(bytes)?);
    }
    Ok(Sizes {
        total: u64::try_from(total)?,
        by_table,
    })
}

/// Books `ids` from `clients` clients, each once; fails on any answer but `201`.
async fn book(
    port: u16,
    ids: Vec<seed::Seeded>,
    clients: usize,
    what: &str,
) -> Result<Outcome, BenchError> {
    let n = ids.len();
    let cap = Duration::from_secs(60 + n as u64 / 50);
    let outcome = load::run(clients, Until::Count(n, cap), booking_requests(port, ids)).await;
    if !outcome.unexpected(201).is_empty() || outcome.count(201) != n {
        return Err(format!(
            "{what}: {} of {n} bookings answered 201; others: {}",
            outcome.count(201),
            outcome.unexpected(201)
        )
        .into());
    }
    Ok(outcome)
}

/// A fresh SQLite server: `args.bulk_timed` bookings timed, `args.bulk_bookings` more, the same
/// number timed again; all at `args.high_concurrency` clients.
pub(crate) async fn measure_bulk(
    guidance_bin: &Path,
    smtp: &BTreeMap<String, String>,
    tmp: &Path,
    args: &RunArgs,
    now: Timestamp,
) -> Result<BulkFigures, BenchError> {
    let dir = tmp.join("bulk");
    let db = dir.join("guidance.db");
    let guidance = Guidance {
        binary: guidance_bin.to_owned(),
        dir: dir.clone(),
        database_url: format!("sqlite://{}", db.display()),
        extra: smtp.clone(),
    };
    guidance.migrate()?;
    let (timed, bulk) = (args.bulk_timed, args.bulk_bookings);
    say(&format!("  seeding {} slots", WARM_UP + 2 * timed + bulk));
    let mut ids = seed::shuffled(
        seed::seed_sqlite(&db, &seed::booking_plan(now, 0, WARM_UP + 2 * timed + bulk)).await?,
    );
    let (mut server, port) = guidance.serve("serve.log")?;
    wait_healthy(&mut server, port, Instant::now(), Duration::from_secs(30)).await?;
    let clients = args.high_concurrency;

    let warm: Vec<_> = ids.split_off(ids.len() - WARM_UP);
    book(port, warm, clients, "warm-up").await?;
    say(&format!(
        "  {timed} bookings on a fresh database, {clients} clients"
    ));
    let fresh_ids = ids.split_off(ids.len() - timed);
    // Both timed runs start on a quiet server (the emails of the bookings before them sent).
    let quiet = Duration::from_secs(300);
    server.wait_quiet(quiet).await?;
    let fresh = book(port, fresh_ids, clients, "fresh").await?;
    server.check_alive()?;
    let bytes_before = database_bytes(&db).await?;

    say(&format!("  {bulk} bookings, untimed"));
    let after_ids = ids.split_off(ids.len() - timed);
    let bulk_outcome = book(port, ids, clients, "bulk").await?;
    server.check_alive()?;
    let bytes_after = database_bytes(&db).await?;

    say(&format!(
        "  {timed} bookings after {bulk}, {clients} clients"
    ));
    server.wait_quiet(quiet).await?;
    let after = book(port, after_ids, clients, "after").await?;
    server.check_alive()?;
    server.stop(Duration::from_secs(15))?;
    let (rows, doubles) = seed::sqlite_count_bookings(&db).await?;
    let booked = (WARM_UP + 2 * timed + bulk) as i64;
    if rows != booked || doubles != 0 {
        return Err(format!(
            "long run: {booked} bookings answered 201 but {rows} in the database \
             ({doubles} double-booked slots)"
        )
        .into());
    }
    Ok(BulkFigures {
        fresh,
        bulk: bulk_outcome,
        after,
        bytes_before,
        bytes_after,
        clients,
    })
}
