//! `/metrics`: off by default, behind its token or on its own address, and read by the
//! `prometheus_client` Python package's parser, its counters moving as bookings and emails
//! happen.

use std::collections::BTreeMap;
use std::time::Duration;

use guidance_testkit::api::{Api, visitor_intake};
use guidance_testkit::binary::{self, Server};
use guidance_testkit::python;
use guidance_testkit::wait::poll;
use serde_json::Value;

use crate::common;

const TOKEN: &str = "metrics-token-0123456789";

/// `guidance serve` on a fresh SQLite database in `dir`, with `env` added.
fn serve(dir: &std::path::Path, env: &[(&str, &str)]) -> Server {
    std::fs::create_dir_all(dir).expect("the server's folder");
    let mut cmd = common::command(
        &["serve"],
        &crate::sqlite_url(dir),
        &dir.join("mail"),
        &dir.join("data"),
    );
    for (k, v) in env {
        cmd.env(k, v);
    }
    binary::serve(cmd, dir.join("serve.log"))
}

/// The samples of a scrape, parsed by `scripts/check_metrics.py`: `(name, labels) → value`.
type Samples = BTreeMap<(String, BTreeMap<String, String>), f64>;

async fn scrape(url: &str, token: Option<&str>) -> Samples {
    let mut req = reqwest::Client::new().get(url);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.expect("/metrics answers");
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(
        resp.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let text = resp.text().await.expect("a body");
    let file = tempfile::NamedTempFile::new().expect("a temp file");
    std::fs::write(file.path(), &text).expect("write the scrape");
    let parsed: Value = serde_json::from_str(&python::run_checker(
        &python::script("check_metrics.py"),
        &[file.path()],
    ))
    .expect("JSON from check_metrics.py");
    parsed["samples"]
        .as_array()
        .expect("samples")
        .iter()
        .map(|s| {
            let labels = s[1]
                .as_object()
                .expect("labels")
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().expect("a label").to_owned()))
                .collect();
            (
                (s[0].as_str().expect("a name").to_owned(), labels),
                s[2].as_f64().expect("a value"),
            )
        })
        .collect()
}

/// The value of `name` with exactly `labels`; 0 when the series is absent (not yet counted).
fn value(samples: &Samples, name: &str, labels: &[(&str, &str)]) -> f64 {
    let labels = labels
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    samples
        .get(&(name.to_owned(), labels))
        .copied()
        .unwrap_or(0.0)
}

async fn status_of(req: reqwest::RequestBuilder) -> u16 {
    req.send().await.expect("an answer").status().as_u16()
}

#[tokio::test]
async fn metrics_are_off_by_default_and_ask_for_their_token() {
    let dir = tempfile::tempdir().expect("tempdir");
    let off = serve(&dir.path().join("off"), &[]);
    let client = reqwest::Client::new();
    let url = format!("{}/metrics", off.url);
    assert_eq!(status_of(client.get(&url)).await, 404, "off by default");
    assert_eq!(
        status_of(client.get(&url).bearer_auth(TOKEN)).await,
        404,
        "no token opens what is off"
    );

    let on = serve(&dir.path().join("on"), &[("GUIDANCE_METRICS_TOKEN", TOKEN)]);
    let url = format!("{}/metrics", on.url);
    assert_eq!(status_of(client.get(&url)).await, 401, "without the token");
    let wrong = status_of(client.get(&url).bearer_auth("metrics-token-0123456788")).await;
    assert_eq!(wrong, 401, "with a wrong token");
    let samples = scrape(&url, Some(TOKEN)).await;
    assert_eq!(value(&samples, "guidance_database_up", &[]), 1.0);
    // The refused scrapes were counted by their route, not their path.
    assert_eq!(
        value(
            &samples,
            "guidance_http_requests_total",
            &[("method", "GET"), ("route", "/metrics"), ("status", "4xx")]
        ),
        2.0
    );
}

#[tokio::test]
async fn a_separate_metrics_address_serves_them_there_only_and_without_a_token() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut server = serve(dir.path(), &[("GUIDANCE_METRICS_LISTEN", "127.0.0.1:0")]);
    let metrics_url = server
        .process
        .wait_for_line(Duration::from_secs(30), |l| {
            l.strip_prefix("Metrics on ").map(str::to_owned)
        })
        .unwrap_or_else(|| panic!("no metrics address:\n{}", server.process.log_text()));
    let client = reqwest::Client::new();
    let main = status_of(client.get(format!("{}/metrics", server.url))).await;
    assert_eq!(main, 404, "not on the main address");
    assert_eq!(
        status_of(client.get(format!("{}/readyz", server.url))).await,
        200
    );
    let samples = scrape(&metrics_url, None).await;
    assert_eq!(
        value(
            &samples,
            "guidance_http_requests_total",
            &[("method", "GET"), ("route", "/readyz"), ("status", "2xx")]
        ),
        1.0,
        "the main address's requests, counted where the metrics are"
    );
}

