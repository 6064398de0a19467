//! The independent iCalendar checker in JavaScript: `scripts/check_ics.mjs` reads a calendar with
//! ical.js (the parser Proton's web client uses) under Node.
//!
//! ical.js comes from npm, pinned by `tests/browser/package-lock.json` and installed by
//! `./scripts/test` (`npm ci` in `tests/browser`); `GUIDANCE_ICAL_JS` names its ES module
//! elsewhere. A missing `node` or ical.js fails the test: it never skips.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

use crate::workspace_root;

/// ical.js's ES module: `GUIDANCE_ICAL_JS`, else the one `npm ci` put in `tests/browser`.
pub fn module() -> PathBuf {
    let path = std::env::var_os("GUIDANCE_ICAL_JS").map_or_else(
        || workspace_root().join("tests/browser/node_modules/ical.js/dist/ical.js"),
        PathBuf::from,
    );
    assert!(
        path.exists(),
        "ical.js is missing at {}: run ./scripts/test, which runs `npm ci` in tests/browser, or \
         set GUIDANCE_ICAL_JS",
        path.display()
    );
    path
}

/// What ical.js read from the calendar `ics`: its `method`, `name`, `refresh`, `count` and, per
/// UID, each event's `sequence`, `status`, `summary`, `start`, `end`, `location`, `url` and
/// `conference`. Panics with ical.js's complaint when it refuses the calendar.
pub fn read(ics: &str) -> Value {
    let file = tempfile::NamedTempFile::new().expect("a temporary file");
    std::fs::write(file.path(), ics).expect("the calendar written");
    let script = workspace_root().join("scripts/check_ics.mjs");
    let out = Command::new("node")
        .arg(&script)
        .arg(module())
        .arg(file.path())
        .output()
        .unwrap_or_else(|e| {
            panic!("node does not run ({e}): ./scripts/test installs it (Debian's nodejs)")
        });
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "ical.js refused the calendar:\n{}\n{ics}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("check_ics.mjs printed {stdout}: {e}"))
}
