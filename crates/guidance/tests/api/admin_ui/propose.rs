//! Proposing times from the admin UI's booking page, with the same use case as the owner API.

use guidance_testkit::api::intake;

use super::{login, spawn_admin_app};

#[tokio::test]
async fn the_booking_page_proposes_open_times_with_a_reschedule() {
    let app = spawn_admin_app().await;
    let booked = app.create_slot(24).await;
    let open = app.create_slots(27, 4).await;
    let (_, b) = app.book(&intake(&booked)).await;
    let id = b["id"].as_str().unwrap();
    let owner = login(&app).await;

    let (_, html) = owner.get(&app, &format!("/admin/bookings/{id}")).await;
    for slot in &open {
        assert!(
            html.contains(&format!("name=\"proposed_slot_ids\" value=\"{slot}\"")),
            "{slot} may be proposed"
        );
    }
    // Four are one too many: refused, nothing changes.
    let act = format!("/admin/bookings/{id}/act");
    let mut four = vec![("action", "reschedule")];
    four.extend(open.iter().map(|s| ("proposed_slot_ids", s.as_str())));
    let (status, _) = owner.post(&app, &act, &four).await;
    assert_eq!(status, 422);
    assert_eq!(app.booking(id).await["status"], "pending");

    let two = [
        ("action", "reschedule"),
        ("proposed_slot_ids", open[0].as_str()),
        ("proposed_slot_ids", open[2].as_str()),
    ];
    let (status, _) = owner.post(&app, &act, &two).await;
    assert_eq!(status, 303);
    assert_eq!(app.booking(id).await["status"], "needs_reschedule");
    assert_eq!(
        app.open_slot_ids().await,
        vec![booked, open[1].clone(), open[3].clone()],
        "the proposed times are held for the visitor"
    );
}
