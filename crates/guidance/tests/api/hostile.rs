//! Hostile input on every route the routers record: malformed and mistyped JSON, bodies over the
//! limit, bytes that are not UTF-8, the wrong content type, absurd dates and zones, injection
//! text. Each answer is a clear 4xx (a JSON error code on the APIs, a page elsewhere), never a
//! 5xx or a hang, and nothing is stored or sent: every table is dumped before and after.
//! Text that is legitimately accepted is stored as typed and escaped in every page and email.

use std::collections::BTreeMap;

use guidance_testkit::api::{ADMIN_TOKEN, intake};
use guidance_testkit::mail::{
    action_links, calendar_part, html_text, ics_lines, ics_values, token_of,
};
use guidance_testkit::python;
use guidance_web::routes::{self, recorder::RecordedRoute};
use reqwest::Method;
use serde_json::{Value, json};
use sqlx::Connection;

use crate::admin_ui::{Owner, login, spawn_admin_app, spawn_admin_app_with};
use crate::helpers::*;

mod probes;
mod shapes;

use probes::{hostile_queries, probes_for};
use shapes::Probe;

/// A read-only connection to the app's SQLite database.
async fn read_only(app: &TestApp) -> sqlx::SqliteConnection {
    let url = format!(
        "sqlite://{}?mode=ro",
        app.dir.path().join("guidance.db").display()
    );
    sqlx::SqliteConnection::connect(&url)
        .await
        .expect("the database opens read-only")
}

/// Every row of every table, each as its columns quoted by SQLite. A session's last use and idle
/// expiry are left out: using a session moves them, which is what a session is for.
pub async fn dump(app: &TestApp) -> BTreeMap<String, Vec<String>> {
    let mut conn = read_only(app).await;
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' \
         AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_sqlx%' ORDER BY name",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert!(tables.len() >= 10, "{tables:?}");
    let mut out = BTreeMap::new();
    for table in tables {
        let columns: Vec<String> =
            sqlx::query_scalar(&format!("SELECT name FROM pragma_table_info('{table}')"))
                .fetch_all(&mut conn)
                .await
                .unwrap();
        let expr = columns
            .iter()
            .filter(|c| !matches!(c.as_str(), "last_seen_at" | "idle_expires_at"))
            .map(|c| format!("quote(\"{c}\")"))
            .collect::<Vec<_>>()
            .join(" || '|' || ");
        let rows: Vec<String> =
            sqlx::query_scalar(&format!("SELECT {expr} FROM \"{table}\" ORDER BY 1"))
                .fetch_all(&mut conn)
                .await
                .unwrap();
        out.insert(table, rows);
    }
    out
}

/// Fails, naming the table and the rows that differ, when two dumps differ.
pub fn assert_same(
    before: &BTreeMap<String, Vec<String>>,
    after: &BTreeMap<String, Vec<String>>,
    after_what: &str,
) {
    for (table, rows) in before {
        let now = &after[table];
        let gone: Vec<_> = rows.iter().filter(|r| !now.contains(r)).collect();
        let new: Vec<_> = now.iter().filter(|r| !rows.contains(r)).collect();
        assert!(
            gone.is_empty() && new.is_empty(),
            "{table} changed after {after_what}: gone {gone:.300?}, new {new:.300?}"
        );
    }
}

