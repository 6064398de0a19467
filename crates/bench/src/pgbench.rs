//! pgbench beside guidance: `sql/book.sql`, the statements of one booking, run by pgbench in
//! the bench's PostgreSQL database, in turns with guidance's own timed bookings (see
//! [`crate::bookings::timed`]).

use std::path::{Path, PathBuf};
use std::process::Command;

use sqlx::Connection;
use sqlx::postgres::PgConnection;

use crate::pg::{self, local_cpu};
use crate::precomputed::TURNS;
use crate::{BenchError, RunArgs};

/// The pgbench script: one booking's transaction (see its header).
pub const BOOK_SQL: &str = include_str!("../sql/book.sql");

/// Finds `pgbench`: on PATH, else in Debian's versioned directories.
pub fn find_pgbench() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("pgbench"))
            .find(|p| p.is_file())
    });
    on_path.or_else(|| {
        let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(|e| e.ok())
            .map(|e| e.path().join("bin/pgbench"))
            .filter(|p| p.is_file())
            .collect();
        found.sort();
        found.pop()
    })
}

/// What pgbench reported.
#[derive(Debug, Clone)]
pub struct PgbenchResult {
    /// Transactions per second (without the initial connection time).
    pub tps: f64,
    /// Transactions processed.
    pub transactions: u64,
    /// Average latency in milliseconds.
    pub latency_ms: f64,
    /// `pgbench --version`.
    pub version: String,
    /// PostgreSQL's CPU time per transaction, when it runs on this machine (see [`local_cpu`]).
    pub db_cpu: Option<std::time::Duration>,
}

/// Runs `pgbench -n -M prepared -c C -j 2 -T S -f book.sql` against `url`.
fn run_pgbench(
    pgbench: &Path,
    url: &str,
    script: &Path,
    clients: usize,
    seconds: u64,
    service_role: bool,
    message_bytes: i64,
) -> Result<PgbenchResult, BenchError> {
    let url_parsed = url::Url::parse(url).map_err(|e| format!("{url}: {e}"))?;
    let mut cmd = Command::new(pgbench);
    cmd.args(["-n", "-M", "prepared"])
        .args(["-c", &clients.to_string()])
        .args(["-j", &clients.min(2).to_string()])
        .args(["-T", &seconds.to_string()])
        .arg("-f")
        .arg(script)
        .args(["-D", &format!("service_role={}", u8::from(service_role))])
        .args(["-D", &format!("msg_len={message_bytes}")]);
    // libpq's own variables, so that nothing of the URL lands in a process listing but the host.
    cmd.env("PGHOST", url_parsed.host_str().unwrap_or("127.0.0.1"))
        .env("PGPORT", url_parsed.port().unwrap_or(5432).to_string())
        .env("PGDATABASE", url_parsed.path().trim_start_matches('/'));
    if !url_parsed.username().is_empty() {
        cmd.env("PGUSER", url_parsed.username());
    }
    if let Some(p) = url_parsed.password() {
        cmd.env("PGPASSWORD", p);
    }
    let db_cpu_before = local_cpu();
    let out = cmd.output()?;
    let db_cpu = db_cpu_before
        .zip(local_cpu())
        .map(|(b, a)| a.saturating_sub(b));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    if !out.status.success() || stdout.contains("aborted") || stderr.contains("aborted") {
        return Err(format!("pgbench failed ({}):\n{stdout}\n{stderr}", out.status).into());
    }
    let version = Command::new(pgbench)
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    let mut result = parse_pgbench(&stdout, version)
        .ok_or_else(|| format!("unexpected pgbench output:\n{stdout}"))?;
    result.db_cpu =
        db_cpu.map(|cpu| cpu / u32::try_from(result.transactions.max(1)).unwrap_or(u32::MAX));
    Ok(result)
}

fn parse_pgbench(stdout: &str, version: String) -> Option<PgbenchResult> {
    let after = |prefix: &str| -> Option<f64> {
        stdout.lines().find_map(|l| {
            l.trim()
                .strip_prefix(prefix)?
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        })
    };
    let failed = after("number of failed transactions:").unwrap_or(0.0);
    if failed > 0.0 {
        return None;
    }
    Some(PgbenchResult {
        tps: after("tps =")?,
        transactions: after("number of transactions actually processed:")? as u64,
        latency_ms: after("latency average =")?,
        version,
        db_cpu: None,
    })
}

/// pgbench's seconds in all: [`TURNS`] turns of whole seconds (pgbench's `-T`), together about
/// `args.seconds`.
pub fn seconds(args: &RunArgs) -> u64 {
    u64::from(TURNS) * turn_seconds(args)
}

/// The seconds of each of pgbench's turns.
pub fn turn_seconds(args: &RunArgs) -> u64 {
    (args.seconds / u64::from(TURNS)).max(1)
}

/// pgbench's side of the booking phase on PostgreSQL: one pgbench run per turn, each checked.
pub struct PgbenchTurns {
    pgbench: PathBuf,
    url: String,
    script: PathBuf,
    clients: usize,
    seconds: u64,
    service_role: bool,
    /// The emails' size, read before the first turn: the average of those guidance queued.
    message_bytes: Option<i64>,
    conn: PgConnection,
    results: Vec<PgbenchResult>,
}

