//! The owner's calendars with real parts: fixture feeds from a local HTTP server checked
//! against an independent expansion (Python `icalendar` + `recurring-ical-events`), a real
//! CalDAV server (Radicale), a source that goes down and comes back, and the owner's feed
//! checked by `icalendar`, `vobject` and ical.js; the owner's calendars page (`admin_page`).

mod admin_page;
mod caldav;
mod fixtures;
mod server;

use guidance_testkit::api::intake;
use guidance_testkit::time::iso;
use guidance_testkit::{icaljs, python};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};
use server::FeedServer;

const OWNER_ZONE: &str = "Europe/Berlin";

/// A day three days ahead, in the owner's zone.
fn base_day() -> Date {
    let zone = TimeZone::get(OWNER_ZONE).unwrap();
    Timestamp::now()
        .to_zoned(zone)
        .date()
        .checked_add(jiff::Span::new().days(3))
        .unwrap()
}

/// The instant of `hour`:00 on `day` in the owner's zone.
fn local(day: Date, hour: i8) -> Timestamp {
    day.at(hour, 0, 0, 0)
        .to_zoned(TimeZone::get(OWNER_ZONE).unwrap())
        .unwrap()
        .timestamp()
}

/// 45-minute slots on the hour, every hour of `days` days from `first`; (id, start, end).
async fn hourly_slots(
    app: &TestApp,
    first: Date,
    days: i64,
) -> Vec<(String, Timestamp, Timestamp)> {
    let start = local(first, 0);
    let mut slots = Vec::new();
    for h in 0..days * 24 {
        let s = start + SignedDuration::from_hours(h);
        let e = s + SignedDuration::from_mins(45);
        slots.push((app.create_slot_at(s, e).await, s, e));
    }
    slots
}

async fn add_source(app: &TestApp, body: Value) -> Value {
    let (status, source) = app
        .admin(Method::POST, "/api/admin/calendars", Some(body))
        .await;
    assert_eq!(status, 201, "adding a calendar: {source}");
    source
}

fn sorted(mut ids: Vec<String>) -> Vec<String> {
    ids.sort();
    ids
}

/// The ids of the slots not in the public list.
async fn hidden(app: &TestApp, slots: &[(String, Timestamp, Timestamp)]) -> Vec<String> {
    let open = app.open_slot_ids().await;
    sorted(
        slots
            .iter()
            .filter(|(id, ..)| !open.contains(id))
            .map(|(id, ..)| id.clone())
            .collect(),
    )
}

async fn poll(app: &TestApp) {
    guidance_app::calendars::poll_due(&app.app)
        .await
        .expect("the poll runs");
}

#[tokio::test]
async fn fixture_feeds_hide_exactly_the_slots_an_independent_expansion_finds_busy() {
    let app = spawn_app().await;
    let d = base_day();
    let yesterday = d.checked_sub(jiff::Span::new().days(1)).unwrap();
    let slots = hourly_slots(&app, yesterday, 6).await;
    let server = FeedServer::start().await;
    let feeds = [
        ("google", fixtures::google(d)),
        ("outlook", fixtures::outlook(d)),
        ("proton", fixtures::proton(d)),
        ("apple", fixtures::apple(d)),
        ("nextcloud", fixtures::nextcloud(d)),
    ];
    let dir = tempfile::tempdir().unwrap();
    let mut paths = Vec::new();
    for (name, body) in &feeds {
        server.serve(&format!("/{name}.ics"), body);
        let path = dir.path().join(format!("{name}.ics"));
        std::fs::write(&path, body).unwrap();
        paths.push(path);
        let source = add_source(
            &app,
            json!({"name": name, "url": format!("{}/{name}.ics", server.base)}),
        )
        .await;
        assert_eq!(source["error"], Value::Null, "{name}: {source}");
        assert_eq!(source["kind"], "ics");
    }

    let slot_file = dir.path().join("slots.json");
    let listed: Vec<Value> = slots
        .iter()
        .map(|(id, s, e)| json!({"id": id, "starts_at": iso(*s), "ends_at": iso(*e)}))
        .collect();
    std::fs::write(&slot_file, serde_json::to_vec(&listed).unwrap()).unwrap();
    let mut args = vec![OWNER_ZONE.into(), slot_file.display().to_string()];
    args.extend(paths.iter().map(|p| p.display().to_string()));
    let expected: Vec<String> = serde_json::from_str(&python::run_checker(
        &python::script("check_busy.py"),
        &args,
    ))
    .expect("the checker's JSON");

    let got = hidden(&app, &slots).await;
    // Every case contributes: a year-old weekly series, the Outlook series, the moved
    // occurrence, Proton's all-day event (a whole local day) and the others.
    assert!(got.len() > 30, "slots hidden: {}", got.len());
    assert_eq!(
        got,
        sorted(expected),
        "hidden slots differ from the independent expansion"
    );

    // The element's list and /book agree with the API; booking a hidden slot is refused.
    let (id, ..) = slots
        .iter()
        .find(|(id, ..)| got.contains(id))
        .expect("a hidden slot");
    let (status, body) = app.book(&intake(id)).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "slot_taken");
    let page = app.text("/book").await;
    assert!(!page.contains(id.as_str()), "/book lists a hidden slot");

    // Removing the sources brings every slot back.
    let (_, list) = app.admin(Method::GET, "/api/admin/calendars", None).await;
    for source in list["calendars"].as_array().unwrap() {
        let path = format!("/api/admin/calendars/{}", source["id"].as_str().unwrap());
        let (status, _) = app.admin(Method::DELETE, &path, None).await;
        assert_eq!(status, 204);
    }
    assert!(hidden(&app, &slots).await.is_empty());
}

