//! Guidance with nothing in front: slow clients, IPv6 visitors named by a trusted proxy, a
//! plain-http site, its files, and a configuration it refuses.

use std::time::{Duration, Instant};

use guidance_testkit::api::Api;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::site::{PASSWORD, Visitors, client_from, command, loopback, serve, session_cookie};

/// Slow connections opened at once.
const SLOW: usize = 200;

/// How a slow connection ended.
#[derive(Debug, PartialEq, Eq)]
enum Ended {
    /// The server closed it; what it said first, if anything.
    Closed(String),
    /// It was still open when the test gave up.
    StillOpen,
}

/// Opens a connection to `port`, sends `start`, then one more byte of `trickle` (if any) every
/// 200 ms, until the server closes the connection or `give_up` passes.
async fn slow_client(
    port: u16,
    start: Vec<u8>,
    trickle: &'static [u8],
    give_up: Duration,
) -> Ended {
    let mut stream = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    let deadline = Instant::now() + give_up;
    let _ = stream.write_all(&start).await;
    let mut said = Vec::new();
    let mut buf = [0u8; 1024];
    let mut next = trickle.iter().cycle();
    while Instant::now() < deadline {
        tokio::select! {
            read = stream.read(&mut buf) => match read {
                Ok(0) | Err(_) => return Ended::Closed(String::from_utf8_lossy(&said).into_owned()),
                Ok(n) => said.extend_from_slice(&buf[..n]),
            },
            () = tokio::time::sleep(Duration::from_millis(200)) => {
                if let Some(byte) = next.next()
                    && stream.write_all(&[*byte]).await.is_err()
                {
                    return Ended::Closed(String::from_utf8_lossy(&said).into_owned());
                }
            }
        }
    }
    Ended::StillOpen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_headers_are_cut_off_and_visitors_keep_booking() {
    let dir = tempfile::tempdir().expect("tempdir");
    let guidance = serve(dir.path(), &[("GUIDANCE_HEADER_TIMEOUT_SECS", "1")]);
    let api = Api::new(guidance.url.clone());
    let slots = api.create_slots(24, 2).await;
    // Each sends a header line a byte at a time, for ever: only the header time-out ends them.
    let head = b"POST /api/bookings HTTP/1.1\r\nHost: localhost\r\n".to_vec();
    let slow: Vec<_> = (0..SLOW)
        .map(|_| {
            tokio::spawn(slow_client(
                guidance.port,
                head.clone(),
                b"X-Slow: aaaaaaaa\r\n",
                Duration::from_secs(60),
            ))
        })
        .collect();
    // Meanwhile a visitor books, as if nobody else were there.
    let mut visitors = Visitors::new(&guidance.url, slots);
    let visitor = client_from(loopback(2), None);
    assert_eq!(visitors.book(&visitor, &[]).await, 201);
    assert_eq!(api.open_slot_ids().await.len(), 1);
    for (i, task) in slow.into_iter().enumerate() {
        let ended = task.await.expect("the slow client");
        assert!(
            matches!(ended, Ended::Closed(_)),
            "slow connection {i} was never closed"
        );
    }
    // And after them, too.
    assert_eq!(visitors.book(&visitor, &[]).await, 201);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_body_is_answered_408_and_an_idle_connection_closed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let guidance = serve(
        dir.path(),
        &[
            ("GUIDANCE_HEADER_TIMEOUT_SECS", "1"),
            ("GUIDANCE_REQUEST_TIMEOUT_SECS", "2"),
        ],
    );
    // Whole headers, then a body that never finishes.
    let head = b"POST /api/bookings HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"name\": \"".to_vec();
    let ended = slow_client(guidance.port, head, b"a", Duration::from_secs(60)).await;
    let Ended::Closed(said) = ended else {
        panic!("the slow body was never cut off");
    };
    assert!(said.starts_with("HTTP/1.1 408"), "{said}");
    assert!(said.contains("request_timeout"), "{said}");
    // A connection that says nothing at all is closed as well.
    let ended = slow_client(guidance.port, Vec::new(), b"", Duration::from_secs(60)).await;
    assert!(matches!(ended, Ended::Closed(_)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_the_connection_cap_a_newcomer_waits_until_a_connection_ends() {
    let dir = tempfile::tempdir().expect("tempdir");
    let guidance = serve(
        dir.path(),
        &[
            ("GUIDANCE_MAX_CONNECTIONS", "5"),
            ("GUIDANCE_HEADER_TIMEOUT_SECS", "2"),
        ],
    );
    // Five connections that say nothing hold every place...
    let mut idle = Vec::new();
    for _ in 0..5 {
        idle.push(
            TcpStream::connect(("127.0.0.1", guidance.port))
                .await
                .expect("connect"),
        );
    }
    let closed: Vec<_> = idle
        .into_iter()
        .map(|mut stream| {
            tokio::spawn(async move {
                let mut buf = [0u8; 64];
                let _ = tokio::time::timeout(Duration::from_secs(60), stream.read(&mut buf)).await;
                Instant::now()
            })
        })
        .collect();
    // ...so the next visitor is answered only once the header time-out has ended one of them.
    let resp = client_from(loopback(2), None)
        .get(format!("{}/healthz", guidance.url))
        .send()
        .await
        .expect("answered in the end");
    let answered = Instant::now();
    assert_eq!(resp.status(), 200);
    let mut first_closed = None::<Instant>;
    for task in closed {
        let at = task.await.expect("an idle connection");
        first_closed = Some(first_closed.map_or(at, |f| f.min(at)));
    }
    assert!(
        answered >= first_closed.expect("five"),
        "the sixth connection was served while five were open"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_trusted_proxy_an_ipv6_visitor_counts_by_its_64() {
    let dir = tempfile::tempdir().expect("tempdir");
    let guidance = serve(
        dir.path(),
        &[
            ("GUIDANCE_TRUSTED_PROXIES", "127.0.0.1"),
            ("GUIDANCE_BOOKING_RATE_LIMIT", "2"),
        ],
    );
    let api = Api::new(guidance.url.clone());
    let mut visitors = Visitors::new(&guidance.url, api.create_slots(24, 6).await);
    // The "proxy" is this test, at 127.0.0.1, naming the visitor.
    let proxy = client_from(loopback(1), None);
    let from = |ip: &'static str| [("x-forwarded-for", ip)];
    assert_eq!(visitors.book(&proxy, &from("2001:db8:1:2::1")).await, 201);
    assert_eq!(
        visitors.book(&proxy, &from("2001:db8:1:2::ffff")).await,
        201
    );
    // Another address of the same /64 is the same visitor.
    assert_eq!(
        visitors
            .book(&proxy, &from("[2001:db8:1:2:abcd::1]:443"))
            .await,
        429
    );
    // The next /64 is someone else.
    assert_eq!(visitors.book(&proxy, &from("2001:db8:1:3::1")).await, 201);
    let fwd = [("forwarded", r#"for="[2001:db8:1:3::2]:4711""#)];
    assert_eq!(visitors.book(&proxy, &fwd).await, 201);
    assert_eq!(visitors.book(&proxy, &from("2001:db8:1:3:1::")).await, 429);
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_http_site_has_a_plain_cookie_and_keeps_its_files_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tempdir");
    // No GUIDANCE_SECRET: one is generated into the data directory.
    let mut cmd = command(
        dir.path(),
        &["serve"],
        &[("GUIDANCE_TRUSTED_PROXIES", "127.0.0.1")],
    );
    cmd.env_remove("GUIDANCE_SECRET");
    crate::site::set_password(dir.path());
    let guidance = guidance_testkit::binary::serve(cmd, dir.path().join("guidance.log"));
    let api = Api::new(guidance.url.clone());
    let mut visitors = Visitors::new(&guidance.url, api.create_slots(24, 1).await);
    let visitor = client_from(loopback(2), None);
    assert_eq!(visitors.book(&visitor, &[]).await, 201);
    let mail = guidance_testkit::mail::MailDir::new(dir.path().join("data/mail"));
    mail.wait_for("requester_received", 1).await;
    mail.wait_for("owner_new_request", 1).await;

    // A trusted proxy saying https changes nothing on an http site: no HSTS, the plain cookie.
    let proxy = client_from(loopback(1), None);
    let page = proxy
        .get(format!("{}/book", guidance.url))
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .expect("/book");
    assert_eq!(page.status(), 200);
    assert!(page.headers().get("strict-transport-security").is_none());
    let resp = proxy
        .post(format!("{}/admin/login", guidance.url))
        .header("x-forwarded-proto", "https")
        .form(&[("password", PASSWORD)])
        .send()
        .await
        .expect("sign in");
    assert_eq!(resp.status(), 303);
    let (_, set_cookie) = session_cookie(&resp, "guidance_admin").expect("the plain cookie");
    assert!(!set_cookie.contains("Secure"), "{set_cookie}");
    assert!(session_cookie(&resp, "__Host-guidance_admin").is_none());

    // The files: the directories the service's alone, every file with data or secrets too.
    let mode = |p: &std::path::Path| {
        std::fs::metadata(p)
            .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
            .permissions()
            .mode()
            & 0o777
    };
    let data = dir.path().join("data");
    assert_eq!(mode(&data), 0o700, "the data directory");
    assert_eq!(mode(&data.join("mail")), 0o700, "the mail directory");
    for file in [
        "guidance.db",
        "guidance.db-wal",
        "guidance.db-shm",
        "secret",
    ] {
        assert_eq!(mode(&data.join(file)), 0o600, "{file}");
    }
    let emails = mail.paths();
    assert!(emails.len() >= 2);
    for email in emails {
        assert_eq!(mode(&email), 0o600, "{}", email.display());
    }
}

#[test]
fn a_wrong_trusted_proxy_stops_the_start_with_its_name() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = command(
        dir.path(),
        &["serve"],
        &[("GUIDANCE_TRUSTED_PROXIES", "127.0.0.1, 10.0.0.0/33")],
    )
    .output()
    .expect("run guidance serve");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("GUIDANCE_TRUSTED_PROXIES") && err.contains("\"10.0.0.0/33\""),
        "{err}"
    );
}
