//! Delivery over TLS: STARTTLS and implicit TLS to a server whose certificate a private CA
//! signed, never a fallback to plain text, an untrusted authority refused, and a wrong CA file
//! stopping the start.

use std::path::PathBuf;
use std::time::Duration;

use guidance_app::config::Config;
use guidance_testkit::api::intake;
use guidance_testkit::pki::TestPki;
use guidance_testkit::smtp::Sink;
use guidance_testkit::wait::poll;
use serde_json::Value;

use super::{admin_action, wait_all_sent};
use crate::helpers::*;

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
    let sink = Sink::start_tls(&pki, mode, &["--auth", "mailer@example.org:s3cret:pw"]);
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

/// Waits (30 s at most) until every email of the booking failed its last attempt, and returns
/// them; panics if one was sent.
async fn wait_all_failed(app: &TestApp, id: &str) -> Vec<Value> {
    poll(Duration::from_secs(30), || async {
        let all = app.emails_now(id).await;
        assert!(all.iter().all(|e| e["status"] != "sent"), "{all:#?}");
        all.iter().all(|e| e["status"] == "failed").then_some(all)
    })
    .await
    .expect("the emails never failed")
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
        let sink = Sink::start_tls(&server_pki, mode, &[]);
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