#[tokio::test]
async fn a_failing_source_hides_its_slots_after_the_grace_period_and_tells_the_owner_once() {
    let app = spawn_app().await;
    let d = base_day();
    let slots = hourly_slots(&app, d, 1).await;
    let server = FeedServer::start().await;
    // Busy 09:00–10:00 Berlin.
    let nine = local(d, 9).strftime("%Y%m%dT%H%M%SZ").to_string();
    let ten = local(d, 10).strftime("%Y%m%dT%H%M%SZ").to_string();
    server.serve(
        "/work.ics",
        &format!(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:a\r\n\
             DTSTAMP:20260101T000000Z\r\nDTSTART:{nine}\r\nDTEND:{ten}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
        ),
    );
    let source = add_source(
        &app,
        json!({"name": "Work", "url": format!("{}/work.ics", server.base)}),
    )
    .await;
    assert_eq!(source["busy_intervals"], 1);
    let nine_id = slots[9].0.clone();
    assert_eq!(hidden(&app, &slots).await, vec![nine_id.clone()]);

    // A second poll of the unchanged feed is a 304 and keeps the busy time.
    let refresh = format!(
        "/api/admin/calendars/{}/refresh",
        source["id"].as_str().unwrap()
    );
    let (status, again) = app.admin(Method::POST, &refresh, None).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(server.counts(), (1, 1), "(304s, full documents)");
    assert_eq!(again["busy_intervals"], 1);

    // Down: within the grace period the last busy times still hold and other slots stay open.
    server.set_failing(true);
    app.pass_hours(0.1).await;
    poll(&app).await;
    assert_eq!(hidden(&app, &slots).await, vec![nine_id.clone()]);
    let (_, list) = app.admin(Method::GET, "/api/admin/calendars", None).await;
    assert!(
        list["calendars"][0]["error"]
            .as_str()
            .unwrap()
            .contains("503")
    );
    assert!(app.mail.of_kind("calendar_failing").is_empty());

    // Past the grace period: every slot it covers is hidden, and the owner hears of it once.
    app.pass_hours(0.5).await;
    poll(&app).await;
    assert_eq!(hidden(&app, &slots).await.len(), slots.len());
    let (status, body) = app.book(&intake(&slots[3].0)).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (409, &json!("slot_taken"))
    );
    app.pass_hours(0.1).await;
    poll(&app).await;
    app.mail.wait_for("calendar_failing", 1).await;
    app.pass_hours(0.1).await;
    poll(&app).await;

    // Back: slots follow the calendar again, and one more email says so.
    server.set_failing(false);
    app.pass_hours(0.1).await;
    poll(&app).await;
    assert_eq!(hidden(&app, &slots).await, vec![nine_id]);
    app.mail.wait_for("calendar_recovered", 1).await;
    assert_eq!(app.mail.of_kind("calendar_failing").len(), 1, "exactly one");
    assert_eq!(app.mail.of_kind("calendar_recovered").len(), 1);
}

