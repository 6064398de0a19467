//! Delivery through a real SMTP server process (`scripts/smtp_sink.py`, aiosmtpd from the test
//! venv): every message arrives once with its Message-ID, survives the server going away, is
//! marked failed and resendable after the last attempt, and is given back on shutdown. Messages
//! are read on arrival by independent parsers: `mailparse` here, Python's `email`, `icalendar`
//! and `vobject` in `scripts/check_eml.py` and `scripts/check_calendar_life.py`.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use guidance_app::config::Config;
use mailparse::MailHeaderMap;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

/// The test venv's Python, which has aiosmtpd, icalendar and vobject. Fails loudly when it is
/// missing: these tests need the real server and the independent parsers.
pub fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("GUIDANCE_TEST_PYTHON") {
        return PathBuf::from(p);
    }
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/python");
    assert!(
        venv.exists(),
        "no test Python: run ./scripts/test once (it creates .venv with aiosmtpd, icalendar \
         and vobject) or set GUIDANCE_TEST_PYTHON"
    );
    venv
}

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../scripts")
        .join(name)
}

/// Runs a Python checker; panics with its report when it refuses.
fn run_checker(name: &str, args: &[&Path]) -> String {
    let out = Command::new(python())
        .arg(script(name))
        .args(args)
        .output()
        .expect("python runs");
    let report = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{name} refused:\n{report}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    report
}

/// One message as the SMTP server received it.
#[derive(Debug, Clone)]
pub struct Received {
    pub path: PathBuf,
    pub raw: Vec<u8>,
    pub mail_from: String,
    pub rcpt_tos: Vec<String>,
    pub login: Option<String>,
    /// The TLS version the message came over (`TLSv1.3`), `None` in plain text.
    pub tls: Option<String>,
    pub message_id: String,
}

/// The SMTP server process, which can be stopped and started again on the same port.
pub struct Sink {
    child: Option<Child>,
    pub dir: tempfile::TempDir,
    pub port: u16,
    args: Vec<String>,
}

impl Sink {
    /// Starts the server on a free port; `args` are extra flags (`--auth u:p`, `--stall`).
    pub fn start(args: &[&str]) -> Sink {
        let mut sink = Sink {
            child: None,
            dir: tempfile::tempdir().expect("tempdir"),
            port: 0,
            args: args.iter().map(|s| s.to_string()).collect(),
        };
        sink.run();
        sink
    }

    /// A sink that is not running yet, on a port nothing listens on.
    pub fn not_started(args: &[&str]) -> Sink {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        Sink {
            child: None,
            dir: tempfile::tempdir().expect("tempdir"),
            port,
            args: args.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn run(&mut self) {
        let mut child = Command::new(python())
            .arg(script("smtp_sink.py"))
            .arg("--dir")
            .arg(self.dir.path())
            .arg("--port")
            .arg(self.port.to_string())
            .args(&self.args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the SMTP sink starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("the sink says where it listens");
        let port = line
            .split_whitespace()
            .nth(2)
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("the SMTP sink did not start: {line:?}"));
        self.port = port;
        self.child = Some(child);
    }

    /// `smtp://127.0.0.1:<port>?tls=none`, with credentials when given.
    pub fn url(&self, credentials: Option<&str>) -> String {
        match credentials {
            Some(c) => format!("smtp://{c}@127.0.0.1:{}?tls=none", self.port),
            None => format!("smtp://127.0.0.1:{}?tls=none", self.port),
        }
    }

    /// `<scheme>://<credentials>@localhost:<port>`: a TLS form, named as in the certificate.
    pub fn tls_url(&self, scheme: &str, credentials: &str) -> String {
        format!("{scheme}://{credentials}@localhost:{}", self.port)
    }

    /// Stops the server with SIGTERM (it closes every connection) and waits for it.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            child.wait().expect("the sink stops");
        }
    }

    /// Starts it again on the same port, with `args` instead of the first flags.
    pub fn restart(&mut self, args: &[&str]) {
        self.stop();
        self.args = args.iter().map(|s| s.to_string()).collect();
        self.run();
    }

