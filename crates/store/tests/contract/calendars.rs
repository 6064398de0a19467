//! 9. The owner's calendars: sources, their polls and busy intervals, the feed's generation.

use guidance_store::{CalendarKind, CalendarPoll, NewCalendarSource, StoredBusy};

use super::*;

fn new_source(name: &str, kind: CalendarKind, t0: Timestamp) -> NewCalendarSource {
    NewCalendarSource {
        id: Uuid::new_v4(),
        name: name.to_owned(),
        kind,
        host: "calendar.example".to_owned(),
        sealed: vec![1, 2, 3, 0, 255],
        now: t0,
    }
}

fn poll(at: Timestamp, busy: Option<Vec<(Timestamp, Timestamp)>>) -> CalendarPoll {
    CalendarPoll {
        polled_at: at,
        succeeded: true,
        error: None,
        failing_since: None,
        failure_notified: false,
        etag: Some("\"v1\"".to_owned()),
        last_modified: Some("Sat, 01 Jun 2030 10:00:00 GMT".to_owned()),
        busy,
        email: None,
    }
}

/// A source polled once, holding two busy intervals (also used to populate a site).
pub async fn a_polled_source(store: &dyn Store, t0: Timestamp) -> Uuid {
    let source = store
        .create_calendar_source(new_source("Work", CalendarKind::Ics, t0))
        .await
        .expect("create source");
    let busy = vec![
        (t0 + hours(1), t0 + hours(2)),
        (t0 + hours(5), t0 + hours(6)),
    ];
    store
        .record_calendar_poll(source.id, poll(t0, Some(busy)))
        .await
        .expect("record poll");
    source.id
}

pub async fn calendar_sources_are_added_listed_and_removed_with_their_busy_times(
    store: Arc<dyn Store>,
) {
    let t0 = now();
    let work = a_polled_source(&*store, t0).await;
    let home = store
        .create_calendar_source(new_source("Home", CalendarKind::Caldav, t0 + mins(1)))
        .await
        .expect("second source");
    assert_eq!(home.kind, CalendarKind::Caldav);
    assert_eq!(home.sealed, vec![1, 2, 3, 0, 255]);
    assert_eq!(home.last_polled_at, None);
    assert_eq!(home.busy_count, 0);

    let listed = store.list_calendar_sources().await.expect("list");
    let names: Vec<&str> = listed.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["Work", "Home"]);
    assert_eq!(listed[0].busy_count, 2);
    assert_eq!(listed[0].last_success_at, Some(t0));
    assert_eq!(store.calendar_busy().await.expect("busy").len(), 2);

    store.delete_calendar_source(work).await.expect("delete");
    assert!(store.calendar_busy().await.expect("busy").is_empty());
    assert_eq!(store.list_calendar_sources().await.expect("list").len(), 1);
    assert_err!(
        store.delete_calendar_source(work).await,
        StoreError::NotFound
    );
}

pub async fn calendar_poll_replaces_busy_times_and_queues_its_email_at_once(store: Arc<dyn Store>) {
    let t0 = now();
    let id = a_polled_source(&*store, t0).await;
    let t1 = t0 + mins(5);
    let failed = store
        .record_calendar_poll(
            id,
            CalendarPoll {
                polled_at: t1,
                succeeded: false,
                error: Some("HTTP 500".to_owned()),
                failing_since: Some(t1),
                failure_notified: true,
                etag: None,
                last_modified: None,
                busy: None,
                email: Some(email("calendar_failing", OWNER)),
            },
        )
        .await
        .expect("failed poll");
    assert_eq!(failed.last_error.as_deref(), Some("HTTP 500"));
    assert_eq!(failed.failing_since, Some(t1));
    assert!(failed.failure_notified);
    assert_eq!(
        failed.last_success_at,
        Some(t0),
        "kept from the last success"
    );
    assert_eq!(failed.etag.as_deref(), Some("\"v1\""), "validators kept");
    assert_eq!(failed.busy_count, 2, "the old busy times stay");
    let claimed = store
        .claim_email(t1, t1 + mins(1))
        .await
        .expect("claim")
        .expect("the email was queued with the poll");
    assert_eq!(claimed.kind, "calendar_failing");
    assert_eq!(claimed.booking_id, None);

    let t2 = t1 + mins(5);
    let busy = vec![(t2 + hours(3), t2 + hours(4))];
    let recovered = store
        .record_calendar_poll(id, poll(t2, Some(busy.clone())))
        .await
        .expect("recovered");
    assert_eq!(recovered.failing_since, None);
    assert_eq!(recovered.last_error, None);
    assert_eq!(recovered.busy_count, 1);
    assert_eq!(
        store.calendar_busy().await.expect("busy"),
        vec![StoredBusy {
            source_id: id,
            starts_at: busy[0].0,
            ends_at: busy[0].1
        }]
    );
}

pub async fn calendar_unchanged_poll_keeps_busy_times_and_validators(store: Arc<dyn Store>) {
    let t0 = now();
    let id = a_polled_source(&*store, t0).await;
    let mut unchanged = poll(t0 + mins(5), None);
    unchanged.etag = Some("\"v1\"".to_owned());
    let source = store
        .record_calendar_poll(id, unchanged)
        .await
        .expect("unchanged poll");
    assert_eq!(source.last_polled_at, Some(t0 + mins(5)));
    assert_eq!(source.busy_count, 2);
    assert_eq!(store.calendar_busy().await.expect("busy").len(), 2);
}

pub async fn calendar_source_is_claimed_by_one_poller_at_a_time(store: Arc<dyn Store>) {
    let t0 = now();
    let id = a_polled_source(&*store, t0).await;
    assert!(
        store
            .claim_calendar_source(id, t0, t0 + mins(2))
            .await
            .expect("claim")
    );
    assert!(
        !store
            .claim_calendar_source(id, t0 + mins(1), t0 + mins(3))
            .await
            .expect("held")
    );
    assert!(
        store
            .claim_calendar_source(id, t0 + mins(3), t0 + mins(5))
            .await
            .expect("lease over"),
        "a lease that ran out can be taken over"
    );
    store
        .record_calendar_poll(id, poll(t0 + mins(4), None))
        .await
        .expect("record");
    assert!(
        store
            .claim_calendar_source(id, t0 + mins(4), t0 + mins(6))
            .await
            .expect("released"),
        "recording a poll ends the lease"
    );
    assert!(
        !store
            .claim_calendar_source(Uuid::new_v4(), t0, t0 + mins(1))
            .await
            .expect("none")
    );
}

pub async fn calendar_feed_rotation_moves_the_generation(store: Arc<dyn Store>) {
    let t0 = now();
    assert_eq!(store.feed_generation().await.expect("generation"), 0);
    assert_eq!(store.rotate_feed(t0).await.expect("rotate"), 1);
    assert_eq!(store.rotate_feed(t0).await.expect("rotate"), 2);
    assert_eq!(store.feed_generation().await.expect("generation"), 2);
}