#[tokio::test]
async fn the_owner_feed_shows_a_request_its_acceptance_and_cancellation_with_one_uid() {
    let app = spawn_app().await;
    let (status, feed) = app.admin(Method::GET, "/api/admin/feed", None).await;
    assert_eq!(status, 200);
    let url = feed["url"].as_str().unwrap().to_owned();
    let path = url
        .split_once("/feed/")
        .map(|(_, p)| format!("/feed/{p}"))
        .unwrap();

    let slot = app.create_slot(72).await;
    let (status, booking) = app.book(&intake(&slot)).await;
    assert_eq!(status, 201, "{booking}");
    let id = booking["id"].as_str().unwrap().to_owned();
    let uid_seq = |doc: &Value| {
        let events = doc["events"].as_object().unwrap();
        assert_eq!(events.len(), 1, "{doc}");
        let (uid, e) = events.iter().next().unwrap();
        (
            uid.clone(),
            e["sequence"].as_i64().unwrap(),
            e["status"].as_str().unwrap().to_owned(),
        )
    };
    // Read by Python's `icalendar` and `vobject`, and by ical.js, which must all agree.
    let read = |text: String| {
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), &text).unwrap();
        let out = python::run_checker(&python::script("check_feed.py"), &[file.path()]);
        let doc = serde_json::from_str::<Value>(&out).unwrap();
        let by_js = icaljs::read(&text);
        assert_eq!(by_js["method"], Value::Null, "a feed has no METHOD");
        assert_eq!(by_js["name"], doc["name"]);
        assert_eq!(by_js["refresh"], doc["refresh"]);
        let js_events: serde_json::Map<String, Value> = by_js["events"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(uid, e)| {
                let seen = json!({"sequence": e["sequence"], "status": e["status"]});
                (uid.clone(), seen)
            })
            .collect();
        assert_eq!(
            Value::Object(js_events),
            doc["events"],
            "ical.js reads {by_js}"
        );
        doc
    };

    let resp = app.get(&path).await;
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/calendar")
    );
    let etag = resp.headers()["etag"].to_str().unwrap().to_owned();
    let pending = read(resp.text().await.unwrap());
    assert!(pending["name"].as_str().unwrap().contains("Olga Owner"));
    assert_eq!(pending["refresh"], "PT15M");
    let (uid, seq0, status0) = uid_seq(&pending);
    assert_eq!(status0, "TENTATIVE");
    assert!(uid.ends_with("@guidance"));

    let unchanged = guidance_testkit::api::client(std::time::Duration::from_secs(10))
        .get(app.url(&path))
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(unchanged.status(), 304);

    let (status, _) = app.act(&id, "accept", None).await;
    assert_eq!(status, 200);
    let (uid1, seq1, status1) = uid_seq(&read(app.text(&path).await));
    assert_eq!(
        (uid1.as_str(), status1.as_str()),
        (uid.as_str(), "CONFIRMED")
    );
    assert!(seq1 > seq0);

    let (status, _) = app.act(&id, "cancel", None).await;
    assert_eq!(status, 200);
    let (uid2, seq2, status2) = uid_seq(&read(app.text(&path).await));
    assert_eq!(
        (uid2.as_str(), status2.as_str()),
        (uid.as_str(), "CANCELLED")
    );
    assert!(seq2 > seq1);

    // The booking's emailed invites carry the same UID and SEQUENCE, as ical.js reads them.
    for (kind, method, sequence, status) in [
        ("owner_new_request", "REQUEST", seq0, "TENTATIVE"),
        ("owner_accepted", "REQUEST", seq1, "CONFIRMED"),
        ("owner_calendar_cancel", "CANCEL", seq2, "CANCELLED"),
    ] {
        let invite = app.mail.wait_for(kind, 1).await.remove(0);
        let (_, ics) = guidance_testkit::mail::calendar_part(&invite).expect("a calendar part");
        let by_js = icaljs::read(&ics);
        assert_eq!(by_js["method"], method, "{kind}: {by_js}");
        assert_eq!(
            by_js["events"][&uid]["sequence"], sequence,
            "{kind}: {by_js}"
        );
        assert_eq!(by_js["events"][&uid]["status"], status, "{kind}: {by_js}");
    }

    // Rotating kills the old address at once.
    let (_, rotated) = app
        .admin(Method::POST, "/api/admin/feed/rotate", None)
        .await;
    assert_ne!(rotated["url"], feed["url"]);
    assert_eq!(app.get(&path).await.status(), 404);
}
