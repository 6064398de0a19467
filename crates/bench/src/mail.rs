//! The outbox phase: emails from the queue into a local SMTP server.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use jiff::Timestamp;

use crate::child::{Guidance, Running, wait_healthy};
use crate::{BenchError, MailFigures, RunArgs, book_all, load, say, seed};

/// Books `args.mail_bookings` sessions on a server whose outbox sends through the test SMTP
/// server (`scripts/smtp_sink.py`), and times from the first booking request until the sink has
/// received every email.
pub(crate) async fn measure_mail(
    guidance_bin: &Path,
    tmp: &Path,
    args: &RunArgs,
    now: Timestamp,
) -> Result<MailFigures, BenchError> {
    let dir = tmp.join("mail");
    let sink_dir = dir.join("sink");
    std::fs::create_dir_all(&dir)?;
    let sink_log = dir.join("sink.log");
    let mut cmd = Command::new(&args.python);
    cmd.arg("scripts/smtp_sink.py").arg("--dir").arg(&sink_dir);
    let mut sink = Running::spawn("scripts/smtp_sink.py", cmd, &sink_log)?;
    let deadline = Instant::now() + Duration::from_secs(20);
    let smtp_port = loop {
        let text = std::fs::read_to_string(&sink_log).unwrap_or_default();
        if let Some(port) = text.lines().find_map(|l| {
            l.strip_prefix("listening ")?
                .split_whitespace()
                .nth(1)?
                .parse::<u16>()
                .ok()
        }) {
            break port;
        }
        sink.check_alive()?;
        if Instant::now() > deadline {
            return Err("scripts/smtp_sink.py did not say where it listens within 20 s".into());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };

    let db = dir.join("guidance.db");
    let mut extra = BTreeMap::new();
    extra.insert(
        "GUIDANCE_SMTP_URL".to_owned(),
        format!("smtp://127.0.0.1:{smtp_port}?tls=none"),
    );
    let guidance = Guidance {
        binary: guidance_bin.to_owned(),
        dir: dir.clone(),
        database_url: format!("sqlite://{}", db.display()),
        extra,
    };
    guidance.migrate()?;
    let ids = seed::shuffled(
        seed::seed_sqlite(&db, &seed::booking_plan(now, 0, args.mail_bookings)).await?,
    );
    let (mut server, port) = guidance.serve("serve.log")?;
    wait_healthy(&mut server, port, Instant::now(), Duration::from_secs(30)).await?;
    let client = load::client(args.concurrency)?;
    let emails = 2 * ids.len();
    say(&format!("  {} bookings → {emails} emails", ids.len()));

    let t0 = Instant::now();
    let booked = book_all(&client, port, ids, args.concurrency).await;
    let queued_in = t0.elapsed();
    if !booked.unexpected(201).is_empty() {
        return Err(format!(
            "mail phase: bookings not answered 201: {}",
            booked.unexpected(201)
        )
        .into());
    }
    let cap = Duration::from_secs(90);
    let (mut received, mut last_change) = (0, t0.elapsed());
    while received < emails && t0.elapsed() < cap {
        let n = count_eml(&sink_dir);
        if n != received {
            received = n;
            last_change = t0.elapsed();
        }
        server.check_alive()?;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Anything sent twice would arrive a little after the rest.
    tokio::time::sleep(Duration::from_millis(500)).await;
    server.stop(Duration::from_secs(15))?;
    sink.stop(Duration::from_secs(5))?;
    let received = count_eml(&sink_dir);
    let distinct = distinct_message_ids(&sink_dir)?;
    if received != emails || distinct != emails {
        return Err(format!(
            "mail phase: {emails} emails queued, {received} arrived, {distinct} distinct \
             Message-IDs: each must arrive exactly once"
        )
        .into());
    }
    Ok(MailFigures {
        emails,
        received,
        elapsed: last_change,
        queued_in,
    })
}

fn count_eml(dir: &Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |entries| {
        entries
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".eml"))
            .count()
    })
}

/// The distinct `Message-ID`s of the messages in `dir`.
fn distinct_message_ids(dir: &Path) -> Result<usize, BenchError> {
    let mut ids = std::collections::BTreeSet::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().is_none_or(|e| e != "eml") {
            continue;
        }
        let bytes = std::fs::read(&path)?;
        let text = String::from_utf8_lossy(&bytes);
        let id = text
            .lines()
            .take_while(|l| !l.is_empty())
            .find_map(|l| {
                let (name, value) = l.split_once(':')?;
                name.eq_ignore_ascii_case("message-id")
                    .then(|| value.trim().to_owned())
            })
            .ok_or_else(|| format!("{} has no Message-ID", path.display()))?;
        ids.insert(id);
    }
    Ok(ids.len())
}
