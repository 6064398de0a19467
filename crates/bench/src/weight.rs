//! The page-weight phase: the bytes a browser receives for `/book` with everything it loads
//! (the HTML, then each style sheet and script it names, and each module those scripts import),
//! on a first visit and on a return visit (files served `immutable` come from the browser's
//! cache then), with and without compression; and the same for the `<guidance-booking>`
//! element (its module, then `/api/intake` and its first `/api/slots`). Measured with 20 and
//! with 700 open slots on a fresh SQLite server.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};

use crate::child::{Guidance, wait_healthy};
use crate::{BenchError, say, seed};

/// What a browser that accepts compression says (Chromium sends `zstd` too; the server offers
/// gzip and brotli).
const ACCEPT_COMPRESSED: &str = "gzip, deflate, br";

/// The element's first request for slots (`PAGE` in `crates/web/static/guidance-booking.js`).
const ELEMENT_SLOTS: &str = "/api/slots?limit=24";

/// The open-slot counts measured.
pub const SCHEDULES: [usize; 2] = [20, 700];

/// One resource as received.
#[derive(Debug, Clone)]
pub struct Part {
    /// Its path.
    pub path: String,
    /// Bytes received without compression.
    pub plain: usize,
    /// Bytes received when compression is accepted.
    pub sent: usize,
    /// Whether the browser keeps it for a return visit (`immutable`).
    pub cached: bool,
}

/// Sums of parts.
#[derive(Debug, Clone, Copy, Default)]
pub struct Total {
    /// Without compression.
    pub plain: usize,
    /// With compression.
    pub sent: usize,
}

impl Total {
    fn of<'a>(parts: impl Iterator<Item = &'a Part>) -> Self {
        parts.fold(Self::default(), |t, p| Self {
            plain: t.plain + p.plain,
            sent: t.sent + p.sent,
        })
    }
}

/// The weights at one schedule.
#[derive(Debug, Clone)]
pub struct Weights {
    /// Open slots.
    pub slots: usize,
    /// Slots the page's HTML shows.
    pub slots_shown: usize,
    /// `/book` and what it loads.
    pub page: Vec<Part>,
    /// The element and its data.
    pub element: Vec<Part>,
}

impl Weights {
    /// `/book` with everything it loads, first visit.
    pub fn first_visit(&self) -> Total {
        Total::of(self.page.iter())
    }

    /// `/book` again, with the immutable files cached.
    pub fn return_visit(&self) -> Total {
        Total::of(self.page.iter().filter(|p| !p.cached))
    }

    /// The element with its data.
    pub fn element(&self) -> Total {
        Total::of(self.element.iter())
    }
}

/// `count` open slots of 30 minutes from tomorrow: weekdays, 09:00–17:00 UTC for many slots
/// (an owner's working week), two a day (10:00 and 15:00) for few.
pub fn schedule(now: Timestamp, count: usize) -> seed::SlotPlan {
    let per_day: &[i64] = if count <= 40 {
        &[20, 30]
    } else {
        &[
            18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33,
        ]
    };
    let midnight = Timestamp::from_second(now.as_second() - now.as_second().rem_euclid(86_400))
        .expect("in range");
    let mut starts = Vec::with_capacity(count);
    let mut day = 1;
    while starts.len() < count {
        let date = midnight + SignedDuration::from_hours(24 * day);
        let weekday = date.to_zoned(jiff::tz::TimeZone::UTC).weekday();
        if !matches!(
            weekday,
            jiff::civil::Weekday::Saturday | jiff::civil::Weekday::Sunday
        ) {
            for half_hour in per_day.iter().take(count - starts.len()) {
                starts.push(date + SignedDuration::from_mins(30 * half_hour));
            }
        }
        day += 1;
    }
    seed::SlotPlan {
        starts,
        length: Duration::from_secs(1800),
    }
}

/// One GET, plain and compressed.
async fn fetch(
    client: &reqwest::Client,
    base: &str,
    path: &str,
) -> Result<(Part, String), BenchError> {
    let url = format!("{base}{path}");
    let plain = client.get(&url).send().await?;
    if !plain.status().is_success() {
        return Err(format!("GET {path} answered {}", plain.status()).into());
    }
    let cached = plain
        .headers()
        .get(reqwest::header::CACHE_CONTROL)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("immutable"));
    let text = plain.text().await?;
    let sent = client
        .get(&url)
        .header(reqwest::header::ACCEPT_ENCODING, ACCEPT_COMPRESSED)
        .send()
        .await?
        .bytes()
        .await?
        .len();
    Ok((
        Part {
            path: path.to_owned(),
            plain: text.len(),
            sent,
            cached,
        },
        text,
    ))
}

