//! The admin UI in a real headless Chromium: sign in, generate a week of slots, see them on the
//! public page, answer a request, filter and search, and send a failed email again. Screenshots
//! of the main screens go to `test-artifacts/admin-*.png`.

use std::time::Duration;

use guidance_testkit::Browser;
use guidance_testkit::api::intake;
use guidance_testkit::mail::plain_text;
use guidance_testkit::wait::poll;
use reqwest::Method;

use crate::admin_ui::{PASSWORD, spawn_admin_app, spawn_admin_app_with};
use crate::helpers::*;

/// Signs in on the login page in `browser` with [`PASSWORD`], starting signed out.
pub(crate) async fn sign_in(browser: &Browser, app: &TestApp) {
    let c = &browser.client;
    c.goto(&app.url("/admin")).await.unwrap();
    assert!(
        c.current_url()
            .await
            .unwrap()
            .path()
            .ends_with("/admin/login"),
        "signed out, /admin leads to the login page"
    );
    browser.type_into("#password", PASSWORD).await;
    browser.screenshot("admin-login").await;
    browser.click("button.primary").await;
    browser.wait_for_url("/admin?").await;
    assert_eq!(browser.text_of("h1").await, "Dashboard");
}

#[tokio::test]
async fn the_owner_publishes_a_week_answers_a_request_and_finds_bookings_in_chromium() {
    let app = spawn_admin_app().await;
    let browser = Browser::start().await;
    let c = &browser.client;
    sign_in(&browser, &app).await;

    // Generate next week's sessions from the pattern form's defaults: Monday to Friday,
    // 09:00–12:00, 45 minutes with 15 minutes between them.
    c.goto(&app.url("/admin/slots/generate")).await.unwrap();
    browser.screenshot("admin-generate-form").await;
    browser.click("#pattern button[type=submit]").await;
    assert_eq!(
        browser
            .text_of("#generate-report .created")
            .await
            .split('.')
            .next()
            .unwrap(),
        "15 slots created"
    );
    browser.screenshot("admin-generate-report").await;
    browser.click("#generate-report a").await;
    browser.wait_for_url("/admin/slots?week=").await;
    browser.text_of(".week").await;
    assert_eq!(browser.count(".week li.slot").await, 15);
    browser.screenshot("admin-slots-week").await;

    // The public page offers exactly those.
    c.goto(&app.url("/book")).await.unwrap();
    browser.text_of("form").await;
    assert_eq!(browser.count("input[name=slot_id]").await, 15);
    browser.screenshot("admin-public-page-after-generate").await;

    // A visitor requests one; the dashboard puts it first.
    let slot = app.open_slot_ids().await.remove(0);
    let (status, booking) = app.book(&intake(&slot)).await;
    assert_eq!(status, 201);
    let booking = booking["id"].as_str().unwrap().to_owned();
    c.goto(&app.url("/admin")).await.unwrap();
    assert!(
        browser
            .text_of("section[aria-labelledby=needs-answer]")
            .await
            .contains("Ada Lovelace")
    );
    browser.screenshot("admin-dashboard").await;

    // Accept it with a message; the requester's confirmation is queued.
    browser
        .click(&format!("a[href='/admin/bookings/{booking}']"))
        .await;
    browser
        .wait_for_url(&format!("/admin/bookings/{booking}"))
        .await;
    browser.text_of("#do-accept").await;
    browser.screenshot("admin-booking-pending").await;
    browser.type_into("#message-accept", "See you then!").await;
    browser.click("#do-accept").await;
    browser.wait_for_url("done=action_done").await;
    assert!(
        browser
            .text_of(".flash")
            .await
            .contains("The emails it sends are listed below")
    );
    assert_eq!(browser.text_of("#booking-status").await, "Accepted");
    let emails = browser.text_of("table.emails").await;
    assert!(emails.contains("Confirmation with invitation"), "{emails}");
    assert!(emails.contains("ada@example.net"));
    browser.screenshot("admin-booking-accepted").await;
    let mail = app.mail.wait_for("requester_accepted", 1).await.remove(0);
    assert!(plain_text(&mail).contains("> See you then!"));

    // A second, pending request; then filter by status and search.
    let other = app.open_slot_ids().await.remove(0);
    let mut body = intake(&other);
    body["name"] = "Grace Hopper".into();
    body["email"] = "grace@example.net".into();
    body["topic"] = "Compilers".into();
    assert_eq!(app.book(&body).await.0, 201);
    c.goto(&app.url("/admin/bookings")).await.unwrap();
    browser.text_of("table.bookings").await;
    assert_eq!(browser.count("tr.booking").await, 2);
    browser.click("a[data-filter=accepted]").await;
    browser.wait_for_url("status=accepted").await;
    assert_eq!(browser.count("tr.booking").await, 1);
    assert!(browser.text_of("tr.booking").await.contains("Ada Lovelace"));
    browser.click("a[data-filter='']").await;
    browser.wait_for_url("status=&").await;
    browser.type_into("#q", "compilers").await;
    browser.click("form.search button").await;
    browser.wait_for_url("q=compilers").await;
    assert_eq!(browser.count("tr.booking").await, 1);
    assert!(browser.text_of("tr.booking").await.contains("Grace Hopper"));
    browser.screenshot("admin-bookings-search").await;

    // The other main screens.
    c.goto(&app.url("/admin/slots?view=list")).await.unwrap();
    browser.text_of("table.slots-list").await;
    assert_eq!(browser.count("tr.slot").await, 15);
    browser.screenshot("admin-slots-list").await;
    c.goto(&app.url("/admin/settings")).await.unwrap();
    browser.screenshot("admin-settings").await;
    browser.close().await;
}

