//! Delivery through a real SMTP server process (`scripts/smtp_sink.py`, aiosmtpd from the test
//! venv): every message arrives once with its Message-ID, survives the server going away, is
//! marked failed and resendable after the last attempt, and is given back on shutdown. Messages
//! are read on arrival by independent parsers: `mailparse` here, Python's `email`, `icalendar`
//! and `vobject` in `scripts/check_eml.py` and `scripts/check_calendar_life.py`.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use guidance_app::config::Config;
use guidance_testkit::api::intake;
use guidance_testkit::mail::{
    DESIGNED_HEADERS, action_links, calendar_part, header_names, html_text, ics_lines, ics_values,
};
use guidance_testkit::python;
use guidance_testkit::smtp::{Received, Sink};
use guidance_testkit::wait::poll;
use mailparse::MailHeaderMap;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

mod tls;

fn smtp(url: String, retry_base_ms: u64, max_attempts: u32) -> impl FnOnce(&mut Config) {
    move |c: &mut Config| {
        c.smtp_url = Some(url);
        c.mail_retry_base_ms = retry_base_ms;
        c.mail_max_attempts = max_attempts;
    }
}

/// The outbox emails of all `ids`, as the owner sees them.
async fn all_emails(app: &TestApp, ids: &[String]) -> Vec<Value> {
    let mut all = Vec::new();
    for id in ids {
        all.extend(app.emails_now(id).await);
    }
    all
}

/// Waits (30 s at most) until every email of every booking is sent; panics if one failed.
async fn wait_all_sent(app: &TestApp, ids: &[String]) -> Vec<Value> {
    poll(Duration::from_secs(30), || async {
        let all = all_emails(app, ids).await;
        assert!(
            all.iter().all(|e| e["status"] != "failed"),
            "an email failed: {all:#?}"
        );
        all.iter().all(|e| e["status"] == "sent").then_some(all)
    })
    .await
    .expect("not every email was sent")
}

/// The owner's `action` on booking `id`, which must succeed.
async fn admin_action(app: &TestApp, id: &str, action: &str) {
    let (status, body) = app.act(id, action, None).await;
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
    delivers_each_email_once(&[]).await;
}

/// The same through a server that does not offer PIPELINING: one command at a time.
#[tokio::test]
async fn smtp_delivers_each_email_once_through_a_server_without_pipelining() {
    delivers_each_email_once(&["--no-pipelining"]).await;
}

