//! Calendar feeds written in the shapes Google, Outlook, Proton, Apple and Nextcloud produce,
//! around the day `d` (a date a few days ahead), covering every case busy times depend on.

use jiff::civil::Date;

fn ymd(d: Date) -> String {
    d.strftime("%Y%m%d").to_string()
}

fn day(d: Date, n: i64) -> String {
    ymd(d.checked_add(jiff::Span::new().days(n)).unwrap())
}

fn calendar(prodid: &str, extra: &str, body: &str) -> String {
    let mut s =
        format!("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:{prodid}\r\nCALSCALE:GREGORIAN\r\n");
    for line in extra.lines().chain(body.lines()) {
        let line = line.trim();
        if !line.is_empty() {
            s.push_str(line);
            s.push_str("\r\n");
        }
    }
    s.push_str("END:VCALENDAR\r\n");
    s
}

/// Google: UTC times, a daily series with an `EXDATE` and a moved occurrence, and the bare
/// `RECURRENCE-ID` instances Google's free/busy feeds are made of.
pub fn google(d: Date) -> String {
    let (d0, d1, d2) = (ymd(d), day(d, 1), day(d, 2));
    calendar(
        "-//Google Inc//Google Calendar 70.9054//EN",
        "X-WR-CALNAME:Work\nX-WR-TIMEZONE:Europe/Berlin",
        &format!(
            "BEGIN:VEVENT
            DTSTART:{d0}T080000Z
            DTEND:{d0}T090000Z
            RRULE:FREQ=DAILY;COUNT=3
            EXDATE:{d1}T080000Z
            DTSTAMP:20260101T000000Z
            UID:series-1@google.com
            SUMMARY:Standup
            END:VEVENT
            BEGIN:VEVENT
            DTSTART:{d2}T140000Z
            DTEND:{d2}T143000Z
            RECURRENCE-ID:{d2}T080000Z
            DTSTAMP:20260101T000000Z
            UID:series-1@google.com
            SUMMARY:Standup (moved)
            END:VEVENT
            BEGIN:VEVENT
            DTSTART:{d0}T180000Z
            DTEND:{d0}T183000Z
            RECURRENCE-ID:{d0}T180000Z
            DTSTAMP:20260101T000000Z
            UID:freebusy-7@google.com
            SUMMARY:Busy
            END:VEVENT"
        ),
    )
}

/// Outlook: a Windows zone name with its `VTIMEZONE`, a series with one occurrence cancelled.
pub fn outlook(d: Date) -> String {
    let (d0, d1) = (ymd(d), day(d, 1));
    calendar(
        "-//Microsoft Corporation//Outlook 16.0 MIMEDIR//EN",
        "METHOD:PUBLISH\nX-WR-CALNAME:Calendar",
        &format!(
            "BEGIN:VTIMEZONE
            TZID:W. Europe Standard Time
            BEGIN:STANDARD
            DTSTART:16011028T030000
            RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10
            TZOFFSETFROM:+0200
            TZOFFSETTO:+0100
            END:STANDARD
            BEGIN:DAYLIGHT
            DTSTART:16010325T020000
            RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3
            TZOFFSETFROM:+0100
            TZOFFSETTO:+0200
            END:DAYLIGHT
            END:VTIMEZONE
            BEGIN:VEVENT
            UID:040000008200E00074C5B7101A82E008000000001@outlook
            DTSTART;TZID=W. Europe Standard Time:{d0}T110000
            DTEND;TZID=W. Europe Standard Time:{d0}T123000
            RRULE:FREQ=DAILY;COUNT=2
            DTSTAMP:20260101T000000Z
            SUMMARY:Review
            END:VEVENT
            BEGIN:VEVENT
            UID:040000008200E00074C5B7101A82E008000000001@outlook
            RECURRENCE-ID;TZID=W. Europe Standard Time:{d1}T110000
            DTSTART;TZID=W. Europe Standard Time:{d1}T110000
            DTEND;TZID=W. Europe Standard Time:{d1}T123000
            STATUS:CANCELLED
            DTSTAMP:20260101T000000Z
            SUMMARY:Review
            END:VEVENT"
        ),
    )
}

