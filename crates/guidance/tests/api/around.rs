//! Around the session, with the test clock moved (never by sleeping or editing rows): a
//! request's answer-by time, the owner's reminder before it and the expiry at it, with both
//! emails; the reminders of an accepted session at each offset, moved by a reschedule, withdrawn
//! by a cancellation, sent late while still before the session and dropped after its start.

use guidance_testkit::api::intake;
use guidance_testkit::mail::{action_links, calendar_part, plain_text, token_of};
use guidance_testkit::time::{hours_ahead, iso};
use guidance_testkit::wait::poll;
use jiff::{SignedDuration, Timestamp};
use reqwest::Method;
use serde_json::{Value, json};
use std::time::Duration;

use crate::admin_ui::{login, spawn_admin_app};
use crate::helpers::*;

/// Books `slot` and returns the booking's id.
async fn book(app: &TestApp, slot: &str) -> String {
    let (status, body) = app.book(&intake(slot)).await;
    assert_eq!(status, 201, "{body}");
    body["id"].as_str().unwrap().to_owned()
}

/// Creates a 45-minute slot starting `hours` whole hours ahead, with meeting details.
async fn slot_with_details(app: &TestApp, hours: i64) -> String {
    let start = hours_ahead(hours);
    let body = json!({"starts_at": iso(start), "ends_at": iso(start + SignedDuration::from_mins(45)),
        "meeting_details": "Call +49 30 1234567"});
    let (status, slot) = app
        .admin(Method::POST, "/api/admin/slots", Some(body))
        .await;
    assert_eq!(status, 201, "{slot}");
    slot["id"].as_str().unwrap().to_owned()
}

fn time(v: &Value) -> Timestamp {
    v.as_str().expect("a time").parse().expect("RFC 3339")
}

/// Moves the clock to just after `at`.
async fn pass_until(app: &TestApp, at: Timestamp) {
    let left = at.duration_since(app.app.now()).as_secs_f64() / 3600.0;
    app.pass_hours(left.max(0.0) + 0.01).await;
}

/// The booking's emails of `kind`, as the owner API lists them.
async fn emails_of(app: &TestApp, id: &str, kind: &str) -> Vec<Value> {
    app.emails(id)
        .await
        .into_iter()
        .filter(|e| e["kind"] == kind)
        .collect()
}

/// The booking's emails of `kind` once every one is marked sent: the worker marks a message
/// after the mail server took it, so the sink may hold it a moment before its row says so.
async fn sent_emails_of(app: &TestApp, id: &str, kind: &str) -> Vec<Value> {
    poll(Duration::from_secs(30), || async {
        let emails = emails_of(app, id, kind).await;
        emails
            .iter()
            .all(|e| !e["sent_at"].is_null())
            .then_some(emails)
    })
    .await
    .unwrap_or_else(|| panic!("the {kind} emails of {id} were never all marked sent"))
}

#[tokio::test]
async fn an_unanswered_request_reminds_the_owner_then_expires_telling_both() {
    let app = spawn_app().await;
    let slot = app.create_slot(100).await;
    let id = book(&app, &slot).await;
    let booking = app.booking(&id).await;
    // 48 hours to answer by default, far before the session.
    let answer_by = time(&booking["answer_by"]);
    assert_eq!(
        answer_by,
        time(&booking["created_at"]) + SignedDuration::from_hours(48)
    );
    let request = app.mail.wait_for("owner_new_request", 1).await.remove(0);

    // Twelve hours before (the default), the owner is reminded, with three links of its own
    // (the request's are kept only as hashes), each opening its page.
    pass_until(&app, answer_by - SignedDuration::from_hours(13)).await;
    assert!(app.mail.of_kind("owner_answer_reminder").is_empty());
    assert!(
        emails_of(&app, &id, "owner_answer_reminder")
            .await
            .is_empty()
    );
    pass_until(&app, answer_by - SignedDuration::from_hours(12)).await;
    let reminder = app
        .mail
        .wait_for("owner_answer_reminder", 1)
        .await
        .remove(0);
    let links = action_links(&reminder, &app.base);
    let request_links = action_links(&request, &app.base);
    assert_eq!(links.len(), 3, "{}", plain_text(&reminder));
    assert!(links.iter().all(|l| !request_links.contains(l)));
    for link in &links {
        assert_eq!(app.get(link).await.status(), 200, "{link}");
    }
    assert_eq!(app.booking(&id).await["status"], "pending");

    // At the answer-by time the request expires: the slot is free, both are told.
    pass_until(&app, answer_by).await;
    let expired = app.booking(&id).await;
    assert_eq!(expired["status"], "expired");
    assert_eq!(expired["answer_by"], Value::Null);
    assert!(app.open_slot_ids().await.contains(&slot));
    let visitor = app.mail.wait_for("requester_expired", 1).await.remove(0);
    let text = plain_text(&visitor);
    assert!(
        text.lines()
            .any(|l| l.trim() == format!("{}/book", app.base)),
        "a link to choose another time:\n{text}"
    );
    let owner = app.mail.wait_for("owner_expired", 1).await.remove(0);
    let (method, ics) = calendar_part(&owner).expect("the entry is withdrawn");
    assert_eq!(method, "CANCEL");
    assert!(ics.contains("STATUS:CANCELLED"));
    // The owner's links no longer work, the reminder's neither.
    for accept in [&request_links[0], &links[0]] {
        assert_ne!(app.post(accept).await.status(), 200);
    }
    assert_eq!(emails_of(&app, &id, "owner_answer_reminder").await.len(), 1);
}

