//! Each case of RFC 5545 that busy times depend on, in the shapes calendar apps write.

use guidance_calendar::{CalendarError, Interval, busy_intervals};
use jiff::Timestamp;
use jiff::tz::TimeZone;

const PARIS: &str = "Europe/Paris";

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn iv(a: &str, b: &str) -> Interval {
    Interval {
        start: ts(a),
        end: ts(b),
    }
}

/// A calendar with `body` inside, CRLF line ends.
fn cal(body: &str) -> String {
    let mut s = String::from("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n");
    for line in body.trim().lines() {
        s.push_str(line.trim());
        s.push_str("\r\n");
    }
    s.push_str("END:VCALENDAR\r\n");
    s
}

fn busy_in(doc: &str, from: &str, to: &str) -> Vec<Interval> {
    let owner = TimeZone::get(PARIS).unwrap();
    busy_intervals(doc, ts(from), ts(to), &owner, &|uid: &str| {
        uid.ends_with("@guidance")
    })
    .unwrap()
}

#[test]
fn a_weekly_meeting_stays_at_nine_local_time_across_the_dst_change() {
    let doc = cal("
        BEGIN:VEVENT
        UID:weekly
        DTSTART;TZID=Europe/Berlin:20300318T090000
        DTEND;TZID=Europe/Berlin:20300318T100000
        RRULE:FREQ=WEEKLY;COUNT=3
        END:VEVENT");
    // 31 March 2030 is the change to summer time.
    assert_eq!(
        busy_in(&doc, "2030-03-01T00:00Z", "2030-05-01T00:00Z"),
        vec![
            iv("2030-03-18T08:00Z", "2030-03-18T09:00Z"),
            iv("2030-03-25T08:00Z", "2030-03-25T09:00Z"),
            iv("2030-04-01T07:00Z", "2030-04-01T08:00Z"),
        ]
    );
}

#[test]
fn exdate_removes_and_rdate_adds_occurrences() {
    let doc = cal("
        BEGIN:VEVENT
        UID:daily
        DTSTART;TZID=Europe/Paris:20300107T140000
        DTEND;TZID=Europe/Paris:20300107T150000
        RRULE:FREQ=DAILY;UNTIL=20300109T130000Z
        EXDATE;TZID=Europe/Paris:20300108T140000
        RDATE;TZID=Europe/Paris:20300112T100000
        END:VEVENT");
    assert_eq!(
        busy_in(&doc, "2030-01-01T00:00Z", "2030-02-01T00:00Z"),
        vec![
            iv("2030-01-07T13:00Z", "2030-01-07T14:00Z"),
            iv("2030-01-09T13:00Z", "2030-01-09T14:00Z"),
            iv("2030-01-12T09:00Z", "2030-01-12T10:00Z"),
        ]
    );
}

#[test]
fn a_moved_occurrence_blocks_its_new_time_and_a_cancelled_one_nothing() {
    let doc = cal("
        BEGIN:VEVENT
        UID:standup
        DTSTART:20300107T080000Z
        DTEND:20300107T083000Z
        RRULE:FREQ=DAILY;COUNT=3
        END:VEVENT
        BEGIN:VEVENT
        UID:standup
        RECURRENCE-ID:20300108T080000Z
        DTSTART:20300108T150000Z
        DTEND:20300108T153000Z
        END:VEVENT
        BEGIN:VEVENT
        UID:standup
        RECURRENCE-ID:20300109T080000Z
        DTSTART:20300109T080000Z
        DTEND:20300109T083000Z
        STATUS:CANCELLED
        END:VEVENT");
    assert_eq!(
        busy_in(&doc, "2030-01-01T00:00Z", "2030-02-01T00:00Z"),
        vec![
            iv("2030-01-07T08:00Z", "2030-01-07T08:30Z"),
            iv("2030-01-08T15:00Z", "2030-01-08T15:30Z"),
        ]
    );
}

#[test]
fn outlook_windows_zone_names_are_read_as_their_iana_zone() {
    let doc = cal("
        BEGIN:VTIMEZONE
        TZID:Pacific Standard Time
        BEGIN:STANDARD
        DTSTART:16010101T020000
        TZOFFSETFROM:-0700
        TZOFFSETTO:-0800
        RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=1SU;BYMONTH=11
        END:STANDARD
        BEGIN:DAYLIGHT
        DTSTART:16010101T020000
        TZOFFSETFROM:-0800
        TZOFFSETTO:-0700
        RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=2SU;BYMONTH=3
        END:DAYLIGHT
        END:VTIMEZONE
        BEGIN:VEVENT
        UID:outlook
        DTSTART;TZID=Pacific Standard Time:20300715T090000
        DTEND;TZID=Pacific Standard Time:20300715T093000
        END:VEVENT");
    assert_eq!(
        busy_in(&doc, "2030-07-01T00:00Z", "2030-08-01T00:00Z"),
        vec![iv("2030-07-15T16:00Z", "2030-07-15T16:30Z")]
    );
}

#[test]
fn an_all_day_event_spans_the_owner_local_day_and_a_floating_time_is_owner_time() {
    let doc = cal("
        BEGIN:VEVENT
        UID:holiday
        DTSTART;VALUE=DATE:20300701
        DTEND;VALUE=DATE:20300703
        END:VEVENT
        BEGIN:VEVENT
        UID:floating
        DTSTART:20300710T120000
        DURATION:PT45M
        END:VEVENT");
    assert_eq!(
        busy_in(&doc, "2030-06-01T00:00Z", "2030-08-01T00:00Z"),
        vec![
            iv("2030-06-30T22:00Z", "2030-07-02T22:00Z"),
            iv("2030-07-10T10:00Z", "2030-07-10T10:45Z"),
        ]
    );
}

#[test]
fn a_daily_all_day_event_across_the_autumn_change_keeps_local_midnights() {
    let doc = cal("
        BEGIN:VEVENT
        UID:trip
        DTSTART;VALUE=DATE:20301026
        RRULE:FREQ=DAILY;COUNT=2
        END:VEVENT");
    // 27 October 2030 has 25 hours in Paris.
    assert_eq!(
        busy_in(&doc, "2030-10-01T00:00Z", "2030-11-01T00:00Z"),
        vec![iv("2030-10-25T22:00Z", "2030-10-27T23:00Z")]
    );
}

#[test]
fn free_cancelled_and_own_events_do_not_block() {
    let doc = cal("
        BEGIN:VEVENT
        UID:free
        DTSTART:20300701T080000Z
        DTEND:20300701T090000Z
        TRANSP:TRANSPARENT
        END:VEVENT
        BEGIN:VEVENT
        UID:cancelled
        DTSTART:20300701T100000Z
        DTEND:20300701T110000Z
        STATUS:CANCELLED
        END:VEVENT
        BEGIN:VEVENT
        UID:0b4f9a4e-0000-4000-8000-000000000000@guidance
        DTSTART:20300701T120000Z
        DTEND:20300701T130000Z
        END:VEVENT
        BEGIN:VEVENT
        UID:real
        DTSTART:20300701T140000Z
        DTEND:20300701T150000Z
        END:VEVENT");
    assert_eq!(
        busy_in(&doc, "2030-06-01T00:00Z", "2030-08-01T00:00Z"),
        vec![iv("2030-07-01T14:00Z", "2030-07-01T15:00Z")]
    );
}

#[test]
fn google_free_busy_instances_without_a_rule_each_block() {
    let doc = cal("
        BEGIN:VEVENT
        UID:series@google.com
        RECURRENCE-ID:20300107T090000Z
        DTSTART:20300107T090000Z
        DTEND:20300107T100000Z
        END:VEVENT
        BEGIN:VEVENT
        UID:series@google.com
        RECURRENCE-ID:20300114T090000Z
        DTSTART:20300114T090000Z
        DTEND:20300114T100000Z
        END:VEVENT");
    assert_eq!(
        busy_in(&doc, "2030-01-01T00:00Z", "2030-02-01T00:00Z"),
        vec![
            iv("2030-01-07T09:00Z", "2030-01-07T10:00Z"),
            iv("2030-01-14T09:00Z", "2030-01-14T10:00Z"),
        ]
    );
}

#[test]
fn an_endless_rule_from_long_ago_gives_only_the_window_and_an_ongoing_event_counts() {
    let doc = cal("
        BEGIN:VEVENT
        UID:yoga
        DTSTART;TZID=Europe/Paris:20100104T180000
        DTEND;TZID=Europe/Paris:20100104T193000
        RRULE:FREQ=WEEKLY;BYDAY=MO,TH
        END:VEVENT");
    // Thursday 3 January 2030, 18:00–19:30 Paris; the window opens in the middle of it.
    assert_eq!(
        busy_in(&doc, "2030-01-03T18:00Z", "2030-01-08T00:00Z"),
        vec![
            iv("2030-01-03T17:00Z", "2030-01-03T18:30Z"),
            iv("2030-01-07T17:00Z", "2030-01-07T18:30Z"),
        ]
    );
}

#[test]
fn a_monthly_rule_with_a_set_position_picks_the_last_weekday() {
    let doc = cal("
        BEGIN:VEVENT
        UID:review
        DTSTART:20300131T150000Z
        DTEND:20300131T160000Z
        RRULE:FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1;COUNT=3
        END:VEVENT");
    assert_eq!(
        busy_in(&doc, "2030-01-01T00:00Z", "2030-06-01T00:00Z"),
        vec![
            iv("2030-01-31T15:00Z", "2030-01-31T16:00Z"),
            iv("2030-02-28T15:00Z", "2030-02-28T16:00Z"),
            iv("2030-03-29T15:00Z", "2030-03-29T16:00Z"),
        ]
    );
}

#[test]
fn a_page_that_is_no_calendar_is_an_error_not_an_empty_calendar() {
    let owner = TimeZone::get(PARIS).unwrap();
    let html = "<!doctype html><title>Sign in</title>";
    let result = busy_intervals(
        html,
        ts("2030-01-01T00:00Z"),
        ts("2030-02-01T00:00Z"),
        &owner,
        &|_| false,
    );
    assert_eq!(result, Err(CalendarError::NotCalendar));
}
