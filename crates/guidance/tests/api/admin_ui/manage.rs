//! The owner's work in the admin UI over HTTP: settings that change the public flow and the
//! emails, messages to the requester, slots generated from patterns and edited in bulk, and
//! bookings filtered, searched and answered.

use guidance_testkit::api::intake;
use guidance_testkit::mail::{html_text, plain_text};
use reqwest::Method;
use serde_json::{Value, json};

use super::{login, spawn_admin_app};
use crate::helpers::*;

#[tokio::test]
async fn closed_booking_and_notice_and_horizon_come_from_the_settings() {
    closed_booking_and_notice_and_horizon_come_from_the_settings_on(spawn_admin_app().await).await;
}

/// The body, on any store (`tests/api/postgres.rs` runs it on PostgreSQL).
pub async fn closed_booking_and_notice_and_horizon_come_from_the_settings_on(app: TestApp) {
    let soon = app.create_slot(24).await;
    let later = app.create_slot(24 * 5).await;
    let (status, s) = app.put_settings(json!({"booking_open": false})).await;
    assert_eq!(status, 200, "{s}");
    assert!(app.open_slot_ids().await.is_empty());
    let (status, body) = app.book(&intake(&soon)).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("booking_closed"))
    );
    let page = app.text("/book").await;
    assert!(page.contains("Booking is closed at the moment"), "{page}");
    // The owner still sees and prepares slots, with a banner that says booking is closed.
    let owner = login(&app).await;
    let (_, html) = owner.get(&app, "/admin/slots?view=list").await;
    assert!(html.contains("Booking is closed: visitors cannot book"));
    assert_eq!(html.matches("data-slot-id=").count(), 2);

    // Open again, with two days' notice and a three-day horizon: neither slot is bookable.
    let (status, _) = app
        .put_settings(json!({"booking_open": true, "min_notice_hours": 48, "horizon_days": 3}))
        .await;
    assert_eq!(status, 200);
    assert!(app.open_slot_ids().await.is_empty());
    assert_eq!(app.book(&intake(&soon)).await.0, 409);
    assert_eq!(app.book(&intake(&later)).await.0, 409);
    let (status, _) = app.put_settings(json!({"horizon_days": 10})).await;
    assert_eq!(status, 200);
    assert_eq!(app.open_slot_ids().await, vec![later.clone()]);
    assert_eq!(app.book(&intake(&later)).await.0, 201);

    // Bad settings are refused field by field and change nothing.
    let (status, body) = app
        .put_settings(
            json!({"time_zone": "Mars/Olympus", "owner_email": "nope", "horizon_days": 0}),
        )
        .await;
    assert_eq!(status, 422);
    let fields = body["error"]["fields"].as_object().unwrap();
    assert!(
        fields.contains_key("time_zone")
            && fields.contains_key("owner_email")
            && fields.contains_key("horizon_days")
    );
    let s = app.settings().await;
    assert_eq!(s["time_zone"], "Europe/Berlin");
    assert_eq!(s["horizon_days"], 10);

    // The settings page: an unticked box closes booking; a bad zone is named and changes nothing.
    let form = |zone: &'static str| {
        [
            ("owner_name", "Olga Owner"),
            ("owner_email", "owner@example.org"),
            ("time_zone", zone),
            ("language", "en"),
            ("min_notice_hours", "0"),
            ("horizon_days", "30"),
            ("answer_within_hours", "48"),
            ("answer_reminder_hours", "12"),
            ("reminder_offsets_minutes", "1440, 60"),
        ]
    };
    let (status, html) = owner
        .post(&app, "/admin/settings", &form("Mars/Olympus"))
        .await;
    assert_eq!(status, 422);
    assert!(html.contains("This is not a known time zone."));
    let s = app.settings().await;
    assert_eq!(
        (s["booking_open"].as_bool(), s["horizon_days"].as_i64()),
        (Some(true), Some(10))
    );
    let (status, location) = owner
        .post(&app, "/admin/settings", &form("America/New_York"))
        .await;
    assert_eq!(
        (status, location.as_str()),
        (303, "/admin/settings?done=settings_saved")
    );
    let s = app.settings().await;
    assert_eq!(s["booking_open"], false);
    assert_eq!(s["time_zone"], "America/New_York");
    assert_eq!(s["horizon_days"], 30);
    let (_, html) = owner.get(&app, "/admin/settings?done=settings_saved").await;
    assert!(html.contains("The settings were saved."));
    assert!(
        html.contains("<option value=\"Europe/Berlin\">"),
        "zone suggestions"
    );
}

