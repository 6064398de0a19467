//! The owner's calendars in the admin UI: the calendars page over HTTP (add, refused input,
//! test, remove, the feed rotated), what the dashboard and the slot views say about them, and
//! the page in a real Chromium, with axe-core on each state.

use guidance_testkit::Browser;
use jiff::civil::Date;
use reqwest::Method;
use uuid::Uuid;

use super::server::FeedServer;
use super::{base_day, hourly_slots, local, poll};
use crate::admin_browser::sign_in;
use crate::admin_ui::{Owner, login, spawn_admin_app};
use crate::helpers::TestApp;

/// A calendar busy from 09:00 to 10:00 (Berlin) on `day`.
fn busy_at_nine(day: Date) -> String {
    let at = |h| local(day, h).strftime("%Y%m%dT%H%M%SZ").to_string();
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:dentist\r\n\
         DTSTAMP:20260101T000000Z\r\nDTSTART:{}\r\nDTEND:{}\r\nSUMMARY:Dentist\r\nEND:VEVENT\r\n\
         END:VCALENDAR\r\n",
        at(9),
        at(10)
    )
}

/// The HTML of the row (`<tr>` or `<li>`) that carries `marker`, e.g. `data-slot-id="…"`.
fn row_of<'a>(html: &'a str, marker: &str) -> &'a str {
    let at = html
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} in\n{html}"));
    let end = html[at..]
        .find("</tr>")
        .into_iter()
        .chain(html[at..].find("</li>"))
        .min()
        .expect("the row ends");
    &html[at..at + end]
}

/// The path of the feed address the calendars page shows.
fn feed_path(page: &str) -> String {
    let start = page
        .find("id=\"feed-url\" value=\"")
        .expect("the feed field")
        + 21;
    let url = page[start..].split('"').next().unwrap();
    format!(
        "/feed/{}",
        url.split_once("/feed/").expect("a feed address").1
    )
}

async fn page(app: &TestApp, owner: &Owner, path: &str) -> String {
    let (status, html) = owner.get(app, path).await;
    assert_eq!(status, 200, "{path}: {html}");
    html
}

