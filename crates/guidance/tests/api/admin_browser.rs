//! The admin UI in a real headless Chromium: sign in, generate a week of slots, see them on the
//! public page, answer a request, filter and search, and send a failed email again. Screenshots
//! of the main screens go to `test-artifacts/admin-*.png`.

use std::time::Duration;

use guidance_testkit::{Browser, Locator};
use reqwest::Method;

use crate::admin_ui::{PASSWORD, spawn_admin_app, spawn_admin_app_with};
use crate::helpers::*;

/// The text of the element `css`, waiting (up to 30 s) for it to appear, as pages load on their
/// own after a click.
pub(crate) async fn text_of(browser: &Browser, css: &str) -> String {
    browser
        .client
        .wait()
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .text()
        .await
        .unwrap()
}

pub(crate) async fn click(browser: &Browser, css: &str) {
    browser
        .client
        .wait()
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .click()
        .await
        .unwrap();
}

/// Waits until the address bar's path and query contain `part` and that page has finished
/// loading (a click's page has loaded), like [`Browser::wait_for_path`] for a query.
pub(crate) async fn wait_for_url(browser: &Browser, part: &str) {
    for _ in 0..300 {
        let url = browser.client.current_url().await.unwrap();
        let here = format!("{}?{}", url.path(), url.query().unwrap_or_default());
        if here.contains(part) {
            let ready = browser
                .client
                .execute("return document.readyState", vec![])
                .await
                .ok();
            if ready.as_ref().and_then(|v| v.as_str()) == Some("complete") {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the browser never reached a page matching {part}");
}

async fn count(browser: &Browser, css: &str) -> usize {
    browser
        .client
        .find_all(Locator::Css(css))
        .await
        .unwrap()
        .len()
}

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
    c.find(Locator::Id("password"))
        .await
        .unwrap()
        .send_keys(PASSWORD)
        .await
        .unwrap();
    browser.screenshot("admin-login").await;
    click(browser, "button.primary").await;
    wait_for_url(browser, "/admin?").await;
    assert_eq!(text_of(browser, "h1").await, "Dashboard");
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
    click(&browser, "#pattern button[type=submit]").await;
    assert_eq!(
        text_of(&browser, "#generate-report .created")
            .await
            .split('.')
            .next()
            .unwrap(),
        "15 slots created"
    );
    browser.screenshot("admin-generate-report").await;
    click(&browser, "#generate-report a").await;
    wait_for_url(&browser, "/admin/slots?week=").await;
    text_of(&browser, ".week").await;
    assert_eq!(count(&browser, ".week li.slot").await, 15);
    browser.screenshot("admin-slots-week").await;

    // The public page offers exactly those.
    c.goto(&app.url("/book")).await.unwrap();
    text_of(&browser, "form").await;
    assert_eq!(count(&browser, "input[name=slot_id]").await, 15);
    browser.screenshot("admin-public-page-after-generate").await;

    // A visitor requests one; the dashboard puts it first.
    let slot = app.open_slot_ids().await.remove(0);
    let (status, booking) = app.book(&intake(&slot)).await;
    assert_eq!(status, 201);
    let booking = booking["id"].as_str().unwrap().to_owned();
    c.goto(&app.url("/admin")).await.unwrap();
    assert!(
        text_of(&browser, "section[aria-labelledby=needs-answer]")
            .await
            .contains("Ada Lovelace")
    );
    browser.screenshot("admin-dashboard").await;

    // Accept it with a message; the requester's confirmation is queued.
    click(&browser, &format!("a[href='/admin/bookings/{booking}']")).await;
    wait_for_url(&browser, &format!("/admin/bookings/{booking}")).await;
    text_of(&browser, "#do-accept").await;
    browser.screenshot("admin-booking-pending").await;
    c.find(Locator::Id("message-accept"))
        .await
        .unwrap()
        .send_keys("See you then!")
        .await
        .unwrap();
    click(&browser, "#do-accept").await;
    wait_for_url(&browser, "done=action_done").await;
    assert!(
        text_of(&browser, ".flash")
            .await
            .contains("The emails it sends are listed below")
    );
    assert_eq!(text_of(&browser, "#booking-status").await, "Accepted");
    let emails = text_of(&browser, "table.emails").await;
    assert!(emails.contains("Confirmation with invitation"), "{emails}");
    assert!(emails.contains("ada@example.net"));
    browser.screenshot("admin-booking-accepted").await;
    let mail = app.wait_for_mail("requester_accepted", 1).await.remove(0);
    assert!(plain_text(&mail).contains("> See you then!"));

    // A second, pending request; then filter by status and search.
    let other = app.open_slot_ids().await.remove(0);
    let mut body = intake(&other);
    body["name"] = "Grace Hopper".into();
    body["email"] = "grace@example.net".into();
    body["topic"] = "Compilers".into();
    assert_eq!(app.book(&body).await.0, 201);
    c.goto(&app.url("/admin/bookings")).await.unwrap();
    text_of(&browser, "table.bookings").await;
    assert_eq!(count(&browser, "tr.booking").await, 2);
    click(&browser, "a[data-filter=accepted]").await;
    wait_for_url(&browser, "status=accepted").await;
    assert_eq!(count(&browser, "tr.booking").await, 1);
    assert!(
        text_of(&browser, "tr.booking")
            .await
            .contains("Ada Lovelace")
    );
    click(&browser, "a[data-filter='']").await;
    wait_for_url(&browser, "status=&").await;
    c.find(Locator::Id("q"))
        .await
        .unwrap()
        .send_keys("compilers")
        .await
        .unwrap();
    click(&browser, "form.search button").await;
    wait_for_url(&browser, "q=compilers").await;
    assert_eq!(count(&browser, "tr.booking").await, 1);
    assert!(
        text_of(&browser, "tr.booking")
            .await
            .contains("Grace Hopper")
    );
    browser.screenshot("admin-bookings-search").await;

    // The other main screens.
    c.goto(&app.url("/admin/slots?view=list")).await.unwrap();
    text_of(&browser, "table.slots-list").await;
    assert_eq!(count(&browser, "tr.slot").await, 15);
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
    let failed = wait_until(|| async {
        let b = app.booking(&booking).await;
        let emails = b["emails"].as_array().unwrap().clone();
        (emails.len() == 2 && emails.iter().all(|m| m["last_error"].is_string())).then_some(emails)
    })
    .await;
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
    let failing = text_of(&browser, "section[aria-labelledby=failing]").await;
    assert!(failing.contains("Failed, will retry"), "{failing}");
    assert!(failing.contains("Not a directory"), "{failing}");
    browser.screenshot("admin-dashboard-failing-email").await;
    c.goto(&app.url(&format!("/admin/bookings/{booking}")))
        .await
        .unwrap();
    browser.screenshot("admin-booking-failed-email").await;

    // The disk is fixed; the owner sends the visitor's email again.
    std::fs::remove_file(&blocker).unwrap();
    click(
        &browser,
        &format!("tr[data-email-id='{received}'] button.resend"),
    )
    .await;
    assert!(
        text_of(&browser, ".flash")
            .await
            .contains("queued to be sent again")
    );
    let sent = wait_until(|| async {
        let b = app.booking(&booking).await;
        let m = b["emails"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["id"] == received.as_str())
            .cloned()
            .unwrap();
        (m["status"] == "sent").then_some(m)
    })
    .await;
    // Sent by the resend (a fresh count of attempts), not by a later automatic retry.
    assert_eq!(sent["attempts"], 1);
    let files: Vec<_> = std::fs::read_dir(blocker.join("mail"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().contains("-requester_received-"))
        .collect();
    assert_eq!(files.len(), 1);
    let bytes = std::fs::read(&files[0]).unwrap();
    let message_id = sent["message_id"].as_str().unwrap();
    assert!(
        String::from_utf8_lossy(&bytes).contains(&format!("Message-ID: {message_id}")),
        "the same Message-ID"
    );
    c.refresh().await.unwrap();
    text_of(&browser, "table.emails").await;
    assert!(
        text_of(&browser, &format!("tr[data-email-id='{received}']"))
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

/// Polls `check` until it yields a value (at most 15 seconds), as the worker runs on its own.
async fn wait_until<T, F, Fut>(check: F) -> T
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    for _ in 0..150 {
        if let Some(v) = check().await {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the condition did not come true in time");
}
