//! What an operator reads: every answer carries a request id, and the real binary's log lines
//! carry the request's method, route, id, status and latency — as plain text without terminal
//! colour codes when written to a file, or as JSON lines with `GUIDANCE_LOG_FORMAT=json`.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The binary serving on a free port with its log written to a file; returns the child, its
/// base URL and the log path.
fn serve(dir: &std::path::Path, json: bool) -> (Child, String, std::path::PathBuf) {
    let log = dir.join("serve.log");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_guidance"));
    cmd.arg("serve")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("GUIDANCE_DATA_DIR", dir)
        .env(
            "GUIDANCE_DATABASE_URL",
            format!("sqlite://{}", dir.join("guidance.db").display()),
        )
        .env("GUIDANCE_MAIL_DIR", dir.join("mail"))
        .env("GUIDANCE_LISTEN", "127.0.0.1:0")
        .env("RUST_LOG", "info,guidance_web=debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    if json {
        cmd.env("GUIDANCE_LOG_FORMAT", "json");
    }
    let mut child = cmd.spawn().expect("the guidance binary starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let mut addr = None;
    let mut copy = Vec::new();
    for line in lines.by_ref() {
        let line = line.expect("a line");
        copy.push(line.clone());
        if let Some(a) = line.strip_prefix("Listening on ") {
            addr = Some(a.trim().to_owned());
            break;
        }
    }
    let addr = addr.unwrap_or_else(|| panic!("no address printed: {copy:?}"));
    // Keep copying what the binary writes into the log file, as a pipe to a file would.
    let path = log.clone();
    std::thread::spawn(move || {
        use std::io::Write;
        let mut file = std::fs::File::create(&path).expect("log file");
        for line in copy.into_iter().map(Ok).chain(lines) {
            let Ok(line) = line else { break };
            let _ = writeln!(file, "{line}");
            let _ = file.flush();
        }
    });
    (child, format!("http://{addr}"), log)
}

/// Waits until the log holds a line containing `needle`, and returns the whole log.
async fn log_with(path: &std::path::Path, needle: &str) -> String {
    for _ in 0..100 {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if text.contains(needle) {
            return text;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "no log line with {needle:?}:\n{}",
        std::fs::read_to_string(path).unwrap_or_default()
    );
}

#[tokio::test]
async fn answers_carry_a_request_id_and_plain_logs_have_no_colour_codes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut child, base, log) = serve(dir.path(), false);
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
    let text = log_with(&log, "request_id=probe-42").await;
    child.kill().expect("stop");
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
    let (mut child, base, log) = serve(dir.path(), true);
    let resp = reqwest::Client::new()
        .get(format!("{base}/api/slots"))
        .header("x-request-id", "probe-json")
        .send()
        .await
        .expect("an answer");
    assert_eq!(resp.status(), 200);
    let text = log_with(&log, "probe-json").await;
    child.kill().expect("stop");
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