#[tokio::test]
async fn stored_owner_settings_reach_the_emails() {
    let app = spawn_admin_app().await;
    let (status, _) = app
        .put_settings(json!({"owner_name": "Grete Guide", "owner_email": "grete@example.org"}))
        .await;
    assert_eq!(status, 200);
    let slot = app.create_slot(24).await;
    assert_eq!(app.book(&intake(&slot)).await.0, 201);
    let owner_mail = app.mail.wait_for("owner_new_request", 1).await.remove(0);
    let text = String::from_utf8_lossy(&owner_mail);
    assert!(
        text.contains("To: \"Grete Guide\" <grete@example.org>"),
        "{text}"
    );
}

#[tokio::test]
async fn the_owners_message_is_quoted_in_the_requesters_email_and_kept_in_the_history() {
    let app = spawn_admin_app().await;
    let slot = app.create_slot(24).await;
    let (_, b) = app.book(&intake(&slot)).await;
    let id = b["id"].as_str().unwrap();
    let owner = login(&app).await;
    let message = "Looking forward to it!\nPlease bring <your> notes.";
    let (status, location) = owner
        .post(
            &app,
            &format!("/admin/bookings/{id}/act"),
            &[("action", "accept"), ("message", message)],
        )
        .await;
    assert_eq!(status, 303, "{location}");
    assert_eq!(location, format!("/admin/bookings/{id}?done=action_done"));
    let detail = app.booking(id).await;
    assert_eq!(detail["status"], "accepted");
    assert_eq!(detail["events"][1]["note"], message);
    let mail = app.mail.wait_for("requester_accepted", 1).await.remove(0);
    let text = plain_text(&mail).replace("\r\n", "\n");
    assert!(
        text.contains(
            "A message from Olga Owner:\n> Looking forward to it!\n> Please bring <your> notes."
        ),
        "{text}"
    );
    let html = html_text(&mail);
    assert!(html.contains("<blockquote"), "{html}");
    assert!(!html.contains("<your>"), "escaped in HTML: {html}");
    // The page shows the history with the note, and the email with its delivery state.
    let (_, html) = owner.get(&app, &format!("/admin/bookings/{id}")).await;
    assert!(
        html.contains("Please bring &#60;your&#62; notes.")
            || html.contains("Please bring &lt;your&gt; notes."),
        "{html}"
    );
    assert!(html.contains("Confirmation with invitation"));
}

