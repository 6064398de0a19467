//! Test-only helpers for the tests that drive the real service, so that each rule of how a test
//! talks to it is written once:
//!
//! - [`api`]: the HTTP API (slots, booking requests, the owner's calls) of any running server;
//! - [`mail`]: the `.eml` files the service writes, read with `mailparse`;
//! - [`time`]: times in whole hours and the API's timestamp format;
//! - [`wait`]: bounded polling;
//! - [`process`] and [`binary`]: the real `guidance` binary as a child process, its log captured;
//! - [`python`]: the independent Python checkers of the test venv; [`icaljs`]: ical.js under Node;
//! - [`smtp`] and [`pki`]: a real SMTP server process, and certificates for its TLS;
//! - [`browser`]: a real headless Chromium ([`Browser`]);
//! - [`pg`]: fresh PostgreSQL databases; [`relay`]: a TCP relay that can be cut.
//!
//! Whatever a test needs and is missing (Chromium, PostgreSQL, the test venv) fails the test
//! loudly, never skips it: `./scripts/test` installs all of it.

use std::path::PathBuf;

pub mod api;
pub mod binary;
pub mod browser;
pub mod dovecot;
pub mod icaljs;
pub mod mail;
pub mod pg;
pub mod pki;
pub mod process;
pub mod python;
pub mod relay;
pub mod smtp;
pub mod time;
pub mod wait;
pub mod webhooks;

pub use browser::{Browser, BrowserOptions};
pub use fantoccini::elements::{Element, ShadowRoot};
pub use fantoccini::{Client, Locator};

/// The workspace root (where `scripts/`, `.venv/` and `test-artifacts/` are).
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `test-artifacts/` at the workspace root (screenshots and other evidence of browser tests).
pub fn artifacts_dir() -> PathBuf {
    workspace_root().join("test-artifacts")
}

/// A TCP port on 127.0.0.1 that nothing listens on at the moment of asking.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}
