//! The independent checkers in Python (the stdlib `email` package, `icalendar`, `vobject`,
//! schemathesis, an aiosmtpd server), run with the test venv's interpreter.
//!
//! The interpreter is `GUIDANCE_TEST_PYTHON`, else `.venv/bin/python` at the workspace root (as
//! `./scripts/test` makes it, for a developer running a test by hand); in CI the variable must be
//! set. The email checker is `GUIDANCE_CHECK_EML`, else `scripts/check_eml.py`. A missing
//! interpreter fails the test: it never skips.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::workspace_root;

/// The test venv's Python, which has every package `scripts/requirements-test.txt` names.
pub fn interpreter() -> PathBuf {
    if let Some(p) = std::env::var_os("GUIDANCE_TEST_PYTHON") {
        return PathBuf::from(p);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "GUIDANCE_TEST_PYTHON must be set in CI (run ./scripts/test)"
    );
    let venv = workspace_root().join(".venv/bin/python");
    assert!(
        venv.exists(),
        "no test Python at {}: run `GUIDANCE_TEST_ONLY=setup ./scripts/test` once (it creates \
         .venv from scripts/requirements-test.txt) or set GUIDANCE_TEST_PYTHON",
        venv.display()
    );
    venv
}

/// `scripts/<name>` at the workspace root.
pub fn script(name: &str) -> PathBuf {
    workspace_root().join("scripts").join(name)
}

/// The email checker: `GUIDANCE_CHECK_EML`, else `scripts/check_eml.py`.
pub fn check_eml_script() -> PathBuf {
    std::env::var_os("GUIDANCE_CHECK_EML").map_or_else(|| script("check_eml.py"), PathBuf::from)
}

/// Runs the checker `script` on `args`; panics with its report when it refuses. Returns what
/// it printed.
pub fn run_checker<A: AsRef<OsStr>>(script: &Path, args: &[A]) -> String {
    let out = Command::new(interpreter())
        .arg(script)
        .args(args)
        .output()
        .expect("python runs");
    let report = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{} refused:\n{report}\n{}",
        script.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    report
}

/// Runs `check_eml.py` (Python's `email` package and `icalendar`) on `.eml` files; panics with
/// its report when it refuses one. Returns what it printed.
pub fn check_eml<P: AsRef<Path>>(paths: &[P]) -> String {
    let args: Vec<&OsStr> = paths.iter().map(|p| p.as_ref().as_os_str()).collect();
    run_checker(&check_eml_script(), &args)
}
