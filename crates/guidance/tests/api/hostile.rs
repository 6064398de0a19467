//! Hostile input on every route the routers record: malformed and mistyped JSON, bodies over the
//! limit, bytes that are not UTF-8, the wrong content type, absurd dates and zones, injection
//! text. Each answer is a clear 4xx (a JSON error code on the APIs, a page elsewhere), never a
//! 5xx or a hang, and nothing is stored or sent: every table is dumped before and after.
//! Text that is legitimately accepted is stored as typed and escaped in every page and email.

use std::collections::BTreeMap;

use guidance_web::routes::{self, recorder::RecordedRoute};
use reqwest::Method;
use serde_json::{Value, json};
use sqlx::Connection;

use crate::admin_ui::{Owner, login, spawn_admin_app, spawn_admin_app_with};
use crate::helpers::*;

/// Every row of every table, each as its columns quoted by SQLite. A session's last use and idle
/// expiry are left out: using a session moves them, which is what a session is for.
pub async fn dump(app: &TestApp) -> BTreeMap<String, Vec<String>> {
    let url = format!(
        "sqlite://{}?mode=ro",
        app.dir.path().join("guidance.db").display()
    );
    let mut conn = sqlx::SqliteConnection::connect(&url)
        .await
        .expect("the database opens read-only");
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
    let url = format!(
        "sqlite://{}?mode=ro",
        app.dir.path().join("guidance.db").display()
    );
    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    for _ in 0..200 {
        let queued: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM guidance_email_outbox WHERE status = 'queued'",
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
    let mail = app.wait_for_mail("owner_new_request", 1).await.remove(0);
    let tokens = action_links(&mail, &app.base)
        .iter()
        .map(|l| l.rsplit('/').next().unwrap().to_owned())
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

/// One hostile request.
struct Probe {
    method: Method,
    path: String,
    content_type: Option<&'static str>,
    body: Vec<u8>,
    what: String,
}

fn json_probe(method: &Method, path: &str, what: &str, body: impl Into<Vec<u8>>) -> Probe {
    Probe {
        method: method.clone(),
        path: path.to_owned(),
        content_type: Some("application/json"),
        body: body.into(),
        what: what.to_owned(),
    }
}

fn form_probe(method: &Method, path: &str, what: &str, body: impl Into<Vec<u8>>) -> Probe {
    Probe {
        method: method.clone(),
        path: path.to_owned(),
        content_type: Some("application/x-www-form-urlencoded"),
        body: body.into(),
        what: what.to_owned(),
    }
}

fn urlencode(s: &str) -> String {
    serde_urlencoded::to_string([("v", s)]).unwrap()[2..].to_owned()
}

/// Dates no calendar has or no slot can have.
const ABSURD_DATES: &[&str] = &[
    "0000-01-01",
    "0000-01-01T00:00:00Z",
    "+99999-01-01T00:00:00Z",
    "2026-02-30",
    "2026-02-30T10:00:00Z",
    "",
    "tomorrow",
    "2026-13-01T25:61:00Z",
];

/// Zones that are none.
fn absurd_zones() -> Vec<String> {
    vec![
        "Mars/Olympus".into(),
        "../../etc/passwd".into(),
        "Europe/Berlin\r\nX: y".into(),
        "Z".repeat(10 * 1024),
    ]
}

/// Bodies no JSON endpoint may take, whatever it reads.
fn unreadable_json(method: &Method, path: &str) -> Vec<Probe> {
    let deep = format!("{}{}", "[".repeat(500), "]".repeat(500));
    let mut probes = vec![
        json_probe(method, path, "malformed", "{nope"),
        json_probe(method, path, "truncated", "{\"name\": \"Ada"),
        json_probe(method, path, "array for object", "[1, 2]"),
        json_probe(method, path, "null", "null"),
        json_probe(method, path, "number", "42"),
        json_probe(method, path, "string", "\"text\""),
        json_probe(method, path, "nested 500 deep", deep),
        json_probe(
            method,
            path,
            "invalid UTF-8",
            b"{\"name\": \"\xff\xfe\", \"topic\": \"\xc3\"}".to_vec(),
        ),
        json_probe(
            method,
            path,
            "over the limit",
            format!("{{\"topic\": \"{}\"}}", "x".repeat(70 * 1024)),
        ),
    ];
    probes.push(Probe {
        content_type: Some("text/plain"),
        ..json_probe(
            method,
            path,
            "JSON sent as text/plain",
            "{\"token\": \"x\"}",
        )
    });
    probes.push(form_probe(
        method,
        path,
        "a form to a JSON API",
        "token=x&name=y",
    ));
    probes.push(Probe {
        content_type: None,
        ..json_probe(method, path, "no content type", "{\"token\": \"x\"}")
    });
    probes
}

/// Bodies no form may take.
fn unreadable_form(method: &Method, path: &str) -> Vec<Probe> {
    vec![
        form_probe(
            method,
            path,
            "invalid UTF-8 escapes",
            "name=%FF%FE&topic=%C3",
        ),
        form_probe(method, path, "raw invalid UTF-8", b"name=\xff\xfe".to_vec()),
        form_probe(
            method,
            path,
            "over the limit",
            format!("topic={}", "x".repeat(70 * 1024)),
        ),
        json_probe(method, path, "JSON to a form", "{\"name\": \"x\"}"),
        Probe {
            content_type: Some("multipart/form-data; boundary=x"),
            ..form_probe(method, path, "multipart", "--x--")
        },
        Probe {
            content_type: Some("text/plain"),
            ..form_probe(method, path, "text/plain", "name=x")
        },
    ]
}

/// `body` with `field` set to `value`.
fn with(mut body: Value, field: &str, value: Value) -> Value {
    body[field] = value;
    body
}

/// Every wrong JSON type for each field of `base`, and each absurd text in the named fields.
fn mistyped(
    method: &Method,
    path: &str,
    base: &Value,
    absurd: &[(&str, Vec<String>)],
) -> Vec<Probe> {
    let mut probes = Vec::new();
    let fields: Vec<String> = base.as_object().unwrap().keys().cloned().collect();
    for field in &fields {
        for wrong in [
            json!(42),
            json!(true),
            json!(["a"]),
            json!({"nested": {"deeper": ["x"]}}),
        ] {
            // A list of weekdays takes an array; an object the answers and the questions.
            if std::mem::discriminant(&base[field]) == std::mem::discriminant(&wrong) {
                continue;
            }
            probes.push(json_probe(
                method,
                path,
                &format!("{field}={wrong}"),
                with(base.clone(), field, wrong).to_string(),
            ));
        }
    }
    for (field, values) in absurd {
        for v in values {
            probes.push(json_probe(
                method,
                path,
                &format!("{field}={:.40}", v),
                with(base.clone(), field, json!(v)).to_string(),
            ));
        }
    }
    probes
}

/// The route's path with `from` replaced by each wrong value, no body.
fn bad_paths(m: &Method, path: &str, from: &str, bad: &[String]) -> Vec<Probe> {
    bad.iter()
        .map(|b| Probe {
            method: m.clone(),
            path: path.replacen(from, b, 1),
            content_type: None,
            body: Vec::new(),
            what: format!("path {b:.30}"),
        })
        .collect()
}

fn strings(values: &[&str]) -> Vec<String> {
    values.iter().map(|s| (*s).to_owned()).collect()
}

/// The hostile requests for one route. Every recorded route must be named here, so that a new
/// route cannot go untested.
fn probes_for(route: &RecordedRoute, l: &Live) -> Vec<Probe> {
    let m = &route.method;
    let path = fill(route, l);
    let dates = strings(ABSURD_DATES);
    let zones = absurd_zones();
    let far = iso(hours_ahead(24 * 40));
    let far_end = iso(hours_ahead(24 * 40 + 1));
    let bad_ids = vec![
        "not-a-uuid".to_owned(),
        "%FF%FE".to_owned(),
        "..%2F..%2Fetc%2Fpasswd".to_owned(),
        "%3Cscript%3E".to_owned(),
        "7".repeat(10 * 1024),
    ];
    let with_bad = |from: &str| bad_paths(m, &path, from, &bad_ids);
    match (m.as_str(), route.path) {
        ("GET", _) => Vec::new(),
        ("POST", "/api/bookings" | "/functions/v1/create-guidance-booking") => {
            let mut p = unreadable_json(m, &path);
            let mut big = serde_json::Map::new();
            for i in 0..3000 {
                big.insert(format!("q{i}"), json!("answer"));
            }
            let mut base = intake(&l.open_slot);
            p.extend(mistyped(
                m,
                &path,
                &base,
                &[
                    ("time_zone", zones.clone()),
                    (
                        "priority",
                        strings(&["critical", "<script>", "HIGH\r\n", "0"]),
                    ),
                    (
                        "locale",
                        strings(&["../../x", "e\r\nn", "<b>", &"e".repeat(5000)]),
                    ),
                    ("slot_id", strings(&["../../etc/passwd", "0", "%FF"])),
                    (
                        "email",
                        strings(&["a@b.c\r\nBcc: x@y.z", "\"a\"@b.c", "<a@b.c>"]),
                    ),
                ],
            ));
            base["answers"] = Value::Object(big);
            p.push(json_probe(m, &path, "3000 answers", base.to_string()));
            p
        }
        ("POST", "/api/actions" | "/functions/v1/update-guidance-booking") => {
            let mut p = unreadable_json(m, &path);
            let base = json!({"token": l.tokens[0], "action": "accept", "slot_id": l.open_slot});
            p.extend(mistyped(
                m,
                &path,
                &base,
                &[("action", strings(&["explode", "ACCEPT\r\n", "<script>"]))],
            ));
            p
        }
        ("POST", "/api/admin/slots") => {
            let mut p = unreadable_json(m, &path);
            let base = json!({"starts_at": far, "ends_at": far_end, "meeting_details": "Room 1"});
            p.extend(mistyped(
                m,
                &path,
                &base,
                &[("starts_at", dates.clone()), ("ends_at", dates.clone())],
            ));
            p
        }
        ("POST", "/api/admin/slots/generate") => {
            let mut p = unreadable_json(m, &path);
            let base = json!({"weekdays": [1, 2], "window_start": "09:00", "window_end": "12:00",
                "session_minutes": 45, "gap_minutes": 15, "first_day": "2030-01-07", "last_day": "2030-01-11"});
            p.extend(mistyped(
                m,
                &path,
                &base,
                &[
                    ("first_day", dates.clone()),
                    ("last_day", strings(&["2026-02-30", "+99999-01-01", ""])),
                    ("window_start", strings(&["25:00", "", "9", "<script>"])),
                ],
            ));
            for weekdays in [json!([0]), json!([300]), json!([-1]), json!([8])] {
                p.push(json_probe(
                    m,
                    &path,
                    &format!("weekdays={weekdays}"),
                    with(base.clone(), "weekdays", weekdays).to_string(),
                ));
            }
            for minutes in [json!(0), json!(-5), json!(1e12), json!(100000)] {
                p.push(json_probe(
                    m,
                    &path,
                    &format!("session_minutes={minutes}"),
                    with(base.clone(), "session_minutes", minutes).to_string(),
                ));
            }
            p
        }
        ("PATCH", "/api/admin/slots/{id}") => {
            let mut p = unreadable_json(m, &path);
            p.push(json_probe(m, &path, "nothing to change", "{}"));
            let base = json!({"starts_at": far, "ends_at": far_end, "meeting_details": "x", "status": "open"});
            p.extend(mistyped(
                m,
                &path,
                &base,
                &[
                    ("starts_at", dates.clone()),
                    ("status", strings(&["booked", "<script>", ""])),
                ],
            ));
            p.extend(with_bad(&l.open_slot));
            p
        }
        ("DELETE", "/api/admin/slots/{id}") => with_bad(&l.open_slot),
        ("POST", "/api/admin/bookings/{id}/resend") => {
            let mut p = unreadable_json(m, &path);
            p.push(json_probe(m, &path, "no email id", "{}"));
            p.extend(mistyped(
                m,
                &path,
                &json!({"email_id": l.email}),
                &[("email_id", strings(&["x", "", "../1"]))],
            ));
            p.extend(with_bad(&l.booking));
            p
        }
        ("POST", "/api/admin/bookings/{id}/{action}") => {
            // An empty body or `{}` is a valid request here: only unreadable ones are sent.
            let mut p = unreadable_json(m, &path);
            p.extend(mistyped(
                m,
                &path,
                &json!({"message": "Fine"}),
                &[("message", vec!["m".repeat(2001)])],
            ));
            for action in ["explode", "pick_slot", "expire", "%FF", "ACCEPT"] {
                p.push(Probe {
                    path: path.replace("/accept", &format!("/{action}")),
                    ..json_probe(m, "", &format!("action {action}"), "")
                });
            }
            p.extend(with_bad(&l.booking));
            p
        }
        ("PUT", "/api/admin/questions") => {
            let mut p = unreadable_json(m, &path);
            let base = json!({"questions": [{"key": "company", "label": "Company", "kind": "short_text"}]});
            p.extend(mistyped(m, &path, &base, &[]));
            for q in [
                json!({"key": "x\r\ny", "label": "L", "kind": "short_text"}),
                json!({"key": "k", "label": "L\r\nBcc: x", "kind": "short_text"}),
                json!({"key": "k", "label": "L", "kind": "<script>"}),
                json!({"key": "k", "label": "L", "kind": "choice", "options": []}),
                json!({"key": "k".repeat(500), "label": "L", "kind": "short_text"}),
                json!({"key": "k", "label": "L", "kind": "short_text", "required": "yes"}),
            ] {
                p.push(json_probe(
                    m,
                    &path,
                    &format!("question {q:.60}"),
                    json!({"questions": [q]}).to_string(),
                ));
            }
            p
        }
        ("PUT", "/api/admin/settings") => {
            let mut p = unreadable_json(m, &path);
            for (field, values) in [
                ("time_zone", zones.clone()),
                ("language", strings(&["xx", "../en", ""])),
                (
                    "owner_email",
                    strings(&["o@x.org\r\nBcc: v@x.org", "nope", "<o@x.org>"]),
                ),
                ("owner_name", strings(&["Olga\r\nBcc: v@x.org", ""])),
                (
                    "min_notice_hours",
                    strings(&["-1", "1e99", "x", "99999999999"]),
                ),
                ("horizon_days", strings(&["0", "-3", "100000", "NaN"])),
                ("unknown_setting", strings(&["1"])),
            ] {
                let values = values.into_iter().map(Value::from);
                for v in values.chain([json!(["a"]), json!({"a": 1}), Value::Null]) {
                    let mut body = serde_json::Map::new();
                    body.insert(field.to_owned(), v.clone());
                    p.push(json_probe(
                        m,
                        &path,
                        &format!("{field}={v:.40}"),
                        Value::Object(body).to_string(),
                    ));
                }
            }
            p
        }
        ("POST", "/book") => {
            let mut p = unreadable_form(m, &path);
            let base = |field: &str, value: &str| {
                let mut pairs = vec![
                    ("slot_id", l.open_slot.clone()),
                    ("name", "Ada".to_owned()),
                    ("email", "ada@example.net".to_owned()),
                    ("topic", "A topic".to_owned()),
                    ("priority", "normal".to_owned()),
                    ("time_zone", "Europe/Berlin".to_owned()),
                    ("answers.company", "Acme".to_owned()),
                ];
                for pair in pairs.iter_mut().filter(|(k, _)| *k == field) {
                    pair.1 = value.to_owned();
                }
                serde_urlencoded::to_string(&pairs).unwrap()
            };
            for (field, values) in [
                ("time_zone", zones.clone()),
                ("priority", strings(&["critical", "<script>"])),
                (
                    "slot_id",
                    strings(&["", "../../etc/passwd", &"1".repeat(5000)]),
                ),
                ("name", strings(&["Eve\r\nBcc: v@x.org", ""])),
                ("email", strings(&["a@b.c\r\nBcc: x@y.z", "nope"])),
                ("answers.company", vec!["c".repeat(5000)]),
            ] {
                for v in values {
                    p.push(form_probe(
                        m,
                        &path,
                        &format!("{field}={v:.40}"),
                        base(field, &v),
                    ));
                }
            }
            p.push(form_probe(
                m,
                &path,
                "an answer to no question",
                format!("{}&answers.nope=x", base("", "")),
            ));
            p
        }
        ("POST", "/a/{token}") => {
            let mut p = unreadable_form(m, &path);
            let mut bad = bad_ids.clone();
            bad.push(l.tokens[0][..47].to_owned());
            bad.push(format!("{}A", l.tokens[0]));
            p.extend(bad_paths(m, &path, &l.tokens[0], &bad));
            p
        }
        ("POST", "/my/{id}/{sig}/cancel" | "/my/{id}/{sig}/pick") => {
            // The cancel form has no fields: only unreadable bodies and wrong links are sent.
            let mut p = unreadable_form(m, &path);
            p.extend(with_bad(&l.booking));
            let sig = l.visitor.rsplit('/').next().unwrap();
            p.extend(with_bad(sig));
            if route.path.ends_with("/pick") {
                for slot in ["", "nope", "../x"] {
                    p.push(form_probe(
                        m,
                        &path,
                        &format!("slot_id={slot}"),
                        format!("slot_id={}", urlencode(slot)),
                    ));
                }
            }
            p
        }
        ("POST", "/admin/login") => {
            let mut p = unreadable_form(m, &path);
            p.push(form_probe(
                m,
                &path,
                "huge password",
                format!("password={}", "p".repeat(5000)),
            ));
            p
        }
        ("POST", "/admin/setup/{token}") => {
            let mut p = unreadable_form(m, &path);
            p.push(form_probe(
                m,
                &path,
                "unknown link",
                "password=long+enough+password&repeat=long+enough+password",
            ));
            p
        }
        ("POST", "/admin/slots" | "/admin/slots/{id}") => {
            let mut p = unreadable_form(m, &path);
            for (field, values) in [
                ("date", dates.clone()),
                ("start", strings(&["25:00", "", "<script>", "9:99"])),
                ("meeting_details", vec!["d".repeat(5000)]),
            ] {
                for v in values {
                    let mut pairs = vec![
                        ("date", "2030-01-08".to_owned()),
                        ("start", "09:00".to_owned()),
                        ("end", "10:00".to_owned()),
                        ("meeting_details", String::new()),
                    ];
                    for pair in pairs.iter_mut().filter(|(k, _)| *k == field) {
                        pair.1 = v.clone();
                    }
                    p.push(form_probe(
                        m,
                        &path,
                        &format!("{field}={v:.40}"),
                        serde_urlencoded::to_string(&pairs).unwrap(),
                    ));
                }
            }
            if route.path.contains("{id}") {
                p.extend(with_bad(&l.open_slot).into_iter().map(|probe| Probe {
                    content_type: Some("application/x-www-form-urlencoded"),
                    body: b"date=2030-01-08&start=09:00&end=10:00".to_vec(),
                    ..probe
                }));
            }
            p
        }
        ("POST", "/admin/slots/bulk") => {
            let mut p = unreadable_form(m, &path);
            for body in [
                "action=explode".to_owned(),
                format!("action=delete&ids={}&ids=not-a-uuid", l.open_slot),
                format!("action=%3Cscript%3E&ids={}", l.open_slot),
            ] {
                p.push(form_probe(m, &path, &body, body.clone()));
            }
            p
        }
        ("POST", "/admin/slots/generate") => {
            let mut p = unreadable_form(m, &path);
            for (field, values) in [
                ("first_day", dates.clone()),
                ("weekdays", strings(&["0", "8", "-1", "300", "x"])),
                ("session_minutes", strings(&["0", "-5", "1e12", "x"])),
                ("window_start", strings(&["25:00", ""])),
            ] {
                for v in values {
                    let mut pairs = vec![
                        ("weekdays", "1".to_owned()),
                        ("window_start", "09:00".to_owned()),
                        ("window_end", "12:00".to_owned()),
                        ("session_minutes", "45".to_owned()),
                        ("gap_minutes", "15".to_owned()),
                        ("first_day", "2030-01-07".to_owned()),
                        ("last_day", "2030-01-11".to_owned()),
                    ];
                    for pair in pairs.iter_mut().filter(|(k, _)| *k == field) {
                        pair.1 = v.clone();
                    }
                    p.push(form_probe(
                        m,
                        &path,
                        &format!("{field}={v:.40}"),
                        serde_urlencoded::to_string(&pairs).unwrap(),
                    ));
                }
            }
            p
        }
        ("POST", "/admin/bookings/{id}/act") => {
            let mut p = unreadable_form(m, &path);
            for body in [
                "action=explode".to_owned(),
                "action=".to_owned(),
                "action=pick_slot".to_owned(),
                format!("action=accept&message={}", "m".repeat(2001)),
            ] {
                p.push(form_probe(m, &path, &format!("{body:.40}"), body.clone()));
            }
            p.extend(with_bad(&l.booking).into_iter().map(|probe| Probe {
                content_type: Some("application/x-www-form-urlencoded"),
                body: b"action=accept".to_vec(),
                ..probe
            }));
            p
        }
        (
            "POST",
            "/admin/bookings/{id}/emails/{email_id}/resend"
            | "/admin/bookings/{id}/slot-unavailable",
        ) => {
            // With live ids these do what they are for; only unreadable bodies and wrong ids.
            let mut p = unreadable_form(m, &path);
            p.extend(with_bad(&l.booking));
            if route.path.contains("{email_id}") {
                p.extend(with_bad(&l.email));
            }
            p
        }
        ("POST", "/admin/settings") => {
            let mut p = unreadable_form(m, &path);
            for (field, values) in [
                ("time_zone", zones.clone()),
                ("language", strings(&["xx", ""])),
                ("owner_email", strings(&["o@x.org\r\nBcc: v@x.org", "nope"])),
                ("owner_name", strings(&["Olga\r\nBcc: v@x.org", ""])),
                ("min_notice_hours", strings(&["-1", "1e99", "x"])),
                ("horizon_days", strings(&["0", "100000", "x"])),
            ] {
                for v in values {
                    let mut pairs = vec![
                        ("booking_open", "on".to_owned()),
                        ("owner_name", "Olga Owner".to_owned()),
                        ("owner_email", "owner@example.org".to_owned()),
                        ("time_zone", "Europe/Berlin".to_owned()),
                        ("language", "en".to_owned()),
                        ("min_notice_hours", "0".to_owned()),
                        ("horizon_days", "60".to_owned()),
                    ];
                    for pair in pairs.iter_mut().filter(|(k, _)| *k == field) {
                        pair.1 = v.clone();
                    }
                    p.push(form_probe(
                        m,
                        &path,
                        &format!("{field}={v:.40}"),
                        serde_urlencoded::to_string(&pairs).unwrap(),
                    ));
                }
            }
            p
        }
        ("POST", "/admin/settings/questions" | "/admin/settings/questions/{key}") => {
            let mut p = unreadable_form(m, &path);
            for body in [
                "label=L&kind=%3Cscript%3E",
                "label=&kind=short_text",
                "label=L%0D%0ABcc%3A+x&kind=short_text",
                "label=L&kind=choice&options=",
            ] {
                p.push(form_probe(m, &path, body, body));
            }
            if route.path.contains("{key}") {
                p.extend(with_bad("company").into_iter().map(|probe| Probe {
                    content_type: Some("application/x-www-form-urlencoded"),
                    body: b"label=L&kind=short_text".to_vec(),
                    ..probe
                }));
            }
            p
        }
        (
            "POST",
            "/admin/settings/questions/{key}/delete" | "/admin/settings/questions/{key}/move",
        ) => {
            let mut p = unreadable_form(m, &path);
            if route.path.ends_with("/move") {
                p.push(form_probe(m, &path, "direction", "direction=sideways"));
            }
            p.extend(with_bad("company").into_iter().map(|probe| Probe {
                content_type: Some("application/x-www-form-urlencoded"),
                body: b"direction=up".to_vec(),
                ..probe
            }));
            p
        }
        ("POST", "/admin/logout") => unreadable_form(m, &path),
        (method, path) => panic!("no hostile cases for {method} {path}: add them to hostile.rs"),
    }
}

/// Query strings a GET may meet, each of which must leave everything as it was.
fn hostile_queries() -> Vec<String> {
    vec![
        "?from=%FF%FE".into(),
        "?%FF=1".into(),
        "?from=0000-01-01T00:00:00Z&to=%2B99999-01-01T00:00:00Z".into(),
        "?from=2026-02-30T10:00:00Z".into(),
        "?tz=..%2F..%2Fetc%2Fpasswd&lang=%3Cscript%3Ealert(1)%3C%2Fscript%3E".into(),
        format!("?tz={}", "Z".repeat(10 * 1024)),
        "?status=%3Cscript%3E&q=%0D%0ABEGIN%3AVEVENT".into(),
        "?week=2026-02-30&view=%00".into(),
        "?done=slot_created&n=99999999999&r=-1".into(),
        format!("?q={}", "q".repeat(10 * 1024)),
    ]
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
    let mails = app.mail_paths();
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
    assert_eq!(app.mail_paths(), mails, "no email was written");
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
    let mails = app.wait_for_mail("owner_new_request", accepted.len()).await;
    app.wait_for_mail("requester_received", accepted.len())
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
        let lines: Vec<String> = ics
            .replace("\r\n ", "")
            .split("\r\n")
            .map(str::to_owned)
            .collect();
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
        let html = html_part(raw);
        assert!(!html.contains("<script>alert"), "the HTML part escapes");
        assert!(!html.contains("<b>bold</b>"), "the HTML part escapes");
    }
    python_check_eml(&app.mail_paths());
    // The owner's link pages and the visitor's pages show the text, escaped.
    let mut escaped_seen = 0;
    let mut pages: Vec<String> = status_urls.clone();
    for raw in &mails {
        pages.push(action_links(raw, &app.base).remove(0));
    }
    for url in pages {
        let page = app.client.get(&url).send().await.unwrap();
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

/// The decoded text/html part of a message.
fn html_part(raw: &[u8]) -> String {
    fn find(m: &mailparse::ParsedMail) -> Option<String> {
        if m.ctype.mimetype == "text/html" {
            return m.get_body().ok();
        }
        m.subparts.iter().find_map(find)
    }
    find(&mailparse::parse_mail(raw).unwrap()).expect("an HTML part")
}

#[tokio::test]
async fn the_booking_page_may_be_framed_by_the_embedding_origins_and_nothing_else() {
    let app = spawn_admin_app_with(|c| {
        c.embed_origins = Some("https://www.example.org, https://help.example.net".into())
    })
    .await;
    let l = live(&app).await;
    let book = app.client.get(app.url("/book")).send().await.unwrap();
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
        let resp = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(resp.headers()["x-frame-options"], "DENY", "{path}");
    }
    // Without configured origins, only the service itself may frame the page.
    let plain = spawn_app().await;
    let resp = plain.client.get(plain.url("/book")).send().await.unwrap();
    let csp = resp.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("frame-ancestors 'self';"), "{csp}");
}
