//! The booking page without JavaScript.

use guidance_testkit::mail::plain_text;

use crate::helpers::*;

#[tokio::test]
async fn a_visitor_books_through_the_plain_form() {
    let app = spawn_app().await;
    let slot = app.create_slot(24).await;
    let page = app.get("/book?tz=America/Los_Angeles").await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains(&format!("value=\"{slot}\"")),
        "the slot is offered"
    );
    assert!(html.contains("America/Los_Angeles"));

    // Missing fields: the form comes back with messages and what was typed.
    let resp = app
        .post_form(
            "/book",
            &[
                ("slot_id", slot.as_str()),
                ("name", "Grace <b>Hopper</b>"),
                ("email", "not-an-email"),
                ("topic", ""),
                ("priority", "normal"),
                ("time_zone", "America/Los_Angeles"),
                ("locale", "en"),
            ],
        )
        .await;
    assert_eq!(resp.status(), 422);
    let html = resp.text().await.unwrap();
    assert!(html.contains("Please enter a valid email address."));
    assert!(html.contains("Please fill this in."));
    assert!(
        html.contains("Grace &#60;b&#62;Hopper&#60;/b&#62;")
            || html.contains("Grace &lt;b&gt;Hopper&lt;/b&gt;"),
        "typed name kept, escaped"
    );
    assert!(!html.contains("<b>Hopper</b>"));
    assert!(html.contains("value=\"not-an-email\""));
    assert_eq!(
        app.open_slot_ids().await,
        vec![slot.clone()],
        "nothing was booked"
    );

    // A complete form books and redirects to a success page.
    let resp = app
        .post_form(
            "/book",
            &[
                ("slot_id", slot.as_str()),
                ("name", "Grace Hopper"),
                ("email", "grace@example.net"),
                ("topic", "Compilers"),
                ("priority", "urgent"),
                ("time_zone", "America/Los_Angeles"),
                ("locale", "en"),
            ],
        )
        .await;
    assert_eq!(resp.status(), 303);
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    let done = app.get(&location).await;
    assert_eq!(done.status(), 200);
    let html = done.text().await.unwrap();
    assert!(html.contains("Thank you, your request is on its way"));
    assert!(
        html.contains("America/Los_Angeles"),
        "the time is shown in the visitor's zone"
    );
    assert!(app.open_slot_ids().await.is_empty());
    let owner = app.mail.wait_for("owner_new_request", 1).await.remove(0);
    assert!(plain_text(&owner).contains("Grace Hopper"));

    // The same slot again: a clear message, the form kept.
    let resp = app
        .post_form(
            "/book",
            &[
                ("slot_id", slot.as_str()),
                ("name", "Late Comer"),
                ("email", "late@example.net"),
                ("topic", "Me too"),
                ("priority", "low"),
                ("time_zone", "UTC"),
                ("locale", "en"),
            ],
        )
        .await;
    assert_eq!(resp.status(), 409);
    let html = resp.text().await.unwrap();
    assert!(html.contains("someone else has just taken that time"));
    assert!(html.contains("value=\"Late Comer\""));
}

#[tokio::test]
async fn the_booking_page_names_the_owner_and_the_sessions_length() {
    let app = spawn_app().await;
    let page = app.text("/book?lang=en").await;
    assert!(page.contains("With Olga Owner</p>"), "no open time yet");
    app.create_slot(30).await;
    let page = app.text("/book?lang=en").await;
    assert!(page.contains("With Olga Owner, 45 minutes"), "{page}");
    let page = app.text("/book?lang=de").await;
    assert!(page.contains("Mit Olga Owner, 45 Minuten"), "{page}");
}
