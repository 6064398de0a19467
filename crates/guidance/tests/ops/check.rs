//! `guidance check` against real servers: a migrated PostgreSQL database, an SMTP server
//! that asks for STARTTLS (certificate from a test CA) and a password, and the replies mailbox
//! in a real Dovecot. A good configuration passes line by line; each broken setting is named on
//! its own line with a non-zero exit, and nothing is created, sent or moved.

use std::path::Path;
use std::process::Command;

use guidance_testkit::dovecot::{self, Dovecot};
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
        "replies",
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
    assert!(
        report.contains("replies: GUIDANCE_IMAP_URL is not set"),
        "{report}"
    );

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

/// A booking horizon beyond what the owner's settings allow (730 days) is refused when the
/// service starts, naming the setting: in force as a default, it would void every setting the
/// owner stored (each request warning so), and nothing is created.
#[test]
fn a_horizon_beyond_the_settings_limit_is_refused_at_start() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = crate::sqlite_url(dir.path());
    let mut cmd = check(&url, dir.path());
    cmd.env("GUIDANCE_BOOKING_HORIZON_DAYS", "731");
    let out = output(cmd);
    let all = text(&out);
    assert!(!out.status.success(), "{all}");
    assert!(
        all.contains("731") && all.contains("booking-horizon-days") && all.contains("1..=730"),
        "{all}"
    );
    assert!(!dir.path().join("guidance.db").exists(), "{all}");

    let mut cmd = check(&url, dir.path());
    cmd.env("GUIDANCE_BOOKING_HORIZON_DAYS", "730");
    let (_, line, all) = line_about(cmd, "database");
    assert!(line.starts_with("ok"), "{all}");
}

#[tokio::test]
async fn check_signs_in_to_the_replies_mailbox_and_names_a_wrong_password() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = crate::sqlite_url(dir.path());
    let server = Dovecot::start();
    server.append(
        "INBOX",
        b"From: a@example.org\r\nSubject: waiting\r\n\r\nhi\r\n",
    );

    // Over TLS from a test authority: signed in, the folder opens, its message is counted.
    let mut cmd = check(&url, dir.path());
    cmd.env("GUIDANCE_IMAP_URL", server.tls_url())
        .env("GUIDANCE_IMAP_CA_FILE", server.ca());
    let (_, line, all) = line_about(cmd, "replies");
    assert!(line.starts_with("ok"), "{all}\n{}", server.log());
    assert!(
        line.contains(&format!(
            "imaps://localhost:{}/INBOX answers; signed in as {}; INBOX holds 1 message(s)",
            server.imaps_port,
            dovecot::USER
        )),
        "{all}"
    );
    assert!(!line.contains(dovecot::PASSWORD), "{all}");

    // A wrong password: the server's refusal, on the replies line, and a failing exit.
    let mut cmd = check(&url, dir.path());
    cmd.env(
        "GUIDANCE_IMAP_URL",
        server
            .plain_url()
            .replace(dovecot::PASSWORD, "wrong-password"),
    );
    let (ok, line, all) = line_about(cmd, "replies");
    assert!(!ok && line.starts_with("PROBLEM"), "{all}");
    assert!(
        line.contains(&format!("login as {}", dovecot::USER))
            && line.to_lowercase().contains("authentication failed"),
        "{all}"
    );
    assert!(!line.contains("wrong-password"), "{all}");

    // A server that is not there.
    let mut cmd = check(&url, dir.path());
    cmd.env(
        "GUIDANCE_IMAP_URL",
        format!(
            "imap://{}:{}@127.0.0.1:{}/INBOX?tls=none",
            dovecot::USER,
            dovecot::PASSWORD,
            free_port()
        ),
    );
    let (ok, line, all) = line_about(cmd, "replies");
    assert!(!ok && line.contains("connect"), "{all}");

    // Looking changed nothing: the message is still there, unread, and no folder was made.
    assert_eq!(server.count("INBOX"), 1);
    assert_eq!(server.folders(), vec!["INBOX".to_owned()]);
}
