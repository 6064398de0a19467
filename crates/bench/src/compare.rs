//! Two guidance binaries side by side (the hidden subcommand `compare`), for deciding whether a
//! change makes bookings cheaper on a machine too noisy to tell from runs one after the other:
//! both servers on one PostgreSQL database, booking in turns (the first, the second, the
//! second, the first, …), so that the machine's drift meets both alike. Printed, not written.
//! The two must share the database's schema (the first migrates it).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use jiff::Timestamp;

use crate::bookings::{self, Timed};
use crate::child::{Guidance, Running, wait_healthy};
use crate::{BenchError, pg, report, say, seed};

/// The bookings each server makes, not timed, before the timed turns.
const WARM_UP: usize = 1_000;

/// Runs the comparison of `binaries` on a fresh database at `pg_url`: `bookings` timed bookings
/// in all from `concurrency` clients, the outbox sending by `smtp`.
pub(crate) async fn compare(
    binaries: [&Path; 2],
    pg_url: &str,
    smtp: &BTreeMap<String, String>,
    dir: &Path,
    bookings: usize,
    concurrency: usize,
) -> Result<(), BenchError> {
    let db = pg::BenchDatabase::create(pg_url).await?;
    let result = run(binaries, &db, smtp, dir, bookings, concurrency).await;
    if let Err(e) = db.drop_now().await {
        say(&format!("could not drop {}: {e}", db.name));
    }
    let [first, second] = result?;
    for (binary, timed) in binaries.iter().zip([&first, &second]) {
        println!("{}: {}", binary.display(), figures(timed));
    }
    let ratio = |a: f64, b: f64| format!("{:.1}%", 100.0 * b / a.max(1e-9));
    let db_cpu = |t: &Timed| t.db_cpu.unwrap_or_default().as_secs_f64();
    println!(
        "second against first: bookings/s {}, server CPU a booking {}, PostgreSQL's {}",
        ratio(first.bookings.rate(201), second.bookings.rate(201)),
        ratio(first.cpu.as_secs_f64(), second.cpu.as_secs_f64()),
        ratio(db_cpu(&first), db_cpu(&second)),
    );
    Ok(())
}

/// The two servers started, warmed up and timed in turns.
async fn run(
    binaries: [&Path; 2],
    db: &pg::BenchDatabase,
    smtp: &BTreeMap<String, String>,
    dir: &Path,
    bookings: usize,
    concurrency: usize,
) -> Result<[Timed; 2], BenchError> {
    let servers = [0, 1].map(|i| Guidance {
        binary: binaries[i].to_owned(),
        dir: dir.join(["first", "second"][i]),
        database_url: db.url.clone(),
        extra: smtp.clone(),
    });
    servers[0].migrate()?;
    let mut conn = db.connect().await?;
    let plan = seed::booking_plan(Timestamp::now(), 0, bookings + 2 * WARM_UP);
    let mut ids = seed::shuffled(pg::seed_slots(&mut conn, &plan).await?);
    let [mut first, mut second] = [start(&servers[0]).await?, start(&servers[1]).await?];
    for (_, port) in [&first, &second] {
        let warm = ids.split_off(ids.len() - WARM_UP);
        say(&format!("  {WARM_UP} bookings, not timed"));
        bookings::book_all(*port, warm, concurrency).await;
    }
    pg::execute(Some(&db.url), "ANALYZE").await?;
    let timed = bookings::side_by_side(
        [(&mut first.0, first.1), (&mut second.0, second.1)],
        ids,
        concurrency,
        &db.url,
    )
    .await?;
    for (server, _) in [first, second] {
        server.stop(Duration::from_secs(10))?;
    }
    Ok(timed)
}

/// A server of `guidance`, answering.
async fn start(guidance: &Guidance) -> Result<(Running, u16), BenchError> {
    let (mut server, port) = guidance.serve("serve.log")?;
    wait_healthy(&mut server, port, Instant::now(), Duration::from_secs(30)).await?;
    Ok((server, port))
}

/// One side's figures, as a line.
fn figures(t: &Timed) -> String {
    format!(
        "{:.0} bookings/s ({} answered 201), server CPU {} a booking, PostgreSQL's {}",
        t.bookings.rate(201),
        t.bookings.count(201),
        report::cpu_ms(Some(t.cpu)),
        report::cpu_ms(t.db_cpu),
    )
}
