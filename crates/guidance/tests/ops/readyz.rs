//! `/readyz` on PostgreSQL: ready while the database answers and has every migration; `503`
//! with the reason when a migration is missing or the database is gone.

use std::time::Duration;

use guidance_testkit::pg::{TestDatabase, admin_url};
use guidance_testkit::wait::poll;
use serde_json::Value;
use sqlx::Connection;

use crate::common;

/// `/readyz`'s status and body.
async fn readyz(client: &reqwest::Client, base: &str) -> (u16, Value) {
    let resp = client
        .get(format!("{base}/readyz"))
        .send()
        .await
        .expect("/readyz answers");
    let status = resp.status().as_u16();
    (status, resp.json().await.expect("a JSON body"))
}

/// Polls `/readyz` until it answers `503` with `reason`; its body then.
async fn until_not_ready(client: &reqwest::Client, base: &str, reason: &str) -> Option<Value> {
    poll(Duration::from_secs(30), || async {
        let (status, body) = readyz(client, base).await;
        (status == 503 && body["reason"] == reason).then_some(body)
    })
    .await
}

#[tokio::test]
async fn ready_while_the_database_answers_then_503_with_the_reason() {
    let db = TestDatabase::create().await;
    let dir = tempfile::tempdir().expect("tempdir");
    common::migrate(&db.url, dir.path());
    let mut server = common::serve(&db.url, &dir.path().join("mail"), dir.path(), "serve");
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .expect("a client");
    let (status, body) = readyz(&client, &server.url).await;
    assert_eq!(
        (status, &body),
        (200, &serde_json::json!({"status": "ready"}))
    );

    // A binary newer than its schema: the last migration is missing from the record (as when
    // `guidance migrate` was not run after an upgrade).
    let mut conn = db.connect().await;
    sqlx::query(
        "DELETE FROM _sqlx_migrations WHERE version = (SELECT max(version) FROM _sqlx_migrations)",
    )
    .execute(&mut conn)
    .await
    .expect("forget the last migration");
    let body = until_not_ready(&client, &server.url, "migrations_pending")
        .await
        .unwrap_or_else(|| panic!("still ready:\n{}", server.process.log_text()));
    assert_eq!(body["status"], "not_ready");
    assert!(
        body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("guidance migrate")),
        "{body}"
    );
    conn.close().await.ok();

    // The database is gone: dropped, its connections (the server's too) terminated.
    let mut admin = sqlx::PgConnection::connect(&admin_url())
        .await
        .expect("the maintenance database");
    sqlx::raw_sql(&format!("DROP DATABASE {} WITH (FORCE)", db.name))
        .execute(&mut admin)
        .await
        .expect("drop the database");
    let body = until_not_ready(&client, &server.url, "database_unavailable")
        .await
        .unwrap_or_else(|| panic!("still ready:\n{}", server.process.log_text()));
    assert_eq!(body["status"], "not_ready");
    assert!(
        !body.to_string().contains(&db.name),
        "the public answer names no database: {body}"
    );
    // Liveness is another question: the process is up.
    assert!(server.process.is_running());
}
