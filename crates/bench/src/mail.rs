//! The outbox phase: emails from the queue into a local SMTP server.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read as _, Seek as _, SeekFrom};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use jiff::Timestamp;

use crate::bookings::book_all;
use crate::child::{Guidance, Running, free_port, wait_healthy};
use crate::{BenchError, MailFigures, RunArgs, load, say, seed};

/// Runs the outbox phase alone and prints its figures.
pub(crate) async fn print(args: RunArgs) -> Result<(), BenchError> {
    let bin = std::env::current_exe()?.with_file_name("guidance");
    let tmp = tempfile::Builder::new()
        .prefix("guidance-bench-")
        .tempdir()?;
    let m = measure_mail(&bin, tmp.path(), &args, Timestamp::now()).await?;
    say(&format!(
        "{} emails queued in {:.2} s, all received in {:.2} s: {:.0} emails/s; \
         {} queued, then sent in {:.2} s: {:.0} emails/s",
        m.emails,
        m.queued_in.as_secs_f64(),
        m.elapsed.as_secs_f64(),
        m.emails as f64 / m.elapsed.as_secs_f64(),
        m.emails,
        m.drained.as_secs_f64(),
        m.emails as f64 / m.drained.as_secs_f64()
    ));
    Ok(())
}

/// Books `args.mail_bookings` sessions on a server whose outbox sends to Postfix's `smtp-sink`
/// (a single-process SMTP server made for measuring mail throughput, appending every message
/// it accepts to one dump file), and times from the first booking request until the sink has
/// received every email.
pub(crate) async fn measure_mail(
    guidance_bin: &Path,
    tmp: &Path,
    args: &RunArgs,
    now: Timestamp,
) -> Result<MailFigures, BenchError> {
    let dir = tmp.join("mail");
    std::fs::create_dir_all(&dir)?;
    let dump = dir.join("received.txt");
    let (mut sink, smtp_url) = start_sink(&args.smtp_sink, Some(&dump), &dir.join("sink.log"))?;

    let db = dir.join("guidance.db");
    let mut extra = BTreeMap::new();
    extra.insert("GUIDANCE_SMTP_URL".to_owned(), smtp_url);
    let guidance = Guidance {
        binary: guidance_bin.to_owned(),
        dir: dir.clone(),
        database_url: format!("sqlite://{}", db.display()),
        extra,
    };
    guidance.migrate()?;
    let mut ids = seed::shuffled(
        seed::seed_sqlite(&db, &seed::booking_plan(now, 0, 2 * args.mail_bookings)).await?,
    );
    let (mut server, port) = guidance.serve("serve.log")?;
    wait_healthy(&mut server, port, Instant::now(), Duration::from_secs(30)).await?;
    let mut arrivals = Arrivals::default();

    // While bookings come in: the clock runs from the first booking request.
    let queued_later = ids.split_off(args.mail_bookings);
    let emails = 2 * ids.len();
    say(&format!(
        "  {} bookings → {emails} emails, sent as they come",
        ids.len()
    ));
    let t0 = Instant::now();
    let booked = book_all(port, ids, args.concurrency).await;
    let queued_in = t0.elapsed();
    check_booked(&booked)?;
    let elapsed = arrivals
        .wait_for(emails, &dump, t0, &mut server, &mut sink)
        .await?;

    // A queue drained: the sink is stopped (SIGSTOP) while the bookings queue their emails, so
    // the worker's first connections wait for its greeting; the clock runs from SIGCONT.
    say(&format!(
        "  {} bookings → {emails} emails queued, then sent",
        queued_later.len()
    ));
    signal(&sink, "-STOP")?;
    let booked = book_all(port, queued_later, args.concurrency).await;
    check_booked(&booked)?;
    let t1 = Instant::now();
    signal(&sink, "-CONT")?;
    let drained = arrivals
        .wait_for(2 * emails, &dump, t1, &mut server, &mut sink)
        .await?;

    // Anything sent twice would arrive a little after the rest.
    tokio::time::sleep(Duration::from_millis(500)).await;
    server.stop(Duration::from_secs(15))?;
    arrivals.read_more(&dump)?;
    sink.stop(Duration::from_secs(5))?;
    let (received, distinct) = (arrivals.messages, arrivals.message_ids.len());
    if received != 2 * emails || distinct != 2 * emails {
        return Err(format!(
            "mail phase: {} emails queued, {received} arrived, {distinct} distinct \
             Message-IDs: each must arrive exactly once",
            2 * emails
        )
        .into());
    }
    Ok(MailFigures {
        emails,
        elapsed,
        queued_in,
        drained,
    })
}

