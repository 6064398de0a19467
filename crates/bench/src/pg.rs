//! PostgreSQL for the bench: a fresh `guidance_bench_<random>` database (dropped afterwards,
//! even on failure), slots seeded by SQL, and `pgbench` running `sql/book.sql` on it.

use std::path::{Path, PathBuf};
use std::process::Command;

use sqlx::postgres::PgConnection;
use sqlx::{Connection, Row};
use uuid::Uuid;

use crate::BenchError;
use crate::seed::{Seeded, SlotPlan};

/// The pgbench script: one booking's transaction (see its header).
pub const BOOK_SQL: &str = include_str!("../sql/book.sql");

/// A database that exists for one bench run.
pub struct BenchDatabase {
    /// `postgres://…/guidance_bench_<random>`.
    pub url: String,
    /// The database name.
    pub name: String,
    admin: String,
}

impl BenchDatabase {
    /// Creates an empty database through the maintenance URL `admin`.
    pub async fn create(admin: &str) -> Result<Self, BenchError> {
        let mut conn = PgConnection::connect(admin).await.map_err(|e| {
            format!(
                "PostgreSQL does not answer at {admin}: {e} (./scripts/test starts it; or set \
                 GUIDANCE_BENCH_PG_URL)"
            )
        })?;
        let name = format!("guidance_bench_{}", Uuid::new_v4().simple());
        sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await?;
        conn.close().await.ok();
        let url = database_url(admin, &name)?;
        Ok(Self {
            url,
            name,
            admin: admin.to_owned(),
        })
    }

    /// A connection to this database.
    pub async fn connect(&self) -> Result<PgConnection, BenchError> {
        Ok(PgConnection::connect(&self.url).await?)
    }

    /// Drops the database (and whatever connections are still open to it).
    pub async fn drop_now(&self) -> Result<(), BenchError> {
        let mut conn = PgConnection::connect(&self.admin).await?;
        sqlx::raw_sql(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ))
        .execute(&mut conn)
        .await?;
        conn.close().await.ok();
        Ok(())
    }
}

/// `admin` with its database replaced by `name`.
pub fn database_url(admin: &str, name: &str) -> Result<String, BenchError> {
    let mut url = url::Url::parse(admin).map_err(|e| format!("{admin}: {e}"))?;
    url.set_path(&format!("/{name}"));
    Ok(url.into())
}

/// `SHOW server_version`.
pub async fn server_version(conn: &mut PgConnection) -> Result<String, BenchError> {
    Ok(sqlx::query_scalar("SHOW server_version")
        .fetch_one(conn)
        .await?)
}

/// Inserts the planned slots (open, back to back) in descending time order and
/// returns them in the plan's order.
pub async fn seed_slots(
    conn: &mut PgConnection,
    plan: &SlotPlan,
) -> Result<Vec<Seeded>, BenchError> {
    let slots = plan.seeded()?;
    let ids: Vec<Uuid> = slots.iter().map(|s| s.id).collect();
    let starts: Vec<i64> = slots.iter().map(|s| s.starts_at.as_second()).collect();
    sqlx::query(
        "INSERT INTO guidance_availability (id, starts_at, ends_at, status, created_at, updated_at) \
         SELECT id, to_timestamp(s), to_timestamp(s + $3), 'open', now(), now() \
         FROM unnest($1::uuid[], $2::bigint[]) AS t(id, s) ORDER BY s DESC",
    )
    .bind(&ids)
    .bind(&starts)
    .bind(plan.length.as_secs() as i64)
    .execute(&mut *conn)
    .await?;
    Ok(slots)
}

/// Numbers the given slots (in this order) for `book.sql`, which claims slot n where n comes
/// from a sequence, so that each transaction takes a distinct one; and creates
/// `guidance_bench_id()`, ids in the order they are made (from a sequence, as cheap as
/// `gen_random_uuid()`), which `book.sql` writes where guidance writes its time-ordered ones.
pub async fn number_for_pgbench(
    conn: &mut PgConnection,
    slots: &[Seeded],
    service_role: bool,
) -> Result<(), BenchError> {
    sqlx::raw_sql(
        "CREATE TABLE guidance_bench_slots (n bigint PRIMARY KEY, id uuid NOT NULL, \
             starts_at timestamptz NOT NULL, ends_at timestamptz NOT NULL); \
         CREATE SEQUENCE guidance_bench_seq; \
         CREATE SEQUENCE guidance_bench_ids; \
         CREATE FUNCTION guidance_bench_id() RETURNS uuid LANGUAGE sql VOLATILE AS \
             $$ SELECT lpad(to_hex(nextval('guidance_bench_ids')), 32, '0')::uuid $$;",
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO guidance_bench_slots (n, id, starts_at, ends_at) \
         SELECT t.n, a.id, a.starts_at, a.ends_at \
         FROM unnest($1::uuid[]) WITH ORDINALITY AS t(id, n) \
         JOIN guidance_availability a ON a.id = t.id",
    )
    .bind(slots.iter().map(|s| s.id).collect::<Vec<_>>())
    .execute(&mut *conn)
    .await?;
    if service_role {
        sqlx::raw_sql(
            "GRANT SELECT ON guidance_bench_slots TO service_role; \
             GRANT USAGE ON SEQUENCE guidance_bench_seq, guidance_bench_ids TO service_role;",
        )
        .execute(&mut *conn)
        .await?;
    }
    sqlx::raw_sql("ANALYZE").execute(&mut *conn).await?;
    Ok(())
}