#[tokio::test]
async fn a_pattern_across_the_spring_clock_change_keeps_berlin_wall_clock_times() {
    let app = spawn_admin_app().await;
    // Berlin springs forward on Sunday 28 March 2027.
    let (status, report) = app
        .admin(
            Method::POST,
            "/api/admin/slots/generate",
            Some(json!({
                "weekdays": [5, 6, 7, 1], "window_start": "09:00", "window_end": "12:00",
                "session_minutes": 45, "gap_minutes": 15,
                "first_day": "2027-03-26", "last_day": "2027-03-29"
            })),
        )
        .await;
    assert_eq!(status, 201, "{report}");
    let created = report["created"].as_array().unwrap();
    assert_eq!(created.len(), 12);
    assert!(report["skipped"].as_array().unwrap().is_empty());
    let berlin = jiff::tz::TimeZone::get("Europe/Berlin").unwrap();
    let local: Vec<String> = created
        .iter()
        .map(|s| {
            let t: jiff::Timestamp = s["starts_at"].as_str().unwrap().parse().unwrap();
            t.to_zoned(berlin.clone()).strftime("%a %H:%M").to_string()
        })
        .collect();
    assert_eq!(
        local,
        [
            "Fri 09:00",
            "Fri 10:00",
            "Fri 11:00",
            "Sat 09:00",
            "Sat 10:00",
            "Sat 11:00",
            "Sun 09:00",
            "Sun 10:00",
            "Sun 11:00",
            "Mon 09:00",
            "Mon 10:00",
            "Mon 11:00"
        ]
    );
    // The same local time is a different UTC time on either side of the change.
    assert_eq!(created[0]["starts_at"], "2027-03-26T08:00:00Z");
    assert_eq!(created[6]["starts_at"], "2027-03-28T07:00:00Z");
    // Running the same pattern again skips every session, each reported as an overlap.
    let (status, again) = app
        .admin(
            Method::POST,
            "/api/admin/slots/generate",
            Some(json!({
                "weekdays": [7], "window_start": "09:00", "window_end": "12:00",
                "session_minutes": 45, "gap_minutes": 15,
                "first_day": "2027-03-26", "last_day": "2027-03-29"
            })),
        )
        .await;
    assert_eq!(status, 201);
    assert!(again["created"].as_array().unwrap().is_empty());
    let skipped = again["skipped"].as_array().unwrap();
    assert_eq!(skipped.len(), 3);
    assert!(skipped.iter().all(|s| s["reason"] == "overlap"));
    assert_eq!(
        skipped[0],
        json!({"date": "2027-03-28", "time": "09:00", "reason": "overlap"})
    );
}

#[tokio::test]
async fn slots_are_edited_and_changed_in_bulk_through_the_ui() {
    slots_are_edited_and_changed_in_bulk_through_the_ui_on(spawn_admin_app().await).await;
}

/// The body, on any store (`tests/api/postgres.rs` runs it on PostgreSQL).
pub async fn slots_are_edited_and_changed_in_bulk_through_the_ui_on(app: TestApp) {
    let a = app.create_slot(24).await;
    let b = app.create_slot(26).await;
    let booked = app.create_slot(28).await;
    assert_eq!(app.book(&intake(&booked)).await.0, 201);
    let owner = login(&app).await;
    let (status, location) = owner
        .post(
            &app,
            "/admin/slots/bulk",
            &[
                ("action", "unavailable"),
                ("ids", &a),
                ("ids", &b),
                ("ids", &booked),
                ("back", "/admin/slots?view=list"),
            ],
        )
        .await;
    assert_eq!(status, 303);
    assert_eq!(
        location,
        "/admin/slots?view=list&done=slots_changed&n=2&r=1"
    );
    assert!(app.open_slot_ids().await.is_empty());
    let (_, html) = owner.get(&app, &location).await;
    assert!(html.contains("2 slots changed; 1 left as they were"));
    owner
        .post(
            &app,
            "/admin/slots/bulk",
            &[("action", "available"), ("ids", &a)],
        )
        .await;
    assert_eq!(app.open_slot_ids().await, vec![a.clone()]);
    owner
        .post(
            &app,
            "/admin/slots/bulk",
            &[("action", "delete"), ("ids", &b), ("ids", &booked)],
        )
        .await;
    let (_, slots) = app.admin(Method::GET, "/api/admin/slots", None).await;
    let ids: Vec<&str> = slots["slots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&a.as_str()) && ids.contains(&booked.as_str()) && !ids.contains(&b.as_str())
    );

    // Edit: move the slot to another local time in the owner's zone (Europe/Berlin).
    let (status, html) = owner.get(&app, &format!("/admin/slots/{a}")).await;
    assert_eq!(status, 200);
    assert!(html.contains("name=\"date\""));
    let (status, location) = owner
        .post(
            &app,
            &format!("/admin/slots/{a}"),
            &[
                ("date", "2027-01-15"),
                ("start", "14:00"),
                ("end", "14:50"),
                ("meeting_details", "https://meet.example/x"),
            ],
        )
        .await;
    assert_eq!(status, 303, "{location}");
    let (_, slots) = app
        .admin(
            Method::GET,
            "/api/admin/slots?from=2027-01-15T00:00:00Z&to=2027-01-16T00:00:00Z",
            None,
        )
        .await;
    assert_eq!(slots["slots"][0]["starts_at"], "2027-01-15T13:00:00Z");
    assert_eq!(slots["slots"][0]["ends_at"], "2027-01-15T13:50:00Z");
    assert_eq!(
        slots["slots"][0]["meeting_details"],
        "https://meet.example/x"
    );
    // Bad input names its field and changes nothing.
    let (status, html) = owner
        .post(
            &app,
            &format!("/admin/slots/{a}"),
            &[("date", "2027-01-15"), ("start", "15:00"), ("end", "14:00")],
        )
        .await;
    assert_eq!(status, 422);
    assert!(html.contains("The end must be after the start."));
    let (_, slots) = app
        .admin(
            Method::GET,
            "/api/admin/slots?from=2027-01-15T00:00:00Z&to=2027-01-16T00:00:00Z",
            None,
        )
        .await;
    assert_eq!(slots["slots"][0]["starts_at"], "2027-01-15T13:00:00Z");
    // A local time the clocks skip is refused rather than silently moved.
    let (status, _) = owner
        .post(
            &app,
            "/admin/slots",
            &[("date", "2027-03-28"), ("start", "02:30"), ("end", "03:30")],
        )
        .await;
    assert_eq!(status, 422);
}

