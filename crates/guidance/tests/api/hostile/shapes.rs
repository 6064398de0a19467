//! The shapes of hostile requests that `probes.rs` sends: one probe, bodies no endpoint may
//! take, wrong JSON types, wrong path parameters and wrong form fields.

use guidance_testkit::api::with;
use reqwest::Method;
use serde_json::{Value, json};
/// One hostile request.
pub struct Probe {
    pub method: Method,
    pub path: String,
    pub content_type: Option<&'static str>,
    pub body: Vec<u8>,
    /// What makes it hostile, for the messages of failed assertions.
    pub what: String,
}

pub(super) fn json_probe(
    method: &Method,
    path: &str,
    what: &str,
    body: impl Into<Vec<u8>>,
) -> Probe {
    Probe {
        method: method.clone(),
        path: path.to_owned(),
        content_type: Some("application/json"),
        body: body.into(),
        what: what.to_owned(),
    }
}

pub(super) fn form_probe(
    method: &Method,
    path: &str,
    what: &str,
    body: impl Into<Vec<u8>>,
) -> Probe {
    Probe {
        method: method.clone(),
        path: path.to_owned(),
        content_type: Some("application/x-www-form-urlencoded"),
        body: body.into(),
        what: what.to_owned(),
    }
}

pub(super) fn urlencode(s: &str) -> String {
    serde_urlencoded::to_string([("v", s)]).unwrap()[2..].to_owned()
}

/// Dates no calendar has or no slot can have.
pub(super) const ABSURD_DATES: &[&str] = &[
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
pub(super) fn absurd_zones() -> Vec<String> {
    vec![
        "Mars/Olympus".into(),
        "../../etc/passwd".into(),
        "Europe/Berlin\r\nX: y".into(),
        "Z".repeat(10 * 1024),
    ]
}

/// Bodies no JSON endpoint may take, whatever it reads.
pub(super) fn unreadable_json(method: &Method, path: &str) -> Vec<Probe> {
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
pub(super) fn unreadable_form(method: &Method, path: &str) -> Vec<Probe> {
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
pub(super) fn mistyped(
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
pub(super) fn bad_paths(m: &Method, path: &str, from: &str, bad: &[String]) -> Vec<Probe> {
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
pub(super) fn form_with(valid: &[(&str, &str)], field: &str, value: &str) -> String {
    let pairs: Vec<(&str, &str)> = valid
        .iter()
        .map(|&(k, v)| (k, if k == field { value } else { v }))
        .collect();
    serde_urlencoded::to_string(&pairs).unwrap()
}

/// A form probe for each wrong value of each field: the form `valid` with that field changed.
pub(super) fn wrong_fields(
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
pub(super) fn with_form(probes: Vec<Probe>, body: &str) -> impl Iterator<Item = Probe> {
    let body = body.as_bytes().to_vec();
    probes.into_iter().map(move |probe| Probe {
        content_type: Some("application/x-www-form-urlencoded"),
        body: body.clone(),
        ..probe
    })
}

pub(super) fn strings(values: &[&str]) -> Vec<String> {
    values.iter().map(|s| (*s).to_owned()).collect()
}
