//! Clients that hang up, with the real binary: 1,000 booking requests from clients that close
//! their connection at random moments — some before their body is complete, most after it,
//! while the server is at work on it (a reset, so that the server notices at once) — on
//! PostgreSQL and on SQLite.
//!
//! A request cut off must leave nothing behind: no transaction left open on a pooled connection
//! (PostgreSQL would warn "there is already a transaction in progress" to the next request, or
//! "there is no transaction in progress" to a rollback sent after a commit), and no booking
//! written in part. Every booking in the database is whole (its slot held, its event, its three
//! links and its two emails), every booking answered `201` is there, and the server still books
//! afterwards.

mod common;

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::Duration;

use guidance_testkit::api::{Api, visitor_intake};
use guidance_testkit::binary::Server;
use guidance_testkit::pg::{ServerLog, TestDatabase};
use guidance_testkit::wait::poll;
use sqlx::{PgPool, SqlitePool};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How many booking requests are sent (one per slot).
const REQUESTS: usize = 1000;
/// How many clients send them at once.
const CLIENTS: usize = 24;

/// A small, seedable generator (xorshift64*): the seed is printed, so that a failing run can be
/// repeated.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    }
}

/// What became of the requests.
#[derive(Debug, Default)]
struct Outcome {
    /// Booking id and slot of each request answered 201.
    booked: Vec<(String, String)>,
    /// Requests answered otherwise (status, body).
    refused: Vec<(u16, String)>,
    /// Requests cut off before their body was complete.
    cut_before_body: usize,
    /// Requests cut off after their body was sent, before the whole answer came.
    cut_after_body: usize,
}

/// `POST /api/bookings` with `body`, as bytes.
fn request(body: &[u8]) -> Vec<u8> {
    let mut r = format!(
        "POST /api/bookings HTTP/1.1\r\nHost: guidance.test\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    r.extend_from_slice(body);
    r
}

/// Reads a whole answer (the server closes the connection after it): status and body.
async fn read_answer(stream: &mut TcpStream) -> Option<(u16, String)> {
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.ok()?;
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text.split_once("\r\n\r\n")?;
    let status = head.split(' ').nth(1)?.parse().ok()?;
    Some((status, body.to_owned()))
}

/// Closes the connection with a reset: the server sees it gone at once.
fn hang_up(stream: TcpStream) {
    stream.set_zero_linger().expect("SO_LINGER");
    drop(stream);
}

/// Sends one request for each of `slots` as `client`, hanging up at a moment chosen by `rng`.
async fn one_client(addr: SocketAddr, client: usize, slots: Vec<String>, seed: u64) -> Outcome {
    let mut rng = Rng(seed);
    let mut out = Outcome::default();
    for (n, slot) in slots.into_iter().enumerate() {
        let body = serde_json::to_vec(&visitor_intake(&slot, client * 10_000 + n)).expect("json");
        let bytes = request(&body);
        let mut stream = TcpStream::connect(addr).await.expect("connect");
        stream.set_nodelay(true).expect("TCP_NODELAY");
        match rng.below(10) {
            // Part of the body, then gone.
            0 => {
                let cut = bytes.len() - 1 - rng.below(body.len() as u64) as usize;
                stream.write_all(&bytes[..cut]).await.expect("send");
                if rng.below(2) == 0 {
                    tokio::task::yield_now().await;
                }
                hang_up(stream);
                out.cut_before_body += 1;
                continue;
            }
            // The whole request, and the whole answer.
            1 => {
                stream.write_all(&bytes).await.expect("send");
                match read_answer(&mut stream).await {
                    Some((201, body)) => out.booked.push((booking_id(&body), slot)),
                    Some(other) => out.refused.push(other),
                    None => panic!("a patient client got no answer"),
                }
                continue;
            }
            // The whole request, then gone after a moment: from at once to a few milliseconds,
            // about as long as a booking takes.
            _ => {
                stream.write_all(&bytes).await.expect("send");
                let patience = Duration::from_micros(rng.below(6000));
                match tokio::time::timeout(patience, read_answer(&mut stream)).await {
                    Ok(Some((201, body))) => out.booked.push((booking_id(&body), slot)),
                    Ok(Some(other)) => out.refused.push(other),
                    Ok(None) | Err(_) => {
                        hang_up(stream);
                        out.cut_after_body += 1;
                    }
                }
            }
        }
    }
    out
}

fn booking_id(body: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(body).expect("a JSON answer");
    v["id"]
        .as_str()
        .expect("a 201 names its booking")
        .to_owned()
}

/// `guidance serve` on `db_url` with a request time-out far above what any booking here may
/// wait for its turn on a loaded machine: this test is about clients that leave, and a `408`
/// would be the server leaving.
fn patient_server(db_url: &str, dir: &std::path::Path) -> Server {
    let mut cmd = common::command(&["serve"], db_url, &dir.join("mail"), &dir.join("serve"));
    cmd.env("GUIDANCE_REQUEST_TIMEOUT_SECS", "600");
    guidance_testkit::binary::serve(cmd, dir.join("serve.log"))
}

/// Books one request per slot from [`CLIENTS`] clients at once, each hanging up at random.
async fn storm(server: &Server, slots: &[String]) -> Outcome {
    let addr: SocketAddr = format!("127.0.0.1:{}", server.port)
        .parse()
        .expect("address");
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("time")
        .as_nanos() as u64
        | 1;
    eprintln!("hang-up seed: {seed}");
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let mine: Vec<String> = slots.iter().skip(c).step_by(CLIENTS).cloned().collect();
            tokio::spawn(one_client(
                addr,
                c,
                mine,
                seed.wrapping_add(c as u64 * 7919),
            ))
        })
        .collect();
    let mut all = Outcome::default();
    for t in tasks {
        let o = t.await.expect("client task");
        all.booked.extend(o.booked);
        all.refused.extend(o.refused);
        all.cut_before_body += o.cut_before_body;
        all.cut_after_body += o.cut_after_body;
    }
    all
}