/// Waits until the outbox worker has sent everything queued, so that the tables stand still.
pub async fn settle(app: &TestApp) {
    let mut conn = read_only(app).await;
    for _ in 0..200 {
        let queued: i64 = sqlx::query_scalar(
            // Reminders scheduled for later wait for the clock, not for the worker.
            "SELECT count(*) FROM guidance_email_outbox \
             WHERE status = 'queued' AND send_before IS NULL",
        )
        .fetch_one(&mut conn)
        .await
        .unwrap();
        if queued == 0 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the outbox never emptied");
}

/// The live objects every path parameter is filled from.
pub struct Live {
    pub owner: Owner,
    pub open_slot: String,
    pub booking: String,
    pub email: String,
    pub tokens: Vec<String>,
    /// `/my/{id}/{sig}` of the booking.
    pub visitor: String,
}

/// A signed-in owner, an open slot, a pending booking with its emails sent and its links.
pub async fn live(app: &TestApp) -> Live {
    let owner = login(app).await;
    let open_slot = app.create_slot(24).await;
    let booked = app.create_slot(30).await;
    let (status, b) = app.book(&intake(&booked)).await;
    assert_eq!(status, 201, "{b}");
    let booking = b["id"].as_str().unwrap().to_owned();
    let visitor = b["status_url"]
        .as_str()
        .unwrap()
        .strip_prefix(&app.base)
        .unwrap()
        .to_owned();
    let mail = app.mail.wait_for("owner_new_request", 1).await.remove(0);
    let tokens = action_links(&mail, &app.base)
        .iter()
        .map(|l| token_of(l))
        .collect::<Vec<_>>();
    assert_eq!(tokens.len(), 3, "accept, decline, reschedule");
    let email = app.booking(&booking).await["emails"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    settle(app).await;
    Live {
        owner,
        open_slot,
        booking,
        email,
        tokens,
        visitor,
    }
}

/// A route's path with every parameter filled with a live value.
pub fn fill(route: &RecordedRoute, l: &Live) -> String {
    let id = if route.path.contains("/slots/") {
        &l.open_slot
    } else {
        &l.booking
    };
    if route.path.starts_with("/my/") {
        return route.path.replace("/my/{id}/{sig}", &l.visitor);
    }
    route
        .path
        .replace("{id}", id)
        .replace("{email_id}", &l.email)
        // An email's id names no webhook message.
        .replace("{delivery_id}", &l.email)
        .replace("{action}", "accept")
        .replace("{token}", &l.tokens[0])
        .replace("{key}", "company")
}

/// Who may use a route: everybody, the owner API's bearer, or the admin UI's session.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Door {
    Open,
    Bearer,
    Session,
}

pub fn door(route: &RecordedRoute) -> Door {
    if guidance_web::routes::admin::route_table().contains(route) {
        Door::Bearer
    } else if guidance_web::routes::admin_ui::route_table().contains(route) {
        Door::Session
    } else {
        Door::Open
    }
}

async fn send(app: &TestApp, l: &Live, route_door: Door, probe: &Probe) -> (u16, String, String) {
    let mut req = app
        .client
        .request(probe.method.clone(), app.url(&probe.path))
        .timeout(std::time::Duration::from_secs(10));
    match route_door {
        Door::Bearer => req = req.bearer_auth(ADMIN_TOKEN),
        Door::Session => {
            req = req
                .header("cookie", &l.owner.cookie)
                .header("x-csrf-token", &l.owner.csrf)
        }
        Door::Open => {}
    }
    if let Some(ct) = probe.content_type {
        req = req.header("content-type", ct);
    }
    if !probe.body.is_empty() {
        req = req.body(probe.body.clone());
    }
    let resp = req.send().await.unwrap_or_else(|e| {
        panic!(
            "{} {:.80} ({}): no answer: {e}",
            probe.method, probe.path, probe.what
        )
    });
    let status = resp.status().as_u16();
    let ct = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, ct, resp.text().await.unwrap_or_default())
}

/// A 4xx that says what went wrong: a JSON error code on the APIs, a page elsewhere.
fn assert_clear_refusal(probe: &Probe, status: u16, ct: &str, body: &str) {
    let label = format!(
        "{} {:.80} ({}) → {status}",
        probe.method, probe.path, probe.what
    );
    assert!((400..500).contains(&status), "{label}: {body:.300}");
    if probe.path.starts_with("/api/") || probe.path.starts_with("/functions/") {
        let v: Value =
            serde_json::from_str(body).unwrap_or_else(|_| panic!("{label}: {body:.200}"));
        let code = v["error"]["code"].as_str().unwrap_or_default();
        assert!(!code.is_empty(), "{label}: {body:.200}");
        assert!(
            !v["error"]["message"]
                .as_str()
                .unwrap_or_default()
                .is_empty(),
            "{label}"
        );
    } else {
        assert!(ct.starts_with("text/html"), "{label}: {ct} {body:.200}");
        assert!(body.contains("</html>"), "{label}: a whole page");
    }
    assert!(
        !body.contains("<script>alert") && !body.contains("<script>\""),
        "{label}: reflected unescaped"
    );
}