/// Whether guidance switches to `service_role` on this database (the same test as the store's).
pub async fn uses_service_role(conn: &mut PgConnection) -> Result<bool, BenchError> {
    Ok(sqlx::query_scalar(
        "SELECT COALESCE((SELECT pg_has_role(current_user, oid, 'MEMBER') FROM pg_roles \
         WHERE rolname = 'service_role'), false)",
    )
    .fetch_one(conn)
    .await?)
}

/// The average size of the emails guidance queued, in bytes.
pub async fn average_message_bytes(conn: &mut PgConnection) -> Result<i64, BenchError> {
    let row = sqlx::query(
        "SELECT COALESCE(avg(length(message)), 0)::bigint AS bytes FROM guidance_email_outbox",
    )
    .fetch_one(conn)
    .await?;
    Ok(row.try_get("bytes")?)
}

/// Bookings in the database and slots held by more than one live booking (must be 0).
pub async fn count_bookings(conn: &mut PgConnection) -> Result<(i64, i64), BenchError> {
    let bookings: i64 = sqlx::query_scalar("SELECT count(*) FROM guidance_bookings")
        .fetch_one(&mut *conn)
        .await?;
    let doubles: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT slot_id FROM guidance_bookings \
         WHERE status IN ('pending', 'accepted') GROUP BY slot_id HAVING count(*) > 1) d",
    )
    .fetch_one(&mut *conn)
    .await?;
    Ok((bookings, doubles))
}

/// The CPU time (user + system) PostgreSQL has used on this machine: that of every process
/// named `postgres` (the postmaster, its background workers and each connection's backend),
/// and that of the backends it has reaped (counted in the postmaster's children's times), so
/// that the difference of two readings includes the backends that ended in between. `None`
/// when no such process is seen (the database runs elsewhere).
pub fn local_cpu() -> Option<std::time::Duration> {
    let mut ticks = 0u64;
    let mut seen = false;
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        if let Some(("postgres", t)) = crate::child::stat_times(&stat) {
            seen = true;
            ticks += t.user + t.system + t.children;
        }
    }
    seen.then(|| crate::child::ticks_to_time(ticks))
}

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
pub fn run_pgbench(
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

/// Runs `sql` on a connection of its own to the PostgreSQL database at `url`, if there is one.
pub async fn execute(url: Option<&str>, sql: &str) -> Result<(), BenchError> {
    if let Some(url) = url {
        let mut conn = sqlx::PgConnection::connect(url).await?;
        sqlx::query(sql).execute(&mut conn).await?;
        conn.close().await.ok();
    }
    Ok(())
}

/// The transactions committed so far in the PostgreSQL database at `url` (none without one),
/// as its statistics say once they are flushed (the wait for a quiet server gives them time).
pub async fn commits(url: Option<&str>) -> Result<Option<i64>, BenchError> {
    let Some(url) = url else {
        return Ok(None);
    };
    let mut conn = sqlx::PgConnection::connect(url).await?;
    let (commits,): (i64,) = sqlx::query_as(
        "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()",
    )
    .fetch_one(&mut conn)
    .await?;
    conn.close().await.ok();
    Ok(Some(commits))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tests' PostgreSQL runs here (`./scripts/test` starts it), so its time is seen.
    #[test]
    fn sees_the_local_postgresql() {
        let cpu = local_cpu().expect("a postgres process on this machine");
        assert!(cpu > std::time::Duration::ZERO, "{cpu:?}");
    }

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

    #[test]
    fn replaces_the_database_of_a_url() {
        assert_eq!(
            database_url(
                "postgres://postgres@127.0.0.1:5432/postgres",
                "guidance_bench_x"
            )
            .unwrap(),
            "postgres://postgres@127.0.0.1:5432/guidance_bench_x"
        );
        assert_eq!(
            database_url("postgres://u:p@h/db?sslmode=disable", "b").unwrap(),
            "postgres://u:p@h/b?sslmode=disable"
        );
    }
}
