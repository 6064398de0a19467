//! Benchmark: messages per second from the outbox to the configured mailer (an SMTP server
//! with `--smtp-url`, else `.eml` files). `scripts/bench-mail` runs it against the local SMTP
//! sink and prints the figure for `BENCHMARKS.md`.
//!
//! It books `--count / 2` sessions through the service (each queues two emails, rendered as in
//! production), then times the outbox worker's own loop (`outbox::send_due`: claim, send, record)
//! until the queue is empty. Queueing is not part of the time.
//!
//! `cargo run --release -p guidance --example bench_mail -- --count 2000 \
//!   --smtp-url 'smtp://127.0.0.1:2525?tls=none' --database-url sqlite:///tmp/b/bench.db \
//!   --data-dir /tmp/b --mail-dir /tmp/b/mail --listen 127.0.0.1:0`

use std::time::Instant;

use clap::Parser;
use guidance::startup::{self, Application};
use guidance_app::config::Config;
use guidance_app::{bookings, outbox};
use guidance_core::SlotWindow;
use guidance_core::intake::RawIntake;
use jiff::{SignedDuration, Timestamp};

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    config: Config,
    /// How many emails to send (rounded up to an even number: two per booking).
    #[arg(long, default_value_t = 1000)]
    count: usize,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let cli = Cli::parse();
    let app = Application::build(cli.config).await?;
    let state = app.app().clone();
    let bookings = cli.count.div_ceil(2);
    // The one question the requests below answer.
    let company = guidance_core::Question::parse_list(&serde_json::json!([
        {"key": "company", "label": "Company", "kind": "short_text"}
    ]))?;
    state
        .store
        .replace_questions(&company, Timestamp::now())
        .await?;
    let now = Timestamp::now();
    let first = Timestamp::from_second(now.as_second() - now.as_second() % 3600 + 3600)?;
    for i in 0..bookings {
        let start = first.checked_add(SignedDuration::from_hours(i64::try_from(i)?))?;
        let window = SlotWindow::parse(start, start.checked_add(SignedDuration::from_mins(30))?)?;
        let slot = state.store.create_slot(window, None, now).await?;
        let raw = RawIntake {
            name: format!("Bench Visitor {i}"),
            email: format!("visitor{i}@example.net"),
            topic: "A benchmark session\nwith a second line".into(),
            priority: "normal".into(),
            answers: serde_json::json!({"company": "Bench Ltd"}),
            locale: "en".into(),
            time_zone: "Europe/Berlin".into(),
        };
        bookings::create_booking(
            &state,
            &slot.id.to_string(),
            &raw,
            "",
            Default::default(),
            None,
        )
        .await?;
    }
    let mailer = startup::mailer(&state.settings)?;
    let (_stop, stop_rx) = tokio::sync::watch::channel(false);
    let started = Instant::now();
    let mut sent = 0usize;
    loop {
        let n = outbox::send_due(&state, &mailer, stop_rx.clone()).await?;
        if n == 0 {
            break;
        }
        sent += n;
    }
    let secs = started.elapsed().as_secs_f64();
    let mut failed = 0;
    for b in state.store.list_bookings(None).await? {
        failed += state
            .store
            .booking_emails(b.id)
            .await?
            .iter()
            .filter(|m| m.status != guidance_store::EmailStatus::Sent)
            .count();
    }
    println!(
        "bench-mail: {sent} emails in {secs:.2} s = {:.0} emails/s (not sent: {failed})",
        sent as f64 / secs
    );
    if failed > 0 {
        return Err(format!("{failed} emails were not sent").into());
    }
    Ok(())
}