/// What the database holds after the storm.
struct Stored {
    /// Every booking: id, slot id, status, slot status.
    bookings: Vec<(String, String, String, String)>,
    live: (i64, i64, i64, i64),
    partial: i64,
}

macro_rules! stored_in {
    ($pool:expr) => {{
        let pool = $pool;
        Stored {
            bookings: sqlx::query_as(common::BOOKINGS)
                .fetch_all(pool)
                .await
                .expect("read bookings"),
            live: sqlx::query_as(common::LIVE_COUNTS)
                .fetch_one(pool)
                .await
                .expect("count live bookings"),
            partial: sqlx::query_scalar(common::PARTIAL_BOOKINGS)
                .fetch_one(pool)
                .await
                .expect("count partial bookings"),
        }
    }};
}

/// The server still books after the storm: a patient client books `slot`.
async fn book_after(server: &Server, slot: &str, outcome: &mut Outcome) {
    let after = Api::new(&server.url)
        .try_book(&visitor_intake(slot, 999_999))
        .await;
    assert_eq!(
        after.status,
        201,
        "booking after the storm: {:?}\n{}",
        after.body,
        server.process.log_text()
    );
    outcome
        .booked
        .push((after.id.expect("its id"), slot.to_owned()));
}

/// Every booking whole and holding its slot, every 201 stored, nothing written that no request
/// could have caused, and nothing in the server's log about it.
fn check(outcome: &Outcome, stored: &Stored, server: &Server) {
    let log = || server.process.log_text();
    assert!(
        outcome.refused.is_empty(),
        "requests were refused: {:?}",
        &outcome.refused[..outcome.refused.len().min(5)]
    );
    assert_eq!(stored.partial, 0, "a booking is written in part");
    let (live, doubled, booked_slots, live_on_booked) = stored.live;
    assert_eq!(doubled, 0, "a slot holds two live bookings");
    assert_eq!(
        (booked_slots, live_on_booked),
        (live, live),
        "every live booking holds its slot"
    );
    let ids: BTreeSet<&str> = stored.bookings.iter().map(|b| b.0.as_str()).collect();
    for (id, slot) in &outcome.booked {
        assert!(
            ids.contains(id.as_str()),
            "booking {id} was answered 201 and is lost"
        );
        let row = stored.bookings.iter().find(|b| &b.0 == id).expect("row");
        assert_eq!(
            (&row.1, row.2.as_str(), row.3.as_str()),
            (slot, "pending", "booked")
        );
    }
    let unanswered = stored.bookings.len() - outcome.booked.len();
    assert!(
        unanswered <= outcome.cut_after_body,
        "{unanswered} bookings stored that no cut-off request can account for"
    );
    let warnings: Vec<String> = log()
        .lines()
        // PostgreSQL's warnings reach the server as notices, which it logs (a slow acquire
        // on a machine under load is no fault of the transactions, and not looked for).
        .filter(|l| l.contains("transaction"))
        .map(str::to_owned)
        .collect();
    assert!(
        warnings.is_empty(),
        "the server warned:\n{}",
        warnings.join("\n")
    );
    eprintln!(
        "hang-ups: {} answered 201, {} cut before their body was complete, {} cut after it \
         ({} of those booked all the same), {} bookings stored",
        outcome.booked.len(),
        outcome.cut_before_body,
        outcome.cut_after_body,
        unanswered,
        stored.bookings.len()
    );
    assert!(
        outcome.cut_after_body >= REQUESTS / 2,
        "too few requests were cut while at work"
    );
}

