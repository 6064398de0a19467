//! `guidance-bench` (run by `scripts/bench`): starts the real release `guidance` binary as child
//! processes on free ports against real databases on this machine (SQLite in a temporary
//! directory; a fresh `guidance_bench_<random>` PostgreSQL database, dropped afterwards), drives
//! them over HTTP with its own concurrent client, and writes the figures, each beside the
//! reference it is compared with in the same run, into its section of `BENCHMARKS.md`.
//!
//! Phases, each bounded in time: booking creation on SQLite and PostgreSQL (and `pgbench`
//! running the same transaction), `GET /api/slots` against the same bytes served precomputed,
//! peak memory, start-up time, the outbox into a local SMTP server, the slot list with the
//! owner's calendars and the cost of a poll, and bookings after 100,000 others. All traffic
//! stays on 127.0.0.1. Speed is never asserted: this is not a test.
//!
//! `GUIDANCE_BENCH_QUICK=1` (or `--quick`) runs every phase with small counts, to check that
//! the bench works; its figures say little.

mod bookings;
mod bulk;
mod busy;
mod calendars;
mod child;
mod compare;
mod http;
mod load;
mod mail;
mod pg;
mod pgbench;
mod precomputed;
mod report;
mod section;
mod seed;
mod weight;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap::{Args, Parser, Subcommand};
use jiff::Timestamp;
use sqlx::Connection;

use crate::bookings::QUIET;
use crate::child::{Guidance, wait_healthy};
use crate::load::Outcome;
use crate::report::Machine;

/// Any failure: the bench stops and says why.
pub type BenchError = Box<dyn std::error::Error + Send + Sync>;

/// The goal for bookings against pgbench's same transaction (issue "Fast where it counts").
const PGBENCH_GOAL: f64 = 0.75;
/// The goal for the slot list against the same bytes precomputed.
const SLOTS_GOAL: f64 = 0.8;
/// The goal for the slot list with three calendars of 2,000 events against precomputed.
const BUSY_GOAL: f64 = 0.5;
/// The goal for the booking rate after 100,000 bookings against a fresh database.
const BULK_GOAL: f64 = 0.8;

#[derive(Parser)]
#[command(
    name = "guidance-bench",
    about = "Measures the release guidance binary and writes BENCHMARKS.md"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Internal>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Subcommand)]
enum Internal {
    /// The reference server of the slots phase (started by the bench itself).
    #[command(hide = true)]
    ServeBytes {
        #[arg(long)]
        listen: SocketAddr,
        #[arg(long)]
        path: String,
        #[arg(long)]
        body: PathBuf,
        #[arg(long)]
        header: Vec<String>,
    },
    /// The CPU cost of reading a 2,000-event calendar (printed, not written).
    CalendarPoll {
        #[arg(long, default_value_t = 20)]
        runs: usize,
    },
    /// The outbox → SMTP phase alone (printed, not written), for working on the outbox.
    #[command(hide = true)]
    Mail {
        #[command(flatten)]
        run: RunArgs,
    },
    /// The PostgreSQL phase alone, in turns with pgbench (printed, not written), for working on
    /// the booking path: the ratio to pgbench and each side's CPU a booking, in a minute or two
    /// with `--bookings 4000 --seconds 6 --starts 1 --paced-seconds 1`.
    #[command(hide = true)]
    Postgres {
        #[command(flatten)]
        run: RunArgs,
    },
    /// Bookings by `--guidance` and by `--other` side by side on one PostgreSQL database, in
    /// turns (printed, not written), for deciding whether a change makes a booking cheaper.
    #[command(hide = true)]
    Compare {
        /// The second guidance binary.
        #[arg(long)]
        other: PathBuf,
        #[command(flatten)]
        run: RunArgs,
    },
}