#[tokio::test]
async fn the_reminders_links_act_and_an_answered_request_is_not_reminded() {
    let app = spawn_app().await;
    let first = app.create_slot(100).await;
    let second = app.create_slot(102).await;
    let waiting = book(&app, &first).await;
    let answered = book(&app, &second).await;
    assert_eq!(app.act(&answered, "accept", None).await.0, 200);
    let answer_by = time(&app.booking(&waiting).await["answer_by"]);
    pass_until(&app, answer_by - SignedDuration::from_hours(12)).await;
    let reminder = app
        .mail
        .wait_for("owner_answer_reminder", 1)
        .await
        .remove(0);
    // The owner accepts from the reminder.
    let accept = &action_links(&reminder, &app.base)[0];
    assert_eq!(app.post(accept).await.status(), 200);
    assert_eq!(app.booking(&waiting).await["status"], "accepted");
    assert_eq!(
        sent_emails_of(&app, &waiting, "owner_answer_reminder")
            .await
            .len(),
        1
    );
    // The request answered before its reminder's time never gets one, nor does the reminded
    // one a second, however much time passes.
    pass_until(&app, answer_by).await;
    assert!(
        emails_of(&app, &answered, "owner_answer_reminder")
            .await
            .is_empty()
    );
    assert_eq!(
        emails_of(&app, &waiting, "owner_answer_reminder")
            .await
            .len(),
        1
    );
    assert_eq!(app.mail.of_kind("owner_answer_reminder").len(), 1);
}

#[tokio::test]
async fn the_answer_is_due_before_the_minimum_notice_and_the_dashboard_says_by_when() {
    let app = spawn_admin_app().await;
    let (status, body) = app
        .put_settings(json!({"min_notice_hours": 12, "answer_within_hours": 24}))
        .await;
    assert_eq!(status, 200, "{body}");
    let near = app.create_slot(30).await;
    let far = app.create_slot(90).await;
    let near_id = book(&app, &near).await;
    let far_id = book(&app, &far).await;
    let near = app.booking(&near_id).await;
    assert_eq!(
        time(&near["answer_by"]),
        time(&near["starts_at"]) - SignedDuration::from_hours(12),
        "the session's start minus the notice"
    );
    let far = app.booking(&far_id).await;
    assert_eq!(
        time(&far["answer_by"]),
        time(&far["created_at"]) + SignedDuration::from_hours(24)
    );
    // The dashboard counts them and says when the first is due, in the owner's zone and words.
    let owner = login(&app).await;
    let (status, html) = owner.get(&app, "/admin").await;
    assert_eq!(status, 200);
    let due = time(&near["answer_by"]).in_tz("Europe/Berlin").unwrap();
    assert!(
        html.contains("2 requests need an answer, the first by "),
        "{html}"
    );
    assert!(
        html.contains(&due.strftime("%-I:%M").to_string()),
        "the first answer-by time is named:\n{html}"
    );
    // Accepted, it has nothing to answer by any more.
    assert_eq!(app.act(&far_id, "accept", None).await.0, 200);
    assert_eq!(app.booking(&far_id).await["answer_by"], Value::Null);
}

