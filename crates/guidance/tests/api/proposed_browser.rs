//! Proposed times in a real headless Chromium: the visitor takes one from the email's link; a
//! second visitor's browser cannot take a time held for the first.

use guidance_testkit::api::intake;
use guidance_testkit::mail::plain_text;
use guidance_testkit::{Browser, BrowserOptions};
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn a_visitor_offered_three_times_takes_one_in_chromium_and_a_second_browser_cannot_take_a_held_one()
 {
    let app = spawn_app().await;
    let old = app.create_slot(30).await;
    let offered = app.create_slots(33, 3).await;
    let (status, body) = app.book(&intake(&old)).await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_str().unwrap().to_owned();
    assert_eq!(app.act(&id, "accept", None).await.0, 200);

    // A second visitor opens the booking page while the three times are still open, and
    // chooses one of them.
    let second = Browser::start_with(BrowserOptions {
        javascript: false,
        ..BrowserOptions::default()
    })
    .await;
    second.client.goto(&app.url("/book")).await.unwrap();
    second
        .click(&format!("input[name=slot_id][value='{}']", offered[2]))
        .await;
    second.type_into("#name", "Ada Lovelace").await;
    second.type_into("#email", "ada@example.net").await;
    second.type_into("#topic", "Engines").await;

    // Meanwhile the owner proposes the three to the first visitor: they are held for them.
    let proposal = json!({"message": "Would one of these suit you?", "proposed_slot_ids": offered});
    let (status, body) = app.act(&id, "reschedule", Some(proposal)).await;
    assert_eq!(status, 200, "{body}");

    // The second browser's choice is refused by the database, and the held times are not
    // offered again.
    second.click("button.primary").await;
    second.element("div.notice[role=alert]:not([hidden])").await;
    assert_eq!(app.bookings().await.len(), 1, "no second booking");
    for held in &offered {
        let css = format!("input[name=slot_id][value='{held}']");
        assert_eq!(second.count(&css).await, 0, "{held} is held");
    }

    // The first visitor follows the email's link for the second time and takes it.
    let ask = app
        .mail
        .wait_for("requester_pick_new_time", 1)
        .await
        .remove(0);
    let links: Vec<String> = plain_text(&ask)
        .split_whitespace()
        .filter(|w| w.starts_with(&format!("{}/p/", app.base)))
        .map(str::to_owned)
        .collect();
    assert_eq!(links.len(), 3, "{links:?}");
    let visitor = Browser::start().await;
    visitor.client.goto(&links[1]).await.unwrap();
    assert_eq!(visitor.text_of("h1").await, "Take this time?");
    visitor.assert_accessible("the proposed time's page").await;
    visitor.screenshot("proposed-time").await;
    assert_eq!(
        app.booking(&id).await["status"],
        "needs_reschedule",
        "GET changed nothing"
    );
    visitor.click("button.primary").await;
    visitor.wait_for_text("h1", "Time taken").await;
    visitor.screenshot("proposed-time-taken").await;

    let booking = app.booking(&id).await;
    assert_eq!(booking["status"], "accepted");
    assert_eq!(booking["slot_id"], offered[1].as_str());
    // The other two are open again at once: the second browser sees them now.
    let open = app.open_slot_ids().await;
    assert!(
        open.contains(&offered[0]) && open.contains(&offered[2]),
        "{open:?}"
    );
    assert!(!open.contains(&offered[1]));
    second.client.goto(&app.url("/book")).await.unwrap();
    for (slot, shown) in [(&offered[0], 1), (&offered[1], 0), (&offered[2], 1)] {
        let css = format!("input[name=slot_id][value='{slot}']");
        assert_eq!(second.count(&css).await, shown, "{slot}");
    }
    // And the taken link cannot be used again from another browser.
    second.client.goto(&links[1]).await.unwrap();
    assert_ne!(second.text_of("h1").await, "Take this time?");
    assert_eq!(second.count("form[method=post] button.primary").await, 0);

    visitor.close().await;
    second.close().await;
}