fn check_booked(booked: &load::Outcome) -> Result<(), BenchError> {
    if booked.unexpected(201).is_empty() {
        return Ok(());
    }
    Err(format!(
        "mail phase: bookings not answered 201: {}",
        booked.unexpected(201)
    )
    .into())
}

/// Sends `signal` (`-STOP`, `-CONT`) to a child (with `kill`: the workspace has no unsafe code).
fn signal(child: &Running, signal: &str) -> Result<(), BenchError> {
    let status = Command::new("kill")
        .args([signal, &child.pid().to_string()])
        .status()?;
    if !status.success() {
        return Err(format!("kill {signal} {} failed", child.name).into());
    }
    Ok(())
}

/// Starts `smtp-sink` on a free port of 127.0.0.1, appending what it receives to `dump` (if
/// given; otherwise it keeps nothing), and waits until it accepts connections. Returns it with
/// the `GUIDANCE_SMTP_URL` that reaches it.
pub(crate) fn start_sink(
    binary: &Path,
    dump: Option<&Path>,
    log: &Path,
) -> Result<(Running, String), BenchError> {
    // The package's own libraries sit beside its programs: usr/sbin/… and usr/lib/postfix.
    let libs = binary
        .parent()
        .and_then(Path::parent)
        .map(|usr| usr.join("lib/postfix"))
        .ok_or("the SMTP sink's path has no usr/ above it")?;
    // smtp-sink wants to be told whose privileges to run with: the bench's own.
    let user = Command::new("id").arg("-un").output()?;
    let user = String::from_utf8_lossy(&user.stdout).trim().to_owned();
    let port = free_port()?;
    let mut cmd = Command::new(binary);
    cmd.env("LD_LIBRARY_PATH", libs).args(["-u", &user]);
    if let Some(dump) = dump {
        cmd.arg("-D").arg(dump);
    }
    cmd.arg(format!("127.0.0.1:{port}")).arg("256");
    let mut sink = Running::spawn("smtp-sink", cmd, log)?;
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        sink.check_alive()?;
        if Instant::now() > deadline {
            return Err(format!("smtp-sink did not listen on port {port} within 10 s").into());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Ok((sink, format!("smtp://127.0.0.1:{port}?tls=none")))
}

/// What has arrived in the sink's dump file, read a little more at each look.
#[derive(Default)]
struct Arrivals {
    /// Bytes of the dump read so far (whole lines only).
    offset: u64,
    /// Mail transactions: each begins with the sink's `X-Client-Addr:` line.
    messages: usize,
    /// The `Message-ID`s received.
    message_ids: BTreeSet<String>,
}

impl Arrivals {
    /// Reads the lines appended since the last look; returns whether any message arrived.
    fn read_more(&mut self, dump: &Path) -> Result<bool, BenchError> {
        let Ok(mut file) = std::fs::File::open(dump) else {
            return Ok(false); // nothing received yet
        };
        file.seek(SeekFrom::Start(self.offset))?;
        let mut new = Vec::new();
        file.read_to_end(&mut new)?;
        let whole = new.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        self.offset += whole as u64;
        let before = self.messages;
        for line in new[..whole].split(|&b| b == b'\n') {
            if line.starts_with(b"X-Client-Addr:") {
                self.messages += 1;
            } else if line.len() > 11 && line[..11].eq_ignore_ascii_case(b"message-id:") {
                let id = String::from_utf8_lossy(&line[11..]).trim().to_owned();
                self.message_ids.insert(id);
            }
        }
        Ok(self.messages > before)
    }

    /// Waits (90 s at most) until `total` messages have arrived; returns the time from `t0` to
    /// the last arrival.
    async fn wait_for(
        &mut self,
        total: usize,
        dump: &Path,
        t0: Instant,
        server: &mut Running,
        sink: &mut Running,
    ) -> Result<Duration, BenchError> {
        let mut last = t0.elapsed();
        while self.messages < total && t0.elapsed() < Duration::from_secs(90) {
            if self.read_more(dump)? {
                last = t0.elapsed();
            }
            server.check_alive()?;
            sink.check_alive()?;
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        Ok(last)
    }
}
