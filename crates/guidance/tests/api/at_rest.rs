//! Nothing at rest opens anything: a copy of the database taken after a booking's whole life
//! (request, acceptance, a new time, cancellation) and beside a request still open holds none
//! of the links that were emailed, none of their secrets, not the owner's password or session;
//! and every token-shaped string found in it opens nothing. On SQLite the copy is the database
//! file with its WAL; on PostgreSQL every text, JSON and bytea column of every table. The owner
//! still reads every email's text in the admin UI.

use std::collections::BTreeSet;
use std::time::Duration;

use guidance_testkit::api::intake;
use guidance_testkit::mail::{action_links, plain_text};
use guidance_testkit::wait::poll;

use crate::admin_ui::{Owner, PASSWORD, login, spawn_admin_app, spawn_admin_app_on_postgres};
use crate::helpers::*;

/// The `/my/…` link in an email's plain text.
fn my_link(raw: &[u8], base: &str) -> String {
    plain_text(raw)
        .split_whitespace()
        .find(|w| w.starts_with(&format!("{base}/my/")))
        .expect("a link to the visitor's page")
        .to_owned()
}

/// One booking's whole life, and a second request left open; returns the booking ids once
/// every email has been sent.
async fn full_life(app: &TestApp) -> Vec<String> {
    let (first, second, third) = (
        app.create_slot(30).await,
        app.create_slot(33).await,
        app.create_slot(36).await,
    );
    let (status, body) = app.book(&intake(&first)).await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_str().unwrap().to_owned();
    let received = app.mail.wait_for("requester_received", 1).await.remove(0);
    let my = my_link(&received, &app.base);
    assert_eq!(app.act(&id, "accept", None).await.0, 200);
    assert_eq!(app.act(&id, "reschedule", None).await.0, 200);
    let ask = app
        .mail
        .wait_for("requester_pick_new_time", 1)
        .await
        .remove(0);
    let pick = action_links(&ask, &app.base).remove(0);
    let chosen = app
        .client
        .post(&pick)
        .form(&[("slot_id", second.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(chosen.status(), 200);
    let cancelled = app.post(&format!("{my}/cancel")).await;
    assert_eq!(cancelled.status(), 200);
    assert_eq!(app.booking(&id).await["status"], "cancelled");

    let (status, body) = app.book(&intake(&third)).await;
    assert_eq!(status, 201, "{body}");
    let open = body["id"].as_str().unwrap().to_owned();
    let ids = vec![id, open];
    poll(Duration::from_secs(30), || async {
        for id in &ids {
            if app
                .emails_now(id)
                .await
                .iter()
                .any(|e| e["status"] != "sent")
            {
                return None;
            }
        }
        Some(())
    })
    .await
    .expect("every email sent");
    ids
}

/// Every link to the site in the delivered emails, with the secret part of each (its last
/// path segment).
fn sent_links(app: &TestApp) -> Vec<(String, String)> {
    let mut links = BTreeSet::new();
    for path in app.mail.paths() {
        let raw = std::fs::read(path).unwrap();
        for word in plain_text(&raw).split_whitespace() {
            if word.starts_with(&format!("{}/a/", app.base))
                || word.starts_with(&format!("{}/my/", app.base))
            {
                links.insert(word.to_owned());
            }
        }
    }
    links
        .into_iter()
        .map(|l| {
            let secret = l.rsplit('/').next().unwrap().to_owned();
            (l, secret)
        })
        .collect()
}

/// The maximal runs of URL-safe characters in `bytes` that are `len` long.
fn runs_of(bytes: &[u8], len: usize) -> BTreeSet<String> {
    bytes
        .split(|b| !(b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_'))
        .filter(|run| run.len() == len)
        .map(|run| String::from_utf8_lossy(run).into_owned())
        .collect()
}

/// Checks the copy: nothing that was sent or typed is in it, and nothing in it opens anything.
async fn nothing_opens(app: &TestApp, owner: &Owner, ids: &[String], copy: &[u8]) {
    let links = sent_links(app);
    assert!(links.len() >= 5, "the emails carried links: {links:?}");
    // The open request's page still opens from its email: the links were real.
    let live = links
        .iter()
        .find(|(l, _)| l.contains(&format!("/my/{}/", ids[1])))
        .expect("the open request's page link");
    assert_eq!(app.get(&live.0).await.status(), 200);
    let session = owner.cookie.split_once('=').unwrap().1.to_owned();
    // A message kept as sent has its long lines folded by quoted-printable: unfold them too.
    let mut copy = copy.to_vec();
    let unfolded: Vec<u8> = String::from_utf8_lossy(&copy)
        .replace("=\r\n", "")
        .into_bytes();
    copy.extend(unfolded);
    let copy = copy.as_slice();
    let found = |needle: &str| copy.windows(needle.len()).any(|w| w == needle.as_bytes());
    for (link, secret) in &links {
        assert!(!found(link), "a link is at rest: {link}");
        assert!(!found(secret), "a link's secret is at rest: {link}");
    }
    assert!(!found(PASSWORD), "the owner's password is at rest");
    assert!(!found(&session), "the owner's session is at rest");

    // Whatever looks like a token, a page signature or a session in the copy opens nothing.
    for candidate in runs_of(copy, 48) {
        let resp = app.post(&format!("/a/{candidate}")).await;
        assert_eq!(resp.status(), 404, "a token from the copy: {candidate}");
    }
    let signature_len = live.1.len();
    for candidate in runs_of(copy, signature_len) {
        for id in ids {
            let resp = app.get(&format!("/my/{id}/{candidate}")).await;
            assert_ne!(resp.status(), 200, "a page signature from the copy");
        }
    }
    let cookie_name = owner.cookie.split_once('=').unwrap().0;
    for candidate in runs_of(copy, session.len()) {
        let resp = app
            .client
            .get(app.url("/admin"))
            .header("cookie", format!("{cookie_name}={candidate}"))
            .send()
            .await
            .unwrap();
        assert_ne!(resp.status(), 200, "a session from the copy");
    }
}

/// The owner still reads what every email of the booking said, opened from the sealed outbox.
async fn the_owner_reads_every_email(app: &TestApp, owner: &Owner, id: &str) {
    let emails = app.emails(id).await.len();
    assert!(emails >= 8, "the whole life's emails: {emails}");
    let (status, html) = owner.get(app, &format!("/admin/bookings/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(
        html.matches("<details class=\"email-text\">").count(),
        emails,
        "{html}"
    );
    for said in [
        "Ada Lovelace would like a session with you.",
        "Hello Olga Owner,",
        "Hello,",
    ] {
        assert!(html.contains(said), "{said}: {html}");
    }
}

#[tokio::test]
async fn a_copy_of_the_sqlite_file_opens_nothing() {
    let app = spawn_admin_app().await;
    let owner = login(&app).await;
    let ids = full_life(&app).await;
    let mut copy = Vec::new();
    for name in ["guidance.db", "guidance.db-wal", "guidance.db-shm"] {
        if let Ok(bytes) = std::fs::read(app.dir.path().join(name)) {
            copy.extend(bytes);
        }
    }
    assert!(copy.len() > 10_000, "the database file was read");
    nothing_opens(&app, &owner, &ids, &copy).await;
    the_owner_reads_every_email(&app, &owner, &ids[0]).await;
}

#[tokio::test]
async fn a_dump_of_the_postgresql_database_opens_nothing() {
    let app = spawn_admin_app_on_postgres().await;
    let owner = login(&app).await;
    let ids = full_life(&app).await;
    let copy = guidance_testkit::pg::dump_values(&app.db.as_ref().unwrap().url).await;
    nothing_opens(&app, &owner, &ids, &copy).await;
    the_owner_reads_every_email(&app, &owner, &ids[0]).await;
}