/// Creates [`REQUESTS`] slots (and one spare) through the owner API, several at once.
async fn slots(server: &Server) -> (Vec<String>, String) {
    let api = Api::new(&server.url);
    let chunks: Vec<_> = (0..8)
        .map(|k| {
            let api = api.clone();
            tokio::spawn(async move {
                let per = REQUESTS.div_ceil(8);
                api.create_slots(48 + (k * per) as i64, per).await
            })
        })
        .collect();
    let mut all = Vec::new();
    for c in chunks {
        all.extend(c.await.expect("slot task"));
    }
    all.truncate(REQUESTS);
    (all, api.create_slot(24).await)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_hanging_up_leave_no_transaction_open_and_no_booking_half_written_on_postgres() {
    let pg = TestDatabase::create().await;
    let server_log = ServerLog::open().await;
    let dir = tempfile::tempdir().expect("tempdir");
    common::migrate(&pg.url, dir.path());
    let server = patient_server(&pg.url, dir.path());
    let (slots, spare) = slots(&server).await;

    let mut outcome = storm(&server, &slots).await;
    book_after(&server, &spare, &mut outcome).await;

    let pool = PgPool::connect(&pg.url).await.expect("connect");
    // A transaction is "idle in transaction" between its statements for a moment; one left
    // open by a request that was cut off stays so (until the next request's BEGIN warns).
    let name = pg.name.clone();
    let idle_in_transaction = "SELECT state, coalesce(query, '') FROM pg_stat_activity \
         WHERE datname = $1 AND application_name = 'guidance' AND state LIKE 'idle in transaction%'";
    let none_left = poll(Duration::from_secs(10), || {
        let (pool, name) = (&pool, &name);
        async move {
            let open: Vec<(String, String)> = sqlx::query_as(idle_in_transaction)
                .bind(name)
                .fetch_all(pool)
                .await
                .expect("pg_stat_activity");
            open.is_empty().then_some(())
        }
    })
    .await;
    assert!(
        none_left.is_some(),
        "connections left in a transaction:\n{}",
        server.process.log_text()
    );
    let stored = stored_in!(&pool);
    check(&outcome, &stored, &server);
    let said: Vec<String> = server_log
        .lines_about(&pg.name)
        .into_iter()
        .filter(|l| {
            l.contains("WARNING") || l.contains("transaction") || l.contains("unexpected EOF")
        })
        .collect();
    assert!(said.is_empty(), "PostgreSQL logged:\n{}", said.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_hanging_up_leave_no_transaction_open_and_no_booking_half_written_on_sqlite() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db_path = dir.path().join("guidance.db");
    let db_url = format!("sqlite://{}", db_path.display());
    let server = patient_server(&db_url, dir.path());
    let (slots, spare) = slots(&server).await;

    let mut outcome = storm(&server, &slots).await;
    book_after(&server, &spare, &mut outcome).await;

    // Read through a connection of our own: what another process sees is what was committed.
    // The booking after the storm queued behind every write the storm started (SQLite's writes
    // take turns), so all of them have ended.
    let options = sqlx::sqlite::SqliteConnectOptions::new().filename(&db_path);
    let pool = SqlitePool::connect_with(options).await.expect("open");
    let integrity: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_all(&pool)
        .await
        .expect("integrity check");
    assert_eq!(integrity, ["ok"]);
    let stored = stored_in!(&pool);
    check(&outcome, &stored, &server);
}
