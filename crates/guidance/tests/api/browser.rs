//! The booking page in a real headless Chromium.

use guidance_testkit::mail::{action_links, plain_text};
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
    browser
        .click(&format!("input[name=slot_id][value='{slot}']"))
        .await;
    browser.type_into("#name", "Grace Hopper").await;
    browser.type_into("#email", "grace@example.net").await;
    browser
        .type_into("#topic", "Compilers, and how to explain them")
        .await;
    browser.screenshot("book-no-js-filled").await;
    browser.click("button.primary").await;
    // Wait for the browser to land on the success page before reading it.
    browser.wait_for_path("/my/").await;
    assert_eq!(
        browser.text_of("h1").await,
        "Thank you, your request is on its way"
    );
    browser.screenshot("book-no-js-requested").await;
    assert!(app.open_slot_ids().await.is_empty(), "the slot is held");
    let owner = app.mail.wait_for("owner_new_request", 1).await.remove(0);
    assert!(plain_text(&owner).contains("Grace Hopper"));
    browser.close().await;
}

// ---------------------------------------------------------------------------------------------
// With JavaScript: /book enhanced, the element, the visitor's pages.
// ---------------------------------------------------------------------------------------------

use guidance_testkit::{Client, Element, ShadowRoot};
use jiff::Timestamp;
use serde_json::{Value, json};

/// Where elements are looked for: the page, or the element's shadow root.
enum Scope {
    Page(Client),
    Shadow(ShadowRoot),
}

impl Scope {
    async fn try_find(&self, css: &str) -> Option<Element> {
        match self {
            Scope::Page(c) => c.find(Locator::Css(css)).await.ok(),
            Scope::Shadow(s) => s.find(Locator::Css(css)).await.ok(),
        }
    }