#[tokio::test]
async fn the_calendars_page_adds_tests_and_removes_sources_and_rotates_the_feed() {
    let app = spawn_admin_app().await;
    let owner = login(&app).await;
    let day = base_day();
    let slots = hourly_slots(&app, day, 1).await;
    let nine = slots[9].0.clone();
    let server = FeedServer::start().await;
    server.serve("/work.ics", &busy_at_nine(day));

    // Linked from the settings; empty at first, with the feed address the owner API gives.
    assert!(
        page(&app, &owner, "/admin/settings")
            .await
            .contains("href=\"/admin/calendars\"")
    );
    let empty = page(&app, &owner, "/admin/calendars").await;
    assert!(empty.contains("No calendar yet"), "{empty}");
    let (_, feed) = app.admin(Method::GET, "/api/admin/feed", None).await;
    assert!(empty.contains(&format!("value=\"{}\"", feed["url"].as_str().unwrap())));

    // Refused input: messages at the fields, the form back as typed but the password, nothing
    // added.
    let (status, refused) = owner
        .post(
            &app,
            "/admin/calendars",
            &[
                ("name", ""),
                ("url", "ftp://calendar.example.org/typed.ics"),
                ("username", "olga"),
                ("password", "typed-secret-password"),
            ],
        )
        .await;
    assert_eq!(status, 422, "{refused}");
    assert!(refused.contains("Some fields need another look"));
    assert!(refused.contains("value=\"ftp://calendar.example.org/typed.ics\""));
    assert!(
        !refused.contains("typed-secret-password"),
        "the password is never sent back"
    );
    let (_, list) = app.admin(Method::GET, "/api/admin/calendars", None).await;
    assert_eq!(list["calendars"], serde_json::json!([]));

    // Added and read at once: the page says what the first poll found.
    let url = format!("{}/work.ics", server.base);
    let (status, location) = owner
        .post(&app, "/admin/calendars", &[("name", "Work"), ("url", &url)])
        .await;
    assert_eq!(status, 303, "{location}");
    assert!(location.starts_with("/admin/calendars?done=calendar_added&tested="));
    let id = location.rsplit_once("tested=").unwrap().1.to_owned();
    let added = page(&app, &owner, &location).await;
    assert!(added.contains("The calendar was added."), "{added}");
    assert!(added.contains("“Work” was read just now. Busy times held: 1."));
    let row = row_of(&added, &format!("data-source-id=\"{id}\""));
    assert!(
        row.contains("ICS address") && row.contains("127.0.0.1"),
        "{row}"
    );
    assert!(
        !row.contains("work.ics"),
        "the address itself is never shown: {row}"
    );

    // The slot views name the calendar that hides the 09:00 slot, and only that one.
    let list = page(&app, &owner, "/admin/slots?view=list").await;
    assert_eq!(list.matches("Hidden by your calendar “Work”").count(), 1);
    assert!(
        row_of(&list, &format!("data-slot-id=\"{nine}\""))
            .contains("Hidden by your calendar “Work”")
    );
    let week = page(&app, &owner, &format!("/admin/slots?week={day}")).await;
    assert!(row_of(&week, &format!("data-slot-id=\"{nine}\"")).contains("“Work”"));
    assert!(
        page(&app, &owner, &format!("/admin/slots/{nine}"))
            .await
            .contains("Hidden by your calendar “Work”")
    );
    let ten = &slots[10].0;
    assert!(
        !page(&app, &owner, &format!("/admin/slots/{ten}"))
            .await
            .contains("Hidden by")
    );

    // A CalDAV source: its app password is never shown again.
    let (status, _) = owner
        .post(
            &app,
            "/admin/calendars",
            &[
                ("name", "Cloud"),
                ("url", &format!("{}/dav/owner/calendar/", server.base)),
                ("username", "olga"),
                ("password", "app-password-never-shown"),
            ],
        )
        .await;
    assert_eq!(status, 303);
    let both = page(&app, &owner, "/admin/calendars").await;
    assert!(both.contains("CalDAV"));
    assert!(!both.contains("app-password-never-shown"));
    let (_, list) = app.admin(Method::GET, "/api/admin/calendars", None).await;
    let cloud = list["calendars"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "Cloud")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, _) = owner
        .post(&app, &format!("/admin/calendars/{cloud}/delete"), &[])
        .await;
    assert_eq!(status, 303);

    // The calendar goes down: "test now" says so, and so does the dashboard, with the time.
    server.set_failing(true);
    let (status, location) = owner
        .post(&app, &format!("/admin/calendars/{id}/refresh"), &[])
        .await;
    assert_eq!(
        (status, location.as_str()),
        (303, &*format!("/admin/calendars?tested={id}"))
    );
    let tested = page(&app, &owner, &location).await;
    assert!(
        tested.contains("“Work” could not be read just now:"),
        "{tested}"
    );
    assert!(row_of(&tested, &format!("data-source-id=\"{id}\"")).contains("Cannot be read since"));
    let dashboard = page(&app, &owner, "/admin").await;
    assert!(
        dashboard.contains("Calendars that cannot be read"),
        "{dashboard}"
    );
    assert!(dashboard.contains("“Work” cannot be read since"));
    assert!(dashboard.contains("503"));
    assert!(dashboard.contains("Its last busy times still apply"));
    // Past the grace period its slots are hidden, and both the dashboard and the slots say so.
    app.pass_hours(1.0).await;
    poll(&app).await;
    let dashboard = page(&app, &owner, "/admin").await;
    assert!(dashboard.contains("Its slots are hidden from visitors until it can be read again."));
    let list = page(&app, &owner, "/admin/slots?view=list").await;
    assert_eq!(
        list.matches("Hidden by your calendar “Work”").count(),
        slots.len()
    );
    // Back: the dashboard says nothing more.
    server.set_failing(false);
    owner
        .post(&app, &format!("/admin/calendars/{id}/refresh"), &[])
        .await;
    assert!(
        !page(&app, &owner, "/admin")
            .await
            .contains("Calendars that cannot be read")
    );

    // Removed: no slot is hidden any more.
    let (status, location) = owner
        .post(&app, &format!("/admin/calendars/{id}/delete"), &[])
        .await;
    assert_eq!(
        (status, location.as_str()),
        (303, "/admin/calendars?done=calendar_removed")
    );
    let removed = page(&app, &owner, &location).await;
    assert!(removed.contains("The calendar was removed"));
    assert!(!removed.contains("data-source-id"));
    assert!(
        !page(&app, &owner, "/admin/slots?view=list")
            .await
            .contains("Hidden by")
    );
    // A source that is not there: a 404 page, nothing changes.
    let (status, _) = owner
        .post(
            &app,
            &format!("/admin/calendars/{}/refresh", Uuid::new_v4()),
            &[],
        )
        .await;
    assert_eq!(status, 404);

    // Rotating the feed: the old address dies at once, the new one works.
    let old = feed_path(&removed);
    assert_eq!(app.get(&old).await.status(), 200);
    let (status, location) = owner.post(&app, "/admin/feed/rotate", &[]).await;
    assert_eq!(
        (status, location.as_str()),
        (303, "/admin/calendars?done=feed_rotated#feed")
    );
    let rotated = page(&app, &owner, "/admin/calendars?done=feed_rotated").await;
    assert!(rotated.contains("Your feed has a new address."));
    let new = feed_path(&rotated);
    assert_ne!(new, old);
    assert_eq!(app.get(&old).await.status(), 404);
    assert_eq!(app.get(&new).await.status(), 200);
}

