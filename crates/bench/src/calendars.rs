//! `guidance-bench calendar-poll`: the CPU cost of reading one 2,000-event calendar into busy
//! intervals over a booking horizon, as a poll does after fetching it. Printed, not written into
//! `BENCHMARKS.md`; one thread, so the time measured is the CPU time of the work.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

use crate::BenchError;

/// A calendar of `n` events around `now`, shaped like a busy person's: a tenth weekly series
/// begun a year before their first time (with exceptions, never ending), a twentieth daily
/// series, a twentieth all-day events, the rest single meetings in a `TZID` with its
/// `VTIMEZONE`; over two years, the last four months of them ahead.
pub fn busy_calendar(n: usize, now: Timestamp) -> String {
    let berlin = TimeZone::get("Europe/Berlin").expect("the zone database");
    let local = |t: Timestamp| {
        t.to_zoned(berlin.clone())
            .strftime("%Y%m%dT%H%M%S")
            .to_string()
    };
    let mut s = String::from(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bench//EN\r\nBEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\n\
         BEGIN:STANDARD\r\nDTSTART:19701025T030000\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\n\
         TZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\nBEGIN:DAYLIGHT\r\n\
         DTSTART:19700329T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nTZOFFSETFROM:+0100\r\n\
         TZOFFSETTO:+0200\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\n",
    );
    for i in 0..n {
        // Spread over two years, most of it past (a real feed holds years of history), so
        // the busy times hide some of the month's slots, not all of them.
        let hours = i64::try_from(i).unwrap_or(0) * 7 % (24 * 730) - 24 * 600;
        let start = now + SignedDuration::from_hours(hours);
        let end = start + SignedDuration::from_mins(30 + (i as i64 % 4) * 15);
        let _ = write!(
            s,
            "BEGIN:VEVENT\r\nUID:bench-{i}@example.org\r\nDTSTAMP:20260101T000000Z\r\n"
        );
        match i % 20 {
            0 | 1 => {
                let begun = start - SignedDuration::from_hours(24 * 364);
                let skipped = start - SignedDuration::from_hours(24 * 7 * 3);
                let _ = write!(
                    s,
                    "DTSTART;TZID=Europe/Berlin:{}\r\nDTEND;TZID=Europe/Berlin:{}\r\n\
                     RRULE:FREQ=WEEKLY\r\nEXDATE;TZID=Europe/Berlin:{}\r\n",
                    local(begun),
                    local(begun + (end - start)),
                    local(skipped)
                );
            }
            2 => {
                let _ = write!(
                    s,
                    "DTSTART;TZID=Europe/Berlin:{}\r\nDTEND;TZID=Europe/Berlin:{}\r\nRRULE:FREQ=DAILY;COUNT=10\r\n",
                    local(start),
                    local(end)
                );
            }
            3 => {
                let day = start.to_zoned(berlin.clone()).date();
                let _ = write!(
                    s,
                    "DTSTART;VALUE=DATE:{}\r\nTRANSP:TRANSPARENT\r\n",
                    day.strftime("%Y%m%d")
                );
            }
            _ => {
                let _ = write!(
                    s,
                    "DTSTART;TZID=Europe/Berlin:{}\r\nDTEND;TZID=Europe/Berlin:{}\r\n",
                    local(start),
                    local(end)
                );
            }
        }
        s.push_str("SUMMARY:Meeting\r\nEND:VEVENT\r\n");
    }
    s.push_str("END:VCALENDAR\r\n");
    s
}

/// Reads a 2,000-event calendar over a 62-day horizon `runs` times in this thread: the
/// median time (the CPU time of the work: one thread, nothing else running in it).
pub fn parse_cost(runs: usize) -> Result<Duration, BenchError> {
    Ok(parse_runs(runs)?.0)
}

/// The median and fastest of `runs` readings, the intervals found and the document's size.
fn parse_runs(runs: usize) -> Result<(Duration, Duration, usize, usize), BenchError> {
    let now = Timestamp::now();
    let doc = busy_calendar(2_000, now);
    let zone = TimeZone::get("Europe/Berlin")?;
    let to = now + SignedDuration::from_hours(24 * 62);
    let mut times: Vec<Duration> = Vec::with_capacity(runs);
    let mut intervals = 0;
    for _ in 0..runs.max(1) {
        let t = Instant::now();
        let busy = guidance_calendar::busy_intervals(&doc, now, to, &zone, &|_| false)?;
        times.push(t.elapsed());
        intervals = busy.len();
    }
    times.sort();
    Ok((times[times.len() / 2], times[0], intervals, doc.len()))
}

/// Reads a 2,000-event calendar `runs` times; prints the median and the fastest.
pub fn poll_cost(runs: usize) -> Result<(), BenchError> {
    let (median, fastest, intervals, bytes) = parse_runs(runs)?;
    println!(
        "calendar poll: 2,000 events ({} KB), {intervals} merged busy intervals over 62 days: \
         median {:.1} ms, fastest {:.1} ms of CPU (one thread, {} runs)",
        bytes / 1024,
        median.as_secs_f64() * 1e3,
        fastest.as_secs_f64() * 1e3,
        runs.max(1)
    );
    Ok(())
}
