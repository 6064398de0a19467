//! The whole flow: slots → booking → owner's invitation → accept; and the reschedule round trip.

use guidance_testkit::api::intake;
use guidance_testkit::mail::{action_links, calendar_part, ics_values};
use guidance_testkit::python;

use crate::helpers::*;

#[tokio::test]
async fn a_booking_goes_from_slot_to_accepted_through_the_owners_email() {
    a_booking_goes_from_slot_to_accepted_through_the_owners_email_on(spawn_app().await).await;
}

/// The body of [`a_booking_goes_from_slot_to_accepted_through_the_owners_email`], for any backend.
pub async fn a_booking_goes_from_slot_to_accepted_through_the_owners_email_on(app: TestApp) {
    let first = app.create_slot(48).await;
    let second = app.create_slot(50).await;
    assert_eq!(
        app.open_slot_ids().await,
        vec![first.clone(), second.clone()]
    );

    let (status, body) = app.book(&intake(&first)).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["status"], "pending");
    let id = body["id"].as_str().unwrap().to_owned();
    assert_eq!(
        app.open_slot_ids().await,
        vec![second.clone()],
        "the booked slot is held"
    );

    // The owner's email carries an invitation for this booking and three links.
    let owner_mail = app.mail.wait_for("owner_new_request", 1).await.remove(0);
    let (method, ics) =
        calendar_part(&owner_mail).expect("the owner's email has a text/calendar part");
    assert_eq!(method, "REQUEST");
    assert_eq!(ics_values(&ics, "METHOD"), vec!["REQUEST"]);
    let booking = app.booking(&id).await;
    assert_eq!(
        ics_values(&ics, "UID"),
        vec![booking["ics_uid"].as_str().unwrap().to_owned()]
    );
    assert!(ics_values(&ics, "ATTENDEE")[0].ends_with("mailto:owner@example.org"));
    assert_eq!(
        ics_values(&ics, "ORGANIZER"),
        vec!["mailto:bookings@example.org"]
    );
    assert!(
        !ics.contains("/a/"),
        "no signed links inside the calendar data"
    );
    let links = action_links(&owner_mail, &app.base);
    assert_eq!(
        links.len(),
        3,
        "accept, decline and reschedule links: {links:?}"
    );
    app.mail.wait_for("requester_received", 1).await;

    // A GET (as a mail scanner makes) changes nothing.
    let accept = &links[0];
    let page = app.get(accept).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Accept the request"), "{html}");
    assert!(html.contains("Ada Lovelace"));
    assert_eq!(app.booking(&id).await["status"], "pending");
    let page_again = app.get(accept).await;
    assert_eq!(page_again.status(), 200, "a GET does not use the link up");

    // The POST accepts.
    let done = app.post(accept).await;
    assert_eq!(done.status(), 200);
    assert!(done.text().await.unwrap().contains("Request accepted"));
    let booking = app.booking(&id).await;
    assert_eq!(booking["status"], "accepted");
    let history: Vec<_> = booking["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(history, vec!["request", "accept"]);

    // The requester gets a confirmation with the invitation.
    let accepted = app.mail.wait_for("requester_accepted", 1).await.remove(0);
    let (method, ics) = calendar_part(&accepted).expect("the confirmation carries an invitation");
    assert_eq!(method, "REQUEST");
    assert_eq!(
        ics_values(&ics, "UID"),
        vec![booking["ics_uid"].as_str().unwrap().to_owned()]
    );
    assert_eq!(ics_values(&ics, "SEQUENCE"), vec!["1"]);
    assert_eq!(ics_values(&ics, "STATUS"), vec!["CONFIRMED"]);
    assert!(
        ics_values(&ics, "ATTENDEE")
            .iter()
            .any(|a| a.ends_with("mailto:ada@example.net"))
    );

    // Every email the flow wrote passes the independent checker.
    python::check_eml(&app.mail.paths());
}

#[tokio::test]
async fn asking_for_another_time_frees_the_slot_and_the_visitors_pick_goes_back_to_the_owner() {
    asking_for_another_time_frees_the_slot_and_the_visitors_pick_goes_back_to_the_owner_on(
        spawn_app().await,
    )
    .await;
}

/// The body of [`asking_for_another_time_frees_the_slot_and_the_visitors_pick_goes_back_to_the_owner`], for any backend.
pub async fn asking_for_another_time_frees_the_slot_and_the_visitors_pick_goes_back_to_the_owner_on(
    app: TestApp,
) {
    let old = app.create_slot(30).await;
    let new = app.create_slot(33).await;
    let (status, body) = app.book(&intake(&old)).await;
    assert_eq!(status, 201);
    let id = body["id"].as_str().unwrap().to_owned();
    let owner_mail = app.mail.wait_for("owner_new_request", 1).await.remove(0);
    let reschedule = action_links(&owner_mail, &app.base)[2].clone();

    let resp = app.post(&reschedule).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(app.booking(&id).await["status"], "needs_reschedule");
    assert_eq!(
        app.open_slot_ids().await,
        vec![old.clone(), new.clone()],
        "the old slot is open again"
    );

    // The owner's tentative entry is withdrawn, the visitor gets a link to choose.
    let cancel = app
        .mail
        .wait_for("owner_calendar_cancel", 1)
        .await
        .remove(0);
    assert_eq!(calendar_part(&cancel).unwrap().0, "CANCEL");
    let ask = app
        .mail
        .wait_for("requester_pick_new_time", 1)
        .await
        .remove(0);
    let pick = action_links(&ask, &app.base);
    assert_eq!(pick.len(), 1, "{pick:?}");

    let page = app.get(&pick[0]).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains(&format!("value=\"{new}\"")),
        "the page offers the open slots"
    );
    assert_eq!(
        app.booking(&id).await["status"],
        "needs_reschedule",
        "GET changed nothing"
    );

    // Posting without a choice keeps the booking waiting and says so.
    let none = app
        .client
        .post(&pick[0])
        .form(&[("slot_id", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(none.status(), 422);
    assert_eq!(app.booking(&id).await["status"], "needs_reschedule");

    let chosen = app
        .client
        .post(&pick[0])
        .form(&[("slot_id", new.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(chosen.status(), 200);
    let booking = app.booking(&id).await;
    assert_eq!(booking["status"], "pending");
    assert_eq!(booking["slot_id"], new.as_str());
    assert_eq!(
        app.open_slot_ids().await,
        vec![old.clone()],
        "the new slot is held, the old one open"
    );

    // The owner gets a new request for the moved booking: same UID, higher SEQUENCE.
    let requests = app.mail.wait_for("owner_new_request", 2).await;
    let (_, first_ics) = calendar_part(&requests[0]).unwrap();
    let (method, moved_ics) = calendar_part(&requests[1]).unwrap();
    assert_eq!(method, "REQUEST");
    assert_eq!(ics_values(&moved_ics, "UID"), ics_values(&first_ics, "UID"));
    let seq: u32 = ics_values(&moved_ics, "SEQUENCE")[0].parse().unwrap();
    assert_eq!(seq, 2, "request 0, reschedule 1, new time 2");
    // …whose links work: accept the new time.
    let accept = action_links(&requests[1], &app.base)[0].clone();
    assert_eq!(app.post(&accept).await.status(), 200);
    assert_eq!(app.booking(&id).await["status"], "accepted");
    // The link to choose a time is spent.
    assert_eq!(
        app.client
            .post(&pick[0])
            .form(&[("slot_id", old.as_str())])
            .send()
            .await
            .unwrap()
            .status(),
        409
    );
    python::check_eml(&app.mail.paths());
}