#[tokio::test]
async fn hostile_input_on_every_route_is_refused_clearly_and_changes_nothing() {
    let app = spawn_admin_app().await;
    let l = live(&app).await;
    let before = dump(&app).await;
    let mails = app.mail.paths();
    let mut sent = 0;
    let table = routes::route_table();
    assert!(table.len() >= 50, "{}", table.len());
    for route in &table {
        let d = door(route);
        for probe in probes_for(route, &l) {
            let (status, ct, body) = send(&app, &l, d, &probe).await;
            assert_clear_refusal(&probe, status, &ct, &body);
            sent += 1;
        }
        // Every route, read with hostile queries (and a GET to a route of another method).
        let path = fill(route, &l);
        for q in hostile_queries() {
            let probe = Probe {
                method: Method::GET,
                path: format!("{path}{q}"),
                content_type: None,
                body: Vec::new(),
                what: "hostile query".into(),
            };
            let (status, ct, body) = send(&app, &l, d, &probe).await;
            assert!(status < 500, "GET {path}{q:.60} → {status}: {body:.300}");
            if status >= 400 {
                assert_clear_refusal(&probe, status, &ct, &body);
            }
            assert!(
                !body.contains("<script>alert"),
                "GET {path}{q:.60} reflects"
            );
            sent += 1;
        }
    }
    assert!(sent > 1000, "{sent} hostile requests");
    assert_same(&before, &dump(&app).await, "hostile requests");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(app.mail.paths(), mails, "no email was written");
}

#[tokio::test]
async fn a_get_on_every_route_changes_nothing_with_a_live_booking_and_its_links() {
    let app = spawn_admin_app().await;
    let l = live(&app).await;
    let before = dump(&app).await;
    for route in routes::route_table() {
        let path = fill(&route, &l);
        for d in [Door::Open, door(&route)] {
            let probe = Probe {
                method: Method::GET,
                path: path.clone(),
                content_type: None,
                body: Vec::new(),
                what: "plain GET".into(),
            };
            let (status, _, body) = send(&app, &l, d, &probe).await;
            assert!(status < 500, "GET {path} → {status}: {body:.300}");
        }
    }
    settle(&app).await;
    assert_same(&before, &dump(&app).await, "GETs");
    // The links still work: the GETs used none of them.
    let (status, body) = app
        .post_json("/api/actions", &json!({"token": l.tokens[0]}))
        .await;
    assert_eq!(status, 200, "{body}");
}

/// Text that may legitimately hold quotes, markup, line breaks and calendar syntax.
const INJECTIONS: &[&str] = &[
    "Quote \"double\" and 'single'",
    "<script>alert(1)</script> & <b>bold</b>",
    "line one\r\nATTENDEE:mailto:x@evil.example",
    "BEGIN:VEVENT\r\nSUMMARY:forged\r\nEND:VEVENT",
    "semi;colon, comma\\ backslash",
    "=?utf-8?q?encoded?= header",
    "Bcc: victim@example.com\nSubject: forged",
];