#[tokio::test]
async fn counters_move_as_bookings_and_emails_happen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = serve(dir.path(), &[("GUIDANCE_METRICS_TOKEN", TOKEN)]);
    let url = format!("{}/metrics", server.url);
    let api = Api::new(&server.url);
    let before = scrape(&url, Some(TOKEN)).await;
    assert_eq!(value(&before, "guidance_bookings_created_total", &[]), 0.0);
    assert_eq!(
        value(&before, "guidance_bookings", &[("status", "pending")]),
        0.0
    );

    let slots = api.create_slots(30, 3).await;
    let mut ids = Vec::new();
    for (i, slot) in slots.iter().enumerate() {
        let (status, body) = api.book(&visitor_intake(slot, i)).await;
        assert_eq!(status, 201, "{body}");
        ids.push(body["id"].as_str().expect("an id").to_owned());
    }
    let (status, body) = api.act(&ids[0], "accept", None).await;
    assert_eq!(status, 200, "{body}");
    // Three requests send two emails each; the acceptance two more (owner and visitor).
    let emails = 8.0;

    let after = poll(Duration::from_secs(30), || async {
        let s = scrape(&url, Some(TOKEN)).await;
        // The database's figures are kept a second: wait until they show the bookings too.
        (value(&s, "guidance_emails_sent_total", &[]) >= emails
            && value(&s, "guidance_bookings", &[("status", "pending")]) == 2.0
            && value(&s, "guidance_outbox_emails", &[("status", "queued")]) == 0.0)
            .then_some(s)
    })
    .await
    .unwrap_or_else(|| {
        panic!(
            "the emails were not all sent:\n{}",
            server.process.log_text()
        )
    });
    assert_eq!(value(&after, "guidance_bookings_created_total", &[]), 3.0);
    assert_eq!(
        value(
            &after,
            "guidance_booking_transitions_total",
            &[("to", "accepted")]
        ),
        1.0
    );
    assert_eq!(value(&after, "guidance_emails_sent_total", &[]), emails);
    assert_eq!(value(&after, "guidance_emails_failed_total", &[]), 0.0);
    assert_eq!(
        value(&after, "guidance_bookings", &[("status", "pending")]),
        2.0
    );
    assert_eq!(
        value(&after, "guidance_bookings", &[("status", "accepted")]),
        1.0
    );
    assert_eq!(
        value(&after, "guidance_outbox_oldest_unsent_age_seconds", &[]),
        0.0,
        "nothing waits"
    );
    assert!(value(&after, "guidance_expiry_runs_total", &[]) >= 1.0);
    assert_eq!(
        value(
            &after,
            "guidance_http_requests_total",
            &[
                ("method", "POST"),
                ("route", "/api/bookings"),
                ("status", "2xx")
            ]
        ),
        3.0
    );
    let booking_latency = [("method", "POST"), ("route", "/api/bookings")];
    assert_eq!(
        value(
            &after,
            "guidance_http_request_duration_seconds_count",
            &booking_latency
        ),
        3.0
    );
    assert!(
        value(
            &after,
            "guidance_http_request_duration_seconds_sum",
            &booking_latency
        ) > 0.0
    );
    assert_eq!(
        value(&after, "guidance_http_responses_total", &[("code", "201")]),
        6.0,
        "three slots and three bookings created"
    );
    // Routes by template: one series for every booking's own route, however many ids.
    for id in &ids {
        api.booking(id).await;
    }
    let read = scrape(&url, Some(TOKEN)).await;
    assert_eq!(
        value(
            &read,
            "guidance_http_requests_total",
            &[
                ("method", "GET"),
                ("route", "/api/admin/bookings/{id}"),
                ("status", "2xx")
            ]
        ),
        3.0
    );
    assert!(
        !read.keys().any(|(_, labels)| labels
            .get("route")
            .is_some_and(|r| ids.iter().any(|id| r.contains(id.as_str())))),
        "no series is named after a path"
    );
    assert!(value(&read, "guidance_db_pool_connections", &[("pool", "writer")]) >= 1.0);
}