impl PgbenchTurns {
    /// Writes the script to `script` and connects to the database at `url`, whose slots
    /// [`pg::number_for_pgbench`] numbered.
    pub async fn new(
        pgbench: &Path,
        url: &str,
        script: PathBuf,
        args: &RunArgs,
        service_role: bool,
    ) -> Result<Self, BenchError> {
        std::fs::write(&script, BOOK_SQL)?;
        Ok(Self {
            pgbench: pgbench.to_owned(),
            url: url.to_owned(),
            script,
            clients: args.concurrency,
            seconds: turn_seconds(args),
            service_role,
            message_bytes: None,
            conn: PgConnection::connect(url).await?,
            results: Vec::new(),
        })
    }

    /// One turn: pgbench for a turn's seconds. Each of its transactions must have booked (one
    /// whose slot claim found nothing inserts nothing, and pgbench counts it all the same).
    /// Then the emails it queued due at once, leased to the server's worker as guidance's are,
    /// are marked sent, as that worker marks guidance's once it has sent them: otherwise the
    /// worker would find them among the emails it waits for, and send them once their leases
    /// end.
    pub async fn turn(&mut self) -> Result<(), BenchError> {
        let message_bytes = match self.message_bytes {
            Some(bytes) => bytes,
            None => *self
                .message_bytes
                .insert(pg::average_message_bytes(&mut self.conn).await?),
        };
        let (before, _) = pg::count_bookings(&mut self.conn).await?;
        let (pgbench, url, script) = (self.pgbench.clone(), self.url.clone(), self.script.clone());
        let (clients, seconds, service_role) = (self.clients, self.seconds, self.service_role);
        let result = tokio::task::spawn_blocking(move || {
            run_pgbench(
                &pgbench,
                &url,
                &script,
                clients,
                seconds,
                service_role,
                message_bytes,
            )
        })
        .await??;
        let (after, doubles) = pg::count_bookings(&mut self.conn).await?;
        if after - before != result.transactions as i64 || doubles != 0 {
            return Err(format!(
                "pgbench: {} transactions but {} bookings ({doubles} double-booked slots): were \
                 its slots too few?",
                result.transactions,
                after - before
            )
            .into());
        }
        // pgbench's ids come from a sequence (`guidance_bench_id()`), below every id guidance
        // makes (time-ordered).
        sqlx::query(
            "UPDATE guidance_email_outbox SET status = 'sent', sent_at = now(), \
             lease_until = NULL WHERE id < '00000000-0001-0000-0000-000000000000' \
             AND status = 'queued' AND lease_until IS NOT NULL",
        )
        .execute(&mut self.conn)
        .await?;
        crate::say(&format!("    pgbench: {:.0} transactions/s", result.tps));
        self.results.push(result);
        Ok(())
    }

    /// The emails' size pgbench queued.
    pub fn message_bytes(&self) -> i64 {
        self.message_bytes.unwrap_or_default()
    }

    /// The turns together, as one run of their added seconds.
    pub fn result(&self) -> Result<PgbenchResult, BenchError> {
        let first = self.results.first().ok_or("pgbench did not run")?;
        let transactions: u64 = self.results.iter().map(|r| r.transactions).sum();
        let n = transactions.max(1) as f64;
        // Each turn's time without its connections' start, as pgbench's own figure.
        let seconds: f64 = self
            .results
            .iter()
            .map(|r| r.transactions as f64 / r.tps.max(1e-9))
            .sum();
        let weighted = |f: &dyn Fn(&PgbenchResult) -> f64| {
            self.results
                .iter()
                .map(|r| f(r) * r.transactions as f64)
                .sum::<f64>()
                / n
        };
        // Only when every turn could read it.
        let db_cpu = self.results.iter().all(|r| r.db_cpu.is_some()).then(|| {
            std::time::Duration::from_secs_f64(weighted(&|r| {
                r.db_cpu.unwrap_or_default().as_secs_f64()
            }))
        });
        Ok(PgbenchResult {
            tps: transactions as f64 / seconds.max(1e-9),
            transactions,
            latency_ms: weighted(&|r| r.latency_ms),
            version: first.version.clone(),
            db_cpu,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_pgbench_15_output() {
        let out = "transaction type: sql/book.sql\nscaling factor: 1\nquery mode: prepared\n\
            number of clients: 8\nnumber of threads: 2\nmaximum number of tries: 1\n\
            duration: 10 s\nnumber of transactions actually processed: 12345\n\
            number of failed transactions: 0 (0.000%)\nlatency average = 6.480 ms\n\
            initial connection time = 12.345 ms\ntps = 1234.567890 (without initial connection time)\n";
        let r = parse_pgbench(out, "pgbench (PostgreSQL) 15.20".into()).unwrap();
        assert_eq!(r.transactions, 12345);
        assert!((r.tps - 1234.56789).abs() < 1e-6);
        assert!((r.latency_ms - 6.48).abs() < 1e-9);
        let failed = out.replace("failed transactions: 0", "failed transactions: 3");
        assert!(parse_pgbench(&failed, String::new()).is_none());
    }
}
