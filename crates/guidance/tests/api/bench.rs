//! The public page's weight and speed, for BENCHMARKS.md. Ignored by default (a measurement,
//! not a check); run it with `scripts/bench-public`.

use std::io::Write;
use std::process::{Command, Stdio};

use guidance_testkit::{Browser, Locator};
use serde_json::json;

use crate::helpers::*;

fn gzip_len(bytes: &[u8]) -> usize {
    let mut child = Command::new("gzip")
        .arg("-9c")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("gzip runs");
    child.stdin.take().unwrap().write_all(bytes).unwrap();
    child.wait_with_output().unwrap().stdout.len()
}

async fn body(app: &TestApp, path: &str) -> Vec<u8> {
    let resp = app.get(path).await;
    assert_eq!(resp.status(), 200, "{path}");
    resp.bytes().await.unwrap().to_vec()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

#[tokio::test]
#[ignore = "a benchmark: run scripts/bench-public"]
async fn bench_public_page_weight_and_time_to_slots() {
    let app = spawn_app().await;
    app.put_questions(json!([
            {"key": "team_size", "label": "How large is your team?", "kind": "choice", "required": true, "options": ["Just me", "2–10", "More"]},
            {"key": "newsletter", "label": "Send me the newsletter", "kind": "checkbox"}
        ])).await;
    // Twenty slots over ten days.
    for day in 0..10 {
        for hour in [10, 15] {
            app.create_slot(24 * (day + 1) + hour).await;
        }
    }
    let mut report = String::new();
    let mut line = |s: String| {
        println!("{s}");
        report.push_str(&s);
        report.push('\n');
    };
    line("| what | bytes | gzip -9 |".into());
    line("|---|---:|---:|".into());
    let mut total = (0, 0);
    for path in [
        "/book",
        "/static/guidance.css",
        "/static/book.js",
        "/embed/guidance-booking.js",
    ] {
        let b = body(&app, path).await;
        let z = gzip_len(&b);
        total = (total.0 + b.len(), total.1 + z);
        line(format!("| `{path}` | {} | {z} |", b.len()));
    }
    line(format!(
        "| **/book with everything it loads** | **{}** | **{}** |",
        total.0, total.1
    ));
    let element = body(&app, "/embed/guidance-booking.js").await;
    let intake = body(&app, "/api/intake?lang=en").await;
    let slots = body(&app, "/api/slots").await;
    line(format!(
        "| element's data: `/api/intake` + `/api/slots` (20 slots) | {} | {} |",
        intake.len() + slots.len(),
        gzip_len(&intake) + gzip_len(&slots)
    ));
    line(format!(
        "| **element** (`/embed/guidance-booking.js`) | **{}** | **{}** |",
        element.len(),
        gzip_len(&element)
    ));

    let browser = Browser::start().await;
    let c = &browser.client;
    let runs = 15;
    let (mut shown, mut fcp, mut third_party) = (Vec::new(), Vec::new(), 0);
    for _ in 0..runs {
        c.goto(&app.url("/book")).await.unwrap();
        c.find(Locator::Css(".days[role=group]")).await.unwrap();
        let m = c
            .execute(
                "const s = performance.getEntriesByName('guidance:slots-shown')[0];
                 const p = performance.getEntriesByName('first-contentful-paint')[0];
                 const other = performance.getEntriesByType('resource').filter(e => !e.name.startsWith(location.origin)).length;
                 return [s ? s.startTime : -1, p ? p.startTime : -1, other];",
                vec![],
            )
            .await
            .unwrap();
        shown.push(m[0].as_f64().unwrap());
        // Headless Chromium sometimes records no paint entry; such runs count for the others.
        let paint = m[1].as_f64().unwrap();
        if paint >= 0.0 {
            fcp.push(paint);
        }
        third_party += m[2].as_u64().unwrap();
    }
    let mut element_shown = Vec::new();
    for _ in 0..runs {
        c.goto(&app.url("/examples/support/")).await.unwrap();
        let t0 = c
            .execute("return performance.now()", vec![])
            .await
            .unwrap()
            .as_f64()
            .unwrap();
        c.find(Locator::Id("book-session"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        let mut t = -1.0;
        for _ in 0..200 {
            let v = c
                .execute(
                    "const s = performance.getEntriesByName('guidance:slots-shown')[0]; return s ? s.startTime : -1;",
                    vec![],
                )
                .await
                .unwrap()
                .as_f64()
                .unwrap();
            if v >= 0.0 {
                t = v - t0;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        element_shown.push(t);
    }
    line(String::new());
    line(format!(
        "Chromium (headless, same machine, {runs} runs each, median [min–max]):"
    ));
    let fmt = |v: &Vec<f64>| {
        format!(
            "{:.0} ms [{:.0}–{:.0}]",
            median(v.clone()),
            v.iter().cloned().fold(f64::MAX, f64::min),
            v.iter().cloned().fold(0.0, f64::max)
        )
    };
    line(format!(
        "- `/book`: navigation to first contentful paint (server-rendered slots visible): {}",
        fmt(&fcp)
    ));
    line(format!(
        "- `/book`: navigation to slots shown in the visitor's zone by the script: {}",
        fmt(&shown)
    ));
    line(format!(
        "- support page: click on \"Book a guidance session\" to the element's slots shown (includes loading the element and its data): {}",
        fmt(&element_shown)
    ));
    line(format!("- third-party requests: {third_party}"));
    browser.close().await;
    let dir = guidance_testkit::artifacts_dir();
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("bench-public.md"), report).unwrap();
}
