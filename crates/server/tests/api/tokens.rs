//! Links from emails: reused, expired, tampered, out of date, wrong action.

use serde_json::{Value, json};

use crate::helpers::*;

async fn booked_with_links(app: &TestApp, hours: i64) -> (String, Vec<String>) {
    let slot = app.create_slot(hours).await;
    let (status, body) = app.book(&intake(&slot)).await;
    assert_eq!(status, 201);
    let mail = app
        .wait_for_mail("owner_new_request", 1)
        .await
        .pop()
        .unwrap();
    (
        body["id"].as_str().unwrap().to_owned(),
        action_links(&mail, &app.base),
    )
}

fn token_of(link: &str) -> String {
    link.rsplit('/').next().unwrap().to_owned()
}

#[tokio::test]
async fn a_used_link_is_refused_with_a_clear_page_and_json_error() {
    let app = spawn_app().await;
    let (id, links) = booked_with_links(&app, 24).await;
    let accept = token_of(&links[0]);
    let (status, body) = app
        .post_json(
            "/api/actions",
            &json!({"token": accept, "action": "accept"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "accepted");

    let (status, body) = app
        .post_json(
            "/functions/v1/update-guidance-booking",
            &json!({"token": accept}),
        )
        .await;
    assert_eq!(status, 409);
    assert_eq!(body["error"]["code"], "token_used");
    let page = app.client.get(&links[0]).send().await.unwrap();
    assert_eq!(page.status(), 409);
    assert!(page.text().await.unwrap().contains("already been used"));

    // The decline link was issued for the pending booking: out of date now.
    let (status, body) = app
        .post_json("/api/actions", &json!({"token": token_of(&links[1])}))
        .await;
    assert_eq!(status, 409);
    assert_eq!(body["error"]["code"], "token_outdated");
    let page = app.client.post(&links[1]).send().await.unwrap();
    assert_eq!(page.status(), 409);
    assert!(page.text().await.unwrap().contains("out of date"));
    assert_eq!(app.booking(&id).await["status"], "accepted");
}

#[tokio::test]
async fn tampered_truncated_and_made_up_links_are_refused() {
    let app = spawn_app().await;
    let (id, links) = booked_with_links(&app, 24).await;
    let token = token_of(&links[0]);
    let mut chars: Vec<char> = token.chars().collect();
    chars[10] = if chars[10] == 'A' { 'B' } else { 'A' };
    let tampered: String = chars.into_iter().collect();
    for bad in [
        tampered.as_str(),
        &token[..30],
        "x",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    ] {
        let (status, body) = app.post_json("/api/actions", &json!({"token": bad})).await;
        assert_eq!(status, 404, "{bad}: {body}");
        assert_eq!(body["error"]["code"], "token_invalid");
        let page = app
            .client
            .post(app.url(&format!("/a/{bad}")))
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 404);
        assert!(
            page.text()
                .await
                .unwrap()
                .contains("This link is not valid")
        );
    }
    let (status, body) = app.post_json("/api/actions", &json!({})).await;
    assert_eq!(
        (status, body["error"]["fields"]["token"]["code"].clone()),
        (422, json!("empty"))
    );
    // The right token for the wrong action.
    let (status, body) = app
        .post_json(
            "/api/actions",
            &json!({"token": token, "action": "decline"}),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], "wrong_action");
    assert_eq!(
        app.booking(&id).await["status"],
        "pending",
        "nothing happened"
    );
    // …and it still works for what it is for.
    let (status, _) = app
        .post_json("/api/actions", &json!({"token": token, "action": "accept"}))
        .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_link_expires_when_the_session_starts() {
    let app = spawn_app().await;
    let now = jiff::Timestamp::now();
    let start = jiff::Timestamp::from_second(now.as_second() + 3).unwrap();
    let slot = app
        .create_slot_at(
            start,
            start
                .checked_add(jiff::SignedDuration::from_mins(30))
                .unwrap(),
        )
        .await;
    let (status, body) = app.book(&intake(&slot)).await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_str().unwrap().to_owned();
    let mail = app
        .wait_for_mail("owner_new_request", 1)
        .await
        .pop()
        .unwrap();
    let links = action_links(&mail, &app.base);
    while jiff::Timestamp::now() <= start {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let (status, body): (u16, Value) = app
        .post_json("/api/actions", &json!({"token": token_of(&links[0])}))
        .await;
    assert_eq!(status, 410, "{body}");
    assert_eq!(body["error"]["code"], "token_expired");
    let page = app.client.get(&links[0]).send().await.unwrap();
    assert_eq!(page.status(), 410);
    assert!(page.text().await.unwrap().contains("expired"));
    assert_ne!(app.booking(&id).await["status"], "accepted");
}