#[tokio::test]
async fn the_owner_sends_a_failed_email_again_in_chromium() {
    // The mail directory sits below a plain file, so every delivery fails for real.
    let mut blocker = std::path::PathBuf::new();
    let app = spawn_admin_app_with(|c| {
        blocker = c.data_dir.with_file_name("blocked");
        std::fs::write(&blocker, b"a file, not a directory").unwrap();
        c.mail_dir = blocker.join("mail");
    })
    .await;
    let slot = app.create_slot(24).await;
    let (_, booking) = app.book(&intake(&slot)).await;
    let booking = booking["id"].as_str().unwrap().to_owned();
    // The worker runs on its own: at most 15 seconds.
    let failed = poll(Duration::from_secs(15), || async {
        let emails = app.emails_now(&booking).await;
        (emails.len() == 2 && emails.iter().all(|m| m["last_error"].is_string())).then_some(emails)
    })
    .await
    .expect("both emails failed");
    let received = failed
        .iter()
        .find(|m| m["kind"] == "requester_received")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let browser = Browser::start().await;
    let c = &browser.client;
    sign_in(&browser, &app).await;
    let failing = browser.text_of("section[aria-labelledby=failing]").await;
    assert!(failing.contains("Failed, will retry"), "{failing}");
    assert!(failing.contains("Not a directory"), "{failing}");
    browser.screenshot("admin-dashboard-failing-email").await;
    c.goto(&app.url(&format!("/admin/bookings/{booking}")))
        .await
        .unwrap();
    browser.screenshot("admin-booking-failed-email").await;

    // The disk is fixed; the owner sends the visitor's email again.
    std::fs::remove_file(&blocker).unwrap();
    browser
        .click(&format!("tr[data-email-id='{received}'] button.resend"))
        .await;
    assert!(
        browser
            .text_of(".flash")
            .await
            .contains("queued to be sent again")
    );
    let sent = poll(Duration::from_secs(15), || async {
        let m = app
            .emails(&booking)
            .await
            .into_iter()
            .find(|m| m["id"] == received.as_str())
            .unwrap();
        (m["status"] == "sent").then_some(m)
    })
    .await
    .expect("the email was sent again");
    // Sent by the resend (a fresh count of attempts), not by a later automatic retry.
    assert_eq!(sent["attempts"], 1);
    let files = app.mail.of_kind("requester_received");
    assert_eq!(files.len(), 1);
    let bytes = &files[0];
    let message_id = sent["message_id"].as_str().unwrap();
    assert!(
        String::from_utf8_lossy(bytes).contains(&format!("Message-ID: {message_id}")),
        "the same Message-ID"
    );
    c.refresh().await.unwrap();
    browser.text_of("table.emails").await;
    assert!(
        browser
            .text_of(&format!("tr[data-email-id='{received}']"))
            .await
            .contains("Sent")
    );
    browser.screenshot("admin-booking-email-resent").await;
    // The owner API sees the same.
    let (status, _) = app
        .admin(Method::GET, &format!("/api/admin/bookings/{booking}"), None)
        .await;
    assert_eq!(status, 200);
    browser.close().await;
}