/// Proton: IANA zones with their `VTIMEZONE`, an all-day event, and a weekly series that
/// began a year ago at 10:00 Berlin time, so its occurrences crossed both DST changes.
pub fn proton(d: Date) -> String {
    let (d0, d3) = (ymd(d), day(d, 3));
    let d4 = day(d, 4);
    let year_ago = day(d, -364);
    calendar(
        "-//Proton AG//WebCalendar 5.0.0//EN",
        "",
        &format!(
            "BEGIN:VTIMEZONE
            TZID:America/New_York
            BEGIN:STANDARD
            DTSTART:20071104T020000
            RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU
            TZOFFSETFROM:-0400
            TZOFFSETTO:-0500
            END:STANDARD
            BEGIN:DAYLIGHT
            DTSTART:20070311T020000
            RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU
            TZOFFSETFROM:-0500
            TZOFFSETTO:-0400
            END:DAYLIGHT
            END:VTIMEZONE
            BEGIN:VEVENT
            UID:proton-a@proton.me
            DTSTAMP:20260101T000000Z
            DTSTART;TZID=America/New_York:{d0}T060000
            DTEND;TZID=America/New_York:{d0}T070000
            END:VEVENT
            BEGIN:VEVENT
            UID:proton-b@proton.me
            DTSTAMP:20260101T000000Z
            DTSTART;VALUE=DATE:{d3}
            DTEND;VALUE=DATE:{d4}
            END:VEVENT
            BEGIN:VEVENT
            UID:proton-c@proton.me
            DTSTAMP:20260101T000000Z
            DTSTART;TZID=Europe/Berlin:{year_ago}T100000
            DTEND;TZID=Europe/Berlin:{year_ago}T104500
            RRULE:FREQ=WEEKLY
            END:VEVENT"
        ),
    )
}

/// Apple: floating times (the owner's zone) and an extra occurrence by `RDATE`.
pub fn apple(d: Date) -> String {
    let d1 = day(d, 1);
    calendar(
        "-//Apple Inc.//macOS 15.0//EN",
        "X-WR-CALNAME:Home",
        &format!(
            "BEGIN:VEVENT
            UID:A1B2C3D4-E5F6-7890-ABCD-EF1234567890
            DTSTAMP:20260101T000000Z
            DTSTART:{d1}T200000
            DTEND:{d1}T210000
            RDATE:{d1}T230000
            SUMMARY:Dinner
            END:VEVENT"
        ),
    )
}

/// Nextcloud: free, cancelled and Guidance's own events (none blocks), and one given by
/// `DURATION`.
pub fn nextcloud(d: Date) -> String {
    let (d0, d1) = (ymd(d), day(d, 1));
    calendar(
        "-//Sabre//Sabre VObject 4.5.6//EN",
        "",
        &format!(
            "BEGIN:VEVENT
            UID:free@nextcloud
            DTSTAMP:20260101T000000Z
            DTSTART:{d0}T150000Z
            DTEND:{d0}T160000Z
            TRANSP:TRANSPARENT
            END:VEVENT
            BEGIN:VEVENT
            UID:cancelled@nextcloud
            DTSTAMP:20260101T000000Z
            DTSTART:{d0}T160000Z
            DTEND:{d0}T170000Z
            STATUS:CANCELLED
            END:VEVENT
            BEGIN:VEVENT
            UID:9f0c2a1e-1111-4222-8333-444455556666@guidance
            DTSTAMP:20260101T000000Z
            DTSTART:{d0}T170000Z
            DTEND:{d0}T174500Z
            END:VEVENT
            BEGIN:VEVENT
            UID:long@nextcloud
            DTSTAMP:20260101T000000Z
            DTSTART:{d1}T020000Z
            DURATION:PT2H
            END:VEVENT"
        ),
    )
}
