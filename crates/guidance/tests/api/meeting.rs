//! Meeting rooms (`GUIDANCE_MEETING_URL`, optionally signed for secured Jitsi): made on
//! acceptance, kept across a new time, shown in the confirmation, on the visitor's page and in
//! the invitation (`LOCATION`, `URL`, `CONFERENCE`), which the independent parsers (Python's
//! `icalendar` and `vobject`, and ical.js) still read;
//! the JWT verifies with the secret (PyJWT) and expires as configured.

use guidance_testkit::api::intake;
use guidance_testkit::mail::{action_links, calendar_part, plain_text, token_of};
use guidance_testkit::{icaljs, python};
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use crate::helpers::*;

const SECRET: &str = "a meeting secret that is long enough for HS256";

/// What `scripts/check_meeting.py` read from the invitation of `eml`: its join address and
/// the JWT's claims (verified with [`SECRET`]).
fn checked(eml: &std::path::Path) -> (String, Value) {
    let out = python::run_checker(
        &python::script("check_meeting.py"),
        &[eml.as_os_str(), SECRET.as_ref(), "jitsi".as_ref()],
    );
    let v: Value = serde_json::from_str(out.trim()).expect("the checker's JSON");
    let url = v["url"].as_str().unwrap().to_owned();
    // ical.js (Proton's parser) reads the same room three times over in the calendar part.
    let (method, ics) = calendar_part(&std::fs::read(eml).unwrap()).expect("a calendar part");
    let by_js = icaljs::read(&ics);
    assert_eq!(by_js["method"], method.to_uppercase());
    assert_eq!(by_js["count"], 1, "{by_js}");
    let event = by_js["events"]
        .as_object()
        .unwrap()
        .values()
        .next()
        .unwrap();
    for property in ["location", "url", "conference"] {
        assert_eq!(event[property], url.as_str(), "ical.js {property}: {by_js}");
    }
    (url, v["claims"].clone())
}

/// The address without its JWT.
fn room_address(url: &str) -> &str {
    url.split_once("?jwt=").map_or(url, |(a, _)| a)
}

/// The newest delivered file of `kind`.
async fn newest(app: &TestApp, kind: &str, count: usize) -> std::path::PathBuf {
    app.mail.wait_for(kind, count).await;
    app.mail
        .paths()
        .into_iter()
        .rfind(|p| p.to_string_lossy().contains(kind))
        .expect("a file")
}

#[tokio::test]
async fn a_room_is_made_on_acceptance_shown_everywhere_and_kept_across_a_new_time() {
    let app = spawn_app_with(|c| {
        c.meeting.meeting_url = Some("https://meet.example.org/guidance-{room}".into());
        c.meeting.meeting_jwt_secret = Some(SECRET.into());
        c.meeting.meeting_jwt_app_id = Some("guidance".into());
        c.meeting.meeting_jwt_minutes_after = 20;
    })
    .await;
    let slot = app.create_slot(30).await;
    let (status, body) = app.book(&intake(&slot)).await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_str().unwrap().to_owned();
    let my_page = body["status_url"].as_str().unwrap().to_owned();
    // No room before the owner accepts.
    assert!(!app.text(&my_page).await.contains("meet.example.org"));
    assert_eq!(app.act(&id, "accept", None).await.0, 200);

    // The confirmation: the invitation holds the room three times over, and both parsers and
    // PyJWT agree; the token opens this room until 20 minutes after the session.
    let confirmation = newest(&app, "requester_accepted", 1).await;
    let (url, claims) = checked(&confirmation);
    let room = room_address(&url).to_owned();
    assert!(
        room.starts_with("https://meet.example.org/guidance-"),
        "{url}"
    );
    let name = room.rsplit_once("guidance-").unwrap().1;
    assert_eq!(name.len(), 32, "an unguessable name: {name}");
    assert_eq!(claims["room"], name);
    assert_eq!(claims["iss"], "guidance");
    assert_eq!(claims["sub"], "meet.example.org");
    let booking = app.booking(&id).await;
    let ends: Timestamp = booking["ends_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        claims["exp"].as_i64().unwrap(),
        (ends + SignedDuration::from_mins(20)).as_second()
    );
    let raw = std::fs::read(&confirmation).unwrap();
    assert!(
        plain_text(&raw).lines().any(|l| l.trim() == url),
        "the join link in the text"
    );
    // The owner's confirmed entry too; the whole emails still pass the email checker.
    let owner = newest(&app, "owner_accepted", 1).await;
    assert_eq!(room_address(&checked(&owner).0), room);
    python::check_eml(&[&confirmation, &owner]);
    // Nothing stored holds a token.
    assert!(!booking.to_string().contains("jwt"));

    // The visitor's page shows the room.
    let page = app.text(&my_page).await;
    assert!(page.contains(&format!("href=\"{room}?jwt=")), "{page}");

    // A new time keeps the room.
    assert_eq!(app.act(&id, "reschedule", None).await.0, 200);
    let pick = app
        .mail
        .wait_for("requester_pick_new_time", 1)
        .await
        .remove(0);
    let link = action_links(&pick, &app.base).remove(0);
    let other = app.create_slot(40).await;
    let (status, body) = app
        .post_json(
            "/api/actions",
            &json!({"token": token_of(&link), "slot_id": other}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(app.act(&id, "accept", None).await.0, 200);
    let again = newest(&app, "requester_accepted", 2).await;
    let (url, claims) = checked(&again);
    assert_eq!(room_address(&url), room, "the same room");
    let ends: Timestamp = app.booking(&id).await["ends_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        claims["exp"].as_i64().unwrap(),
        (ends + SignedDuration::from_mins(20)).as_second(),
        "valid until after the new time"
    );
    let (method, _) = calendar_part(&std::fs::read(&again).unwrap()).unwrap();
    assert_eq!(method, "REQUEST");
}

#[tokio::test]
async fn without_a_secret_the_room_is_a_plain_address() {
    let app = spawn_app_with(|c| {
        c.meeting.meeting_url = Some("https://meet.example.org/{room}".into());
    })
    .await;
    let slot = app.create_slot(30).await;
    let (_, body) = app.book(&intake(&slot)).await;
    let id = body["id"].as_str().unwrap().to_owned();
    assert_eq!(app.act(&id, "accept", None).await.0, 200);
    let (url, claims) = checked(&newest(&app, "requester_accepted", 1).await);
    assert!(!url.contains("jwt"), "{url}");
    assert_eq!(claims, json!({}));
}