#[tokio::test]
async fn every_admin_page_passes_axe_and_a_whole_booking_row_opens_it() {
    let app = spawn_admin_app().await;
    let browser = Browser::start().await;
    let c = &browser.client;
    // The first-run page (a site without a password yet), then the login page, signed out.
    let fresh = spawn_app().await;
    let setup = guidance_app::owner_auth::create_setup_link(&fresh.app)
        .await
        .unwrap()
        .expect("no password yet: a setup link");
    let setup = setup.replace(&fresh.app.settings.public_url, &fresh.base);
    c.goto(&setup).await.unwrap();
    browser.text_of("h1").await;
    browser.assert_accessible("/admin/setup/{token}").await;
    c.goto(&app.url("/admin/login")).await.unwrap();
    browser.text_of("h1").await;
    browser.assert_accessible("/admin/login").await;
    sign_in(&browser, &app).await;

    // Something on every list: a pending request (with its answer-by line), an accepted one
    // with scheduled reminders, and a cancelled one.
    let slots = app.create_slots(30, 3).await;
    let mut ids = Vec::new();
    for slot in &slots {
        let (status, booking) = app.book(&intake(slot)).await;
        assert_eq!(status, 201);
        ids.push(booking["id"].as_str().unwrap().to_owned());
    }
    // (The test app asks one question, `company`.)
    assert_eq!(app.act(&ids[1], "accept", None).await.0, 200);
    // A webhook endpoint (made up: its deliveries fail, so its log has an error to show).
    let (status, endpoint) = app
        .admin(
            Method::POST,
            "/api/admin/webhooks",
            Some(serde_json::json!({"url": "https://hooks.invalid/guidance",
                                    "events": ["booking.cancelled"]})),
        )
        .await;
    assert_eq!(status, 201, "{endpoint}");
    assert_eq!(app.act(&ids[2], "accept", None).await.0, 200);
    assert_eq!(app.act(&ids[2], "cancel", None).await.0, 200);
    let endpoint = endpoint["id"].as_str().unwrap().to_owned();
    for path in [
        "/admin".to_owned(),
        "/admin/slots".to_owned(),
        format!("/admin/slots/{}", app.create_slot(60).await),
        "/admin/slots/generate".to_owned(),
        "/admin/bookings".to_owned(),
        format!("/admin/bookings/{}", ids[1]),
        "/admin/settings".to_owned(),
        "/admin/settings/questions".to_owned(),
        "/admin/settings/questions/company".to_owned(),
        "/admin/calendars".to_owned(),
        "/admin/replies".to_owned(),
        "/admin/settings/webhooks".to_owned(),
        format!("/admin/settings/webhooks/{endpoint}"),
        "/admin/erase".to_owned(),
    ] {
        c.goto(&app.url(&path)).await.unwrap();
        browser.text_of("h1").await;
        browser.assert_accessible(&path).await;
    }

    // What lies under the middle of the topic cell, far from the date, is the booking's link:
    // a click anywhere on the row opens the booking.
    c.goto(&app.url("/admin/bookings")).await.unwrap();
    browser.text_of("table.bookings").await;
    let href = c
        .execute(
            "const cell = document.querySelector(arguments[0]);
             const r = cell.getBoundingClientRect();
             const hit = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
             const link = hit && hit.closest('a');
             if (link) { link.click(); }
             return link ? link.getAttribute('href') : null;",
            vec![serde_json::json!(format!(
                "tr.booking:has(a[href='/admin/bookings/{}']) td.topic-cell",
                ids[0]
            ))],
        )
        .await
        .unwrap();
    assert_eq!(
        href,
        serde_json::json!(format!("/admin/bookings/{}", ids[0]))
    );
    browser
        .wait_for_url(&format!("/admin/bookings/{}", ids[0]))
        .await;
}
