//! A consistent copy of the SQLite database while the service runs (`guidance backup`), and
//! putting one back (`guidance restore`).
//!
//! Both copy with `VACUUM INTO`, which reads the source in one read transaction: with the
//! database in WAL mode the service goes on writing meanwhile, and the copy holds exactly what
//! was committed when the copy began. The copy is written into a file created here first,
//! empty, exclusively and readable by its owner only (0600), so that no existing file is ever
//! overwritten and the copy (which holds visitors' names and addresses) is never readable by
//! others, not even for a moment. Nothing is migrated: a restored database is migrated by the
//! next `guidance serve`, like any other.

use std::path::{Path, PathBuf};
use std::time::Duration;

use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Connection, SqliteConnection};

/// Why a backup or a restore was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The file to write exists already.
    #[error("{0} exists already: choose a new file (nothing is ever overwritten)")]
    Exists(PathBuf),
    /// The database to copy from is not there.
    #[error("no SQLite database at {0}")]
    Missing(PathBuf),
    /// The copy is not a sound Guidance database.
    #[error("{path} is not a sound Guidance database: {reason}")]
    Unsound {
        /// The file looked at.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A file could not be created or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The system's error.
        source: std::io::Error,
    },
    /// SQLite failed.
    #[error("SQLite: {0}")]
    Database(#[from] sqlx::Error),
}

/// What was copied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Copied {
    /// Bookings in the copy.
    pub bookings: i64,
    /// Size of the copy in bytes.
    pub bytes: u64,
}

/// Copies the database at `source` (as named in `GUIDANCE_DATABASE_URL`) into the new file
/// `dest`, consistently while the service runs, and checks the copy.
pub async fn backup(source: &Path, dest: &Path) -> Result<Copied, BackupError> {
    if !source.is_file() {
        return Err(BackupError::Missing(source.to_owned()));
    }
    copy(source, dest).await
}

/// Puts the backup `backup` in place as the database `target`, which must not exist yet (nor
/// its `-wal` and `-shm` files): a running service always has its database file, so a restore
/// can never pull the data from under one. The backup is checked first.
pub async fn restore(backup: &Path, target: &Path) -> Result<Copied, BackupError> {
    if !backup.is_file() {
        return Err(BackupError::Missing(backup.to_owned()));
    }
    for existing in [
        target.to_owned(),
        sidecar(target, "-wal"),
        sidecar(target, "-shm"),
    ] {
        if existing.exists() {
            return Err(BackupError::Exists(existing));
        }
    }
    check(backup).await?;
    if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| BackupError::Io {
            path: dir.to_owned(),
            source,
        })?;
    }
    copy(backup, target).await
}

/// `VACUUM INTO` a new, private `dest`; checks the result. A failed copy leaves no file behind.
async fn copy(source: &Path, dest: &Path) -> Result<Copied, BackupError> {
    create_private(dest)?;
    let copied = async {
        let mut conn = open_read_only(source).await?;
        let dest_text = dest.to_str().ok_or_else(|| BackupError::Io {
            path: dest.to_owned(),
            source: std::io::Error::other("the path is not UTF-8"),
        })?;
        sqlx::query("VACUUM INTO ?1")
            .bind(dest_text)
            .execute(&mut conn)
            .await?;
        conn.close().await?;
        std::fs::File::open(dest)
            .and_then(|f| f.sync_all())
            .map_err(|source| BackupError::Io {
                path: dest.to_owned(),
                source,
            })?;
        check(dest).await
    }
    .await;
    if copied.is_err() {
        let _ = std::fs::remove_file(dest);
    }
    copied
}

/// Checks that `path` passes SQLite's `integrity_check` and holds Guidance's tables; counts
/// its bookings.
pub async fn check(path: &Path) -> Result<Copied, BackupError> {
    let unsound = |reason: String| BackupError::Unsound {
        path: path.to_owned(),
        reason,
    };
    let mut conn = open_read_only(path)
        .await
        .map_err(|e| unsound(e.to_string()))?;
    let verdict: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_all(&mut conn)
        .await
        .map_err(|e| unsound(e.to_string()))?;
    if verdict != ["ok"] {
        return Err(unsound(verdict.join("; ")));
    }
    let bookings: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM guidance_bookings")
        .fetch_one(&mut conn)
        .await
        .map_err(|_| unsound("it has no Guidance tables".into()))?;
    conn.close().await?;
    let bytes = std::fs::metadata(path)
        .map_err(|source| BackupError::Io {
            path: path.to_owned(),
            source,
        })?
        .len();
    Ok(Copied { bookings, bytes })
}

/// A read-only connection that waits for the service's writer rather than failing.
async fn open_read_only(path: &Path) -> Result<SqliteConnection, BackupError> {
    let options = SqliteConnectOptions::new()
        .filename(path)
        .read_only(true)
        .busy_timeout(Duration::from_secs(30));
    Ok(SqliteConnection::connect_with(&options).await?)
}

/// Creates `path` empty, failing when it exists, readable and writable by its owner only.
fn create_private(path: &Path) -> Result<(), BackupError> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    match opts.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            Err(BackupError::Exists(path.to_owned()))
        }
        Err(source) => Err(BackupError::Io {
            path: path.to_owned(),
            source,
        }),
    }
}

/// `<path><suffix>`: SQLite's `-wal` and `-shm` files beside a database.
fn sidecar(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_copy_is_private_checked_and_never_overwrites() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("guidance.db");
        let store = crate::sqlite::SqliteStore::open(&db).await.unwrap();
        let dest = dir.path().join("copy.db");
        let copied = backup(&db, &dest).await.unwrap();
        assert_eq!(copied.bookings, 0);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&dest).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let before = std::fs::read(&dest).unwrap();
        assert!(matches!(
            backup(&db, &dest).await,
            Err(BackupError::Exists(_))
        ));
        assert_eq!(std::fs::read(&dest).unwrap(), before, "left as it was");
        // Restoring onto a database that exists is refused; into a new place it works.
        assert!(matches!(
            restore(&dest, &db).await,
            Err(BackupError::Exists(_))
        ));
        let restored = dir.path().join("new/guidance.db");
        assert_eq!(restore(&dest, &restored).await.unwrap().bookings, 0);
        drop(store);
    }

    #[tokio::test]
    async fn what_is_not_a_guidance_database_is_not_restored() {
        let dir = tempfile::tempdir().unwrap();
        let junk = dir.path().join("junk.db");
        std::fs::write(&junk, b"not a database at all, just some bytes").unwrap();
        let target = dir.path().join("guidance.db");
        assert!(matches!(
            restore(&junk, &target).await,
            Err(BackupError::Unsound { .. })
        ));
        assert!(!target.exists(), "nothing was left behind");
    }
}