/// Four emails of a booking's life, each once, over a login, to a sink started with `args`.
async fn delivers_each_email_once(args: &[&str]) {
    let sink = Sink::start(&[&["--auth", "mailer@example.org:s3cret:pw"], args].concat());
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
    python::check_eml(&paths);
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
    let report = python::run_checker(&python::script("check_calendar_life.py"), &[file.path()]);
    assert!(report.contains("10 calendars, 1 UIDs, ok"), "{report}");
    let paths: Vec<&Path> = got.iter().map(|m| m.path.as_path()).collect();
    python::check_eml(&paths);
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
        .put_questions(json!({"questions": [
            {"key": "company", "label": "Company", "kind": "short_text"},
            {"key": "why", "label": "Why", "kind": "long_text"}
        ]}))
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
        for e in app.emails_now(id).await.iter() {
            let message_id = e["message_id"].as_str().unwrap().to_owned();
            let m = got
                .iter()
                .find(|m| m.message_id == message_id)
                .unwrap_or_else(|| panic!("{label}/{field}: {message_id} never arrived"));
            let kind = e["kind"].as_str().unwrap();
            let parsed = mailparse::parse_mail(&m.raw).unwrap();
            // Headers: exactly the designed ones, the subject decoding to one line that
            // holds the (cleaned) name, the To: a single mailbox.
            assert_eq!(
                header_names(&parsed),
                DESIGNED_HEADERS,
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
            let html = html_text(&m.raw);
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
                let begins: Vec<String> = ics_lines(&ics)
                    .into_iter()
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
    python::run_checker(&python::script("check_calendar_life.py"), &[file.path()]);
    let paths: Vec<&Path> = got.iter().map(|m| m.path.as_path()).collect();
    python::check_eml(&paths);
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
    let felt = poll(Duration::from_secs(30), || async {
        let all = all_emails(&app, &ids).await;
        assert!(
            all.iter().all(|e| e["status"] != "failed"),
            "an email was given up on during the outage: {all:#?}"
        );
        let second_half = all_emails(&app, &ids[8..]).await;
        let retried = all
            .iter()
            .any(|e| e["status"] == "queued" && e["attempts"].as_i64().is_some_and(|n| n >= 3));
        let all_tried = second_half
            .iter()
            .all(|e| e["status"] == "queued" && e["last_error"].is_string());
        (retried && all_tried).then_some(())
    })
    .await
    .is_some();
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
    let all_failed = poll(Duration::from_secs(30), || async {
        let emails = app.emails_now(&id).await;
        emails
            .iter()
            .all(|e| e["status"] == "failed")
            .then_some(emails)
    })
    .await;
    let failed = match all_failed {
        Some(failed) => failed,
        None => app.emails_now(&id).await,
    };
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

/// An app sending to a server that takes the data and hangs (over `connections` SMTP
/// connections, if given), with one booking whose emails the worker has taken, each with its
/// attempt counted: the worker is in the middle of sending. Returns the booking's id.
async fn hanging_on_the_server(connections: Option<u32>) -> (Sink, TestApp, String) {
    let sink = Sink::start(&["--stall"]);
    let url = sink.url(None);
    let app = spawn_app_with(|c| {
        c.smtp_url = Some(url.clone());
        c.mail_shutdown_grace_ms = 100;
        if let Some(n) = connections {
            c.smtp_connections = n;
        }
    })
    .await;
    let slot = app.create_slot(80).await;
    let (_, body) = app.book(&intake(&slot)).await;
    let id = body["id"].as_str().unwrap().to_owned();
    let in_hand = poll(Duration::from_secs(30), || async {
        let emails = app.emails_now(&id).await;
        let counted = emails.iter().all(|e| e["attempts"] == 1);
        (counted && app.app.handoff.waiting() == 0).then_some(())
    })
    .await
    .is_some();
    assert!(in_hand, "the worker never started sending");
    (sink, app, id)
}

#[tokio::test]
async fn a_clean_shutdown_gives_back_the_email_in_hand_and_the_next_start_sends_it() {
    let (mut sink, app, id) = hanging_on_the_server(None).await;
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

/// A booking's emails are handed to the worker of the process that queued them (queued already
/// claimed, their first attempt counted); a clean shutdown gives back those the worker had not
/// taken yet, so the next start sends them at once rather than after their lease (5 minutes).
#[tokio::test]
async fn a_clean_shutdown_gives_back_the_emails_handed_over_and_not_taken() {
    let (mut sink, app, first) = hanging_on_the_server(Some(1)).await;
    let second = app.create_slot(90).await;
    let (_, body) = app.book(&intake(&second)).await;
    let second = body["id"].as_str().unwrap().to_owned();
    // Handed over, claimed for this process's worker from the start, and waiting for it.
    assert_eq!(app.app.handoff.waiting(), 2);
    let waiting = app.emails_now(&second).await;
    assert_eq!(waiting.len(), 2);
    assert!(
        waiting
            .iter()
            .all(|e| e["status"] == "queued" && e["attempts"] == 1),
        "{waiting:#?}"
    );
    let dir = app.stop().await;

    sink.restart(&[]);
    let url = sink.url(None);
    let app = spawn_app_in(dir, |c| c.smtp_url = Some(url)).await;
    let ids = [first, second];
    let sent = wait_all_sent(&app, &ids).await;
    // Given back without counting an attempt: each went out on its first counted one.
    assert!(sent.iter().all(|e| e["attempts"] == 1), "{sent:#?}");
    assert_eq!(sink.wait_for(4).await.len(), 4);
}
