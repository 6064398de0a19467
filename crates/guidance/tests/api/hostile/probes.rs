//! The hostile requests of `hostile.rs`: for every recorded route, bodies no endpoint may take
//! and wrong values for each of its fields and path parameters; for every GET, hostile queries.

use guidance_testkit::api::{intake, with};
use guidance_testkit::time::{hours_ahead, iso};
use guidance_web::routes::recorder::RecordedRoute;
use reqwest::Method;
use serde_json::{Value, json};

use super::{Live, fill};

/// One hostile request.
pub struct Probe {
    pub method: Method,
    pub path: String,
    pub content_type: Option<&'static str>,
    pub body: Vec<u8>,
    /// What makes it hostile, for the messages of failed assertions.
    pub what: String,
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

/// The URL-encoded form `valid` with `field` (where it is one of its fields) set to `value`.
fn form_with(valid: &[(&str, &str)], field: &str, value: &str) -> String {
    let pairs: Vec<(&str, &str)> = valid
        .iter()
        .map(|&(k, v)| (k, if k == field { value } else { v }))
        .collect();
    serde_urlencoded::to_string(&pairs).unwrap()
}

/// A form probe for each wrong value of each field: the form `valid` with that field changed.
fn wrong_fields(
    m: &Method,
    path: &str,
    valid: &[(&str, &str)],
    wrong: Vec<(&str, Vec<String>)>,
) -> Vec<Probe> {
    let mut probes = Vec::new();
    for (field, values) in wrong {
        for v in values {
            probes.push(form_probe(
                m,
                path,
                &format!("{field}={v:.40}"),
                form_with(valid, field, &v),
            ));
        }
    }
    probes
}

/// `probes` (of wrong path parameters) each sent with the valid form `body`.
fn with_form(probes: Vec<Probe>, body: &str) -> impl Iterator<Item = Probe> {
    let body = body.as_bytes().to_vec();
    probes.into_iter().map(move |probe| Probe {
        content_type: Some("application/x-www-form-urlencoded"),
        body: body.clone(),
        ..probe
    })
}

fn strings(values: &[&str]) -> Vec<String> {
    values.iter().map(|s| (*s).to_owned()).collect()
}

/// The hostile requests for one route. Every recorded route must be named here, so that a new
/// route cannot go untested.
pub fn probes_for(route: &RecordedRoute, l: &Live) -> Vec<Probe> {
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
        ("POST", "/api/admin/calendars") => {
            // The base address is refused, so no probe can add a source.
            let mut p = unreadable_json(m, &path);
            let base = json!({"name": "Work", "url": "javascript:alert(1)"});
            p.extend(mistyped(
                m,
                &path,
                &base,
                &[
                    ("name", strings(&["", "Work\r\nBcc: v@x.org"])),
                    (
                        "url",
                        vec![
                            String::new(),
                            "file:///etc/passwd".into(),
                            "ftp://cal.example/a.ics".into(),
                            "https://".into(),
                            format!("https://cal.example/{}", "a".repeat(3000)),
                        ],
                    ),
                ],
            ));
            p
        }
        ("DELETE", "/api/admin/calendars/{id}") | ("POST", "/api/admin/calendars/{id}/refresh") => {
            // Live ids name no source here: every one is refused.
            let mut p = with_bad(&l.booking);
            p.extend(bad_paths(
                m,
                &path,
                &l.booking,
                std::slice::from_ref(&l.open_slot),
            ));
            p
        }
        ("POST", "/api/admin/webhooks") => {
            // The base address is refused, so no probe can add an endpoint.
            let mut p = unreadable_json(m, &path);
            let base = json!({"url": "javascript:alert(1)", "events": ["booking.accepted"]});
            let urls = ["", "file:///etc/passwd", "ftp://10.0.0.1/in", "https://"];
            let mut urls = strings(&urls);
            urls.push(format!("https://h.example/{}", "a".repeat(3000)));
            p.extend(mistyped(m, &path, &base, &[("url", urls)]));
            p
        }
        ("DELETE", "/api/admin/webhooks/{id}")
        | ("POST", "/api/admin/webhooks/{id}/deliveries/{delivery_id}/send") => {
            // Live ids name no endpoint here: every one is refused.
            let mut p = with_bad(&l.booking);
            p.extend(bad_paths(
                m,
                &path,
                &l.booking,
                std::slice::from_ref(&l.open_slot),
            ));
            p
        }
        // Rotating takes no input: there is nothing hostile to send it.
        ("POST", "/api/admin/feed/rotate") => Vec::new(),
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
            let valid = [
                ("slot_id", l.open_slot.as_str()),
                ("name", "Ada"),
                ("email", "ada@example.net"),
                ("topic", "A topic"),
                ("priority", "normal"),
                ("time_zone", "Europe/Berlin"),
                ("answers.company", "Acme"),
            ];
            p.extend(wrong_fields(
                m,
                &path,
                &valid,
                vec![
                    ("time_zone", zones.clone()),
                    ("priority", strings(&["critical", "<script>"])),
                    (
                        "slot_id",
                        strings(&["", "../../etc/passwd", &"1".repeat(5000)]),
                    ),
                    ("name", strings(&["Eve\r\nBcc: v@x.org", ""])),
                    ("email", strings(&["a@b.c\r\nBcc: x@y.z", "nope"])),
                    ("answers.company", vec!["c".repeat(5000)]),
                ],
            ));
            p.push(form_probe(
                m,
                &path,
                "an answer to no question",
                format!("{}&answers.nope=x", form_with(&valid, "", "")),
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
            p.extend(wrong_fields(
                m,
                &path,
                &[
                    ("date", "2030-01-08"),
                    ("start", "09:00"),
                    ("end", "10:00"),
                    ("meeting_details", ""),
                ],
                vec![
                    ("date", dates.clone()),
                    ("start", strings(&["25:00", "", "<script>", "9:99"])),
                    ("meeting_details", vec!["d".repeat(5000)]),
                ],
            ));
            if route.path.contains("{id}") {
                p.extend(with_form(
                    with_bad(&l.open_slot),
                    "date=2030-01-08&start=09:00&end=10:00",
                ));
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
            p.extend(wrong_fields(
                m,
                &path,
                &[
                    ("weekdays", "1"),
                    ("window_start", "09:00"),
                    ("window_end", "12:00"),
                    ("session_minutes", "45"),
                    ("gap_minutes", "15"),
                    ("first_day", "2030-01-07"),
                    ("last_day", "2030-01-11"),
                ],
                vec![
                    ("first_day", dates.clone()),
                    ("weekdays", strings(&["0", "8", "-1", "300", "x"])),
                    ("session_minutes", strings(&["0", "-5", "1e12", "x"])),
                    ("window_start", strings(&["25:00", ""])),
                ],
            ));
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
            p.extend(with_form(with_bad(&l.booking), "action=accept"));
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
            p.extend(wrong_fields(
                m,
                &path,
                &[
                    ("booking_open", "on"),
                    ("owner_name", "Olga Owner"),
                    ("owner_email", "owner@example.org"),
                    ("time_zone", "Europe/Berlin"),
                    ("language", "en"),
                    ("min_notice_hours", "0"),
                    ("horizon_days", "60"),
                    ("answer_within_hours", "48"),
                    ("answer_reminder_hours", "12"),
                    ("reminder_offsets_minutes", "1440, 60"),
                ],
                vec![
                    ("time_zone", zones.clone()),
                    ("language", strings(&["xx", ""])),
                    ("owner_email", strings(&["o@x.org\r\nBcc: v@x.org", "nope"])),
                    ("owner_name", strings(&["Olga\r\nBcc: v@x.org", ""])),
                    ("min_notice_hours", strings(&["-1", "1e99", "x"])),
                    ("horizon_days", strings(&["0", "100000", "x"])),
                    ("answer_within_hours", strings(&["0", "100000", "x"])),
                    (
                        "reminder_offsets_minutes",
                        strings(&["0", "1, 2, 3, 4, 5, 6", "soon"]),
                    ),
                ],
            ));
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
                p.extend(with_form(with_bad("company"), "label=L&kind=short_text"));
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
            p.extend(with_form(with_bad("company"), "direction=up"));
            p
        }
        ("POST", "/admin/settings/webhooks") => {
            let mut p = unreadable_form(m, &path);
            for body in [
                "url=javascript%3Aalert(1)&events=booking.accepted",
                "url=https%3A%2F%2Fh.example%2F&events=%3Cscript%3E",
                "url=ftp%3A%2F%2F10.0.0.1%2F&events=booking.accepted%0D%0ABcc",
                "url=&events=",
            ] {
                p.push(form_probe(m, &path, body, body));
            }
            p
        }
        (
            "POST",
            "/admin/settings/webhooks/{id}/delete"
            | "/admin/settings/webhooks/{id}/deliveries/{delivery_id}/send",
        ) => {
            let mut p = unreadable_form(m, &path);
            p.extend(with_form(with_bad(&l.booking), ""));
            p
        }
        ("POST", "/admin/logout") => unreadable_form(m, &path),
        (method, path) => panic!("no hostile cases for {method} {path}: add them to hostile.rs"),
    }
}

/// Query strings a GET may meet, each of which must leave everything as it was.
pub fn hostile_queries() -> Vec<String> {
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
