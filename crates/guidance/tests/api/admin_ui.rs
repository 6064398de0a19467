//! The owner's admin UI over HTTP: sign-in, sessions, CSRF, throttling, every guarded route
//! enumerated from the routers themselves, settings that change the public flow, patterns.

use std::time::Duration;

use guidance_store::Store;
use guidance_testkit::api::{ADMIN_TOKEN, Api, intake, retry_after};
use guidance_web::routes::{admin, admin_ui};
use reqwest::Method;
use serde_json::json;

use crate::helpers::*;

pub mod manage;
pub mod propose;

/// The owner password of the apps [`spawn_admin_app`] starts.
pub const PASSWORD: &str = "correct horse battery staple";

/// Opens the test app's own database beside it (as `guidance admin set-password` would): its
/// SQLite file, or its PostgreSQL database.
pub async fn side_store(app: &TestApp) -> std::sync::Arc<dyn Store> {
    let mut config = test_config(app.dir.path());
    if let Some(db) = &app.db {
        config.database_url = db.url.clone();
    }
    guidance::startup::open_store(&config)
        .await
        .expect("the store opens")
}

/// A running app whose owner password is [`PASSWORD`].
pub async fn spawn_admin_app() -> TestApp {
    spawn_admin_app_with(|_| {}).await
}

pub async fn spawn_admin_app_with(
    adjust: impl FnOnce(&mut guidance_app::config::Config),
) -> TestApp {
    with_password(spawn_app_with(adjust).await).await
}

/// [`spawn_admin_app`] on a fresh PostgreSQL database.
pub async fn spawn_admin_app_on_postgres() -> TestApp {
    with_password(spawn_app_on_postgres().await).await
}

async fn with_password(app: TestApp) -> TestApp {
    guidance_app::owner_auth::set_password(
        side_store(&app).await.as_ref(),
        PASSWORD,
        app.clock.now(),
    )
    .await
    .expect("password set");
    app
}

/// A signed-in owner: the cookie to send and the CSRF token of the session.
pub struct Owner {
    pub cookie: String,
    pub csrf: String,
}

pub fn csrf_in(html: &str) -> String {
    let start = html.find("name=\"csrf\" value=\"").expect("a CSRF field") + 19;
    html[start..].split('"').next().unwrap().to_owned()
}

