//! The hostile requests of `hostile.rs`: for every recorded route, bodies no endpoint may take
//! and wrong values for each of its fields and path parameters; for every GET, hostile queries.

use guidance_testkit::api::{intake, with};
use guidance_testkit::time::{hours_ahead, iso};
use guidance_web::routes::recorder::RecordedRoute;
use serde_json::{Value, json};

use super::shapes::*;
use super::{Live, fill};

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
        ("POST", "/p/{token}") => {
            // A proposed time's link: none is live here, so every token is refused.
            let mut p = unreadable_form(m, &path);
            let mut bad = bad_ids.clone();
            bad.push(l.tokens[0].clone());
            bad.push(format!("{}A", l.tokens[0]));
            p.extend(bad_paths(m, &path, &l.tokens[0], &bad));
            p
        }
        ("POST", "/my/{id}/{sig}/take") => {
            let mut p = unreadable_form(m, &path);
            p.extend(with_bad(&l.booking));
            for id in ["", "nope", "../x"] {
                p.push(form_probe(
                    m,
                    &path,
                    &format!("proposal_id={id}"),
                    format!("proposal_id={id}"),
                ));
            }
            p
        }
        ("POST", "/my/{id}/{sig}/cancel" | "/my/{id}/{sig}/pick" | "/my/{id}/{sig}/delete") => {
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
        ("POST", "/admin/calendars") => {
            // The base address is refused, so no probe can add a source.
            let mut p = unreadable_form(m, &path);
            p.extend(wrong_fields(
                m,
                &path,
                &[
                    ("name", "Work"),
                    ("url", "javascript:alert(1)"),
                    ("username", ""),
                    ("password", ""),
                ],
                vec![
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
                    ("username", strings(&["olga\r\nBcc: v@x.org"])),
                ],
            ));
            p
        }
        ("POST", "/admin/calendars/{id}/refresh" | "/admin/calendars/{id}/delete") => {
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
        // Rotating takes no input: there is nothing hostile to send it.
        ("POST", "/admin/feed/rotate") => Vec::new(),
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
        ("POST", "/admin/erase") => {
            let mut p = unreadable_form(m, &path);
            for email in ["", "nope", "a\r\nb@c.d", &"x".repeat(300)] {
                for confirm in ["", "&confirm=yes"] {
                    p.push(form_probe(
                        m,
                        &path,
                        &format!("email={email:.40}{confirm}"),
                        format!("email={}{confirm}", urlencode(email)),
                    ));
                }
            }
            p
        }
        ("POST", "/api/admin/erase") => {
            let mut p = unreadable_json(m, &path);
            for email in [
                json!(""),
                json!("nope"),
                json!(5),
                json!(null),
                json!(["a@b.c"]),
            ] {
                p.push(json_probe(
                    m,
                    &path,
                    &format!("email={email}"),
                    json!({ "email": email }).to_string(),
                ));
            }
            p
        }
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
