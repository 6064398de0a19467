//! `guidance check` against real servers: a migrated PostgreSQL database and an SMTP server
//! that asks for STARTTLS (certificate from a test CA) and a password. A good configuration
//! passes line by line; each broken setting is named on its own line with a non-zero exit,
//! and nothing is created or sent.

use std::path::Path;
use std::process::Command;

use guidance_testkit::free_port;
use guidance_testkit::pg::TestDatabase;
use guidance_testkit::pki::TestPki;
use guidance_testkit::smtp::Sink;

use crate::{common, output, text};

const SMTP_USER: &str = "mailer%40example.org";
const SMTP_PASSWORD: &str = "s3cret";

/// `guidance check` on `db_url` with a TLS public URL, its data directory in `dir`.
fn check(db_url: &str, dir: &Path) -> Command {
    let mut cmd = common::command(&["check"], db_url, &dir.join("mail"), &dir.join("data"));
    cmd.env("GUIDANCE_PUBLIC_URL", "https://guidance.example.org");
    cmd
}

/// Runs `cmd`; its exit success and the report line about `what`.
fn line_about(cmd: Command, what: &str) -> (bool, String, String) {
    let out = output(cmd);
    let all = text(&out);
    let line = all
        .lines()
        .find(|l| {
            l.split_once(':')
                .is_some_and(|(head, _)| head.ends_with(what))
        })
        .unwrap_or_else(|| panic!("no line about {what}:\n{all}"))
        .to_owned();
    (out.status.success(), line, all)
}

#[tokio::test]
async fn check_passes_a_good_configuration_and_names_each_problem() {
    let db = TestDatabase::create().await;
    let dir = tempfile::tempdir().expect("tempdir");
    common::migrate(&db.url, dir.path());
    let pki = TestPki::new("check");
    let sink = Sink::start_tls(&pki, "starttls", &["--auth", "mailer@example.org:s3cret"]);
    let smtp = |password: &str| sink.tls_url("smtp", &format!("{SMTP_USER}:{password}"));

    // Good: every line fine, exit 0.
    let mut good = check(&db.url, dir.path());
    good.env("GUIDANCE_SMTP_URL", smtp(SMTP_PASSWORD))
        .env("GUIDANCE_SMTP_CA_FILE", pki.ca());
    let out = output(good);
    let report = text(&out);
    assert!(out.status.success(), "{report}");
    for what in [
        "settings",
        "public URL",
        "secret",
        "owner address",
        "database",
        "smtp",
        "trusted proxies",
    ] {
        assert!(
            report
                .lines()
                .any(|l| l.starts_with("ok") && l.contains(&format!("{what}:"))),
            "{what} not reported fine:\n{report}"
        );
    }
    assert!(
        report.contains("STARTTLS accepted; signed in as mailer@example.org"),
        "{report}"
    );
    assert!(sink.messages().is_empty(), "no message was sent");

    // A wrong SMTP password: the server's refusal, on the SMTP line.
    let mut cmd = check(&db.url, dir.path());
    cmd.env("GUIDANCE_SMTP_URL", smtp("wrong-password"))
        .env("GUIDANCE_SMTP_CA_FILE", pki.ca());
    let (ok, line, all) = line_about(cmd, "smtp");
    assert!(!ok, "{all}");
    assert!(line.starts_with("PROBLEM") && line.contains("535"), "{all}");

    // An unreachable database.
    let nowhere = format!("postgres://postgres@127.0.0.1:{}/guidance", free_port());
    let (ok, line, all) = line_about(check(&nowhere, dir.path()), "database");
    assert!(!ok && line.starts_with("PROBLEM"), "{all}");
    assert!(line.contains("does not answer"), "{all}");

    // A database that was never migrated.
    let bare = TestDatabase::create().await;
    let (ok, line, all) = line_about(check(&bare.url, dir.path()), "database");
    assert!(!ok && line.contains("guidance migrate"), "{all}");

    // No secret: none set, none kept; and checking makes none.
    let mut cmd = check(&db.url, dir.path());
    cmd.env_remove("GUIDANCE_SECRET");
    let (ok, line, all) = line_about(cmd, "secret");
    assert!(!ok && line.starts_with("PROBLEM"), "{all}");
    assert!(
        !dir.path().join("data/secret").exists(),
        "check wrote a secret"
    );
    // A secret too short to sign with.
    let mut cmd = check(&db.url, dir.path());
    cmd.env("GUIDANCE_SECRET", "short");
    let (ok, line, all) = line_about(cmd, "secret");
    assert!(!ok && line.contains("shorter than 32"), "{all}");

    // A relative public URL.
    let mut cmd = check(&db.url, dir.path());
    cmd.env("GUIDANCE_PUBLIC_URL", "/guidance");
    let (ok, line, all) = line_about(cmd, "public URL");
    assert!(!ok && line.starts_with("PROBLEM"), "{all}");
    assert!(line.contains("not an absolute"), "{all}");

    // An owner address nobody can write to.
    let mut cmd = check(&db.url, dir.path());
    cmd.env("GUIDANCE_OWNER_EMAIL", "owner at example.org");
    let (ok, line, all) = line_about(cmd, "owner address");
    assert!(!ok && line.starts_with("PROBLEM"), "{all}");

    // Trusted proxies that do not parse.
    let mut cmd = check(&db.url, dir.path());
    cmd.env("GUIDANCE_TRUSTED_PROXIES", "127.0.0.1,10.0.0.0/33");
    let (ok, line, all) = line_about(cmd, "trusted proxies");
    assert!(!ok && line.starts_with("PROBLEM"), "{all}");
    assert!(line.contains("10.0.0.0/33"), "{all}");
    assert!(sink.messages().is_empty(), "no message was ever sent");
}

#[tokio::test]
async fn check_of_a_first_sqlite_run_creates_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = crate::sqlite_url(dir.path());
    let (_, line, all) = line_about(check(&url, dir.path()), "database");
    assert!(
        line.starts_with("ok") && line.contains("serve` creates"),
        "{all}"
    );
    assert!(
        !dir.path().join("guidance.db").exists(),
        "check created the database"
    );
}