pub async fn login(app: &TestApp) -> Owner {
    let resp = app
        .post_form("/admin/login", &[("password", PASSWORD)])
        .await;
    assert_eq!(resp.status(), 303, "login redirects");
    let set_cookie = resp.headers()["set-cookie"].to_str().unwrap().to_owned();
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(set_cookie.contains(attribute), "{set_cookie}");
    }
    assert!(!set_cookie.contains("Secure"), "plain http test server");
    let cookie = set_cookie.split(';').next().unwrap().to_owned();
    let html = app
        .client
        .get(app.url("/admin"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    Owner {
        csrf: csrf_in(&html),
        cookie,
    }
}

impl Owner {
    pub async fn get(&self, app: &TestApp, path: &str) -> (u16, String) {
        let resp = app
            .client
            .get(app.url(path))
            .header("cookie", &self.cookie)
            .send()
            .await
            .unwrap();
        (resp.status().as_u16(), resp.text().await.unwrap())
    }

    /// Posts a form with the session's CSRF token; returns the status and the `Location`.
    pub async fn post(&self, app: &TestApp, path: &str, form: &[(&str, &str)]) -> (u16, String) {
        let mut fields: Vec<(&str, &str)> = vec![("csrf", &self.csrf)];
        fields.extend_from_slice(form);
        let resp = app
            .client
            .post(app.url(path))
            .header("cookie", &self.cookie)
            .form(&fields)
            .send()
            .await
            .unwrap();
        let location = resp
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let status = resp.status().as_u16();
        let body = resp.text().await.unwrap();
        (status, if location.is_empty() { body } else { location })
    }
}

/// Real ids for every path parameter of the guarded routes.
struct Fixture {
    slot: String,
    booking: String,
    email: String,
}

async fn fixture(app: &TestApp) -> Fixture {
    let slot = app.create_slot(24).await;
    let booked = app.create_slot(30).await;
    let (status, b) = app.book(&intake(&booked)).await;
    assert_eq!(status, 201, "{b}");
    let booking = b["id"].as_str().unwrap().to_owned();
    let email = app.booking(&booking).await["emails"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    Fixture {
        slot,
        booking,
        email,
    }
}

fn fill(path: &str, f: &Fixture, bookings_route: bool) -> String {
    let id = if bookings_route { &f.booking } else { &f.slot };
    path.replace("{id}", id)
        .replace("{email_id}", &f.email)
        .replace("{action}", "accept")
}

/// What must be unchanged after a refused request.
async fn assert_unchanged(app: &TestApp, f: &Fixture) {
    let b = app.booking(&f.booking).await;
    assert_eq!(b["status"], "pending", "the booking did not move");
    assert_eq!(b["events"].as_array().unwrap().len(), 1);
    assert_eq!(
        app.open_slot_ids().await,
        vec![f.slot.clone()],
        "slots unchanged"
    );
    let settings = app.settings().await;
    assert_eq!(settings["booking_open"], true);
    assert_eq!(settings["owner_name"], "Olga Owner");
}

#[tokio::test]
async fn the_route_tables_come_from_the_routers() {
    let ui = admin_ui::route_table();
    let api = admin::route_table();
    // Spot checks that the tables are the real ones, not empty or partial.
    for (m, p) in [
        (Method::GET, "/admin"),
        (Method::POST, "/admin/settings"),
        (Method::POST, "/admin/slots/bulk"),
        (
            Method::POST,
            "/admin/bookings/{id}/emails/{email_id}/resend",
        ),
        (Method::POST, "/admin/logout"),
    ] {
        assert!(ui.iter().any(|r| r.method == m && r.path == p), "{m} {p}");
    }
    for (m, p) in [
        (Method::GET, "/api/admin/slots"),
        (Method::DELETE, "/api/admin/slots/{id}"),
        (Method::PUT, "/api/admin/settings"),
        (Method::POST, "/api/admin/bookings/{id}/resend"),
        (Method::GET, "/api/admin/questions"),
        (Method::PUT, "/api/admin/questions"),
    ] {
        assert!(api.iter().any(|r| r.method == m && r.path == p), "{m} {p}");
    }
    assert!(
        ui.len() >= 16 && api.len() >= 10,
        "{} {}",
        ui.len(),
        api.len()
    );
    assert!(
        ui.iter().all(|r| r.path.starts_with("/admin")),
        "only /admin pages are in the UI table"
    );
}

#[tokio::test]
async fn every_admin_page_and_owner_api_route_refuses_without_a_session_or_token() {
    let app = spawn_admin_app().await;
    let f = fixture(&app).await;
    let stale = "guidance_admin=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    // A real session, run out: unused for longer than a session may idle (8 hours).
    let expired = login(&app).await;
    app.clock.advance(jiff::SignedDuration::from_hours(9));
    let mut checked = 0;
    for route in admin_ui::route_table() {
        let path = fill(route.path, &f, route.path.starts_with("/admin/bookings"));
        for cookie in [None, Some(stale), Some(expired.cookie.as_str())] {
            let mut req = app
                .client
                .request(route.method.clone(), app.url(&path))
                // The owner API's bearer token does not open the admin UI.
                .bearer_auth(ADMIN_TOKEN)
                .header("x-csrf-token", &expired.csrf)
                .form(&[("action", "delete"), ("ids", &f.slot), ("message", "x")]);
            if let Some(c) = cookie {
                req = req.header("cookie", c);
            }
            let resp = req.send().await.unwrap();
            let status = resp.status().as_u16();
            if route.method == Method::GET {
                assert_eq!(status, 303, "{} {path} {cookie:?}", route.method);
                assert_eq!(resp.headers()["location"], "/admin/login");
            } else {
                assert_eq!(status, 401, "{} {path} {cookie:?}", route.method);
            }
            let body = resp.text().await.unwrap();
            assert!(!body.contains("Ada Lovelace"), "no data leaks: {path}");
            checked += 1;
        }
    }
    for route in admin::route_table() {
        let path = fill(
            route.path,
            &f,
            route.path.starts_with("/api/admin/bookings"),
        );
        for auth in [
            None,
            Some("Bearer wrong-token-wrong-token"),
            Some("Bearer "),
            Some(&*format!("Bearer {}", &ADMIN_TOKEN[1..])),
        ] {
            let mut req = app
                .client
                .request(route.method.clone(), app.url(&path))
                .json(
                    &json!({"status": "unavailable", "booking_open": false, "email_id": f.email}),
                );
            if let Some(a) = auth {
                req = req.header("authorization", a);
            }
            // A stale session cookie does not help either.
            req = req.header("cookie", stale);
            let resp = req.send().await.unwrap();
            assert_eq!(resp.status(), 401, "{} {path} {auth:?}", route.method);
            checked += 1;
        }
    }
    assert!(checked > 50, "{checked}");
    assert_unchanged(&app, &f).await;
}

#[tokio::test]
async fn a_form_post_without_its_csrf_token_is_refused_and_changes_nothing() {
    let app = spawn_admin_app().await;
    let f = fixture(&app).await;
    let owner = login(&app).await;
    for route in admin_ui::route_table()
        .into_iter()
        .filter(|r| r.method != Method::GET)
    {
        let path = fill(route.path, &f, route.path.starts_with("/admin/bookings"));
        for csrf in [None, Some("wrong"), Some("")] {
            let mut form = vec![
                ("action", "delete"),
                ("ids", f.slot.as_str()),
                ("owner_name", "Mallory"),
                ("booking_open", ""),
            ];
            if let Some(c) = csrf {
                form.push(("csrf", c));
            }
            let resp = app
                .client
                .request(route.method.clone(), app.url(&path))
                .header("cookie", &owner.cookie)
                .form(&form)
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 403, "{} {path} csrf {csrf:?}", route.method);
        }
    }
    // The owner API with the session: reading works; changing needs the header.
    let (status, _) = owner.get(&app, "/api/admin/bookings").await;
    assert_eq!(status, 200);
    let put = |csrf: Option<&str>| {
        let mut req = app
            .client
            .put(app.url("/api/admin/settings"))
            .header("cookie", &owner.cookie)
            .json(&json!({"owner_name": "Mallory"}));
        if let Some(c) = csrf {
            req = req.header("x-csrf-token", c);
        }
        req.send()
    };
    assert_eq!(put(None).await.unwrap().status(), 403);
    assert_eq!(put(Some("nope")).await.unwrap().status(), 403);
    assert_unchanged(&app, &f).await;
    // With the token it works, and the session was still alive throughout.
    assert_eq!(put(Some(&owner.csrf)).await.unwrap().status(), 200);
    let s = app.settings().await;
    assert_eq!(s["owner_name"], "Mallory");
}

#[tokio::test]
async fn wrong_passwords_are_rejected_and_repeated_ones_slowed_down() {
    let app = spawn_admin_app().await;
    for i in 0..5 {
        let resp = app
            .post_form(
                "/admin/login",
                &[("password", format!("wrong password {i}"))],
            )
            .await;
        assert_eq!(resp.status(), 401, "attempt {i}");
        assert!(resp.headers().get("set-cookie").is_none());
        assert!(
            resp.text()
                .await
                .unwrap()
                .contains("That password is not right.")
        );
    }
    // The sixth failure locks this client out for a while...
    let resp = app
        .post_form("/admin/login", &[("password", "wrong again")])
        .await;
    assert_eq!(resp.status(), 429);
    let wait = retry_after(&resp).expect("a Retry-After in seconds");
    assert!(wait >= 1);
    assert!(
        resp.text()
            .await
            .unwrap()
            .contains("Too many failed attempts")
    );
    // ...during which even the right password is refused without being checked.
    let resp = app
        .post_form("/admin/login", &[("password", PASSWORD)])
        .await;
    assert_eq!(resp.status(), 429);
    assert!(resp.headers().get("set-cookie").is_none());
}

#[tokio::test]
async fn sessions_end_at_logout_and_when_the_password_changes() {
    sessions_end_at_logout_and_when_the_password_changes_on(spawn_admin_app().await).await;
}

/// The body, on any store (`tests/api/postgres.rs` runs it on PostgreSQL).
pub async fn sessions_end_at_logout_and_when_the_password_changes_on(app: TestApp) {
    let owner = login(&app).await;
    assert_eq!(owner.get(&app, "/admin").await.0, 200);
    let (status, location) = owner.post(&app, "/admin/logout", &[]).await;
    assert_eq!((status, location.as_str()), (303, "/admin/login"));
    assert_eq!(owner.get(&app, "/admin").await.0, 303);

    let owner = login(&app).await;
    guidance_app::owner_auth::set_password(
        side_store(&app).await.as_ref(),
        "another good password",
        app.clock.now(),
    )
    .await
    .unwrap();
    assert_eq!(
        owner.get(&app, "/admin").await.0,
        303,
        "signed out by the new password"
    );
}

#[tokio::test]
async fn the_setup_link_sets_the_first_password_once() {
    let app = spawn_app().await;
    let link = guidance_app::owner_auth::create_setup_link(&app.app)
        .await
        .unwrap()
        .expect("no password yet, so a link");
    let path = link.strip_prefix(&app.base).unwrap().to_owned();
    // The login page says how to get in.
    let page = app.text("/admin/login").await;
    assert!(page.contains("No password is set yet"));
    assert_eq!(app.get(&path).await.status(), 200);
    let post = |p: &str, r: &str| {
        app.client
            .post(app.url(&path))
            .form(&[("password", p), ("repeat", r)])
            .send()
    };
    assert_eq!(
        post("long enough secret", "other").await.unwrap().status(),
        422
    );
    assert_eq!(post("short", "short").await.unwrap().status(), 422);
    let resp = post("long enough secret", "long enough secret")
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    let cookie = resp.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let dash = app
        .client
        .get(app.url("/admin"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(dash.status(), 200);
    // Spent: neither the page nor the form work again, and no second link is made.
    assert_eq!(app.get(&path).await.status(), 404);
    assert_eq!(
        post("hijack attempt!!", "hijack attempt!!")
            .await
            .unwrap()
            .status(),
        404
    );
    assert!(
        guidance_app::owner_auth::create_setup_link(&app.app)
            .await
            .unwrap()
            .is_none()
    );
    let resp = app
        .post_form("/admin/login", &[("password", "long enough secret")])
        .await;
    assert_eq!(resp.status(), 303);
}

#[tokio::test]
async fn guidance_admin_set_password_reads_stdin() {
    let app = spawn_app().await;
    let config = test_config(app.dir.path());
    let run = |input: &str| {
        use std::io::Write;
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_guidance"))
            .args([
                "admin",
                "set-password",
                "--database-url",
                &config.database_url,
            ])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("the binary runs");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let out = run("short\n");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 10"));
    let out = run(&format!("{PASSWORD}\n"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let resp = app
        .post_form("/admin/login", &[("password", PASSWORD)])
        .await;
    assert_eq!(resp.status(), 303);
}

#[tokio::test]
async fn the_first_serve_prints_a_setup_link_that_works() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = serve_binary(dir.path(), "warn", "serve.log");
    let link = server
        .process
        .wait_for_line(Duration::from_secs(60), |line| {
            line.contains("/admin/setup/")
                .then(|| line.trim().to_owned())
        })
        .expect("a setup link on the console");
    let client = &Api::new(&server.url).client;
    let page = client.get(&link).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let resp = client
        .post(&link)
        .form(&[("password", PASSWORD), ("repeat", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    assert!(
        resp.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .starts_with("guidance_admin=")
    );
}