/// The values of `attr="…"` in tags that start with `tag`.
fn attributes(html: &str, tag: &str, attr: &str) -> Vec<String> {
    let mut found = Vec::new();
    for piece in html.split(tag).skip(1) {
        let head = piece.split('>').next().unwrap_or("");
        if tag == "<link" && !head.contains("rel=\"stylesheet\"") {
            continue;
        }
        let key = format!("{attr}=\"");
        if let Some(rest) = head.split(&key).nth(1) {
            found.push(rest.split('"').next().unwrap_or("").to_owned());
        }
    }
    found
}

/// The modules a script imports statically (`… from '/path'`).
fn imports(js: &str) -> Vec<String> {
    js.split(" from '")
        .skip(1)
        .filter_map(|rest| rest.split('\'').next())
        .filter(|p| p.starts_with('/'))
        .map(str::to_owned)
        .collect()
}

/// `/book` and everything it loads, then the element and its data.
async fn weigh(client: &reqwest::Client, base: &str, slots: usize) -> Result<Weights, BenchError> {
    let (page, html) = fetch(client, base, "/book").await?;
    let slots_shown = html.matches("name=\"slot_id\"").count();
    let mut parts = vec![page];
    let mut queue: Vec<String> = attributes(&html, "<link", "href");
    queue.extend(attributes(&html, "<script", "src"));
    let mut seen = BTreeSet::new();
    while let Some(path) = queue.pop() {
        if !seen.insert(path.clone()) {
            continue;
        }
        let (part, body) = fetch(client, base, &path).await?;
        if path.ends_with(".js") {
            queue.extend(imports(&body));
        }
        parts.push(part);
    }
    let mut element = Vec::new();
    for path in [
        "/embed/guidance-booking.js",
        "/api/intake?lang=en",
        ELEMENT_SLOTS,
    ] {
        element.push(fetch(client, base, path).await?.0);
    }
    Ok(Weights {
        slots,
        slots_shown,
        page: parts,
        element,
    })
}

/// The weights at each of [`SCHEDULES`], each on a fresh SQLite server.
pub(crate) async fn measure_weights(
    guidance_bin: &Path,
    tmp: &Path,
    now: Timestamp,
) -> Result<Vec<Weights>, BenchError> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()?;
    let mut all = Vec::new();
    for count in SCHEDULES {
        say(&format!("  /book and the element with {count} open slots"));
        let dir = tmp.join(format!("weight-{count}"));
        let db = dir.join("guidance.db");
        let guidance = Guidance {
            binary: guidance_bin.to_owned(),
            dir: dir.clone(),
            database_url: format!("sqlite://{}", db.display()),
            extra: BTreeMap::new(),
        };
        guidance.migrate()?;
        seed::seed_sqlite(&db, &schedule(now, count)).await?;
        let (mut server, port) = guidance.serve("serve.log")?;
        wait_healthy(&mut server, port, Instant::now(), Duration::from_secs(30)).await?;
        let weights = weigh(&client, &format!("http://127.0.0.1:{port}"), count).await?;
        server.stop(Duration::from_secs(10))?;
        all.push(weights);
    }
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_s_files_and_the_script_s_imports_are_found() {
        let html = r#"<link rel="stylesheet" href="/static/a.1.css"><link rel="icon" href="/x.png">
            <script type="module" src="/static/b.2.js"></script>"#;
        assert_eq!(attributes(html, "<link", "href"), ["/static/a.1.css"]);
        assert_eq!(attributes(html, "<script", "src"), ["/static/b.2.js"]);
        assert_eq!(
            imports("import { Booker } from '/static/c.3.js';\nconst x = 1;"),
            ["/static/c.3.js"]
        );
    }

    #[test]
    fn schedules_hold_the_asked_number_of_weekday_slots() {
        let now: Timestamp = "2026-12-04T15:00:00Z".parse().unwrap();
        for n in SCHEDULES {
            let plan = schedule(now, n);
            assert_eq!(plan.starts.len(), n);
            assert!(plan.starts.iter().all(|s| {
                let wd = s.to_zoned(jiff::tz::TimeZone::UTC).weekday();
                !matches!(
                    wd,
                    jiff::civil::Weekday::Saturday | jiff::civil::Weekday::Sunday
                )
            }));
        }
    }
}
