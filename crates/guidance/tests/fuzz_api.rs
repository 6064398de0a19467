//! Schemathesis against the real `guidance` binary: it reads `/api/openapi.json` and sends
//! generated requests, valid and invalid, to every public and owner operation (with the owner's
//! bearer token), and fails on any 5xx, any status the document does not list, and any answer
//! outside the documented schema.
//!
//! Bounded: a fixed, derandomized generation with a few examples per operation, a timeout per
//! request and a hard limit on the whole run. The per-address rate limit is raised so that the
//! booking endpoints answer for real instead of 429.
//!
//! Needs the test venv's Python with schemathesis (`GUIDANCE_TEST_PYTHON`, set by
//! `./scripts/test`); without it, the test fails.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};
use serde_json::json;

const ADMIN_TOKEN: &str = "fuzz-admin-token-0123456789abcdef";
const SECRET: &str = "fuzz-secret-0123456789abcdef0123456789abcdef";
/// The whole schemathesis run must end within this.
const RUN_LIMIT: Duration = Duration::from_secs(150);

/// The test venv's Python: `GUIDANCE_TEST_PYTHON`, else the repository's `.venv` (when a
/// developer runs the test by hand after `./scripts/test` made it).
fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("GUIDANCE_TEST_PYTHON") {
        return PathBuf::from(p);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "GUIDANCE_TEST_PYTHON must be set in CI (run ./scripts/test)"
    );
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/python");
    assert!(
        venv.exists(),
        "no test Python with schemathesis: run `GUIDANCE_TEST_ONLY=setup ./scripts/test` once \
         or set GUIDANCE_TEST_PYTHON"
    );
    venv
}

/// A child process, killed when dropped.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `guidance serve` on a fresh SQLite database in `dir` and returns it with its port.
fn serve(dir: &Path) -> (Killed, u16) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_guidance"))
        .arg("serve")
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("RUST_LOG", "warn")
        .env(
            "GUIDANCE_DATABASE_URL",
            format!("sqlite://{}", dir.join("guidance.db").display()),
        )
        .env("GUIDANCE_LISTEN", "127.0.0.1:0")
        .env("GUIDANCE_DATA_DIR", dir.join("data"))
        .env("GUIDANCE_MAIL_DIR", dir.join("mail"))
        .env("GUIDANCE_SECRET", SECRET)
        .env("GUIDANCE_ADMIN_TOKEN", ADMIN_TOKEN)
        .env("GUIDANCE_OWNER_EMAIL", "owner@example.org")
        .env("GUIDANCE_MAIL_FROM", "bookings@example.org")
        .env("GUIDANCE_BOOKING_RATE_LIMIT", "1000000")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(dir.join("serve.log")).expect("log file"))
        .spawn()
        .expect("start guidance serve");
    let stdout = child.stdout.take().expect("stdout");
    let process = Killed(child);
    let mut lines = BufReader::new(stdout).lines();
    let port = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|l| {
            l.strip_prefix("Listening on 127.0.0.1:")
                .map(|p| p.trim().parse::<u16>().expect("a port"))
        })
        .unwrap_or_else(|| {
            panic!(
                "guidance serve did not start:\n{}",
                std::fs::read_to_string(dir.join("serve.log")).unwrap_or_default()
            )
        });
    // Keep draining stdout so the process never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (process, port)
}

#[tokio::test]
async fn schemathesis_finds_no_server_error_and_no_answer_outside_the_document() {
    let python = python();
    let dir = tempfile::tempdir().expect("tempdir");
    let (_server, port) = serve(dir.path());
    let base = format!("http://127.0.0.1:{port}");

    // A few open slots, so that booking requests can reach the booking logic.
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .expect("client");
    let now = Timestamp::now().as_second();
    let first = Timestamp::from_second(now - now % 3600 + 48 * 3600).expect("in range");
    for i in 0..5 {
        let start = first + SignedDuration::from_hours(i * 24);
        let resp = client
            .post(format!("{base}/api/admin/slots"))
            .bearer_auth(ADMIN_TOKEN)
            .json(&json!({
                "starts_at": start.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
                "ends_at": (start + SignedDuration::from_mins(45)).strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
            }))
            .send()
            .await
            .expect("create a slot");
        assert_eq!(resp.status(), 201);
    }

    let doc: serde_json::Value = client
        .get(format!("{base}/api/openapi.json"))
        .send()
        .await
        .expect("the document")
        .json()
        .await
        .expect("JSON");
    let operations: usize = doc["paths"]
        .as_object()
        .expect("paths")
        .values()
        .flat_map(|item| item.as_object().expect("path item").keys())
        .filter(|k| ["get", "post", "put", "patch", "delete"].contains(&k.as_str()))
        .count();

    let report = dir.path().join("schemathesis.log");
    let mut run = Command::new(&python);
    run.args(["-m", "schemathesis.cli", "run"])
        .arg(format!("{base}/api/openapi.json"))
        .args([
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
            "--generation-deterministic",
            "--max-examples",
            "15",
            "--workers",
            "1",
            "--request-timeout",
            "10",
            "--no-color",
            "--header",
        ])
        .arg(format!("Authorization: Bearer {ADMIN_TOKEN}"))
        .current_dir(dir.path())
        .env("SCHEMATHESIS_TELEMETRY", "false")
        .env("HYPOTHESIS_STORAGE_DIRECTORY", dir.path().join("hypothesis"))
        .stdout(std::fs::File::create(&report).expect("report file"))
        .stderr(std::fs::File::create(dir.path().join("schemathesis.err")).expect("err file"));
    let started = Instant::now();
    let mut child = Killed(
        run.spawn()
            .unwrap_or_else(|e| panic!("run {python:?}: {e}")),
    );
    let status = loop {
        if let Some(status) = child.0.try_wait().expect("wait for schemathesis") {
            break status;
        }
        assert!(
            started.elapsed() < RUN_LIMIT,
            "schemathesis did not finish within {RUN_LIMIT:?}:\n{}",
            std::fs::read_to_string(&report).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    let output = std::fs::read_to_string(&report).unwrap_or_default()
        + &std::fs::read_to_string(dir.path().join("schemathesis.err")).unwrap_or_default();
    println!("{output}");
    assert!(
        status.success(),
        "schemathesis found problems ({status}):\n{output}\n--- server log ---\n{}",
        std::fs::read_to_string(dir.path().join("serve.log")).unwrap_or_default()
    );
    // It really ran: every operation was tested (but the document's own, which schemathesis
    // leaves out as the schema it loads).
    let tested = operations - 1;
    assert!(
        output.contains(&format!("Tested: {tested}")),
        "not all {tested} operations were tested:\n{output}"
    );
}