#[tokio::test]
async fn bookings_are_filtered_by_status_and_searched() {
    let app = spawn_admin_app().await;
    let mut ids = Vec::new();
    for (i, (name, email, topic)) in [
        ("Ada Lovelace", "ada@example.net", "Engines"),
        ("Grace Hopper", "grace@navy.example", "Compilers"),
        ("Alan Turing", "alan@example.org", "Computable numbers"),
    ]
    .into_iter()
    .enumerate()
    {
        let slot = app.create_slot(24 + 2 * i64::try_from(i).unwrap()).await;
        let mut body = intake(&slot);
        body["name"] = json!(name);
        body["email"] = json!(email);
        body["topic"] = json!(topic);
        let (_, b) = app.book(&body).await;
        ids.push(b["id"].as_str().unwrap().to_owned());
    }
    let (status, _) = app.act(&ids[1], "accept", None).await;
    assert_eq!(status, 200);
    let owner = login(&app).await;
    let names = |html: &str| -> Vec<String> {
        ["Ada Lovelace", "Grace Hopper", "Alan Turing"]
            .iter()
            .filter(|n| html.contains(*n))
            .map(|n| (*n).to_owned())
            .collect()
    };
    let (_, html) = owner.get(&app, "/admin/bookings").await;
    // Pending first, then accepted.
    let ada = html.find("Ada Lovelace").unwrap();
    let alan = html.find("Alan Turing").unwrap();
    let grace = html.find("Grace Hopper").unwrap();
    assert!(ada < alan && alan < grace, "pending before accepted");
    let (_, html) = owner.get(&app, "/admin/bookings?status=accepted").await;
    assert_eq!(names(&html), ["Grace Hopper"]);
    let (_, html) = owner.get(&app, "/admin/bookings?q=COMPUT").await;
    assert_eq!(names(&html), ["Alan Turing"]);
    let (_, html) = owner.get(&app, "/admin/bookings?q=navy").await;
    assert_eq!(names(&html), ["Grace Hopper"]);
    let (_, html) = owner.get(&app, "/admin/bookings?status=pending&q=a").await;
    assert_eq!(names(&html), ["Ada Lovelace", "Alan Turing"]);
    // The owner API filters the same way (one implementation).
    let (_, body) = app
        .admin(Method::GET, "/api/admin/bookings?q=engines", None)
        .await;
    let found: Vec<&Value> = body["bookings"].as_array().unwrap().iter().collect();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["name"], "Ada Lovelace");
}

