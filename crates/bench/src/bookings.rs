//! Booking requests over HTTP, each for a distinct open slot, as the element sends them; and
//! the booking phase's timed run, which on PostgreSQL takes turns with pgbench.

use std::sync::Arc;
use std::time::Duration;

use crate::child::Running;
use crate::load::{self, Outcome, Until};
use crate::pg;
use crate::pgbench::PgbenchTurns;
use crate::precomputed::TURNS;
use crate::{BenchError, http, say, seed};

/// How long the bench waits at most for a quiet server: one that still sends the emails of the
/// run before would charge that run's work to this one (a steady load's own emails are sent
/// during it, as on a live site).
pub(crate) const QUIET: Duration = Duration::from_secs(180);

/// What the timed run measured.
pub(crate) struct Timed {
    /// Every timed booking request.
    pub bookings: Outcome,
    /// The server process's CPU time (user + system) per booking, its outbox's sending of their
    /// emails included.
    pub cpu: Duration,
    /// On PostgreSQL on this machine: the database's CPU time per booking, their emails'
    /// sending included (see [`pg::local_cpu`]).
    pub db_cpu: Option<Duration>,
    /// On PostgreSQL: the database's transactions that wrote, per booking.
    pub transactions: Option<f64>,
}

/// Sums over guidance's turns.
#[derive(Default)]
struct Spent {
    cpu: Duration,
    db_cpu: Option<Duration>,
    transactions: Option<i64>,
}

/// Books each of `slot_ids` once from `concurrency` clients, timed. With `pgbench`, guidance and
/// pgbench take [`TURNS`] turns each, in the order guidance, pgbench, pgbench, guidance, …, so
/// that the shared machine's drift over the run meets both sides alike; guidance's bookings
/// are split evenly over its turns, and pgbench's seconds over its. Each guidance turn starts
/// on a quiet server and ends once it is quiet again (the turn's emails sent): its CPU figures
/// count until then, its rate until the last answer. `analyze_url` is the PostgreSQL
/// database's, for its figures.
pub(crate) async fn timed(
    server: &mut Running,
    port: u16,
    mut slot_ids: Vec<seed::Seeded>,
    concurrency: usize,
    analyze_url: Option<&str>,
    mut pgbench: Option<&mut PgbenchTurns>,
) -> Result<Timed, BenchError> {
    let turns = if pgbench.is_some() { TURNS as usize } else { 1 };
    let per_turn = slot_ids.len().div_ceil(turns);
    let mut bookings = Outcome::default();
    let mut spent = Spent::default();
    for i in 0..2 * turns {
        let is_guidance_turn = matches!(i % 4, 0 | 3);
        match (&mut pgbench, is_guidance_turn) {
            (Some(pgbench), false) => pgbench.turn().await?,
            (None, false) => {}
            (_, true) => {
                let turn = slot_ids.split_off(slot_ids.len().saturating_sub(per_turn));
                let outcome =
                    guidance_turn(server, port, turn, concurrency, analyze_url, &mut spent).await?;
                bookings.absorb(outcome);
            }
        }
    }
    Ok(spent.per_booking(bookings))
}

impl Spent {
    /// What was spent, per booking of `bookings`.
    fn per_booking(self, bookings: Outcome) -> Timed {
        let booked = bookings.count(201).max(1);
        let per_booking = |time: Duration| time / u32::try_from(booked).unwrap_or(u32::MAX);
        Timed {
            cpu: per_booking(self.cpu),
            db_cpu: self.db_cpu.map(per_booking),
            transactions: self.transactions.map(|c| c as f64 / booked as f64),
            bookings,
        }
    }
}

