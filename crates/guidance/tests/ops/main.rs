//! The operator's side of the real `guidance` binary, each test starting it as a process:
//! `/metrics` read by Prometheus's own Python parser (`metrics`), `/readyz` while the database
//! comes and goes (`readyz`), `guidance backup` during a booking burst and `guidance restore`
//! (`backup`), and `guidance check` against real servers (`check`).

#[path = "../common/mod.rs"]
mod common;

mod backup;
mod check;
mod metrics;
mod readyz;

use std::path::Path;
use std::process::{Command, Output};

/// Runs `cmd` to its end (it must not hang) and returns what it did.
pub fn output(mut cmd: Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("could not run {:?}: {e}", cmd.get_program()))
}

/// Standard output and error of `out`, for assertions and their messages.
pub fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// `sqlite://<dir>/guidance.db`.
pub fn sqlite_url(dir: &Path) -> String {
    format!("sqlite://{}", dir.join("guidance.db").display())
}
