//! Links from emails: reused, expired, tampered, out of date, wrong action.

use guidance_testkit::api::{ADMIN_TOKEN, Api, intake, with};
use guidance_testkit::mail::{MailDir, action_links, token_of};
use serde_json::{Value, json};

use crate::helpers::*;

/// Books `slot`; returns the booking's id and the links of the owner's email.
async fn booked_with_links(app: &TestApp, slot: &str) -> (String, Vec<String>) {
    let (status, body) = app.book(&intake(slot)).await;
    assert_eq!(status, 201, "{body}");
    let mail = app
        .mail
        .wait_for("owner_new_request", 1)
        .await
        .pop()
        .unwrap();
    (
        body["id"].as_str().unwrap().to_owned(),
        action_links(&mail, &app.base),
    )
}

#[tokio::test]
async fn a_used_link_is_refused_with_a_clear_page_and_json_error() {
    let app = spawn_app().await;
    let (id, links) = booked_with_links(&app, &app.create_slot(24).await).await;
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
    let page = app.get(&links[0]).await;
    assert_eq!(page.status(), 409);
    assert!(page.text().await.unwrap().contains("already been used"));

    // The decline link was issued for the pending booking: out of date now.
    let (status, body) = app
        .post_json("/api/actions", &json!({"token": token_of(&links[1])}))
        .await;
    assert_eq!(status, 409);
    assert_eq!(body["error"]["code"], "token_outdated");
    let page = app.post(&links[1]).await;
    assert_eq!(page.status(), 409);
    assert!(page.text().await.unwrap().contains("out of date"));
    assert_eq!(app.booking(&id).await["status"], "accepted");
}

