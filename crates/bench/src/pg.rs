//! PostgreSQL for the bench: a fresh `guidance_bench_<random>` database (dropped afterwards,
//! even on failure), slots seeded by SQL, and `pgbench` running `sql/book.sql` on it.

use sqlx::postgres::PgConnection;
use sqlx::{Connection, Row};
use uuid::Uuid;

use crate::BenchError;
use crate::seed::{Seeded, SlotPlan};

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

/// Runs `sql` on a connection of its own to the PostgreSQL database at `url`, if there is one.
pub async fn execute(url: Option<&str>, sql: &str) -> Result<(), BenchError> {
    if let Some(url) = url {
        let mut conn = sqlx::PgConnection::connect(url).await?;
        sqlx::query(sql).execute(&mut conn).await?;
        conn.close().await.ok();
    }
    Ok(())
}

/// The next transaction id of the PostgreSQL server at `url` (none without one): the
/// difference of two readings counts the transactions that wrote in between, on every database
/// of the server. Not the statistics' count of commits: a backend that has gone idle reports
/// its counts up to 10 s later, so readings at the end of a short run missed some.
pub async fn next_transaction_id(url: Option<&str>) -> Result<Option<i64>, BenchError> {
    let Some(url) = url else {
        return Ok(None);
    };
    let mut conn = sqlx::PgConnection::connect(url).await?;
    let (next,): (i64,) =
        sqlx::query_as("SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint")
            .fetch_one(&mut conn)
            .await?;
    conn.close().await.ok();
    Ok(Some(next))
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