    /// The element, waiting for it to appear (scripts draw parts of the page).
    async fn find(&self, css: &str) -> Element {
        for _ in 0..200 {
            if let Some(e) = self.try_find(css).await {
                return e;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("{css} did not appear");
    }

    async fn type_into(&self, css: &str, text: &str) {
        let e = self.find(css).await;
        e.clear().await.unwrap();
        e.send_keys(text).await.unwrap();
    }

    // The page's script may replace an element between finding and reading it (a re-render):
    // then it is found and read again, rather than failing on a stale reference.
    async fn value(&self, css: &str) -> String {
        for _ in 0..100 {
            if let Ok(v) = self.find(css).await.prop("value").await {
                return v.unwrap_or_default();
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("could not read the value of {css}");
    }

    async fn text(&self, css: &str) -> String {
        for _ in 0..100 {
            if let Ok(t) = self.find(css).await.text().await {
                return t;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("could not read the text of {css}");
    }

    /// Clicks the label of the slot with this id (showing its day first).
    async fn pick_slot(&self, slot: &str) {
        let radio = format!("input[name=slot_id][value='{slot}']");
        if let Some(b) = self
            .try_find(&format!(
                ".days button[data-day='{}']",
                self.day_of(&radio).await
            ))
            .await
        {
            b.click().await.unwrap();
        }
        self.find(&radio).await.click().await.unwrap();
    }

    async fn day_of(&self, radio: &str) -> String {
        // The slot's `.day` container names its day.
        let container = self
            .find(&format!(".day:has({radio})"))
            .await
            .attr("data-day")
            .await
            .unwrap();
        container.unwrap_or_default()
    }

    async fn fill_intake(&self, name: &str, email: &str, topic: &str) {
        self.type_into("#name", name).await;
        self.type_into("#email", email).await;
        self.type_into("#topic", topic).await;
    }

    async fn submit(&self) {
        self.find("form.booking button[type=submit]")
            .await
            .click()
            .await
            .unwrap();
    }
}

/// The owner's questions used by these tests: a required choice and an optional checkbox.
async fn ask_questions(app: &TestApp) {
    let (status, body) = app.put_questions(json!({"questions": [
                {"key": "team_size", "label": "How large is your team?", "kind": "choice", "required": true, "options": ["Just me", "2–10", "More"]},
                {"key": "newsletter", "label": "Send me the newsletter", "kind": "checkbox"}
            ]})).await;
    assert_eq!(status, 200, "{body}");
}

/// The class and id of the focused element (inside a shadow root when focus is there).
async fn focused(c: &Client) -> String {
    c.execute(
        "let a = document.activeElement; while (a && a.shadowRoot && a.shadowRoot.activeElement) a = a.shadowRoot.activeElement; return a ? (a.className + '#' + a.id) : '';",
        vec![],
    )
    .await
    .unwrap()
    .as_str()
    .unwrap_or_default()
    .to_owned()
}

/// The booking's record through the owner API.
async fn only_booking(app: &TestApp) -> Value {
    let list = app.bookings().await;
    assert_eq!(list.len(), 1, "{list:?}");
    list[0].clone()
}

#[tokio::test]
async fn a_visitor_books_with_javascript_in_their_own_zone_and_follows_their_booking() {
    let app = spawn_app().await;
    ask_questions(&app).await;
    let slot = app.create_slot(30).await;
    app.create_slot(54).await;
    let browser = Browser::start_with(BrowserOptions {
        time_zone: Some("America/Los_Angeles".into()),
        ..BrowserOptions::default()
    })
    .await;
    let c = &browser.client;
    c.goto(&app.url("/book")).await.unwrap();
    let page = Scope::Page(c.clone());
    // Enhanced: the day picker is drawn, the zone is the browser's own.
    page.find(".days[role=group] button[aria-pressed=true]")
        .await;
    assert_eq!(page.value("#tz").await, "America/Los_Angeles");
    assert_eq!(
        page.value("input[name=time_zone]").await,
        "America/Los_Angeles"
    );
    // Each slot announces its whole date and time, not just "14:30".
    let announced = c
        .execute(
            &format!("return document.querySelector(\"label.slot:has(input[value='{slot}']) .vh\").textContent"),
            vec![],
        )
        .await
        .unwrap();
    let announced = announced.as_str().unwrap();
    assert!(
        announced.contains("(America/Los_Angeles)")
            && announced.contains("–")
            && announced.len() > 30,
        "{announced}"
    );
    browser.screenshot("book-js-slots").await;
    browser.assert_accessible("/book with JavaScript").await;
    let elsewhere = c
        .execute(
            "return performance.getEntriesByType('resource').map(e => e.name).filter(n => !n.startsWith(location.origin))",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(elsewhere, json!([]), "no third-party requests");

    // Sending without a time or the required answer: messages at each field, focus on the notice.
    page.fill_intake("Ada Lovelace", "ada@example", "Engines")
        .await;
    page.submit().await;
    page.find(".notice:not([hidden])").await;
    assert!(
        focused(c).await.starts_with("notice"),
        "{}",
        focused(c).await
    );
    assert_eq!(page.text("#slot_id-error").await, "Please choose a time.");
    assert_eq!(
        page.text("#email-error").await,
        "Please enter a valid email address."
    );
    assert_eq!(
        page.text("#q-team_size-error").await,
        "Please fill this in."
    );
    browser.screenshot("book-js-invalid").await;
    assert!(
        app.open_slot_ids().await.contains(&slot),
        "nothing was sent"
    );

    page.pick_slot(&slot).await;
    page.type_into("#email", "ada@example.net").await;
    page.find("#q-team_size")
        .await
        .select_by_value("2–10")
        .await
        .unwrap();
    page.find("#q-newsletter").await.click().await.unwrap();
    page.submit().await;
    let done = page.find(".done").await;
    assert!(
        focused(c).await.starts_with("done"),
        "focus moves to the message"
    );
    assert_eq!(
        page.text(".done h2").await,
        "Thank you, your request is on its way"
    );
    assert!(done.text().await.unwrap().contains("(America/Los_Angeles)"));
    browser.screenshot("book-js-done").await;
    browser.assert_accessible("/book after booking").await;

    let booking = only_booking(&app).await;
    assert_eq!(booking["status"], "pending");
    let id = booking["id"].as_str().unwrap().to_owned();
    let stored = app.booking(&id).await;
    assert_eq!(
        stored["answers"],
        json!({"team_size": "2–10", "newsletter": true}),
        "{stored}"
    );

    // The visitor's own page, from the success screen: status and time in their zone.
    let status_link = page
        .find(".done a")
        .await
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    let received = app.mail.wait_for("requester_received", 1).await.remove(0);
    assert!(
        plain_text(&received).contains(&status_link),
        "the email carries the same link"
    );
    c.goto(&status_link).await.unwrap();
    assert_eq!(page.text("h1").await, "Your guidance session");
    assert!(
        page.text(".summary")
            .await
            .contains("(America/Los_Angeles)")
    );
    assert!(page.text(".state").await.starts_with("Requested"));
    browser.screenshot("visitor-status-pending").await;
    browser.assert_accessible("the visitor's status page").await;

    // Cancel asks first; only the button cancels.
    page.find("a.button").await.click().await.unwrap();
    browser.wait_for_text("h1", "Cancel your booking?").await;
    assert_eq!(
        app.booking(&id).await["status"],
        "pending",
        "a GET changes nothing"
    );
    browser.screenshot("visitor-cancel-confirm").await;
    browser.assert_accessible("the cancel confirmation").await;
    page.find("button.primary").await.click().await.unwrap();
    browser.wait_for_text("h1", "Cancelled").await;
    assert_eq!(app.booking(&id).await["status"], "cancelled");
    assert!(
        app.open_slot_ids().await.contains(&slot),
        "the slot is free again"
    );
    browser.screenshot("visitor-cancelled").await;
    c.goto(&status_link).await.unwrap();
    assert!(page.text(".state").await.starts_with("Cancelled"));
    browser.close().await;
}

#[tokio::test]
async fn two_visitors_pick_the_same_slot_and_the_second_keeps_what_they_typed() {
    let app = spawn_app().await;
    let contested = app.create_slot(30).await;
    let other = app.create_slot(31).await;
    let first = Browser::start().await;
    let second = Browser::start().await;
    for b in [&first, &second] {
        b.client
            .goto(&app.url("/book?tz=Europe/Berlin"))
            .await
            .unwrap();
    }
    let one = Scope::Page(first.client.clone());
    let two = Scope::Page(second.client.clone());
    for (s, name) in [(&one, "First Visitor"), (&two, "Second Visitor")] {
        s.pick_slot(&contested).await;
        s.fill_intake(name, "visitor@example.net", "The same time, please")
            .await;
    }
    one.submit().await;
    one.find(".done").await;
    two.submit().await;
    let notice = two.find(".notice:not([hidden])").await;
    let message = notice.text().await.unwrap();
    assert!(
        message.contains("someone else has just taken that time"),
        "{message}"
    );
    assert!(focused(&second.client).await.starts_with("notice"));
    // Fresh slots: the taken one is gone, the other is offered, nothing is chosen.
    assert!(
        two.try_find(&format!("input[value='{contested}']"))
            .await
            .is_none()
    );
    two.find(&format!("input[value='{other}']")).await;
    assert!(two.try_find("input[name=slot_id]:checked").await.is_none());
    // What they typed is intact.
    assert_eq!(two.value("#name").await, "Second Visitor");
    assert_eq!(two.value("#topic").await, "The same time, please");
    second.screenshot("book-js-slot-taken").await;
    two.pick_slot(&other).await;
    two.submit().await;
    two.find(".done").await;
    assert!(app.open_slot_ids().await.is_empty());
    first.close().await;
    second.close().await;
}

#[tokio::test]
async fn too_many_requests_and_a_lost_connection_keep_what_was_typed() {
    let app = spawn_app_with(|c| c.booking_rate_limit = 1).await;
    let slot = app.create_slot(30).await;
    let browser = Browser::start().await;
    let c = &browser.client;
    c.goto(&app.url("/book")).await.unwrap();
    let page = Scope::Page(c.clone());
    page.pick_slot(&slot).await;
    page.fill_intake("Rate Limited", "rl@example.net", "Patience")
        .await;
    // Another request from this address spends the minute's allowance.
    let (status, _) = app.book(&json!({})).await;
    assert_eq!(status, 422);
    page.submit().await;
    let message = page.text(".notice:not([hidden])").await;
    assert!(
        message.contains("Too many requests") && message.contains("seconds"),
        "{message}"
    );
    assert!(focused(c).await.starts_with("notice"));
    assert_eq!(page.value("#name").await, "Rate Limited");
    browser.screenshot("book-js-too-many").await;

    // The service goes away: a clear message, a retry button, the answers kept.
    drop(app);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    page.submit().await;
    let notice = page.find(".notice:not([hidden]) button").await;
    assert_eq!(notice.text().await.unwrap(), "Try again");
    let message = page.text(".notice").await;
    assert!(message.contains("could not reach"), "{message}");
    assert_eq!(page.value("#topic").await, "Patience");
    browser.screenshot("book-js-network-error").await;
    browser.close().await;
}

/// The next daylight-saving change of `zone` after `after`.
fn next_transition(zone: &str, after: Timestamp) -> Timestamp {
    let tz = jiff::tz::TimeZone::get(zone).unwrap();
    tz.following(after).next().unwrap().timestamp()
}

#[tokio::test]
async fn los_angeles_visitor_and_berlin_owner_see_the_same_slots_across_daylight_saving() {
    let app = spawn_app_with(|c| c.booking_horizon_days = 400).await;
    // Slots at 18:00 UTC two days before and two days after Los Angeles' next change.
    let change = next_transition("America/Los_Angeles", Timestamp::now());
    let day = jiff::SignedDuration::from_hours(24);
    let noonish = |t: Timestamp| {
        let s = t.as_second();
        Timestamp::from_second(s - s % 86_400 + 18 * 3600).unwrap()
    };
    let before = noonish(change.checked_sub(day * 2).unwrap());
    let after = noonish(change.checked_add(day * 2).unwrap());
    let mut ids = Vec::new();
    for start in [before, after] {
        ids.push(
            app.create_slot_at(
                start,
                start
                    .checked_add(jiff::SignedDuration::from_mins(45))
                    .unwrap(),
            )
            .await,
        );
    }
    // Times as the reader's language writes them (CLDR): the server's pages through ICU4X, the
    // script through the browser's Intl. Chromium puts a plain space before "PM" where CLDR
    // has a narrow no-break space; that difference is not the page's.
    let same = |s: &str| s.replace('\u{202f}', " ");
    let local = |t: Timestamp, zone: &str| {
        same(&guidance_core::i18n::format_time(
            "en",
            &t.to_zoned(jiff::tz::TimeZone::get(zone).unwrap()),
        ))
    };
    // The two sides of the change really are an hour apart in Los Angeles.
    assert_ne!(
        local(before, "America/Los_Angeles"),
        local(after, "America/Los_Angeles")
    );

    let visitor = Browser::start_with(BrowserOptions {
        time_zone: Some("America/Los_Angeles".into()),
        ..BrowserOptions::default()
    })
    .await;
    visitor.client.goto(&app.url("/book")).await.unwrap();
    let page = Scope::Page(visitor.client.clone());
    page.find(".days[role=group]").await;
    for (id, start) in ids.iter().zip([before, after]) {
        page.pick_slot(id).await;
        let shown = page
            .text(&format!(
                "label.slot:has(input[value='{id}']) span[aria-hidden]"
            ))
            .await;
        assert!(
            same(&shown).starts_with(&local(start, "America/Los_Angeles")),
            "Los Angeles sees {shown} for {start}"
        );
    }
    visitor.screenshot("book-js-los-angeles-dst").await;
    // Book the slot after the change, from Los Angeles.
    page.pick_slot(&ids[1]).await;
    page.fill_intake("Zoe Zone", "zoe@example.net", "Clocks")
        .await;
    page.submit().await;
    let done = page.text(".done").await;
    assert!(
        same(&done).contains(&local(after, "America/Los_Angeles")),
        "{done}"
    );

    // The owner, in Berlin, opens the accept link and sees the same slot at Berlin time.
    let owner_mail = app.mail.wait_for("owner_new_request", 1).await.remove(0);
    let accept = action_links(&owner_mail, &app.base).remove(0);
    let owner = Browser::start_with(BrowserOptions {
        time_zone: Some("Europe/Berlin".into()),
        ..BrowserOptions::default()
    })
    .await;
    owner.client.goto(&accept).await.unwrap();
    let owner_page = Scope::Page(owner.client.clone());
    let when = owner_page.text(".summary").await;
    let berlin = format!(
        "{}–{}",
        local(after, "Europe/Berlin"),
        local(
            after
                .checked_add(jiff::SignedDuration::from_mins(45))
                .unwrap(),
            "Europe/Berlin"
        )
    );
    assert!(
        same(&when).contains(&berlin) && when.contains("(Europe/Berlin)"),
        "{when}"
    );
    owner.screenshot("owner-berlin-accept").await;
    // And the visitor's no-JavaScript view in their zone agrees for the slot before the change.
    let html = app.text("/book?tz=America/Los_Angeles").await;
    assert!(same(&html).contains(&format!("{}–", local(before, "America/Los_Angeles"))));
    visitor.close().await;
    owner.close().await;
}

#[tokio::test]
async fn the_element_loads_only_when_asked_and_books_from_another_origin() {
    // The host page is opened as http://localhost:PORT, the service is http://127.0.0.1:PORT:
    // two origins, so the element works only through CORS for the configured origin.
    let port = guidance_testkit::free_port();
    let app = spawn_app_with(|c| {
        c.listen = format!("127.0.0.1:{port}");
        c.embed_origins = Some(format!("http://localhost:{port}"));
    })
    .await;
    ask_questions(&app).await;
    let slot = app.create_slot(30).await;
    let browser = Browser::start_with(BrowserOptions {
        time_zone: Some("Asia/Tokyo".into()),
        ..BrowserOptions::default()
    })
    .await;
    let c = &browser.client;
    c.goto(&format!("http://localhost:{port}/examples/support/"))
        .await
        .unwrap();
    let host = Scope::Page(c.clone());
    host.find("#book-session").await;
    let loaded = || async {
        c.execute(
            "return performance.getEntriesByType('resource').map(e => e.name)",
            vec![],
        )
        .await
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect::<Vec<_>>()
    };
    let before = loaded().await;
    assert!(
        before.iter().all(|u| !u.contains("guidance-booking")),
        "nothing of the element before the visitor asks: {before:?}"
    );
    assert!(before.iter().any(|u| u.ends_with("support-form.js")));
    browser.screenshot("support-page-closed").await;
    browser.assert_accessible("the example support page").await;

    host.find("#book-session").await.click().await.unwrap();
    let element = host.find("guidance-booking").await;
    let shadow = Scope::Shadow(element.shadow_root().await.unwrap());
    shadow.find(".days[role=group]").await;
    let after = loaded().await;
    assert!(
        after.contains(&format!(
            "http://127.0.0.1:{port}/embed/guidance-booking.js"
        )),
        "{after:?}"
    );
    assert!(
        after
            .iter()
            .any(|u| u.ends_with("/components/guidance-booking/guidance-booking.js"))
    );
    assert_eq!(shadow.value("#tz").await, "Asia/Tokyo");
    // It names the owner and the sessions' length.
    let line = c
        .execute(
            "return document.querySelector('guidance-booking').shadowRoot.querySelector('.session-line').textContent",
            vec![],
        )
        .await
        .unwrap();
    assert!(
        line.as_str().unwrap().starts_with("With Olga Owner, "),
        "{line}"
    );
    assert!(line.as_str().unwrap().ends_with(" minutes"), "{line}");
    // It takes the host page's font.
    let font = c
        .execute(
            "return getComputedStyle(document.querySelector('guidance-booking').shadowRoot.querySelector('#name')).fontFamily",
            vec![],
        )
        .await
        .unwrap();
    assert!(font.as_str().unwrap().contains("Georgia"), "{font}");
    browser.screenshot("support-page-element").await;
    browser
        .assert_accessible("the element on the support page")
        .await;

    shadow.pick_slot(&slot).await;
    shadow
        .fill_intake("Embed Visitor", "embed@example.net", "Through the element")
        .await;
    shadow.submit().await;
    shadow.find("#q-team_size[aria-invalid=true]").await;
    shadow
        .find("#q-team_size")
        .await
        .select_by_value("More")
        .await
        .unwrap();
    shadow.submit().await;
    let done = shadow.find(".done").await;
    assert!(done.text().await.unwrap().contains("(Asia/Tokyo)"));
    browser.screenshot("support-page-element-done").await;
    let booking = only_booking(&app).await;
    assert_eq!(booking["name"], "Embed Visitor");
    let stored = app.booking(booking["id"].as_str().unwrap()).await;
    assert_eq!(
        stored["answers"],
        json!({"team_size": "More", "newsletter": false})
    );
    assert_eq!(stored["time_zone"], "Asia/Tokyo", "{stored}");
    browser.close().await;
}

#[tokio::test]
async fn with_no_open_time_the_page_says_booking_is_closed() {
    let app = spawn_app().await;
    let browser = Browser::start().await;
    let c = &browser.client;
    c.goto(&app.url("/book")).await.unwrap();
    let page = Scope::Page(c.clone());
    assert_eq!(
        page.text(".slot-list .empty").await,
        "Booking is closed for now: there are no open times. Please check again later."
    );
    let button = page.find("form.booking button[type=submit]").await;
    assert!(!button.is_enabled().await.unwrap());
    browser.screenshot("book-js-closed").await;
    browser.assert_accessible("/book with no open time").await;
    browser.close().await;
}
