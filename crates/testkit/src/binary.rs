//! The real `guidance` binary as a child process: the environment every such process is given
//! (and nothing inherited from the test's own), and `guidance serve` started on port 0, its port
//! read from its `Listening on` banner, its log captured.
//!
//! The binary's path is the caller's `env!("CARGO_BIN_EXE_guidance")`: only the `guidance`
//! crate's tests know it, and this crate does not depend on that crate.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::api::ADMIN_TOKEN;
use crate::process::Process;

/// The secret every process started here signs its links with.
pub const SECRET: &str = "test-secret-0123456789abcdef0123456789abcdef";

/// How long `guidance serve` may take to say where it listens.
const STARTUP: Duration = Duration::from_secs(60);

/// `<bin> <args>` in a clean environment (only `PATH` is kept): the database `database_url`,
/// delivering into `mail_dir`, its own files in `data_dir`, listening on a free port, with
/// [`SECRET`], the owner token [`ADMIN_TOKEN`], the owner `owner@example.org`, the sender
/// `bookings@example.org`, a booking rate limit far above what tests send, and `info` logs.
/// A test adds or overrides settings with [`Command::env`].
pub fn command(
    bin: impl AsRef<OsStr>,
    args: &[&str],
    database_url: &str,
    mail_dir: &Path,
    data_dir: &Path,
) -> Command {
    let mut cmd = Command::new(bin);
    cmd.args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("RUST_LOG", "info,sqlx=warn")
        .env("GUIDANCE_DATABASE_URL", database_url)
        .env("GUIDANCE_LISTEN", "127.0.0.1:0")
        .env("GUIDANCE_MAIL_DIR", mail_dir)
        .env("GUIDANCE_DATA_DIR", data_dir)
        .env("GUIDANCE_SECRET", SECRET)
        .env("GUIDANCE_ADMIN_TOKEN", ADMIN_TOKEN)
        .env("GUIDANCE_OWNER_EMAIL", "owner@example.org")
        .env("GUIDANCE_MAIL_FROM", "bookings@example.org")
        .env("GUIDANCE_BOOKING_RATE_LIMIT", "100000");
    cmd
}

/// Runs `cmd` to its end; panics with its error output when it fails.
pub fn run(mut cmd: Command) -> std::process::Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("could not run {:?}: {e}", cmd.get_program()));
    assert!(
        out.status.success(),
        "{:?} {:?} failed: {}",
        cmd.get_program(),
        cmd.get_args().collect::<Vec<_>>(),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A running `guidance serve`.
pub struct Server {
    /// The process.
    pub process: Process,
    /// The port it listens on.
    pub port: u16,
    /// `http://127.0.0.1:<port>`.
    pub url: String,
}

/// Starts `cmd` (a `guidance serve` command listening on `127.0.0.1`) with its log in `log`, and
/// returns it once it listens. Panics with the log when it does not start within a minute.
pub fn serve(cmd: Command, log: impl Into<PathBuf>) -> Server {
    let mut process = Process::start(cmd, log);
    let port = process.wait_for_line(STARTUP, |line| {
        line.strip_prefix("Listening on 127.0.0.1:")
            .map(|p| p.trim().parse::<u16>().expect("a port"))
    });
    let Some(port) = port else {
        panic!("guidance serve did not start:\n{}", process.log_text());
    };
    Server {
        process,
        port,
        url: format!("http://127.0.0.1:{port}"),
    }
}