#[tokio::test]
async fn injection_text_in_every_intake_field_is_refused_or_kept_verbatim_and_escaped() {
    let app = spawn_app().await;
    let mut accepted: Vec<(String, String, String)> = Vec::new();
    let mut status_urls = Vec::new();
    let mut slot = app.create_slot(24).await;
    let mut hours = 24;
    for field in ["name", "email", "topic", "answers"] {
        for text in INJECTIONS {
            let mut body = intake(&slot);
            if field == "answers" {
                body["answers"] = json!({"company": text});
            } else {
                body[field] = json!(text);
            }
            settle(&app).await;
            let before = dump(&app).await;
            let (status, resp) = app.book(&body).await;
            if status == 201 {
                let id = resp["id"].as_str().unwrap().to_owned();
                let stored = app.booking(&id).await;
                let kept = if field == "answers" {
                    stored["answers"]["company"].clone()
                } else {
                    stored[field].clone()
                };
                let expected = if field == "topic" {
                    text.replace("\r\n", "\n")
                } else {
                    text.trim().to_owned()
                };
                assert_eq!(kept, json!(expected), "{field}={text:?} is stored as typed");
                accepted.push((field.to_owned(), text.to_string(), id));
                status_urls.push(resp["status_url"].as_str().unwrap().to_owned());
                hours += 2;
                slot = app.create_slot(hours).await;
            } else {
                assert_eq!(status, 422, "{field}={text:?}: {resp}");
                assert_eq!(resp["error"]["code"], "invalid");
                let named = if field == "answers" {
                    "answers.company"
                } else {
                    field
                };
                assert!(
                    resp["error"]["fields"].get(named).is_some(),
                    "{field}={text:?}: {resp}"
                );
                assert_same(&before, &dump(&app).await, &format!("{field}={text:?}"));
            }
        }
    }
    // Quotes, markup and calendar syntax are fine in a topic and an answer.
    let fields: Vec<&str> = accepted.iter().map(|(f, _, _)| f.as_str()).collect();
    assert!(fields.iter().filter(|f| **f == "topic").count() == INJECTIONS.len());
    assert!(
        fields.contains(&"answers") && fields.contains(&"name"),
        "{fields:?}"
    );

    // Each accepted text is escaped in the owner's email (headers, HTML, ICS) and the pages.
    let mails = app.mail.wait_for("owner_new_request", accepted.len()).await;
    app.mail
        .wait_for("requester_received", accepted.len())
        .await;
    for raw in &mails {
        let mail = mailparse::parse_mail(raw).unwrap();
        for h in &mail.headers {
            let v = h.get_value();
            assert!(
                !v.contains('\n') && !v.contains('\r'),
                "a header holds a line break: {}: {v:?}",
                h.get_key()
            );
        }
        assert!(mail.headers.iter().all(|h| h.get_key() != "Bcc"));
        let (method, ics) = calendar_part(raw).expect("an invitation");
        assert_eq!(method, "REQUEST");
        let lines = ics_lines(&ics);
        assert_eq!(
            lines.iter().filter(|l| *l == "BEGIN:VEVENT").count(),
            1,
            "{ics}"
        );
        for attendee in ics_values(&ics, "ATTENDEE") {
            assert!(
                ["mailto:owner@example.org", "mailto:ada@example.net"].contains(&attendee.as_str()),
                "{ics}"
            );
        }
        // Calendar syntax in a text stays inside its property, escaped.
        assert!(
            lines
                .iter()
                .all(|line| !line.starts_with("ATTENDEE:mailto:x@evil")
                    && !line.starts_with("SUMMARY:forged")),
            "{ics}"
        );
        assert_eq!(ics_values(&ics, "SUMMARY").len(), 1, "{ics}");
        let html = html_text(raw);
        assert!(!html.contains("<script>alert"), "the HTML part escapes");
        assert!(!html.contains("<b>bold</b>"), "the HTML part escapes");
    }
    python::check_eml(&app.mail.paths());
    // The owner's link pages and the visitor's pages show the text, escaped.
    let mut escaped_seen = 0;
    let mut pages: Vec<String> = status_urls.clone();
    for raw in &mails {
        pages.push(action_links(raw, &app.base).remove(0));
    }
    for url in pages {
        let page = app.get(&url).await;
        assert_eq!(page.status(), 200, "{url}");
        let html = page.text().await.unwrap();
        assert!(!html.contains("<script>alert"), "{url} escapes");
        assert!(!html.contains("<b>bold</b>"), "{url} escapes");
        if html.contains("&lt;script&gt;alert(1)") || html.contains("&#60;script&#62;alert(1)") {
            escaped_seen += 1;
        }
    }
    assert!(escaped_seen >= 2, "the markup is shown as text");
}

#[tokio::test]
async fn the_booking_page_may_be_framed_by_the_embedding_origins_and_nothing_else() {
    let app = spawn_admin_app_with(|c| {
        c.embed_origins = Some("https://www.example.org, https://help.example.net".into())
    })
    .await;
    let l = live(&app).await;
    let book = app.get("/book").await;
    let csp = book.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("frame-ancestors 'self' https://www.example.org https://help.example.net;"),
        "{csp}"
    );
    assert!(
        csp.contains("script-src 'self';") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert!(book.headers().get("x-frame-options").is_none());

    let private = [
        format!("/a/{}", l.tokens[0]),
        l.visitor.clone(),
        format!("{}/cancel", l.visitor),
        "/admin".to_owned(),
        format!("/admin/bookings/{}", l.booking),
        "/admin/settings".to_owned(),
    ];
    for path in &private {
        let resp = app
            .client
            .get(app.url(path))
            .header("cookie", &l.owner.cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{path}");
        let h = resp.headers();
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{path}");
        assert_eq!(h["cache-control"], "no-store", "{path}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
    }
    // The JSON API and the other pages are not framed either.
    for path in [
        "/admin/login",
        "/api/slots",
        "/examples/support/",
        "/nowhere",
    ] {
        let resp = app.get(path).await;
        assert_eq!(resp.headers()["x-frame-options"], "DENY", "{path}");
    }
    // Without configured origins, only the service itself may frame the page.
    let plain = spawn_app().await;
    let resp = plain.get("/book").await;
    let csp = resp.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("frame-ancestors 'self';"), "{csp}");
}
