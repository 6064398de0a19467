//! The visitor's data: their download and their own deletion from their page, the owner's
//! erase of an address (owner API and admin UI), and retention run by moving the clock. After
//! each, no table or file holds the visitor's name, address, topic or answers: the SQLite file
//! and its WAL are read as raw bytes, PostgreSQL's every text, JSON and bytea column, and every
//! file of the mail directory; the booking stays as times and status; another visitor's data
//! stays whole.

use std::time::Duration;

use guidance_testkit::api::{intake, with};
use guidance_testkit::mail::{all_text, plain_text};
use guidance_testkit::wait::poll;
use reqwest::Method;
use serde_json::{Value, json};

use crate::admin_ui::{login, spawn_admin_app};
use crate::helpers::*;

/// What the visitor typed: each word is theirs alone.
const WORDS: [&str; 4] = ["philippa", "quennell", "orrery", "astrolabe"];
/// The other visitor's, which no erasure of Philippa's may touch.
const OTHER: &str = "lovelace";

fn philippa(slot: &str, email: &str) -> Value {
    let body = with(intake(slot), "name", json!("Philippa Quennell"));
    let body = with(body, "email", json!(email));
    let body = with(body, "topic", json!("Orrery restoration"));
    with(body, "answers", json!({"company": "Astrolabe Works"}))
}

/// Everything the service keeps, lowercased: the database (the SQLite file and its WAL as raw
/// bytes, or PostgreSQL's every text, JSON and bytea column) and every file of the mail
/// directory, raw and decoded.
async fn everything_kept(app: &TestApp) -> String {
    let mut kept = Vec::new();
    if let Some(db) = &app.db {
        kept.extend(guidance_testkit::pg::dump_values(&db.url).await);
    } else {
        for name in ["guidance.db", "guidance.db-wal"] {
            kept.extend(std::fs::read(app.dir.path().join(name)).unwrap_or_default());
        }
    }
    for entry in std::fs::read_dir(app.mail.path()).into_iter().flatten() {
        let raw = std::fs::read(entry.unwrap().path()).unwrap_or_default();
        kept.extend(all_text(&raw).into_bytes());
        kept.extend(raw);
    }
    String::from_utf8_lossy(&kept).to_lowercase()
}

/// The visitor's words still kept somewhere.
async fn words_kept(app: &TestApp) -> Vec<&'static str> {
    let kept = everything_kept(app).await;
    WORDS.into_iter().filter(|w| kept.contains(w)).collect()
}

/// Waits until none of the visitor's words is kept (an erased booking's last emails go once
/// the worker has sent them).
async fn until_nothing_kept(app: &TestApp) {
    let left = poll(Duration::from_secs(30), || async {
        words_kept(app).await.is_empty().then_some(())
    })
    .await;
    assert!(left.is_some(), "still kept: {:?}", words_kept(app).await);
}

/// Waits until every email of booking `id` sent at once was sent.
async fn all_sent(app: &TestApp, id: &str) {
    poll(Duration::from_secs(30), || async {
        let emails = app.emails_now(id).await;
        emails.iter().all(|e| e["status"] == "sent").then_some(())
    })
    .await
    .expect("every email sent");
}

/// The `/my/…` link of the visitor's "received" email.
async fn my_link(app: &TestApp) -> String {
    let received = app.mail.wait_for("requester_received", 1).await.remove(0);
    plain_text(&received)
        .split_whitespace()
        .find(|w| w.starts_with(&format!("{}/my/", app.base)))
        .expect("a link to the visitor's page")
        .to_owned()
}