/// Two servers on one database book `slot_ids` in turns, as [`timed`] does with pgbench: the
/// first, the second, the second, the first, …, [`TURNS`] turns each, each turn `per_turn`
/// bookings on a quiet server. What each measured, in the servers' order.
pub(crate) async fn side_by_side(
    mut servers: [(&mut Running, u16); 2],
    mut slot_ids: Vec<seed::Seeded>,
    concurrency: usize,
    analyze_url: &str,
) -> Result<[Timed; 2], BenchError> {
    let per_turn = slot_ids.len().div_ceil(2 * TURNS as usize);
    let mut outcomes = [Outcome::default(), Outcome::default()];
    let mut spent = [Spent::default(), Spent::default()];
    for i in 0..2 * TURNS as usize {
        let side = usize::from(matches!(i % 4, 1 | 2));
        let turn = slot_ids.split_off(slot_ids.len().saturating_sub(per_turn));
        let (server, port) = &mut servers[side];
        say(&format!("  side {}", side + 1));
        let outcome = guidance_turn(
            server,
            *port,
            turn,
            concurrency,
            Some(analyze_url),
            &mut spent[side],
        )
        .await?;
        outcomes[side].absorb(outcome);
    }
    let [first, second] = outcomes;
    let [first_spent, second_spent] = spent;
    Ok([
        first_spent.per_booking(first),
        second_spent.per_booking(second),
    ])
}

/// Books `slot_ids` on a quiet server, and adds what it cost, until the server is quiet again,
/// to `spent`.
async fn guidance_turn(
    server: &mut Running,
    port: u16,
    slot_ids: Vec<seed::Seeded>,
    concurrency: usize,
    analyze_url: Option<&str>,
    spent: &mut Spent,
) -> Result<Outcome, BenchError> {
    server.wait_quiet(QUIET).await?;
    let cpu_before = server.cpu_time()?;
    let transactions_before = pg::next_transaction_id(analyze_url).await?;
    let db_cpu_before = analyze_url.and_then(|_| pg::local_cpu());
    let outcome = book_all(port, slot_ids, concurrency).await;
    // Until their emails are sent too.
    server.wait_quiet(QUIET).await?;
    spent.cpu += server.cpu_time()?.saturating_sub(cpu_before);
    if let Some((before, after)) = db_cpu_before.zip(pg::local_cpu()) {
        *spent.db_cpu.get_or_insert_default() += after.saturating_sub(before);
    }
    let transactions_after = pg::next_transaction_id(analyze_url).await?;
    if let Some((before, after)) = transactions_before.zip(transactions_after) {
        *spent.transactions.get_or_insert_default() += after - before;
    }
    server.check_alive()?;
    say(&format!("    {:.0} bookings/s", outcome.rate(201)));
    Ok(outcome)
}

/// Books each slot once, `concurrency` requests at a time.
pub(crate) async fn book_all(
    port: u16,
    slot_ids: Vec<seed::Seeded>,
    concurrency: usize,
) -> Outcome {
    let n = slot_ids.len();
    load::run(
        concurrency,
        Until::Count(n, Duration::from_secs(120)),
        booking_requests(port, slot_ids),
    )
    .await
}

/// Books each slot once, the requests sent at `per_second` whatever the answers.
pub(crate) async fn book_paced(port: u16, slot_ids: Vec<seed::Seeded>, per_second: f64) -> Outcome {
    let n = slot_ids.len();
    load::paced(per_second, n, booking_requests(port, slot_ids)).await
}

/// The `i`-th booking request, for `slot_ids[i]`, sent by the bench's lean client (see
/// [`http`]) on connections of its own.
pub(crate) fn booking_requests(
    port: u16,
    slot_ids: Vec<seed::Seeded>,
) -> impl Fn(usize) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<u16, String>> + Send>>
+ Send
+ Sync
+ 'static {
    let slot_ids = Arc::new(slot_ids);
    let client = http::Client::new(port);
    move |i| {
        let slot = slot_ids[i];
        let body = serde_json::json!({
            "slot_id": slot.id,
            "starts_at": slot.starts_at.to_string(),
            "ends_at": slot.ends_at.to_string(),
            "name": format!("Bench Visitor {i}"),
            // An address of its own for each booking (each slot is booked once), as pgbench's
            // transactions have: the limit of requests awaiting the owner is in force, so that
            // guidance locks and counts the address as a live site does and as pgbench does.
            "email": format!("visitor-{}@example.net", slot.id),
            "topic": "A benchmark session",
            "priority": "normal",
            "answers": {},
            "locale": "en",
            "time_zone": "Europe/Berlin",
        })
        .to_string();
        let client = client.clone();
        Box::pin(async move { client.post_json("/api/bookings", &body).await })
    }
}
