//! The booking page in a real headless Chromium.

use guidance_testkit::{Browser, BrowserOptions, Locator};

use crate::helpers::*;

#[tokio::test]
async fn a_visitor_books_in_chromium_without_javascript() {
    let app = spawn_app().await;
    let slot = app.create_slot(24).await;
    let browser = Browser::start_with(BrowserOptions {
        javascript: false,
        ..BrowserOptions::default()
    })
    .await;
    let c = &browser.client;
    c.goto(&app.url("/book?tz=America/Los_Angeles"))
        .await
        .unwrap();
    c.find(Locator::Css(&format!(
        "input[name=slot_id][value='{slot}']"
    )))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    c.find(Locator::Id("name"))
        .await
        .unwrap()
        .send_keys("Grace Hopper")
        .await
        .unwrap();
    c.find(Locator::Id("email"))
        .await
        .unwrap()
        .send_keys("grace@example.net")
        .await
        .unwrap();
    c.find(Locator::Id("topic"))
        .await
        .unwrap()
        .send_keys("Compilers, and how to explain them")
        .await
        .unwrap();
    browser.screenshot("book-no-js-filled").await;
    c.find(Locator::Css("button.primary"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // Wait for the browser to land on the success page before reading it.
    browser.wait_for_path("/book/requested/").await;
    let heading = c
        .find(Locator::Css("h1"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(heading, "Thank you, your request is on its way");
    browser.screenshot("book-no-js-requested").await;
    assert!(app.open_slot_ids().await.is_empty(), "the slot is held");
    let owner = app.wait_for_mail("owner_new_request", 1).await.remove(0);
    assert!(plain_text(&owner).contains("Grace Hopper"));
    browser.close().await;
}