#[tokio::test]
async fn the_pattern_form_reports_what_it_skipped() {
    let app = spawn_admin_app().await;
    let owner = login(&app).await;
    let form = [
        ("weekdays", "1"),
        ("weekdays", "2"),
        ("window_start", "09:00"),
        ("window_end", "11:00"),
        ("session_minutes", "60"),
        ("gap_minutes", "0"),
        ("first_day", "2027-01-04"),
        ("last_day", "2027-01-10"),
    ];
    let (status, html) = owner.post(&app, "/admin/slots/generate", &form).await;
    assert_eq!(status, 200);
    assert!(html.contains("4 slots created."), "{html}");
    assert!(html.contains("No session was skipped."));
    let (status, html) = owner.post(&app, "/admin/slots/generate", &form).await;
    assert_eq!(status, 200);
    assert!(html.contains("0 slots created."));
    assert!(html.contains("4 sessions skipped:"));
    assert_eq!(html.matches("Overlaps an existing slot").count(), 4);
    assert!(html.contains("Mon, Jan 4"), "CLDR short date: {html}");
    // A bad pattern names its fields and creates nothing.
    let (status, html) = owner
        .post(
            &app,
            "/admin/slots/generate",
            &[
                ("window_start", "11:00"),
                ("window_end", "10:00"),
                ("session_minutes", "60"),
                ("first_day", "2027-02-01"),
                ("last_day", "2027-02-07"),
            ],
        )
        .await;
    assert_eq!(status, 422);
    assert!(html.contains("Please fill this in."), "no weekday chosen");
    assert!(html.contains("The end must be after the start."));
    let (_, slots) = app
        .admin(
            Method::GET,
            "/api/admin/slots?from=2027-01-01T00:00:00Z&to=2027-03-01T00:00:00Z",
            None,
        )
        .await;
    assert_eq!(slots["slots"].as_array().unwrap().len(), 4);
}

#[tokio::test]
async fn a_declined_bookings_slot_can_be_withdrawn_from_the_booking_page() {
    let app = spawn_admin_app().await;
    let slot = app.create_slot(24).await;
    let (_, b) = app.book(&intake(&slot)).await;
    let id = b["id"].as_str().unwrap();
    let owner = login(&app).await;
    // While the booking holds it, the slot cannot be withdrawn.
    let (status, _) = owner
        .post(&app, &format!("/admin/bookings/{id}/slot-unavailable"), &[])
        .await;
    assert_eq!(status, 409);
    let (status, _) = owner
        .post(
            &app,
            &format!("/admin/bookings/{id}/act"),
            &[("action", "decline")],
        )
        .await;
    assert_eq!(status, 303);
    assert_eq!(
        app.open_slot_ids().await,
        vec![slot.clone()],
        "declining frees the slot"
    );
    let (_, html) = owner.get(&app, &format!("/admin/bookings/{id}")).await;
    assert!(html.contains("id=\"slot-unavailable\""));
    assert!(
        !html.contains("id=\"do-accept\""),
        "no actions a declined booking cannot take"
    );
    let (status, location) = owner
        .post(&app, &format!("/admin/bookings/{id}/slot-unavailable"), &[])
        .await;
    assert_eq!(
        (status, location),
        (303, format!("/admin/bookings/{id}?done=slot_unavailable"))
    );
    assert!(app.open_slot_ids().await.is_empty());
    // An unknown action or booking changes nothing.
    let (status, _) = owner
        .post(
            &app,
            &format!("/admin/bookings/{id}/act"),
            &[("action", "explode")],
        )
        .await;
    assert_eq!(status, 422);
    let (status, _) = owner
        .post(
            &app,
            &format!("/admin/bookings/{}/act", uuid::Uuid::new_v4()),
            &[("action", "accept")],
        )
        .await;
    assert_eq!(status, 404);
}
