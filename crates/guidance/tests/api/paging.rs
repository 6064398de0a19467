//! `/book` shows a window of a few days, whatever the schedule holds, and links to the next:
//! every open slot is reachable without JavaScript, and with it the next days load from the
//! JSON API as the visitor moves on.

use std::collections::BTreeSet;

use guidance_testkit::{Browser, BrowserOptions};

use crate::helpers::*;

/// Sixty hourly slots from tomorrow on, then two a day for twelve more days: more than one
/// window holds.
async fn a_busy_schedule(app: &TestApp) -> BTreeSet<String> {
    let mut ids: BTreeSet<String> = app.create_slots(24, 60).await.into_iter().collect();
    for day in 5..17 {
        ids.insert(app.create_slot(24 * day + 9).await);
        ids.insert(app.create_slot(24 * day + 15).await);
    }
    let listed: BTreeSet<String> = app.open_slot_ids().await.into_iter().collect();
    assert_eq!(listed, ids, "/api/slots lists every slot");
    ids
}

/// The slot choices on a page without scripts.
async fn shown_slot_ids(browser: &Browser) -> Vec<String> {
    let mut ids = Vec::new();
    for input in browser
        .client
        .find_all(guidance_testkit::Locator::Css("input[name=slot_id]"))
        .await
        .unwrap()
    {
        ids.push(input.attr("value").await.unwrap().unwrap());
    }
    ids
}

/// Follows the link `css` and waits for the page it leads to.
async fn follow(browser: &Browser, css: &str) {
    let href = browser
        .element(css)
        .await
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    browser.click(css).await;
    browser.wait_for_url(&href).await;
}

#[tokio::test]
async fn without_javascript_the_later_links_reach_every_open_slot_a_few_days_at_a_time() {
    let app = spawn_app().await;
    let all = a_busy_schedule(&app).await;
    let browser = Browser::start_with(BrowserOptions {
        javascript: false,
        ..BrowserOptions::default()
    })
    .await;
    let c = &browser.client;
    c.goto(&app.url("/book?tz=UTC")).await.unwrap();
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let ids = shown_slot_ids(&browser).await;
        assert!(!ids.is_empty(), "page {pages} shows times");
        assert!(ids.len() <= 24, "page {pages} shows {} times", ids.len());
        assert_eq!(
            browser.count("a.earlier").await,
            usize::from(pages > 0),
            "page {pages}: a way back from every page but the first"
        );
        seen.extend(ids);
        pages += 1;
        if browser.count("a.later").await == 0 {
            break;
        }
        follow(&browser, "a.later").await;
        assert!(pages < 20, "the later links end");
    }
    assert!(pages >= 3, "{pages} pages");
    let seen_set: BTreeSet<String> = seen.iter().cloned().collect();
    assert_eq!(seen.len(), seen_set.len(), "no time on two pages");
    assert_eq!(seen_set, all, "every open time on some page");
    // The way back ends on the first page.
    for _ in 1..pages {
        follow(&browser, "a.earlier").await;
    }
    assert_eq!(browser.count("a.earlier").await, 0);
    assert!(
        c.current_url()
            .await
            .unwrap()
            .query()
            .unwrap_or("")
            .contains("tz=UTC")
    );
    browser.close().await;
}

/// The slot choices the page's script has drawn, read in one go (it redraws them as it loads).
async fn drawn_slot_ids(browser: &Browser) -> Vec<String> {
    let found = browser
        .client
        .execute(
            "return [...document.querySelectorAll('input[name=slot_id]')].map((i) => i.value);",
            vec![],
        )
        .await
        .unwrap();
    serde_json::from_value(found).unwrap()
}

#[tokio::test]
async fn with_javascript_the_next_days_load_from_the_api_until_every_slot_is_there() {
    let app = spawn_app().await;
    let all = a_busy_schedule(&app).await;
    let browser = Browser::start().await;
    let c = &browser.client;
    c.goto(&app.url("/book?tz=UTC")).await.unwrap();
    browser.element(".days[role=group]").await;
    let first = drawn_slot_ids(&browser).await.len();
    assert!(
        first < all.len(),
        "the page starts with a few days ({first})"
    );
    let mut clicks = 0;
    while browser.count("button.later:not([hidden])").await > 0 {
        let before = drawn_slot_ids(&browser).await.len();
        browser.click("button.later").await;
        // Loaded once more times are drawn and the button is ready again (or gone).
        let loaded = guidance_testkit::wait::poll(std::time::Duration::from_secs(10), || async {
            let more = drawn_slot_ids(&browser).await.len() > before;
            let ready = browser.count("button.later[disabled]").await == 0;
            (more && ready).then_some(())
        })
        .await;
        assert!(loaded.is_some(), "later days loaded after click {clicks}");
        clicks += 1;
        assert!(clicks < 20, "the later button goes away");
    }
    let shown: BTreeSet<String> = drawn_slot_ids(&browser).await.into_iter().collect();
    assert_eq!(shown, all, "every open time, each once");
    assert_eq!(drawn_slot_ids(&browser).await.len(), all.len());
    browser.close().await;
}