    /// Every message received so far, in arrival order.
    pub fn messages(&self) -> Vec<Received> {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
            .map(|d| {
                d.filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|x| x == "eml"))
                    .collect()
            })
            .unwrap_or_default();
        paths.sort();
        paths
            .into_iter()
            .map(|path| {
                let raw = std::fs::read(&path).unwrap();
                let meta: Value =
                    serde_json::from_slice(&std::fs::read(path.with_extension("json")).unwrap())
                        .unwrap();
                let message_id = mailparse::parse_headers(&raw)
                    .expect("headers parse")
                    .0
                    .get_first_value("Message-ID")
                    .expect("a Message-ID");
                Received {
                    mail_from: meta["mail_from"].as_str().unwrap().to_owned(),
                    rcpt_tos: meta["rcpt_tos"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|v| v.as_str().unwrap().to_owned())
                        .collect(),
                    login: meta["login"].as_str().map(str::to_owned),
                    tls: meta["tls"].as_str().map(str::to_owned),
                    path,
                    raw,
                    message_id,
                }
            })
            .collect()
    }

    /// Waits until at least `n` messages arrived.
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        for _ in 0..600 {
            let got = self.messages();
            if got.len() >= n {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "the SMTP server got {} of {n} messages",
            self.messages().len()
        );
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn smtp(url: String, retry_base_ms: u64, max_attempts: u32) -> impl FnOnce(&mut Config) {
    move |c: &mut Config| {
        c.smtp_url = Some(url);
        c.mail_retry_base_ms = retry_base_ms;
        c.mail_max_attempts = max_attempts;
    }
}

/// The outbox emails of a booking as the owner sees them.
async fn emails(app: &TestApp, id: &str) -> Vec<Value> {
    app.booking(id).await["emails"].as_array().unwrap().clone()
}

/// Waits until every email of every booking is sent; panics if one failed.
async fn wait_all_sent(app: &TestApp, ids: &[String]) -> Vec<Value> {
    for _ in 0..600 {
        let mut all = Vec::new();
        for id in ids {
            all.extend(emails(app, id).await);
        }
        assert!(
            all.iter().all(|e| e["status"] != "failed"),
            "an email failed: {all:#?}"
        );
        if all.iter().all(|e| e["status"] == "sent") {
            return all;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("not every email was sent");
}

async fn admin_action(app: &TestApp, id: &str, action: &str) {
    let (status, body) = app
        .admin(
            Method::POST,
            &format!("/api/admin/bookings/{id}/{action}"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{action}: {body}");
}

/// Message-ID → kind, from the owner's view of the bookings.
fn kinds_by_message_id(emails: &[Value]) -> BTreeMap<String, String> {
    emails
        .iter()
        .map(|e| {
            (
                e["message_id"].as_str().unwrap().to_owned(),
                e["kind"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn smtp_delivers_each_email_once_with_its_stored_message_id_and_envelope() {
    let sink = Sink::start(&["--auth", "mailer@example.org:s3cret:pw"]);
    let app = spawn_app_with(smtp(
        sink.url(Some("mailer%40example.org:s3cret%3Apw")),
        30_000,
        8,
    ))
    .await;
    let slot = app.create_slot(40).await;
    let (status, body) = app.book(&intake(&slot)).await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_str().unwrap().to_owned();
    admin_action(&app, &id, "accept").await;

    let got = sink.wait_for(4).await;
    let sent = wait_all_sent(&app, std::slice::from_ref(&id)).await;
    let kinds = kinds_by_message_id(&sent);
    assert_eq!(got.len(), 4, "nothing twice");
    let mut arrived: Vec<&str> = got.iter().map(|m| kinds[&m.message_id].as_str()).collect();
    arrived.sort();
    assert_eq!(
        arrived,
        [
            "owner_accepted",
            "owner_new_request",
            "requester_accepted",
            "requester_received"
        ]
    );
    for m in &got {
        let stored = sent
            .iter()
            .find(|e| e["message_id"] == m.message_id.as_str())
            .unwrap();
        assert_eq!(m.mail_from, "bookings@example.org", "envelope sender");
        assert_eq!(m.rcpt_tos, vec![stored["recipient"].as_str().unwrap()]);
        assert_eq!(m.login.as_deref(), Some("mailer@example.org"), "logged in");
        assert_eq!(stored["attempts"], 1);
        assert_eq!(stored["last_error"], Value::Null);
    }
    // The owner's confirmed invitation: the same UID, SEQUENCE up, CONFIRMED.
    let owner_accepted = got
        .iter()
        .find(|m| kinds[&m.message_id] == "owner_accepted")
        .unwrap();
    let (method, ics) = calendar_part(&owner_accepted.raw).unwrap();
    assert_eq!(method, "REQUEST");
    assert_eq!(ics_values(&ics, "STATUS"), vec!["CONFIRMED"]);
    assert_eq!(ics_values(&ics, "SEQUENCE"), vec!["1"]);
    assert_eq!(
        ics_values(&ics, "UID"),
        vec![
            app.booking(&id).await["ics_uid"]
                .as_str()
                .unwrap()
                .to_owned()
        ]
    );
    let paths: Vec<&Path> = got.iter().map(|m| m.path.as_path()).collect();
    run_checker("check_eml.py", &paths);
}

/// Every calendar the service sends over a booking's life, in the order the server received
/// them, for the manifest of `check_calendar_life.py`.
fn manifest(got: &[Received], expect: &BTreeMap<String, Value>) -> tempfile::NamedTempFile {
    let messages: Vec<Value> = got
        .iter()
        .map(|m| {
            let mut entry = json!({
                "path": m.path,
                "recipient": m.rcpt_tos[0],
            });
            if let Some(e) = expect.get(&m.message_id) {
                entry["expect"] = e.clone();
            }
            entry
        })
        .collect();
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        file.path(),
        serde_json::to_vec(&json!({
            "organizer": "bookings@example.org",
            "owner": "owner@example.org",
            "messages": messages,
        }))
        .unwrap(),
    )
    .unwrap();
    file
}

#[tokio::test]
async fn every_calendar_of_a_bookings_life_passes_two_independent_parsers() {
    let sink = Sink::start(&[]);
    let app = spawn_app_with(smtp(sink.url(None), 30_000, 8)).await;
    let first = app.create_slot(60).await;
    let second = app.create_slot(63).await;
    let (status, body) = app.book(&intake(&first)).await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_str().unwrap().to_owned();
    let mut expected = 2;
    sink.wait_for(expected).await;

    // request → accept → ask to reschedule → new time → accept → cancel
    admin_action(&app, &id, "accept").await;
    expected += 2;
    sink.wait_for(expected).await;
    admin_action(&app, &id, "reschedule").await;
    expected += 2;
    let got = sink.wait_for(expected).await;
    let pick = got
        .iter()
        .filter(|m| m.rcpt_tos == ["ada@example.net"])
        .flat_map(|m| action_links(&m.raw, &app.base))
        .next_back()
        .expect("a link to choose a new time");
    let chosen = app
        .client
        .post(&pick)
        .form(&[("slot_id", second.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(chosen.status(), 200);
    expected += 2;
    sink.wait_for(expected).await;
    admin_action(&app, &id, "accept").await;
    expected += 2;
    sink.wait_for(expected).await;
    admin_action(&app, &id, "cancel").await;
    expected += 2;
    let got = sink.wait_for(expected).await;
    let sent = wait_all_sent(&app, std::slice::from_ref(&id)).await;
    assert_eq!(got.len(), expected, "each email once");

    let kinds = kinds_by_message_id(&sent);
    let life: Vec<(String, Option<String>)> = got
        .iter()
        .map(|m| {
            (
                kinds[&m.message_id].clone(),
                calendar_part(&m.raw).map(|(method, _)| method),
            )
        })
        .collect();
    let calendars: Vec<(&str, &str)> = life
        .iter()
        .filter_map(|(k, m)| m.as_deref().map(|m| (k.as_str(), m)))
        .collect();
    assert_eq!(
        calendars,
        [
            ("owner_new_request", "REQUEST"),
            ("requester_accepted", "REQUEST"),
            ("owner_accepted", "REQUEST"),
            ("requester_pick_new_time", "CANCEL"),
            ("owner_calendar_cancel", "CANCEL"),
            ("owner_new_request", "REQUEST"),
            ("requester_accepted", "REQUEST"),
            ("owner_accepted", "REQUEST"),
            ("requester_cancelled", "CANCEL"),
            ("owner_calendar_cancel", "CANCEL"),
        ],
        "{life:#?}"
    );
    let file = manifest(&got, &BTreeMap::new());
    let report = run_checker("check_calendar_life.py", &[file.path()]);
    assert!(report.contains("10 calendars, 1 UIDs, ok"), "{report}");
    let paths: Vec<&Path> = got.iter().map(|m| m.path.as_path()).collect();
    run_checker("check_eml.py", &paths);
}

/// Text that tries to break out of a header, an HTML element or a calendar property.
fn hostile_corpus() -> Vec<(&'static str, String)> {
    vec![
        ("cr", "Eve\rBcc: victim@example.com".into()),
        ("lf", "Eve\nTo: victim@example.com".into()),
        ("crlf", "Eve\r\nSubject: hijacked\r\n\r\nbody".into()),
        ("quotes", "\"Eve\" <evil@example.com>, 'O'Neil'".into()),
        ("separators", "a;b,c\\d:e;;,,\\\\".into()),
        (
            "end_vevent",
            "x\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nATTENDEE:mailto:evil@example.com".into(),
        ),
        (
            "valarm",
            "y\nBEGIN:VALARM\nTRIGGER:-PT5M\nACTION:DISPLAY\nEND:VALARM".into(),
        ),
        (
            "html",
            "<script>alert(1)</script><img src=x onerror=alert(2)> &amp; &lt;b&gt; &#60;".into(),
        ),
        (
            "ics_one_line",
            "Eve\";CN=x:mailto:evil@example.com END:VEVENT BEGIN:VALARM".into(),
        ),
        ("emoji_rtl", "🙂🚀 émoji — مرحبا بالعالم שלום עולם".into()),
        ("ten_kb", "wide ".repeat(2048)),
        ("long_ok", "🙂م".repeat(900)),
    ]
}

/// Control characters other than LF gone, CRLF/CR as LF: what a calendar TEXT value keeps.
fn cleaned_multiline(s: &str) -> String {
    s.replace("\r\n", "\n")
        .replace('\r', "\n")
        .chars()
        .filter(|c| *c == '\n' || !c.is_control())
        .collect()
}

/// One line, white space collapsed: what a name becomes inside a sentence or a summary.
fn cleaned_inline(s: &str) -> String {
    s.split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[tokio::test]
async fn hostile_text_in_every_field_stays_inside_its_place_through_the_real_server() {
    let sink = Sink::start(&[]);
    let app = spawn_app_with(smtp(sink.url(None), 30_000, 8)).await;
    // Answers are held to the owner's questions: ask one that takes long text.
    let (status, _) = app
        .admin(
            reqwest::Method::PUT,
            "/api/admin/questions",
            Some(json!({"questions": [
                {"key": "company", "label": "Company", "kind": "short_text"},
                {"key": "why", "label": "Why", "kind": "long_text"}
            ]})),
        )
        .await;
    assert_eq!(status, 200);
    let mut hours = 100;
    let mut accepted = Vec::new();
    let mut expect: BTreeMap<String, Value> = BTreeMap::new();
    for (label, evil) in hostile_corpus() {
        for field in ["name", "topic", "answer"] {
            hours += 2;
            let slot = app.create_slot(hours).await;
            let mut body = intake(&slot);
            match field {
                "name" => body["name"] = json!(evil),
                "topic" => body["topic"] = json!(evil),
                _ => body["answers"] = json!({ "why": evil }),
            }
            let (status, resp) = app.book(&body).await;
            if status == 422 {
                // Refused with a reason for that field, and nothing booked.
                assert!(
                    resp["error"]["fields"]
                        .as_object()
                        .is_some_and(|f| !f.is_empty()),
                    "{label} in {field}: {resp}"
                );
                assert!(
                    app.open_slot_ids().await.contains(&slot),
                    "{label} in {field}"
                );
                continue;
            }
            assert_eq!(status, 201, "{label} in {field}: {resp}");
            let id = resp["id"].as_str().unwrap().to_owned();
            admin_action(&app, &id, "accept").await;
            admin_action(&app, &id, "cancel").await;
            accepted.push((label, field, id));
        }
    }
    // Names refuse line breaks and 10 kB refuse everywhere; everything else reached the mail.
    for (field, least) in [("name", 5), ("topic", 10), ("answer", 10)] {
        assert!(
            accepted.iter().filter(|(_, f, _)| *f == field).count() >= least,
            "too few {field} cases got through: {accepted:?}"
        );
    }
    let ids: Vec<String> = accepted.iter().map(|(_, _, id)| id.clone()).collect();
    let sent = wait_all_sent(&app, &ids).await;
    let got = sink.wait_for(sent.len()).await;
    assert_eq!(got.len(), sent.len(), "each email once");

    for (label, field, id) in &accepted {
        let booking = app.booking(id).await;
        let name = booking["name"].as_str().unwrap();
        let topic = booking["topic"].as_str().unwrap();
        let summary_name = cleaned_inline(name);
        let description = format!("Topic: {}\n\nPriority: High", cleaned_multiline(topic));
        for e in booking["emails"].as_array().unwrap() {
            let message_id = e["message_id"].as_str().unwrap().to_owned();
            let m = got
                .iter()
                .find(|m| m.message_id == message_id)
                .unwrap_or_else(|| panic!("{label}/{field}: {message_id} never arrived"));
            let kind = e["kind"].as_str().unwrap();
            let parsed = mailparse::parse_mail(&m.raw).unwrap();
            // Headers: exactly the designed ones, the subject decoding to one line that
            // holds the (cleaned) name, the To: a single mailbox.
            let mut names: Vec<String> = parsed
                .headers
                .iter()
                .map(|h| h.get_key().to_ascii_lowercase())
                .collect();
            names.sort();
            assert_eq!(
                names,
                [
                    "content-type",
                    "date",
                    "from",
                    "message-id",
                    "mime-version",
                    "subject",
                    "to"
                ],
                "{label}/{field}/{kind}"
            );
            let subject = parsed.headers.get_first_value("Subject").unwrap();
            assert_eq!(
                subject,
                e["subject"].as_str().unwrap(),
                "{label}/{field}/{kind}"
            );
            assert!(!subject.contains(['\r', '\n']));
            let to = mailparse::addrparse_header(parsed.headers.get_first_header("To").unwrap())
                .unwrap();
            assert_eq!(to.len(), 1, "{label}/{field}/{kind}: one recipient");
            // HTML: no markup from the visitor.
            let html = find_html(&parsed);
            assert!(
                !html.contains("<script") && !html.contains("<img"),
                "{label}/{field}/{kind}"
            );
            if let Some((_, ics)) = calendar_part(&m.raw) {
                let attendees = match kind {
                    "owner_new_request" | "owner_calendar_cancel" => 1,
                    _ => 2,
                };
                let summary = if kind.starts_with("owner") {
                    format!("Session with {summary_name}")
                } else {
                    "Session with Olga Owner".to_owned()
                };
                let mut want = json!({ "attendees": attendees, "DESCRIPTION": description });
                if summary.chars().count() <= 200 {
                    want["SUMMARY"] = json!(summary);
                }
                // Visitor text may spell `BEGIN:VEVENT`, but never at the start of a line.
                let unfolded = ics.replace("\r\n ", "");
                let begins: Vec<&str> = unfolded
                    .split("\r\n")
                    .filter(|l| l.starts_with("BEGIN:"))
                    .collect();
                assert_eq!(
                    begins,
                    ["BEGIN:VCALENDAR", "BEGIN:VEVENT"],
                    "{label}/{field}/{kind}"
                );
                expect.insert(message_id, want);
            }
        }
    }
    let file = manifest(&got, &expect);
    run_checker("check_calendar_life.py", &[file.path()]);
    let paths: Vec<&Path> = got.iter().map(|m| m.path.as_path()).collect();
    run_checker("check_eml.py", &paths);
}

fn find_html(m: &mailparse::ParsedMail<'_>) -> String {
    if m.ctype.mimetype == "text/html" {
        return m.get_body().unwrap();
    }
    m.subparts.iter().map(find_html).collect()
}

/// The SMTP server goes away in the middle of a burst and stays away across several retries,
/// then comes back on the same port: every email arrives, each exactly once, counted by
/// Message-ID at the server (nothing lost, nothing duplicated), none is given up on, and the
/// bookings never notice.
#[tokio::test]
async fn a_burst_of_bookings_survives_the_smtp_server_going_away_and_each_email_arrives_once() {
    let mut sink = Sink::start(&[]);
    let app = spawn_app_with(smtp(sink.url(None), 20, 14)).await;
    let mut slots = Vec::new();
    for i in 0..16 {
        slots.push(app.create_slot(200 + 2 * i).await);
    }
    let book_all = |slots: Vec<String>| {
        let client = app.client.clone();
        let url = app.url("/api/bookings");
        async move {
            let tasks: Vec<_> = slots
                .into_iter()
                .map(|slot| {
                    let client = client.clone();
                    let url = url.clone();
                    tokio::spawn(async move {
                        let resp = client.post(&url).json(&intake(&slot)).send().await.unwrap();
                        let status = resp.status().as_u16();
                        let body: Value = resp.json().await.unwrap();
                        assert_eq!(status, 201, "{body}");
                        body["id"].as_str().unwrap().to_owned()
                    })
                })
                .collect();
            let mut ids = Vec::new();
            for t in tasks {
                ids.push(t.await.unwrap());
            }
            ids
        }
    };
    let mut ids = book_all(slots[..8].to_vec()).await;
    // The server goes away in the middle of the burst.
    sink.stop();
    ids.extend(book_all(slots[8..].to_vec()).await);
    // Stay away for a while: until an email has failed three attempts in a row and waits for
    // its retry, every email of the second half of the burst has failed at least once, and
    // none has been given up on.
    let mut felt = false;
    for _ in 0..600 {
        let mut all = Vec::new();
        for id in &ids {
            all.extend(emails(&app, id).await);
        }
        assert!(
            all.iter().all(|e| e["status"] != "failed"),
            "an email was given up on during the outage: {all:#?}"
        );
        let mut second_half = Vec::new();
        for id in &ids[8..] {
            second_half.extend(emails(&app, id).await);
        }
        let retried = all
            .iter()
            .any(|e| e["status"] == "queued" && e["attempts"].as_i64().is_some_and(|n| n >= 3));
        let all_tried = second_half
            .iter()
            .all(|e| e["status"] == "queued" && e["last_error"].is_string());
        if retried && all_tried {
            felt = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        felt,
        "the outage was not felt: no email failed three attempts, or one was never tried"
    );
    assert!(
        sink.messages().len() <= 16,
        "nothing more arrived while away"
    );
    sink.restart(&[]);

    let sent = wait_all_sent(&app, &ids).await;
    assert_eq!(sent.len(), 32, "two emails per booking");
    let got = sink.wait_for(32).await;
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for m in &got {
        *counts.entry(m.message_id.as_str()).or_default() += 1;
    }
    for e in &sent {
        let id = e["message_id"].as_str().unwrap();
        assert_eq!(
            counts.get(id),
            Some(&1),
            "{id} arrived {:?} times",
            counts.get(id)
        );
    }
    assert_eq!(got.len(), 32, "nothing else, nothing twice");
    // The bookings did not notice.
    for id in &ids {
        assert_eq!(app.booking(id).await["status"], "pending");
    }
    assert!(app.open_slot_ids().await.iter().all(|s| !slots.contains(s)));
}

#[tokio::test]
async fn after_the_last_attempt_an_email_is_failed_visible_and_resendable() {
    let mut sink = Sink::not_started(&[]);
    let app = spawn_app_with(smtp(sink.url(None), 20, 3)).await;
    let slot = app.create_slot(70).await;
    let (status, body) = app.book(&intake(&slot)).await;
    assert_eq!(status, 201);
    let id = body["id"].as_str().unwrap().to_owned();

    // Nobody listens: three attempts each, then failed, with the reason shown to the owner.
    let mut failed = Vec::new();
    for _ in 0..600 {
        failed = emails(&app, &id).await;
        if failed.iter().all(|e| e["status"] == "failed") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(failed.len(), 2);
    for e in &failed {
        assert_eq!(e["status"], "failed", "{e}");
        assert_eq!(e["attempts"], 3);
        let error = e["last_error"].as_str().unwrap();
        assert!(error.contains("SMTP"), "{error}");
    }
    assert_eq!(
        app.booking(&id).await["status"],
        "pending",
        "the booking stands"
    );

    // Bad resend requests change nothing.
    let path = format!("/api/admin/bookings/{id}/resend");
    let (status, _) = app
        .admin(
            Method::POST,
            &path,
            Some(json!({"email_id": uuid::Uuid::new_v4().to_string()})),
        )
        .await;
    assert_eq!(status, 404);
    let (status, body) = app
        .admin(Method::POST, &path, Some(json!({"email_id": "nope"})))
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["fields"]["email_id"]["code"], "unknown_value");
    let (status, _) = app.admin(Method::POST, &path, Some(json!({}))).await;
    assert_eq!(status, 422);
    let other = app.create_slot(73).await;
    let (_, other_booking) = app.book(&intake(&other)).await;
    let (status, _) = app
        .admin(
            Method::POST,
            &format!(
                "/api/admin/bookings/{}/resend",
                other_booking["id"].as_str().unwrap()
            ),
            Some(json!({"email_id": failed[0]["id"]})),
        )
        .await;
    assert_eq!(status, 404, "an email of another booking");

    // The server is back; the owner resends both.
    sink.restart(&[]);
    for e in &failed {
        let (status, body) = app
            .admin(Method::POST, &path, Some(json!({"email_id": e["id"]})))
            .await;
        assert_eq!(status, 202, "{body}");
        assert_eq!(body["message_id"], e["message_id"]);
        assert_eq!(body["status"], "queued");
    }
    let sent = wait_all_sent(&app, std::slice::from_ref(&id)).await;
    let got = sink.messages();
    for e in &failed {
        let arrived = got
            .iter()
            .filter(|m| m.message_id == e["message_id"].as_str().unwrap())
            .count();
        assert_eq!(arrived, 1, "the same Message-ID, once");
    }
    assert!(sent.iter().all(|e| e["attempts"] == 1));
}

#[tokio::test]
async fn a_clean_shutdown_gives_back_the_email_in_hand_and_the_next_start_sends_it() {
    let mut sink = Sink::start(&["--stall"]);
    let url = sink.url(None);
    let app = spawn_app_with(|c| {
        c.smtp_url = Some(url.clone());
        c.mail_shutdown_grace_ms = 100;
    })
    .await;
    let slot = app.create_slot(80).await;
    let (_, body) = app.book(&intake(&slot)).await;
    let id = body["id"].as_str().unwrap().to_owned();
    // The worker is in the middle of sending (the server took the data and hangs).
    let mut in_hand = false;
    for _ in 0..600 {
        if emails(&app, &id).await.iter().any(|e| e["attempts"] == 1) {
            in_hand = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(in_hand, "the worker never started sending");
    let dir = app.stop().await;

    sink.restart(&[]);
    assert!(
        sink.messages().is_empty(),
        "the hanging server kept nothing"
    );
    let url = sink.url(None);
    let app = spawn_app_in(dir, |c| c.smtp_url = Some(url)).await;
    let sent = wait_all_sent(&app, std::slice::from_ref(&id)).await;
    // The released attempt did not count: each email went out on its first counted attempt.
    assert!(sent.iter().all(|e| e["attempts"] == 1), "{sent:#?}");
    let got = sink.wait_for(2).await;
    assert_eq!(got.len(), 2);
}

/// A throwaway certificate authority and a server certificate it signed for `localhost` and
/// 127.0.0.1, as PEM files: `cert` and `key` for the SMTP server, `ca` for the service.
struct TestPki {
    dir: tempfile::TempDir,
}

impl TestPki {
    fn new(name: &str) -> TestPki {
        use rcgen::{
            BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose,
            IsCa, KeyPair, KeyUsagePurpose,
        };
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, format!("{name} test CA"));
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
        let mut params =
            CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &ca).unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ca.pem"), ca.pem()).unwrap();
        std::fs::write(dir.path().join("cert.pem"), cert.pem()).unwrap();
        std::fs::write(dir.path().join("key.pem"), key.serialize_pem()).unwrap();
        TestPki { dir }
    }

    fn path(&self, file: &str) -> String {
        self.dir.path().join(file).to_str().unwrap().to_owned()
    }

    fn ca(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// The sink flags for `mode` (`starttls`, `implicit`) with this server certificate.
    fn sink_args(&self, mode: &str) -> Vec<String> {
        [
            "--tls",
            mode,
            "--cert",
            &self.path("cert.pem"),
            "--key",
            &self.path("key.pem"),
        ]
        .map(str::to_owned)
        .to_vec()
    }
}

fn strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

fn smtp_with_ca(url: String, ca: PathBuf, max_attempts: u32) -> impl FnOnce(&mut Config) {
    move |c: &mut Config| {
        c.smtp_url = Some(url);
        c.smtp_ca_file = Some(ca);
        c.mail_retry_base_ms = 20;
        c.mail_max_attempts = max_attempts;
    }
}

/// A booking and its acceptance through a TLS sink in `mode`, reached with `scheme`.
async fn booking_over_tls(mode: &str, scheme: &str) {
    let pki = TestPki::new("private");
    let mut args = pki.sink_args(mode);
    args.extend([
        "--auth".to_owned(),
        "mailer@example.org:s3cret:pw".to_owned(),
    ]);
    let sink = Sink::start(&strs(&args));
    let url = sink.tls_url(scheme, "mailer%40example.org:s3cret%3Apw");
    let app = spawn_app_with(smtp_with_ca(url, pki.ca(), 8)).await;
    let slot = app.create_slot(40).await;
    let (status, body) = app.book(&intake(&slot)).await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_str().unwrap().to_owned();
    admin_action(&app, &id, "accept").await;

    let sent = wait_all_sent(&app, std::slice::from_ref(&id)).await;
    let got = sink.wait_for(4).await;
    assert_eq!(sent.len(), 4);
    assert_eq!(got.len(), 4, "{mode}: nothing twice");
    for e in &sent {
        let m = got
            .iter()
            .find(|m| m.message_id == e["message_id"].as_str().unwrap())
            .unwrap_or_else(|| panic!("{mode}: {} never arrived", e["message_id"]));
        assert!(
            m.tls.as_deref().is_some_and(|v| v.starts_with("TLSv1.")),
            "{mode}: the message came over {:?}",
            m.tls
        );
        assert_eq!(m.login.as_deref(), Some("mailer@example.org"), "{mode}");
        assert_eq!(m.rcpt_tos, vec![e["recipient"].as_str().unwrap()]);
        assert_eq!(e["attempts"], 1, "{mode}: {e}");
    }
}

#[tokio::test]
async fn smtp_url_delivers_over_required_starttls_with_login_trusting_a_private_ca() {
    booking_over_tls("starttls", "smtp").await;
}

#[tokio::test]
async fn smtps_url_delivers_over_implicit_tls_with_login_trusting_a_private_ca() {
    booking_over_tls("implicit", "smtps").await;
}

/// Waits until every email of the booking failed its last attempt, and returns them.
async fn wait_all_failed(app: &TestApp, id: &str) -> Vec<Value> {
    for _ in 0..600 {
        let all = emails(app, id).await;
        assert!(all.iter().all(|e| e["status"] != "sent"), "{all:#?}");
        if all.iter().all(|e| e["status"] == "failed") {
            return all;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the emails never failed");
}

#[tokio::test]
async fn smtp_url_never_falls_back_to_plain_text_when_the_server_offers_no_starttls() {
    let pki = TestPki::new("private");
    // A plain server that would take the login and the message in clear text.
    let sink = Sink::start(&["--auth", "mailer:pw"]);
    let url = sink.tls_url("smtp", "mailer:pw");
    let app = spawn_app_with(smtp_with_ca(url, pki.ca(), 2)).await;
    let slot = app.create_slot(50).await;
    let (status, body) = app.book(&intake(&slot)).await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_str().unwrap().to_owned();
    let failed = wait_all_failed(&app, &id).await;
    assert_eq!(failed.len(), 2);
    for e in &failed {
        let error = e["last_error"].as_str().unwrap();
        assert!(error.contains("STARTTLS"), "{error}");
        assert_eq!(e["attempts"], 2);
    }
    assert!(sink.messages().is_empty(), "nothing went out in plain text");
    assert_eq!(app.booking(&id).await["status"], "pending");
}

#[tokio::test]
async fn a_certificate_from_an_untrusted_authority_is_refused_in_both_tls_forms() {
    let server_pki = TestPki::new("unknown");
    let trusted = TestPki::new("trusted");
    for (mode, scheme) in [("starttls", "smtp"), ("implicit", "smtps")] {
        let sink = Sink::start(&strs(&server_pki.sink_args(mode)));
        // Trusting another private CA (plus the public roots) is not trusting this one.
        let url = sink.tls_url(scheme, "mailer:pw");
        let app = spawn_app_with(smtp_with_ca(url, trusted.ca(), 2)).await;
        let slot = app.create_slot(60).await;
        let (status, body) = app.book(&intake(&slot)).await;
        assert_eq!(status, 201, "{body}");
        let id = body["id"].as_str().unwrap().to_owned();
        for e in wait_all_failed(&app, &id).await {
            let error = e["last_error"].as_str().unwrap();
            assert!(
                error.contains("invalid peer certificate: UnknownIssuer"),
                "{mode}: {error}"
            );
        }
        assert!(sink.messages().is_empty(), "{mode}: nothing was sent");
    }
}

#[test]
fn a_wrong_smtp_ca_file_stops_the_start_with_its_reason() {
    let dir = tempfile::tempdir().unwrap();
    let not_pem = dir.path().join("not.pem");
    std::fs::write(&not_pem, "hello").unwrap();
    let broken = dir.path().join("broken.pem");
    std::fs::write(
        &broken,
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let pki = TestPki::new("private");
    let tls_url = Some("smtp://u:p@localhost:587".to_owned());
    for (url, ca, want) in [
        (
            tls_url.clone(),
            dir.path().join("missing.pem"),
            "cannot read",
        ),
        (tls_url.clone(), not_pem, "no PEM certificate"),
        (tls_url.clone(), broken, "broken.pem"),
        (
            Some("smtp://localhost:25?tls=none".to_owned()),
            pki.ca(),
            "uses no TLS",
        ),
        (None, pki.ca(), "uses no TLS"),
    ] {
        let mut config = test_config(dir.path());
        config.smtp_url = url;
        config.smtp_ca_file = Some(ca);
        let error = config.check(None).unwrap_err().to_string();
        assert!(
            error.contains("GUIDANCE_SMTP_CA_FILE") && error.contains(want),
            "{want}: {error}"
        );
    }
    let mut config = test_config(dir.path());
    config.smtp_url = tls_url;
    config.smtp_ca_file = Some(pki.ca());
    let settings = config.check(None).unwrap();
    assert_eq!(settings.smtp_ca.unwrap().path(), pki.ca());
}
