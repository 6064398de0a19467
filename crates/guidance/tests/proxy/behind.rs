//! Guidance behind a real TLS-terminating proxy (nginx, Caddy), configured as the README says:
//! an https public URL and `GUIDANCE_TRUSTED_PROXIES=127.0.0.1` (the proxy's address towards
//! Guidance). Visitors come from loopback addresses of their own, through the proxy's TLS.

use guidance_testkit::api::Api;
use guidance_testkit::pki::TestPki;

use crate::proxies::{Kind, ports};
use crate::site::{PASSWORD, Visitors, client_from, loopback, serve, session_cookie};

/// Bookings per minute per client in these tests.
const RATE: usize = 3;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_nginx() {
    behind(Kind::Nginx).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_caddy() {
    behind(Kind::Caddy).await;
}

async fn behind(kind: Kind) {
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = TestPki::new("proxy");
    let ports = ports();
    let public = format!("https://localhost:{}", ports.0);
    let guidance = serve(
        dir.path(),
        &[
            ("GUIDANCE_PUBLIC_URL", public.as_str()),
            ("GUIDANCE_TRUSTED_PROXIES", "127.0.0.1"),
            ("GUIDANCE_BOOKING_RATE_LIMIT", &RATE.to_string()),
        ],
    );
    let proxy = kind.start(dir.path(), &pki, guidance.port, ports);
    assert_eq!(proxy.public_url(), public);
    let logs = || {
        format!(
            "--- guidance ---\n{}\n--- proxy ---\n{}",
            guidance.process.log_text(),
            proxy.process.log_text()
        )
    };
    let owner = Api::new(guidance.url.clone());
    let slots = owner.create_slots(24, 6 * RATE + 2).await;
    let mut visitors = Visitors::new(&public, slots);
    let through = |n: u8| client_from(loopback(n), Some(&pki));
    let refused_after_the_budget = {
        let mut v = vec![201; RATE];
        v.push(429);
        v
    };

    // Two visitors, each with a budget of their own (all of them would share the proxy's).
    let (a, b) = (through(2), through(3));
    assert_eq!(
        visitors.until_refused(&a, &[]).await,
        refused_after_the_budget,
        "{}",
        logs()
    );
    assert_eq!(
        visitors.until_refused(&b, &[]).await,
        refused_after_the_budget
    );
    // The refusal holds for the first visitor, and names the wait.
    assert_eq!(visitors.book(&a, &[]).await, 429);

    // A visitor who writes another address into the headers, through the proxy, is still
    // counted as itself...
    let c = through(4);
    let claims = [
        [("x-forwarded-for", "127.0.0.9")],
        [("forwarded", "for=127.0.0.9")],
        [("x-real-ip", "127.0.0.9")],
    ];
    let mut statuses = Vec::new();
    for claim in claims.iter().cycle().take(RATE + 1) {
        statuses.push(visitors.book(&c, claim).await);
    }
    assert_eq!(statuses, refused_after_the_budget, "{}", logs());
    // ...and the address it named was charged nothing.
    assert_eq!(
        visitors.until_refused(&through(9), &[]).await,
        refused_after_the_budget
    );

    // The same, sent straight to Guidance: from an address that is no trusted proxy, the
    // headers are ignored.
    let mut straight = Visitors::new(&guidance.url, owner.open_slot_ids().await);
    let e = client_from(loopback(5), None);
    let mut statuses = Vec::new();
    for claim in [
        [("x-forwarded-for", "127.0.0.10")],
        [("forwarded", "for=127.0.0.10;proto=https")],
    ]
    .iter()
    .cycle()
    .take(RATE + 1)
    {
        statuses.push(straight.book(&e, claim).await);
    }
    assert_eq!(statuses, refused_after_the_budget);
    let mut through_proxy = Visitors::new(&public, owner.open_slot_ids().await);
    assert_eq!(
        through_proxy.until_refused(&through(10), &[]).await,
        refused_after_the_budget
    );

    // Sign-in: one address guessing is locked out...
    let guesser = through(6);
    let login = format!("{public}/admin/login");
    for i in 0..5 {
        let resp = guesser
            .post(&login)
            .form(&[("password", format!("wrong password {i}"))])
            .send()
            .await
            .expect("a sign-in");
        assert_eq!(resp.status(), 401, "attempt {i}");
    }
    for password in ["wrong again", PASSWORD] {
        let resp = guesser
            .post(&login)
            .form(&[("password", password)])
            .send()
            .await
            .expect("a sign-in");
        assert_eq!(resp.status(), 429, "locked out");
    }
    // ...while the owner signs in, from the address whose booking budget is spent: the two
    // limits are apart, and the guesser's lock is the guesser's.
    let resp = a
        .post(&login)
        .form(&[("password", PASSWORD)])
        .send()
        .await
        .expect("a sign-in");
    assert_eq!(resp.status(), 303, "{}", logs());
    // On https the session cookie is `__Host-`: Secure, the whole site, no Domain.
    let (session, set_cookie) =
        session_cookie(&resp, "__Host-guidance_admin").expect("a __Host- session cookie");
    for part in ["; Secure", "; Path=/;", "; HttpOnly", "; SameSite=Strict"] {
        assert!(set_cookie.contains(part), "{set_cookie}");
    }
    assert!(
        !set_cookie.to_ascii_lowercase().contains("domain"),
        "{set_cookie}"
    );
    let admin = a
        .get(format!("{public}/admin"))
        .header("cookie", format!("__Host-guidance_admin={session}"))
        .send()
        .await
        .expect("the dashboard");
    assert_eq!(admin.status(), 200);
    // The plain name opens nothing on an https site.
    let plain = a
        .get(format!("{public}/admin"))
        .header("cookie", format!("guidance_admin={session}"))
        .send()
        .await
        .expect("the dashboard");
    assert_eq!(plain.status(), 303, "to the sign-in page");

    // Answers through the proxy's https carry HSTS; straight to Guidance over plain http (even
    // claiming https) they do not.
    let page = a.get(format!("{public}/book")).send().await.expect("/book");
    assert_eq!(
        page.headers()
            .get("strict-transport-security")
            .map(|v| v.to_str().unwrap()),
        Some("max-age=31536000")
    );
    let page = e
        .get(format!("{}/book", guidance.url))
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .expect("/book");
    assert_eq!(page.status(), 200);
    assert!(page.headers().get("strict-transport-security").is_none());

    // The proxy's plain http only redirects to https.
    let resp = client_from(loopback(7), None)
        .get(format!("http://127.0.0.1:{}/book", proxy.http_port))
        .header("host", format!("localhost:{}", proxy.http_port))
        .send()
        .await
        .expect("plain http");
    assert!(
        resp.status().is_redirection(),
        "{}: {}",
        resp.status(),
        logs()
    );
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with("https://localhost"), "{location}");
}
