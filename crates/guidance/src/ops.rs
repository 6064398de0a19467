//! The operator's commands: `guidance backup`, `guidance restore` and `guidance check`.

use std::path::Path;

use guidance_app::config::{Config, is_postgres_url};
use guidance_store::sqlite::{self, backup};

use crate::startup::StartError;

/// Why the PostgreSQL database is not copied here.
const USE_PG_DUMP: &str = "the database is PostgreSQL: back it up with `pg_dump --format=custom \
    --file=guidance.dump \"$GUIDANCE_DATABASE_URL\"` (and restore with `pg_restore`). pg_dump \
    reads one consistent snapshot while the service runs and keeps the schema, the roles' grants \
    and the row-level security policies, which a copy of rows made by Guidance would not; on \
    Supabase, its own backups do the same.";

/// `guidance backup <file>`: a consistent copy of the SQLite database while the service runs,
/// into a new file readable by its owner only.
pub async fn backup(config: &Config, file: &Path) -> Result<(), StartError> {
    if is_postgres_url(&config.database_url) {
        return Err(USE_PG_DUMP.into());
    }
    let source = Path::new(sqlite::path_of_url(&config.database_url));
    let copied = backup::backup(source, file).await?;
    println!(
        "Backed up {} to {} ({} bookings, {} bytes; readable by you only).",
        source.display(),
        file.display(),
        copied.bookings,
        copied.bytes
    );
    println!(
        "The backup does not hold the secret that signs links (GUIDANCE_SECRET or {}): keep that \
         apart, and give both to a restored service.",
        config.data_dir.join("secret").display()
    );
    Ok(())
}

/// `guidance restore <file>`: puts a backup in place as the configured SQLite database, which
/// must not exist (stop the service and move the old database aside first).
pub async fn restore(config: &Config, file: &Path) -> Result<(), StartError> {
    if is_postgres_url(&config.database_url) {
        return Err(USE_PG_DUMP.into());
    }
    let target = Path::new(sqlite::path_of_url(&config.database_url));
    let copied = backup::restore(file, target).await.map_err(|e| match e {
        backup::BackupError::Exists(path) => format!(
            "{} exists: stop the service and move the database (with its -wal and -shm files) \
             aside first; restore never overwrites a database",
            path.display()
        )
        .into(),
        other => StartError::from(other),
    })?;
    println!(
        "Restored {} bookings from {} into {}. Start the service with the secret it had.",
        copied.bookings,
        file.display(),
        target.display()
    );
    Ok(())
}

/// `guidance check`: one line per thing looked at; an error when any is wrong.
pub async fn check(config: &Config) -> Result<(), StartError> {
    let findings = guidance_app::preflight::run(config).await;
    for f in &findings {
        let mark = if f.ok { "ok     " } else { "PROBLEM" };
        println!("{mark} {}: {}", f.what, f.detail);
    }
    let problems = findings.iter().filter(|f| !f.ok).count();
    if problems > 0 {
        return Err(format!("{problems} problem(s) found").into());
    }
    println!("Everything checked is fine.");
    Ok(())
}