#[derive(Args, Clone)]
struct RunArgs {
    /// The guidance binary (default: `guidance` beside this one, i.e. the release build).
    #[arg(long)]
    guidance: Option<PathBuf>,
    /// PostgreSQL maintenance URL; the bench creates and drops its own database there.
    #[arg(
        long,
        env = "GUIDANCE_BENCH_PG_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    pg_url: String,
    /// Concurrent clients (HTTP connections; pgbench clients).
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// The higher number of concurrent clients, for bookings and the slot list.
    #[arg(long, default_value_t = 32)]
    high_concurrency: usize,
    /// Bookings offered per second in the paced run (an open loop, for latency).
    #[arg(long, default_value_t = 400.0)]
    paced_rate: f64,
    /// Seconds of the paced run.
    #[arg(long, default_value_t = 5)]
    paced_seconds: u64,
    /// Bookings per database at each concurrency in the booking phase (memory is read after
    /// them).
    #[arg(long, default_value_t = 10_000)]
    bookings: usize,
    /// Seconds of each `GET /api/slots` run and of the pgbench run.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Starts measured per database for the start-up time (the median is reported).
    #[arg(long, default_value_t = 5)]
    starts: usize,
    /// Bookings (two emails each) for the outbox → SMTP phase.
    #[arg(long, default_value_t = 1000)]
    mail_bookings: usize,
    /// Postfix's `smtp-sink`, the SMTP server the outbox phase sends to (`scripts/bench`
    /// unpacks it from Debian's postfix package, without installing a mail system).
    #[arg(
        long,
        env = "GUIDANCE_BENCH_SMTP_SINK",
        default_value = "target/bench-tools/postfix/usr/sbin/smtp-sink"
    )]
    smtp_sink: PathBuf,
    /// Bookings of the long run between its two timed runs (SQLite).
    #[arg(long, default_value_t = 100_000)]
    bulk_bookings: usize,
    /// Timed bookings of the long run, on the fresh database and again after the others.
    #[arg(long, default_value_t = 5_000)]
    bulk_timed: usize,
    /// Small counts and short runs: checks that every phase works, in a minute or two.
    #[arg(
        long,
        env = "GUIDANCE_BENCH_QUICK",
        action = clap::ArgAction::SetTrue,
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    quick: bool,
    /// The file to write the section into.
    #[arg(long, default_value = "BENCHMARKS.md")]
    output: PathBuf,
    /// Print the section instead of writing it.
    #[arg(long)]
    dry_run: bool,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a Tokio runtime");
    let result = match cli.command {
        Some(Internal::ServeBytes {
            listen,
            path,
            body,
            header,
        }) => runtime.block_on(precomputed::serve(listen, path, body, header)),
        Some(Internal::CalendarPoll { runs }) => calendars::poll_cost(runs),
        Some(Internal::Mail { run }) => runtime.block_on(mail::print(run.quick_or_full())),
        Some(Internal::Postgres { run }) => runtime.block_on(postgres_alone(run.quick_or_full())),
        Some(Internal::Compare { other, run }) => {
            runtime.block_on(side_by_side(run.quick_or_full(), other))
        }
        None => runtime.block_on(run(cli.run.quick_or_full())),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("guidance-bench: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Prints a progress line.
fn say(s: &str) {
    eprintln!("bench: {s}");
}

/// The figures of one database.
struct DbFigures {
    /// The untimed bookings before the timed ones.
    warm_up: Outcome,
    bookings: Outcome,
    /// The server process's CPU time (user + system) per booking of `bookings`, its outbox's
    /// sending of their emails included: steadier than a rate on a shared machine.
    booking_cpu: Duration,
    /// On PostgreSQL: the database's transactions that wrote, per booking of `bookings` (their
    /// emails' sending included).
    booking_transactions: Option<f64>,
    /// On PostgreSQL on this machine: the database's CPU time per booking of `bookings`, their
    /// emails' sending included (see [`pg::local_cpu`]).
    booking_db_cpu: Option<Duration>,
    /// At `high_concurrency` clients.
    bookings_high: Outcome,
    /// Offered at `paced_rate` per second.
    paced: Outcome,
    peak_rss_kib: u64,
    startup: Duration,
    slots: Outcome,
    /// The same bytes served precomputed, measured right after `slots`.
    precomputed: Outcome,
    /// At `high_concurrency` clients.
    slots_high: Outcome,
}

impl DbFigures {
    /// Every booking request made.
    fn booking_runs(&self) -> [&Outcome; 4] {
        [
            &self.warm_up,
            &self.bookings,
            &self.bookings_high,
            &self.paced,
        ]
    }
}

impl RunArgs {
    /// With `--quick`, small counts and short runs instead of the given ones.
    fn quick_or_full(mut self) -> Self {
        if self.quick {
            self.bookings = 500;
            self.seconds = 2;
            self.starts = 2;
            self.paced_seconds = 2;
            self.paced_rate = self.paced_rate.min(50.0);
            self.mail_bookings = 200;
            self.bulk_bookings = 2_000;
            self.bulk_timed = 300;
        }
        self
    }

    /// Bookings made before the timed ones (see `measure_database`).
    fn warm_up_bookings(&self) -> usize {
        if self.quick { 200 } else { 1_000 }
    }

    /// Bookings of the paced run.
    fn paced_bookings(&self) -> usize {
        (self.paced_rate * self.paced_seconds as f64).round() as usize
    }

    /// Slots booked by guidance per database.
    fn booked_slots(&self) -> usize {
        self.warm_up_bookings() + 2 * self.bookings + self.paced_bookings()
    }
}

/// Everything the section reports.
struct Figures {
    date: String,
    machine: Machine,
    versions: BTreeMap<&'static str, String>,
    args: RunArgs,
    sqlite: DbFigures,
    postgres: DbFigures,
    pgbench: pgbench::PgbenchResult,
    service_role: bool,
    message_bytes: i64,
    slots_body_bytes: usize,
    mail: MailFigures,
    weights: Vec<weight::Weights>,
    busy: busy::BusyFigures,
    bulk: bulk::BulkFigures,
}

struct MailFigures {
    /// Emails of each of the two runs.
    emails: usize,
    /// While booking: from the first booking request to the last email's arrival.
    elapsed: Duration,
    /// While booking: how long the bookings took.
    queued_in: Duration,
    /// A queue drained: from the sink's resumption to the last email's arrival.
    drained: Duration,
}

/// A temporary directory for the run's files, removed when dropped.
fn scratch() -> Result<tempfile::TempDir, BenchError> {
    Ok(tempfile::Builder::new()
        .prefix("guidance-bench-")
        .tempdir()?)
}

/// The guidance binary and pgbench, after checking that they and the SMTP sink are there.
fn programs(args: &RunArgs) -> Result<(PathBuf, PathBuf), BenchError> {
    let guidance_bin = match &args.guidance {
        Some(p) => p.clone(),
        None => std::env::current_exe()?.with_file_name("guidance"),
    };
    if !guidance_bin.is_file() {
        return Err(format!(
            "no guidance binary at {}: build it with `cargo build --release -p guidance` \
             (scripts/bench does)",
            guidance_bin.display()
        )
        .into());
    }
    let pgbench_bin = pgbench::find_pgbench().ok_or(
        "pgbench not found (Debian: apt-get install postgresql-contrib or postgresql-client)",
    )?;
    if !args.smtp_sink.is_file() {
        return Err(format!(
            "no SMTP sink at {}: scripts/bench unpacks Postfix's smtp-sink there",
            args.smtp_sink.display()
        )
        .into());
    }
    Ok((guidance_bin, pgbench_bin))
}

/// The booking phases' SMTP settings: the outbox sends by SMTP, as in production, to a sink
/// that keeps nothing (running while the returned process lives).
fn smtp_settings(
    args: &RunArgs,
    dir: &Path,
) -> Result<(child::Running, BTreeMap<String, String>), BenchError> {
    let (sink, smtp_url) = mail::start_sink(&args.smtp_sink, None, &dir.join("sink.log"))?;
    Ok((
        sink,
        BTreeMap::from([("GUIDANCE_SMTP_URL".to_owned(), smtp_url)]),
    ))
}

/// The PostgreSQL phase alone ([`Internal::Postgres`]): its booking figures beside pgbench's,
/// printed.
async fn postgres_alone(args: RunArgs) -> Result<(), BenchError> {
    let (guidance_bin, pgbench_bin) = programs(&args)?;
    let tmp = scratch()?;
    let (_sink, smtp) = smtp_settings(&args, tmp.path())?;
    let (figures, pgbench, ..) = postgres_phase(
        &guidance_bin,
        &smtp,
        tmp.path(),
        &args,
        &pgbench_bin,
        Timestamp::now(),
    )
    .await?;
    let rate = figures.bookings.rate(201);
    println!(
        "PostgreSQL, {} clients: guidance {rate:.0} bookings/s (server CPU {}, PostgreSQL's {} a \
         booking) · pgbench {:.0} transactions/s (PostgreSQL's CPU {} a transaction) · {:.1}% \
         (goal ≥ {:.0}%)",
        args.concurrency,
        report::cpu_ms(Some(figures.booking_cpu)),
        report::cpu_ms(figures.booking_db_cpu),
        pgbench.tps,
        report::cpu_ms(pgbench.db_cpu),
        100.0 * rate / pgbench.tps,
        100.0 * PGBENCH_GOAL
    );
    Ok(())
}

/// [`Internal::Compare`]: `args.guidance` and `other`, side by side.
async fn side_by_side(args: RunArgs, other: PathBuf) -> Result<(), BenchError> {
    let (guidance_bin, _) = programs(&args)?;
    let tmp = scratch()?;
    let (_sink, smtp) = smtp_settings(&args, tmp.path())?;
    compare::compare(
        [&guidance_bin, &other],
        &args.pg_url,
        &smtp,
        tmp.path(),
        args.bookings,
        args.concurrency,
    )
    .await
}

async fn run(args: RunArgs) -> Result<(), BenchError> {
    let started = Instant::now();
    let (guidance_bin, pgbench_bin) = programs(&args)?;
    let tmp = scratch()?;
    let now = Timestamp::now();

    let mut versions = BTreeMap::new();
    let probe = Guidance {
        binary: guidance_bin.clone(),
        dir: tmp.path().join("probe"),
        database_url: String::new(),
        extra: BTreeMap::new(),
    };
    versions.insert("guidance", probe.version()?);
    versions.insert("rustc", report::command_version("rustc", "--version"));
    versions.insert("sqlite", seed::sqlite_version().await?);

    let (_sink, smtp) = smtp_settings(&args, tmp.path())?;

    say("SQLite: seeding, start-up, bookings, GET /api/slots");
    let sqlite_dir = tmp.path().join("sqlite");
    let sqlite_db = sqlite_dir.join("guidance.db");
    let sqlite = Guidance {
        binary: guidance_bin.clone(),
        dir: sqlite_dir.clone(),
        database_url: format!("sqlite://{}", sqlite_db.display()),
        extra: smtp.clone(),
    };
    sqlite.migrate()?;
    seed::seed_sqlite(&sqlite_db, &seed::month_plan(now)).await?;
    let ids = seed::shuffled(
        seed::seed_sqlite(&sqlite_db, &seed::booking_plan(now, 0, args.booked_slots())).await?,
    );
    let (sqlite_figures, slots_capture) =
        measure_database(&sqlite, &args, ids, now, None, None).await?;
    let (rows, doubles) = seed::sqlite_count_bookings(&sqlite_db).await?;
    check_bookings("SQLite", &sqlite_figures, rows, doubles)?;

    say("PostgreSQL: fresh database, seeding, start-up, bookings, GET /api/slots, pgbench");
    let (postgres_figures, pgbench_result, service_role, message_bytes, pg_version) =
        postgres_phase(&guidance_bin, &smtp, tmp.path(), &args, &pgbench_bin, now).await?;
    versions.insert("postgresql", pg_version);

    say("Outbox → SMTP");
    let mail = mail::measure_mail(&guidance_bin, tmp.path(), &args, now).await?;

    say("Page weight: /book and the element");
    let weights = weight::measure_weights(&guidance_bin, tmp.path(), now).await?;

    say("The owner's calendars: GET /api/slots with three sources, and a poll's CPU time");
    let busy = busy::measure_busy(&guidance_bin, tmp.path(), &args, now).await?;

    say("A site with a history: bookings after many others (SQLite)");
    let bulk = bulk::measure_bulk(&guidance_bin, &smtp, tmp.path(), &args, now).await?;

    let figures = Figures {
        date: now.strftime("%Y-%m-%d").to_string(),
        machine: Machine::read(),
        versions,
        args: args.clone(),
        sqlite: sqlite_figures,
        postgres: postgres_figures,
        pgbench: pgbench_result,
        service_role,
        message_bytes,
        slots_body_bytes: slots_capture.body.len(),
        mail,
        weights,
        busy,
        bulk,
    };
    let section = section::render(&figures);
    if args.dry_run {
        println!("{section}");
    } else {
        report::write_section(&args.output, &section)?;
        say(&format!("wrote {}", args.output.display()));
    }
    say(&format!("done in {:.0} s", started.elapsed().as_secs_f64()));
    Ok(())
}

/// The PostgreSQL phase on a fresh database, dropped afterwards; returns its figures,
/// pgbench's, whether the service role is used, the average email size and the server version.
async fn postgres_phase(
    guidance_bin: &Path,
    smtp: &BTreeMap<String, String>,
    tmp: &Path,
    args: &RunArgs,
    pgbench_bin: &Path,
    now: Timestamp,
) -> Result<(DbFigures, pgbench::PgbenchResult, bool, i64, String), BenchError> {
    let db = pg::BenchDatabase::create(&args.pg_url).await?;
    let result: Result<_, BenchError> = async {
        let guidance = Guidance {
            binary: guidance_bin.to_owned(),
            dir: tmp.join("postgres"),
            database_url: db.url.clone(),
            extra: smtp.clone(),
        };
        guidance.migrate()?;
        let mut conn = db.connect().await?;
        let version = pg::server_version(&mut conn).await?;
        let service_role = pg::uses_service_role(&mut conn).await?;
        pg::seed_slots(&mut conn, &seed::month_plan(now)).await?;
        let ids = seed::shuffled(
            pg::seed_slots(&mut conn, &seed::booking_plan(now, 0, args.booked_slots())).await?,
        );
        // pgbench's own slots, after guidance's: enough for a fast machine (it fails loudly when
        // they run out rather than measuring failed transactions).
        let pgbench_slots = 6_000 * pgbench::seconds(args) as usize;
        let pgbench_ids = seed::shuffled(
            pg::seed_slots(
                &mut conn,
                &seed::booking_plan(now, args.booked_slots(), pgbench_slots),
            )
            .await?,
        );
        pg::number_for_pgbench(&mut conn, &pgbench_ids, service_role).await?;

        let mut turns = pgbench::PgbenchTurns::new(
            pgbench_bin,
            &db.url,
            tmp.join("book.sql"),
            args,
            service_role,
        )
        .await?;
        let (figures, _) =
            measure_database(&guidance, args, ids, now, Some(&db.url), Some(&mut turns)).await?;
        let (rows, doubles) = pg::count_bookings(&mut conn).await?;
        let result = turns.result()?;
        let message_bytes = turns.message_bytes();
        check_bookings(
            "PostgreSQL",
            &figures,
            rows - result.transactions as i64,
            doubles,
        )?;
        conn.close().await.ok();
        Ok((figures, result, service_role, message_bytes, version))
    }
    .await;
    if let Err(e) = db.drop_now().await {
        say(&format!("could not drop {}: {e}", db.name));
    }
    result
}

/// Fails when the database disagrees with what the client saw.
fn check_bookings(what: &str, f: &DbFigures, rows: i64, doubles: i64) -> Result<(), BenchError> {
    for o in f.booking_runs() {
        if !o.unexpected(201).is_empty() {
            return Err(format!(
                "{what}: booking requests not answered 201: {}",
                o.unexpected(201)
            )
            .into());
        }
    }
    let booked: usize = f.booking_runs().iter().map(|o| o.count(201)).sum();
    if rows != booked as i64 || doubles != 0 {
        return Err(format!(
            "{what}: {booked} bookings answered 201 but {rows} in the database ({doubles} double-booked slots)"
        )
        .into());
    }
    Ok(())
}

/// What `GET /api/slots` answered, replayed by the reference server.
struct SlotsCapture {
    path_and_query: String,
    body: Vec<u8>,
    headers: Vec<String>,
}

/// Start-up (median of several starts), then bookings (in turns with `pgbench` when given),
/// peak memory and `GET /api/slots` on one running server.
async fn measure_database(
    guidance: &Guidance,
    args: &RunArgs,
    mut slot_ids: Vec<seed::Seeded>,
    now: Timestamp,
    analyze_url: Option<&str>,
    pgbench: Option<&mut pgbench::PgbenchTurns>,
) -> Result<(DbFigures, SlotsCapture), BenchError> {
    let mut starts = Vec::with_capacity(args.starts);
    for i in 0..args.starts.max(1) {
        let t = Instant::now();
        let (mut server, port) = guidance.serve(&format!("start-{i}.log"))?;
        starts.push(wait_healthy(&mut server, port, t, Duration::from_secs(30)).await?);
        server.stop(Duration::from_secs(10))?;
    }
    starts.sort();
    let startup = starts[starts.len() / 2];

    let (mut server, port) = guidance.serve("serve.log")?;
    wait_healthy(&mut server, port, Instant::now(), Duration::from_secs(30)).await?;
    let client = load::client(args.concurrency)?;

    // A site in use, not an empty one: the first bookings are not timed. On PostgreSQL the
    // tables are then analyzed, as autovacuum does on a live site: here they grow from empty
    // faster than autovacuum looks (once a minute), and PostgreSQL's foreign-key checks keep the
    // plan made while a table was empty (a sequential scan) until it is analyzed.
    let warm_ids = slot_ids.split_off(slot_ids.len().saturating_sub(args.warm_up_bookings()));
    say(&format!("  {} bookings, not timed", warm_ids.len()));
    let warm_up = bookings::book_all(port, warm_ids, args.concurrency).await;
    pg::execute(analyze_url, "ANALYZE").await?;

    let paced_ids = slot_ids.split_off(slot_ids.len().saturating_sub(args.paced_bookings()));
    let high_ids = slot_ids.split_off(slot_ids.len().saturating_sub(args.bookings));
    say(&format!(
        "  {} bookings, {} clients{}",
        slot_ids.len(),
        args.concurrency,
        if pgbench.is_some() {
            ", in turns with pgbench"
        } else {
            ""
        }
    ));
    let timed = bookings::timed(
        &mut server,
        port,
        slot_ids,
        args.concurrency,
        analyze_url,
        pgbench,
    )
    .await?;
    say(&format!(
        "    {:.0} bookings/s, {:.2} ms of server CPU a booking",
        timed.bookings.rate(201),
        timed.cpu.as_secs_f64() * 1e3
    ));
    say(&format!(
        "  {} bookings, {} clients",
        high_ids.len(),
        args.high_concurrency
    ));
    server.wait_quiet(QUIET).await?;
    let bookings_high = bookings::book_all(port, high_ids, args.high_concurrency).await;
    server.check_alive()?;
    say(&format!("    {:.0} bookings/s", bookings_high.rate(201)));
    say(&format!(
        "  {} bookings offered at {}/s",
        paced_ids.len(),
        args.paced_rate
    ));
    server.wait_quiet(QUIET).await?;
    let paced = bookings::book_paced(port, paced_ids, args.paced_rate).await;
    server.check_alive()?;
    say(&format!(
        "    p99 {:.1} ms",
        paced.percentile(0.99).as_secs_f64() * 1e3
    ));
    let (peak_rss_kib, _) = server.memory_kib()?;

    // The slot list is measured on a quiet machine, as its reference is: once the server has
    // sent the emails of the bookings above and, on PostgreSQL, the tables they grew are
    // vacuumed and analyzed (autovacuum would do it in the middle of the run otherwise).
    pg::execute(analyze_url, "VACUUM ANALYZE").await?;
    let waited = server.wait_quiet(QUIET).await?;
    say(&format!(
        "  the server was quiet after {:.1} s",
        waited.as_secs_f64()
    ));
    let (from, to) = seed::month(now);
    let path_and_query = format!("/api/slots?from={from}&to={to}");
    let capture = capture_slots(&client, port, &path_and_query, Some(seed::MONTH_SLOTS)).await?;
    say(&format!(
        "  GET /api/slots and the same bytes precomputed, {} s each",
        args.seconds
    ));
    let (slots, precomputed) = precomputed::beside(&guidance.dir, args, &capture, port).await?;
    say(&format!(
        "  GET /api/slots, {} s, {} clients",
        args.seconds, args.high_concurrency
    ));
    let high_client = load::client(args.high_concurrency)?;
    let slots_high = get_for(
        &high_client,
        port,
        &path_and_query,
        args,
        args.high_concurrency,
    )
    .await;
    server.check_alive()?;
    server.stop(Duration::from_secs(10))?;
    Ok((
        DbFigures {
            warm_up,
            bookings: timed.bookings,
            booking_cpu: timed.cpu,
            booking_transactions: timed.transactions,
            booking_db_cpu: timed.db_cpu,
            bookings_high,
            paced,
            peak_rss_kib,
            startup,
            slots,
            precomputed,
            slots_high,
        },
        capture,
    ))
}

/// One `GET`, checked: 200 and, if `expected` says how many, exactly that many slots.
async fn capture_slots(
    client: &reqwest::Client,
    port: u16,
    path_and_query: &str,
    expected: Option<usize>,
) -> Result<SlotsCapture, BenchError> {
    let r = client
        .get(format!("http://127.0.0.1:{port}{path_and_query}"))
        .send()
        .await?;
    if r.status() != reqwest::StatusCode::OK {
        return Err(format!("GET {path_and_query} answered {}", r.status()).into());
    }
    let skip = ["content-length", "date", "connection", "transfer-encoding"];
    let headers = r
        .headers()
        .iter()
        .filter(|(k, _)| !skip.contains(&k.as_str()))
        .filter_map(|(k, v)| Some(format!("{}: {}", k, v.to_str().ok()?)))
        .collect();
    let body = r.bytes().await?.to_vec();
    let json: serde_json::Value = serde_json::from_slice(&body)?;
    let n = json["slots"].as_array().map_or(0, Vec::len);
    if let Some(expected) = expected.filter(|e| *e != n) {
        return Err(format!("GET {path_and_query} listed {n} slots, not {expected}").into());
    }
    Ok(SlotsCapture {
        path_and_query: path_and_query.to_owned(),
        body,
        headers,
    })
}

/// `GET path_and_query` from `concurrency` clients for `args.seconds` after a one-second
/// warm-up.
async fn get_for(
    client: &reqwest::Client,
    port: u16,
    path_and_query: &str,
    args: &RunArgs,
    concurrency: usize,
) -> Outcome {
    let warm_up = Duration::from_secs(1);
    load::get_during(client, port, path_and_query, concurrency, warm_up).await;
    let seconds = Duration::from_secs(args.seconds);
    load::get_during(client, port, path_and_query, concurrency, seconds).await
}
