//! What an operator reads: every answer carries a request id, and the real binary's log lines
//! carry the request's method, route, id, status and latency — as plain text without terminal
//! colour codes when written to a file, or as JSON lines with `GUIDANCE_LOG_FORMAT=json`.

use std::path::Path;
use std::time::Duration;

use guidance_testkit::binary::{self, Server};

/// The binary serving on a free port with its log written to a file, in JSON when `json`, with
/// the access log (`debug` for the web layer) turned on.
fn serve(dir: &Path, json: bool) -> Server {
    serve_logging(dir, json, Some("info,guidance_web=debug"))
}

/// The binary serving as [`serve`] does, with `RUST_LOG` set to `filter` (unset: the default).
fn serve_logging(dir: &Path, json: bool, filter: Option<&str>) -> Server {
    let mut cmd = binary::command(
        env!("CARGO_BIN_EXE_guidance"),
        &["serve"],
        &format!("sqlite://{}", dir.join("guidance.db").display()),
        &dir.join("mail"),
        dir,
    );
    match filter {
        Some(f) => cmd.env("RUST_LOG", f),
        None => cmd.env_remove("RUST_LOG"),
    };
    if json {
        cmd.env("GUIDANCE_LOG_FORMAT", "json");
    }
    binary::serve(cmd, dir.join("serve.log"))
}

/// Waits (5 s at most) until the log holds a line containing `needle`, then stops the server and
/// returns its whole log.
fn log_with(server: &mut Server, needle: &str) -> String {
    let found = server
        .process
        .wait_for_line(Duration::from_secs(5), |line| {
            line.contains(needle).then_some(())
        });
    server.process.kill();
    let text = server.process.log_text();
    assert!(found.is_some(), "no log line with {needle:?}:\n{text}");
    text
}

#[tokio::test]
async fn answers_carry_a_request_id_and_plain_logs_have_no_colour_codes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut server = serve(dir.path(), false);
    let base = server.url.clone();
    let client = reqwest::Client::new();
    let resp = client
        .get(format!("{base}/api/slots"))
        .header("x-request-id", "probe-42")
        .send()
        .await
        .expect("an answer");
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["x-request-id"], "probe-42", "echoed");
    // Without one (or with one not fit to log), the service makes one up.
    for sent in [None, Some("two words")] {
        let mut req = client.get(format!("{base}/healthz"));
        if let Some(v) = sent {
            req = req.header("x-request-id", v);
        }
        let resp = req.send().await.expect("an answer");
        let id = resp.headers()["x-request-id"].to_str().unwrap().to_owned();
        assert_eq!(id.len(), 32, "{id}");
        assert!(id.chars().all(|c| c.is_ascii_hexdigit()), "{id}");
    }
    let text = log_with(&mut server, "request_id=probe-42");
    let line = text
        .lines()
        .find(|l| l.contains("request_id=probe-42") && l.contains("request answered"))
        .unwrap_or_else(|| panic!("no closing line:\n{text}"));
    for field in [
        "method=GET",
        "route=/api/slots",
        "status=200",
        "latency_ms=",
    ] {
        assert!(line.contains(field), "{field} in {line}");
    }
    assert!(
        !text.contains('\u{1b}'),
        "no terminal escape codes:\n{text}"
    );
}

#[tokio::test]
async fn json_logs_are_one_object_a_line_with_the_request_span() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut server = serve(dir.path(), true);
    let base = server.url.clone();
    let resp = reqwest::Client::new()
        .get(format!("{base}/api/slots"))
        .header("x-request-id", "probe-json")
        .send()
        .await
        .expect("an answer");
    assert_eq!(resp.status(), 200);
    let text = log_with(&mut server, "probe-json");
    let events: Vec<serde_json::Value> = text
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert!(!events.is_empty(), "{text}");
    let answered = events
        .iter()
        .find(|e| e["span"]["request_id"] == "probe-json" && e["message"] == "request answered")
        .unwrap_or_else(|| panic!("no closing event:\n{text}"));
    assert_eq!(answered["span"]["route"], "/api/slots");
    assert_eq!(answered["span"]["method"], "GET");
    assert!(answered["timestamp"].is_string() && answered["level"] == "DEBUG");
}

#[tokio::test]
async fn at_the_default_level_what_a_change_logs_names_its_request_and_reads_stay_quiet() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut server = serve_logging(dir.path(), false, None);
    let base = server.url.clone();
    let client = reqwest::Client::new();
    let resp = client
        .get(format!("{base}/api/slots"))
        .header("x-request-id", "probe-read")
        .send()
        .await
        .expect("an answer");
    assert_eq!(resp.status(), 200);
    // A robot's request: refused, and logged inside its request's span.
    let resp = client
        .post(format!("{base}/api/bookings"))
        .header("x-request-id", "probe-change")
        .json(&serde_json::json!({"website": "http://spam.example"}))
        .send()
        .await
        .expect("an answer");
    assert_eq!(resp.status(), 422);
    let text = log_with(&mut server, "honeypot");
    let line = text
        .lines()
        .find(|l| l.contains("honeypot"))
        .expect("the refusal's line");
    for field in [
        "request_id=probe-change",
        "method=POST",
        "route=/api/bookings",
    ] {
        assert!(line.contains(field), "{field} in {line}");
    }
    assert!(
        !text.contains("probe-read"),
        "no line for a read at the default level:\n{text}"
    );
}