#[tokio::test]
async fn the_calendars_page_works_and_passes_axe_in_chromium() {
    let app = spawn_admin_app().await;
    let day = base_day();
    let slots = hourly_slots(&app, day, 1).await;
    let server = FeedServer::start().await;
    server.serve("/work.ics", &busy_at_nine(day));
    let browser = Browser::start().await;
    let c = &browser.client;
    sign_in(&browser, &app).await;

    // From the settings to the calendars page, empty.
    c.goto(&app.url("/admin/settings")).await.unwrap();
    browser.click("#calendars-link").await;
    browser.wait_for_path("/admin/calendars").await;
    assert_eq!(browser.text_of("h1").await, "Calendars");
    browser.assert_accessible("/admin/calendars (empty)").await;

    // Add one: the first poll's result is shown.
    browser.type_into("#calendar-name", "Work").await;
    browser
        .type_into("#calendar-url", &format!("{}/work.ics", server.base))
        .await;
    browser.click("#add-calendar button[type=submit]").await;
    browser.wait_for_url("tested=").await;
    assert!(
        browser
            .text_of(".flash")
            .await
            .contains("Busy times held: 1.")
    );
    assert_eq!(browser.count("tr.source").await, 1);
    assert_eq!(browser.text_of("tr.source td.busy").await, "1");
    browser
        .assert_accessible("/admin/calendars (a source)")
        .await;
    browser.screenshot("admin-calendars").await;

    // The copy button appears with JavaScript and says it copied the address.
    let copy = browser.element("button[data-copy]").await;
    assert!(
        copy.is_displayed().await.unwrap(),
        "the copy button is shown"
    );
    copy.click().await.unwrap();
    browser
        .wait_for_text("#feed-copied", "The address was copied.")
        .await;

    // The slot list names the calendar that hides the 09:00 slot.
    c.goto(&app.url("/admin/slots?view=list")).await.unwrap();
    let nine = browser
        .text_of(&format!("tr[data-slot-id='{}']", slots[9].0))
        .await;
    assert!(nine.contains("Hidden by your calendar “Work”"), "{nine}");
    browser
        .assert_accessible("/admin/slots (a hidden slot)")
        .await;

    // The dashboard counts what visitors can book: not the hidden slot.
    c.goto(&app.url("/admin")).await.unwrap();
    let week = browser
        .text_of("section[aria-labelledby=slots-week] p")
        .await;
    let counted = format!("{} open slots in the next 7 days.", slots.len() - 1);
    assert!(week.starts_with(&counted), "{week}");

    // It fails: "Test now" shows the error; the dashboard names it.
    server.set_failing(true);
    c.goto(&app.url("/admin/calendars")).await.unwrap();
    browser.click("tr.source button.test").await;
    browser.wait_for_url("tested=").await;
    assert!(
        browser
            .text_of(".error")
            .await
            .contains("could not be read just now")
    );
    assert!(
        browser
            .text_of("tr.source td.failure")
            .await
            .contains("Cannot be read since")
    );
    browser
        .assert_accessible("/admin/calendars (failing)")
        .await;
    browser.screenshot("admin-calendars-failing").await;
    c.goto(&app.url("/admin")).await.unwrap();
    let failing = browser
        .text_of("section[aria-labelledby=calendars-failing]")
        .await;
    assert!(failing.contains("“Work” cannot be read since"), "{failing}");
    browser
        .assert_accessible("/admin (a failing calendar)")
        .await;

    // Remove it, after the question.
    c.goto(&app.url("/admin/calendars")).await.unwrap();
    browser.click("tr.source details summary").await;
    assert!(
        browser
            .text_of("tr.source details p")
            .await
            .contains("Remove “Work”?")
    );
    browser
        .assert_accessible("/admin/calendars (remove asked)")
        .await;
    browser.click("tr.source button.remove").await;
    browser.wait_for_url("done=calendar_removed").await;
    assert_eq!(browser.count("tr.source").await, 0);

    // Rotate the feed, after the warning: the field shows the new address; the old one is gone.
    let field_value = || async {
        c.execute("return document.getElementById('feed-url').value", vec![])
            .await
            .unwrap()
            .as_str()
            .unwrap()
            .to_owned()
    };
    let old = field_value().await;
    browser.click("#rotate summary").await;
    browser.click("#rotate button[type=submit]").await;
    browser.wait_for_url("done=feed_rotated").await;
    let new = field_value().await;
    assert_ne!(new, old);
    let path = |url: &str| format!("/feed/{}", url.split_once("/feed/").unwrap().1);
    assert_eq!(app.get(&path(&old)).await.status(), 404);
    assert_eq!(app.get(&path(&new)).await.status(), 200);
    browser.close().await;
}