#[tokio::test]
async fn tampered_truncated_and_made_up_links_are_refused() {
    let app = spawn_app().await;
    let (id, links) = booked_with_links(&app, &app.create_slot(24).await).await;
    let token = token_of(&links[0]);
    let tampered = flip(&token, 10);
    for bad in [
        tampered.as_str(),
        &token[..30],
        "x",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    ] {
        let (status, body) = app.post_json("/api/actions", &json!({"token": bad})).await;
        assert_eq!(status, 404, "{bad}: {body}");
        assert_eq!(body["error"]["code"], "token_invalid");
        let page = app.post(&format!("/a/{bad}")).await;
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
    let (id, links) = booked_with_links(&app, &slot).await;
    while jiff::Timestamp::now() <= start {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let (status, body): (u16, Value) = app
        .post_json("/api/actions", &json!({"token": token_of(&links[0])}))
        .await;
    assert_eq!(status, 410, "{body}");
    assert_eq!(body["error"]["code"], "token_expired");
    let page = app.get(&links[0]).await;
    assert_eq!(page.status(), 410);
    assert!(page.text().await.unwrap().contains("expired"));
    assert_ne!(app.booking(&id).await["status"], "accepted");
}

/// `token` with the character at `i` replaced by another one of the token alphabet.
fn flip(token: &str, i: usize) -> String {
    let mut chars: Vec<char> = token.chars().collect();
    chars[i] = if chars[i] == 'A' { 'B' } else { 'A' };
    chars.into_iter().collect()
}

#[tokio::test]
async fn every_kind_of_bad_token_is_refused_at_both_doors_and_changes_nothing() {
    let app = spawn_app().await;
    let (id, links) = booked_with_links(&app, &app.create_slot(24).await).await;
    let accept = token_of(&links[0]);
    let decline = token_of(&links[1]);
    assert_eq!(accept.len(), 48);
    let mut bad: Vec<(String, String)> = Vec::new();
    // A changed character in the random part (start, middle, end) and in the tag.
    for i in [0, 1, 15, 31, 32, 40, 47] {
        bad.push((format!("tampered at {i}"), flip(&accept, i)));
    }
    bad.push(("truncated by one".into(), accept[..47].to_owned()));
    bad.push(("random part only".into(), accept[..32].to_owned()));
    bad.push(("extended by one".into(), format!("{accept}A")));
    bad.push(("doubled".into(), format!("{accept}{accept}")));
    bad.push(("padded".into(), format!("{accept}==")));
    bad.push(("upper-cased".into(), accept.to_ascii_uppercase()));
    bad.push((
        "the tag of another link".into(),
        format!("{}{}", &accept[..32], &decline[32..]),
    ));
    // A percent-escaped character that is not the token's own (`%41` is `A`: escaping the
    // token's own first character would decode, as any URL does, to the right token).
    let escaped = if accept.starts_with('A') {
        "%42"
    } else {
        "%41"
    };
    bad.push(("escaped".into(), format!("{escaped}{}", &accept[1..])));
    for (what, token) in &bad {
        if token == &accept {
            continue;
        }
        for path in ["/api/actions", "/functions/v1/update-guidance-booking"] {
            let (status, body) = app
                .post_json(path, &json!({"token": token, "action": "accept"}))
                .await;
            assert_eq!(status, 404, "{what} at {path}: {body}");
            assert_eq!(body["error"]["code"], "token_invalid", "{what}");
        }
        for method in [reqwest::Method::GET, reqwest::Method::POST] {
            let resp = app
                .client
                .request(method.clone(), app.url(&format!("/a/{token}")))
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 404, "{what}: {method} /a/");
            assert!(
                resp.text()
                    .await
                    .unwrap()
                    .contains("This link is not valid")
            );
        }
    }
    assert_eq!(
        app.booking(&id).await["status"],
        "pending",
        "nothing happened"
    );
    assert_eq!(
        app.booking(&id).await["events"].as_array().unwrap().len(),
        1
    );

    // The right link for another action, under the alias too.
    let (status, body) = app
        .post_json(
            "/functions/v1/update-guidance-booking",
            &json!({"token": accept, "action": "reschedule"}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (400, json!("wrong_action"))
    );

    // Used once through the page; then refused everywhere as used, and its siblings as out of date.
    let resp = app.post(&links[0]).await;
    assert_eq!(resp.status(), 200);
    for path in ["/api/actions", "/functions/v1/update-guidance-booking"] {
        let (status, body) = app.post_json(path, &json!({"token": accept})).await;
        assert_eq!(
            (status, body["error"]["code"].clone()),
            (409, json!("token_used")),
            "{path}"
        );
        let (status, body) = app.post_json(path, &json!({"token": decline})).await;
        assert_eq!(
            (status, body["error"]["code"].clone()),
            (409, json!("token_outdated")),
            "{path}"
        );
    }
    for link in &links {
        for method in [reqwest::Method::GET, reqwest::Method::POST] {
            let resp = app
                .client
                .request(method.clone(), link)
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 409, "{method} {link}");
        }
    }
    let booking = app.booking(&id).await;
    assert_eq!(booking["status"], "accepted");
    assert_eq!(
        booking["events"].as_array().unwrap().len(),
        2,
        "one change only"
    );
}

/// Every secret a request may carry is kept out of the logs, even at debug level: the real
/// binary runs a flow with `RUST_LOG=debug`, and its whole output is searched.
#[tokio::test]
async fn no_token_or_secret_appears_in_the_logs_at_debug_level() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = serve_binary(dir.path(), "debug", "out.log");
    let mail = MailDir::new(test_config(dir.path()).mail_dir);
    let api = Api::new(&server.url);
    let result = async {
        let slot = api.create_slot(24).await;
        // This server has no supplemental questions.
        let (_, booked) = api.book(&with(intake(&slot), "answers", json!({}))).await;
        let visitor = booked["status_url"].as_str().expect("booked").to_owned();
        let owner_mail = mail.wait_for("owner_new_request", 1).await.remove(0);
        let links = action_links(&owner_mail, &api.base);
        assert_eq!(links.len(), 3, "the owner's email arrived");
        let mut secrets: Vec<String> = links.iter().map(|l| token_of(l)).collect();
        secrets.push(token_of(&visitor));
        secrets.push(ADMIN_TOKEN.to_owned());
        let client = &api.client;
        client.get(&links[0]).send().await.unwrap();
        client.get(&visitor).send().await.unwrap();
        let status = client.post(&links[0]).send().await.unwrap().status();
        assert_eq!(status, 200);
        let (status, _) = api
            .post_json("/api/actions", &json!({"token": token_of(&links[1])}))
            .await;
        assert_eq!(status, 409);
        client
            .post(api.url(&format!("/a/{}x", token_of(&links[2]))))
            .send()
            .await
            .unwrap();
        api.admin(reqwest::Method::GET, "/api/admin/bookings", None)
            .await;
        secrets
    }
    .await;
    server.process.kill();
    let log = server.process.log_text();
    assert!(
        log.contains("booking requested"),
        "the log was captured: {log:.2000}"
    );
    assert!(log.contains("DEBUG"), "debug level was on");
    for secret in result {
        assert!(
            !log.contains(&secret),
            "a secret ({}…) is in the log",
            &secret[..6]
        );
    }
}