#[tokio::test]
async fn session_reminders_go_out_at_each_offset_and_a_reschedule_moves_them() {
    let app = spawn_app().await;
    assert_eq!(app.put_settings(json!({"remind_owner": true})).await.0, 200);
    let first = slot_with_details(&app, 50).await;
    let id = book(&app, &first).await;
    assert_eq!(app.act(&id, "accept", None).await.0, 200);
    let starts = time(&app.booking(&id).await["starts_at"]);
    let due: Vec<Timestamp> = emails_of(&app, &id, "requester_session_reminder")
        .await
        .iter()
        .map(|e| time(&e["next_attempt_at"]))
        .collect();
    let day_before = starts - SignedDuration::from_hours(24);
    let hour_before = starts - SignedDuration::from_hours(1);
    assert_eq!(due, [day_before, hour_before]);
    assert_eq!(
        emails_of(&app, &id, "owner_session_reminder").await.len(),
        2
    );

    // A day before: the visitor's reminder with how to join and their page (to cancel), and the
    // owner's.
    pass_until(&app, day_before).await;
    let reminder = app
        .mail
        .wait_for("requester_session_reminder", 1)
        .await
        .remove(0);
    let text = plain_text(&reminder);
    assert!(text.contains("Call +49 30 1234567"), "{text}");
    assert!(text.contains(&format!("{}/my/", app.base)), "{text}");
    app.mail.wait_for("owner_session_reminder", 1).await;

    // The owner asks for another time: the hour-before reminders are withdrawn, kept.
    assert_eq!(app.act(&id, "reschedule", None).await.0, 200);
    for e in emails_of(&app, &id, "requester_session_reminder").await {
        let sent = !e["sent_at"].is_null();
        assert!(sent || e["withdrawn_reason"] == "withdrawn", "{e}");
    }
    // The visitor picks a new time two days later; the owner accepts it.
    let pick = app
        .mail
        .wait_for("requester_pick_new_time", 1)
        .await
        .remove(0);
    let link = action_links(&pick, &app.base).remove(0);
    let second = slot_with_details(&app, 100).await;
    let (status, body) = app
        .post_json(
            "/api/actions",
            &json!({"token": token_of(&link), "slot_id": second}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(app.act(&id, "accept", None).await.0, 200);
    let new_start = time(&app.booking(&id).await["starts_at"]);
    let live: Vec<Timestamp> = emails_of(&app, &id, "requester_session_reminder")
        .await
        .iter()
        .filter(|e| e["sent_at"].is_null() && e["withdrawn_at"].is_null())
        .map(|e| time(&e["next_attempt_at"]))
        .collect();
    assert_eq!(
        live,
        [
            new_start - SignedDuration::from_hours(24),
            new_start - SignedDuration::from_hours(1)
        ]
    );

    // The old hour-before moment passes without a reminder; the new ones come at theirs.
    pass_until(&app, hour_before).await;
    pass_until(&app, new_start - SignedDuration::from_hours(24)).await;
    app.mail.wait_for("requester_session_reminder", 2).await;
    pass_until(&app, new_start - SignedDuration::from_hours(1)).await;
    app.mail.wait_for("requester_session_reminder", 3).await;
    app.mail.wait_for("owner_session_reminder", 3).await;
    assert_eq!(app.mail.of_kind("requester_session_reminder").len(), 3);
}

#[tokio::test]
async fn a_cancellation_withdraws_the_reminders() {
    let app = spawn_app().await;
    let slot = app.create_slot(50).await;
    let id = book(&app, &slot).await;
    assert_eq!(app.act(&id, "accept", None).await.0, 200);
    assert_eq!(app.act(&id, "cancel", None).await.0, 200);
    let reminders = emails_of(&app, &id, "requester_session_reminder").await;
    assert_eq!(reminders.len(), 2);
    assert!(
        reminders
            .iter()
            .all(|e| e["withdrawn_reason"] == "withdrawn")
    );
    app.mail.wait_for("requester_cancelled", 1).await;
    app.pass_hours(50.0).await;
    // Something later is sent, so the worker has had its chance at the withdrawn reminders.
    let later = app.create_slot(80).await;
    book(&app, &later).await;
    app.mail.wait_for("requester_received", 2).await;
    assert!(app.mail.of_kind("requester_session_reminder").is_empty());
}

#[tokio::test]
async fn a_reminder_missed_while_down_is_sent_late_before_the_session_and_dropped_after() {
    let app = spawn_app().await;
    let soon = app.create_slot(30).await;
    let later = app.create_slot(60).await;
    let soon_id = book(&app, &soon).await;
    let later_id = book(&app, &later).await;
    for id in [&soon_id, &later_id] {
        assert_eq!(app.act(id, "accept", None).await.0, 200);
    }
    let soon_start = time(&app.booking(&soon_id).await["starts_at"]);
    let later_start = time(&app.booking(&later_id).await["starts_at"]);

    // Nothing runs until half an hour before the later session (both of its reminders are
    // late, the session has not started) — and well after the sooner one began.
    pass_until(&app, later_start - SignedDuration::from_mins(30)).await;
    app.mail.wait_for("requester_session_reminder", 2).await;
    let sent = sent_emails_of(&app, &later_id, "requester_session_reminder").await;
    assert_eq!(sent.len(), 2, "{sent:?}");
    let dropped = emails_of(&app, &soon_id, "requester_session_reminder").await;
    assert_eq!(dropped.len(), 2);
    for e in &dropped {
        assert!(e["sent_at"].is_null(), "{e}");
        assert_eq!(e["withdrawn_reason"], "too_late", "{e}");
        assert!(time(&e["withdrawn_at"]) > soon_start);
    }
    assert_eq!(app.mail.of_kind("requester_session_reminder").len(), 2);
}