/// Books the other visitor, whose data every test checks is untouched.
async fn book_the_other(app: &TestApp, hours: i64) -> String {
    let slot = app.create_slot(hours).await;
    let body = with(intake(&slot), "email", json!("ada.lovelace@example.net"));
    let body = with(body, "name", json!("Ada Lovelace"));
    let (status, body) = app.book(&body).await;
    assert_eq!(status, 201, "{body}");
    body["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_visitor_downloads_their_data_and_deletes_their_live_request() {
    let app = spawn_app().await;
    let slot = app.create_slot(30).await;
    let (status, body) = app
        .book(&philippa(&slot, "philippa.quennell@example.net"))
        .await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_str().unwrap().to_owned();
    let other = book_the_other(&app, 40).await;
    let my = my_link(&app).await;
    assert_eq!(app.act(&id, "accept", None).await.0, 200);
    all_sent(&app, &id).await;
    assert_eq!(words_kept(&app).await, WORDS.to_vec(), "kept before");

    // The download: JSON, everything kept about the request.
    let resp = app.get(&format!("{my}/data")).await;
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    let data: Value = resp.json().await.unwrap();
    assert_eq!(data["name"], "Philippa Quennell");
    assert_eq!(data["email"], "philippa.quennell@example.net");
    assert_eq!(data["answers"]["company"], "Astrolabe Works");
    assert_eq!(data["status"], "accepted");
    let actions: Vec<&str> = data["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(actions.contains(&"accept"), "{actions:?}");
    assert!(
        data["emails"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "requester_accepted"),
        "{data}"
    );
    // The page links to both; the deletion asks first, and asking changes nothing.
    let page = app.text(&my).await;
    assert!(page.contains("/data") && page.contains("/delete"), "{page}");
    let ask = app.text(&format!("{my}/delete")).await;
    assert!(ask.contains("method=\"post\""), "{ask}");
    assert!(ask.contains("cancelled first"), "{ask}");
    assert_eq!(app.booking(&id).await["status"], "accepted");

    let resp = app.post(&format!("{my}/delete")).await;
    assert_eq!(resp.status(), 200);
    // Cancelled first, with the usual emails, then erased: times and status stay.
    let booking = app.booking(&id).await;
    assert_eq!(booking["status"], "cancelled");
    assert_eq!(booking["name"], "");
    assert_eq!(booking["starts_at"], body["starts_at"]);
    until_nothing_kept(&app).await;
    // The history keeps the moves: the visitor's cancellation, then the erasure.
    let moves: Vec<(String, String)> = app.booking(&id).await["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["actor"].as_str().unwrap().to_owned(),
                e["action"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let last: Vec<(&str, &str)> = moves
        .iter()
        .rev()
        .take(2)
        .rev()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    assert_eq!(
        last,
        [("requester", "cancel"), ("requester", "erased")],
        "{moves:?}"
    );
    // Deleting again changes nothing; the page says what is left.
    assert_eq!(app.post(&format!("{my}/delete")).await.status(), 200);
    let page = app.text(&my).await;
    assert!(page.contains("Your data was deleted"), "{page}");
    // The other visitor is untouched, and their slot still booked.
    assert!(everything_kept(&app).await.contains(OTHER));
    assert_eq!(app.booking(&other).await["name"], "Ada Lovelace");
}

#[tokio::test]
async fn retention_erases_the_data_of_sessions_long_past_by_the_moved_clock() {
    let app = spawn_app().await;
    let (status, body) = app.put_settings(json!({"retention_days": 2})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["retention_days"], 2);
    let slot = app.create_slot(30).await;
    let (status, body) = app
        .book(&philippa(&slot, "philippa.quennell@example.net"))
        .await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_str().unwrap().to_owned();
    assert_eq!(app.act(&id, "accept", None).await.0, 200);
    let other = book_the_other(&app, 100).await;
    all_sent(&app, &id).await;
    // The session (30 hours ahead) ends; its reminders went out or were dropped.
    app.pass_hours(32.0).await;
    // Not yet: a day after the session is within the two days kept.
    app.pass_hours(24.0).await;
    assert_eq!(words_kept(&app).await, WORDS.to_vec());
    app.pass_hours(25.0).await;
    until_nothing_kept(&app).await;
    let booking = app.booking(&id).await;
    assert_eq!(booking["status"], "accepted");
    assert_eq!(booking["starts_at"], body["starts_at"]);
    poll(Duration::from_secs(30), || async {
        app.emails(&id).await.is_empty().then_some(())
    })
    .await
    .expect("every email of the booking erased");
    // The other visitor's session has not ended that long ago.
    assert_eq!(app.booking(&other).await["name"], "Ada Lovelace");
}

#[tokio::test]
async fn the_owner_api_erases_an_address_on_postgresql() {
    let app = spawn_app_on_postgres().await;
    let (first, second) = (app.create_slot(30).await, app.create_slot(34).await);
    let (status, one) = app
        .book(&philippa(&first, "philippa.quennell@example.net"))
        .await;
    assert_eq!(status, 201, "{one}");
    let (status, two) = app
        .book(&philippa(&second, "Philippa.Quennell@Example.net"))
        .await;
    assert_eq!(status, 201, "{two}");
    let (one, two) = (one["id"].as_str().unwrap(), two["id"].as_str().unwrap());
    assert_eq!(app.act(one, "decline", None).await.0, 200);
    let other = book_the_other(&app, 40).await;
    all_sent(&app, two).await;
    assert_eq!(words_kept(&app).await, WORDS.to_vec());

    // Refused, changing nothing.
    for bad in [
        json!({}),
        json!({"email": ""}),
        json!({"email": 5}),
        json!({"email": "nobody"}),
    ] {
        let (status, body) = app.admin(Method::POST, "/api/admin/erase", Some(bad)).await;
        assert_eq!(status, 422, "{body}");
        assert!(body["error"]["fields"]["email"].is_object(), "{body}");
    }
    let (status, body) = app
        .admin(
            Method::POST,
            "/api/admin/erase",
            Some(json!({"email": " PHILIPPA.QUENNELL@example.NET "})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["erased"], 2);
    // The live request was cancelled first; the declined one stays declined.
    assert_eq!(app.booking(two).await["status"], "cancelled");
    assert_eq!(app.booking(one).await["status"], "declined");
    until_nothing_kept(&app).await;
    assert!(everything_kept(&app).await.contains(OTHER));
    assert_eq!(app.booking(&other).await["status"], "pending");
    // Old row versions can linger in free space of the tables' pages after the erasure's
    // VACUUM (PostgreSQL does not overwrite them); the operator's `VACUUM FULL` rewrites the
    // files without them.
    let files = relation_files(&app).await;
    assert!(files.contains(OTHER), "the files were read");
    for w in WORDS {
        assert!(!files.contains(w), "{w} is still in a table's file");
    }
}

/// The files of every table and index of the PostgreSQL database, as on disk after a
/// `VACUUM FULL` and a checkpoint, lowercased.
async fn relation_files(app: &TestApp) -> String {
    let pool = sqlx::PgPool::connect(&app.db.as_ref().unwrap().url)
        .await
        .expect("connect");
    sqlx::raw_sql("VACUUM FULL")
        .execute(&pool)
        .await
        .expect("vacuum full");
    sqlx::query("CHECKPOINT")
        .execute(&pool)
        .await
        .expect("checkpoint");
    let named: Vec<(String, Vec<u8>)> = sqlx::query_as(
        "SELECT c.relname::text, pg_read_binary_file(pg_relation_filepath(c.oid)) FROM pg_class c \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = 'public' AND c.relkind IN ('r', 'i', 't') \
         AND pg_relation_filepath(c.oid) IS NOT NULL",
    )
    .fetch_all(&pool)
    .await
    .expect("the relations' files");
    let files: Vec<Vec<u8>> = named.into_iter().map(|(_, b)| b).collect();
    pool.close().await;
    String::from_utf8_lossy(&files.concat()).to_lowercase()
}

#[tokio::test]
async fn the_admin_ui_erases_a_visitor_after_a_confirmation() {
    let app = spawn_admin_app().await;
    let owner = login(&app).await;
    let slot = app.create_slot(30).await;
    let (status, body) = app
        .book(&philippa(&slot, "philippa.quennell@example.net"))
        .await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_str().unwrap().to_owned();
    all_sent(&app, &id).await;

    let (status, html) = owner.get(&app, "/admin/settings").await;
    assert_eq!(status, 200);
    assert!(html.contains("href=\"/admin/erase\""), "{html}");
    assert!(
        html.contains(
            "name=\"retention_days\" type=\"number\" min=\"1\" max=\"3650\" value=\"365\""
        ),
        "{html}"
    );
    let (status, html) = owner.get(&app, "/admin/erase").await;
    assert_eq!(status, 200);
    assert!(html.contains("name=\"email\""), "{html}");
    // Without the session's CSRF token, nothing happens.
    let resp = app
        .client
        .post(app.url("/admin/erase"))
        .header("cookie", &owner.cookie)
        .form(&[
            ("email", "philippa.quennell@example.net"),
            ("confirm", "yes"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    // The address alone asks for a confirmation, with how many bookings it has.
    let (status, html) = owner
        .post(
            &app,
            "/admin/erase",
            &[("email", "Philippa.Quennell@example.net")],
        )
        .await;
    assert_eq!(status, 200);
    assert!(html.contains("Bookings of this address: 1"), "{html}");
    assert!(html.contains("name=\"confirm\" value=\"yes\""), "{html}");
    assert_eq!(app.booking(&id).await["name"], "Philippa Quennell");
    let (status, html) = owner.post(&app, "/admin/erase", &[("email", "")]).await;
    assert_eq!(status, 422, "{html}");

    let (status, location) = owner
        .post(
            &app,
            "/admin/erase",
            &[
                ("email", "Philippa.Quennell@example.net"),
                ("confirm", "yes"),
            ],
        )
        .await;
    assert_eq!(
        (status, location.as_str()),
        (303, "/admin/erase?done=visitor_erased")
    );
    let (_, html) = owner.get(&app, &location).await;
    assert!(
        html.contains("The visitor&#39;s data was erased.")
            || html.contains("The visitor's data was erased."),
        "{html}"
    );
    assert_eq!(app.booking(&id).await["status"], "cancelled");
    until_nothing_kept(&app).await;
}
