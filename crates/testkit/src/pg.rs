//! A fresh PostgreSQL database per test: `CREATE DATABASE guidance_test_<random>`, with
//! Supabase's roles emulated (`crates/store/tests/sql/supabase_roles.sql`), dropped when the
//! [`TestDatabase`] goes out of scope, even when the test panicked.
//!
//! The server is `GUIDANCE_TEST_PG_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`,
//! which `./scripts/test` starts). An unreachable server fails the test loudly: it never skips.

use sqlx::Connection;
use sqlx::postgres::PgConnection;

/// The emulation of Supabase's roles, applied to every test database.
pub const SUPABASE_ROLES_SQL: &str = include_str!("../../store/tests/sql/supabase_roles.sql");

/// The maintenance database URL tests create their databases through.
pub fn admin_url() -> String {
    std::env::var("GUIDANCE_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A database that exists for one test.
#[derive(Debug)]
pub struct TestDatabase {
    /// `postgres://…/guidance_test_<random>`.
    pub url: String,
    /// The database name.
    pub name: String,
    admin: String,
}

impl TestDatabase {
    /// Creates an empty database with Supabase's roles and default grants emulated.
    pub async fn create() -> Self {
        let admin = admin_url();
        let mut conn = PgConnection::connect(&admin).await.unwrap_or_else(|e| {
            panic!(
                "PostgreSQL is needed for this test and does not answer at {admin}: {e} \
                 (./scripts/test starts it; or set GUIDANCE_TEST_PG_URL)"
            )
        });
        let name = format!("guidance_test_{}", random_suffix());
        sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .expect("create the test database");
        conn.close().await.ok();
        let url = database_url(&admin, &name);
        let mut db = PgConnection::connect(&url)
            .await
            .expect("connect to the test database");
        sqlx::raw_sql(SUPABASE_ROLES_SQL)
            .execute(&mut db)
            .await
            .expect("emulate Supabase's roles");
        db.close().await.ok();
        Self { url, name, admin }
    }

    /// A connection to this database as its owner (the superuser the tests use).
    pub async fn connect(&self) -> PgConnection {
        PgConnection::connect(&self.url)
            .await
            .expect("connect to the test database")
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        // Drop may run inside a runtime: do the async work on a thread with its own.
        let admin = self.admin.clone();
        let name = self.name.clone();
        let dropped = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let mut conn = PgConnection::connect(&admin).await?;
                sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut conn)
                    .await?;
                conn.close().await
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("note: could not drop test database {}", self.name);
        }
    }
}

/// `admin` with its database replaced by `name`.
pub fn database_url(admin: &str, name: &str) -> String {
    let (base, query) = match admin.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (admin, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

fn random_suffix() -> String {
    use std::hash::{BuildHasher, Hasher};
    // Two independently seeded hashers plus the process id: unique across parallel tests.
    let mut a = std::collections::hash_map::RandomState::new().build_hasher();
    a.write_u32(std::process::id());
    let mut b = std::collections::hash_map::RandomState::new().build_hasher();
    b.write_u64(a.finish());
    format!("{:016x}{:08x}", b.finish(), std::process::id())
}

/// The PostgreSQL server's own log from the moment it was opened, read back as the lines about
/// one database: what the server said (warnings included) while a test ran.
///
/// The file is found from the server itself: `pg_current_logfile()` when the server's logging
/// collector writes it, otherwise the standard error of the server process that serves the
/// connection (`/proc/<backend pid>/fd/2`, where Debian's `pg_ctlcluster` points it). A server
/// whose log cannot be read this way, or whose `log_line_prefix` does not name the database
/// (`%d`), fails the test: it never passes for want of a log.
#[derive(Debug)]
pub struct ServerLog {
    path: std::path::PathBuf,
    start: u64,
}

impl ServerLog {
    /// Finds the server's log and remembers how far it reaches now.
    pub async fn open() -> ServerLog {
        let mut conn = PgConnection::connect(&admin_url())
            .await
            .expect("connect to PostgreSQL to find its log");
        let prefix: String = sqlx::query_scalar("SELECT current_setting('log_line_prefix')")
            .fetch_one(&mut conn)
            .await
            .expect("log_line_prefix");
        assert!(
            prefix.contains("%d"),
            "the server's log_line_prefix ({prefix:?}) does not name the database (%d)"
        );
        let (file, data_dir, pid): (Option<String>, String, i32) = sqlx::query_as(
            "SELECT pg_current_logfile(), current_setting('data_directory'), pg_backend_pid()",
        )
        .fetch_one(&mut conn)
        .await
        .expect("where the server logs");
        let path = match file {
            Some(f) => std::path::Path::new(&data_dir).join(f),
            None => std::fs::read_link(format!("/proc/{pid}/fd/2")).unwrap_or_else(|e| {
                panic!(
                    "cannot find the PostgreSQL server's log (no logging collector, and \
                     /proc/{pid}/fd/2 is not readable: {e}); run the tests where the server is \
                     local and readable, or turn on logging_collector"
                )
            }),
        };
        conn.close().await.ok();
        let start = std::fs::metadata(&path)
            .unwrap_or_else(|e| panic!("cannot read the server log {}: {e}", path.display()))
            .len();
        ServerLog { path, start }
    }

    /// The lines written since [`ServerLog::open`] that are about database `name`.
    pub fn lines_about(&self, name: &str) -> Vec<String> {
        use std::io::{Read, Seek, SeekFrom};
        let mut file = std::fs::File::open(&self.path)
            .unwrap_or_else(|e| panic!("cannot read the server log {}: {e}", self.path.display()));
        file.seek(SeekFrom::Start(self.start))
            .expect("seek the log");
        let mut text = Vec::new();
        file.read_to_end(&mut text).expect("read the log");
        String::from_utf8_lossy(&text)
            .lines()
            .filter(|l| l.contains(name))
            .map(str::to_owned)
            .collect()
    }
}

/// Every text, JSON and bytea value of every table in the database at `url`, one per line
/// (bytea as its bytes, printable ones as they are, as `pg_dump`'s text would show them): what
/// someone holding a dump could read.
pub async fn dump_values(url: &str) -> Vec<u8> {
    let pool = sqlx::PgPool::connect(url).await.expect("connect");
    let columns: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text, data_type::text \
         FROM information_schema.columns WHERE table_schema = 'public' \
         AND data_type IN ('text', 'character varying', 'bytea', 'jsonb', 'json')",
    )
    .fetch_all(&pool)
    .await
    .expect("columns");
    assert!(
        columns.iter().any(|c| c.1 == "message"),
        "the stored emails are among the columns: {columns:?}"
    );
    let mut dump = Vec::new();
    for (table, column, kind) in &columns {
        let value = if kind == "bytea" {
            format!("encode(\"{column}\", 'escape')")
        } else {
            format!("\"{column}\"::text")
        };
        let rows: Vec<Option<String>> =
            sqlx::query_scalar(&format!("SELECT {value} FROM \"{table}\""))
                .fetch_all(&pool)
                .await
                .expect("dump");
        for row in rows.into_iter().flatten() {
            dump.extend(row.into_bytes());
            dump.push(b'\n');
        }
    }
    pool.close().await;
    dump
}
