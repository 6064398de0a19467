//! The owner's admin UI over HTTP: sign-in, sessions, CSRF, throttling, every guarded route
//! enumerated from the routers themselves, settings that change the public flow, patterns.

use guidance_store::Store;
use guidance_web::routes::{admin, admin_ui};
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

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
    guidance_app::owner_auth::set_password(side_store(&app).await.as_ref(), PASSWORD)
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
        .client
        .post(app.url("/admin/login"))
        .form(&[("password", PASSWORD)])
        .send()
        .await
        .unwrap();
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
    let (_, settings) = app.admin(Method::GET, "/api/admin/settings", None).await;
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
    let (_, s) = app.admin(Method::GET, "/api/admin/settings", None).await;
    assert_eq!(s["owner_name"], "Mallory");
}

#[tokio::test]
async fn wrong_passwords_are_rejected_and_repeated_ones_slowed_down() {
    let app = spawn_admin_app().await;
    for i in 0..5 {
        let resp = app
            .client
            .post(app.url("/admin/login"))
            .form(&[("password", format!("wrong password {i}"))])
            .send()
            .await
            .unwrap();
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
        .client
        .post(app.url("/admin/login"))
        .form(&[("password", "wrong again")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 429);
    let wait: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(wait >= 1);
    assert!(
        resp.text()
            .await
            .unwrap()
            .contains("Too many failed attempts")
    );
    // ...during which even the right password is refused without being checked.
    let resp = app
        .client
        .post(app.url("/admin/login"))
        .form(&[("password", PASSWORD)])
        .send()
        .await
        .unwrap();
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
    let store = side_store(&app).await;
    let link = guidance_app::owner_auth::create_setup_link(store.as_ref(), &app.base)
        .await
        .unwrap()
        .expect("no password yet, so a link");
    let path = link.strip_prefix(&app.base).unwrap().to_owned();
    // The login page says how to get in.
    let page = app
        .client
        .get(app.url("/admin/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("No password is set yet"));
    assert_eq!(
        app.client
            .get(app.url(&path))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
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
    assert_eq!(
        app.client
            .get(app.url(&path))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(
        post("hijack attempt!!", "hijack attempt!!")
            .await
            .unwrap()
            .status(),
        404
    );
    assert!(
        guidance_app::owner_auth::create_setup_link(store.as_ref(), &app.base)
            .await
            .unwrap()
            .is_none()
    );
    let resp = app
        .client
        .post(app.url("/admin/login"))
        .form(&[("password", "long enough secret")])
        .send()
        .await
        .unwrap();
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
        .client
        .post(app.url("/admin/login"))
        .form(&[("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
}

#[tokio::test]
async fn closed_booking_and_notice_and_horizon_come_from_the_settings() {
    closed_booking_and_notice_and_horizon_come_from_the_settings_on(spawn_admin_app().await).await;
}

/// The body, on any store (`tests/api/postgres.rs` runs it on PostgreSQL).
pub async fn closed_booking_and_notice_and_horizon_come_from_the_settings_on(app: TestApp) {
    let soon = app.create_slot(24).await;
    let later = app.create_slot(24 * 5).await;
    let (status, s) = app
        .admin(
            Method::PUT,
            "/api/admin/settings",
            Some(json!({"booking_open": false})),
        )
        .await;
    assert_eq!(status, 200, "{s}");
    assert!(app.open_slot_ids().await.is_empty());
    let (status, body) = app.book(&intake(&soon)).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("booking_closed"))
    );
    let page = app
        .client
        .get(app.url("/book"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Booking is closed at the moment"), "{page}");
    // The owner still sees and prepares slots, with a banner that says booking is closed.
    let owner = login(&app).await;
    let (_, html) = owner.get(&app, "/admin/slots?view=list").await;
    assert!(html.contains("Booking is closed: visitors cannot book"));
    assert_eq!(html.matches("data-slot-id=").count(), 2);

    // Open again, with two days' notice and a three-day horizon: neither slot is bookable.
    let (status, _) = app
        .admin(
            Method::PUT,
            "/api/admin/settings",
            Some(json!({"booking_open": true, "min_notice_hours": 48, "horizon_days": 3})),
        )
        .await;
    assert_eq!(status, 200);
    assert!(app.open_slot_ids().await.is_empty());
    assert_eq!(app.book(&intake(&soon)).await.0, 409);
    assert_eq!(app.book(&intake(&later)).await.0, 409);
    let (status, _) = app
        .admin(
            Method::PUT,
            "/api/admin/settings",
            Some(json!({"horizon_days": 10})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(app.open_slot_ids().await, vec![later.clone()]);
    assert_eq!(app.book(&intake(&later)).await.0, 201);

    // Bad settings are refused field by field and change nothing.
    let (status, body) = app
        .admin(
            Method::PUT,
            "/api/admin/settings",
            Some(json!({"time_zone": "Mars/Olympus", "owner_email": "nope", "horizon_days": 0})),
        )
        .await;
    assert_eq!(status, 422);
    let fields = body["error"]["fields"].as_object().unwrap();
    assert!(
        fields.contains_key("time_zone")
            && fields.contains_key("owner_email")
            && fields.contains_key("horizon_days")
    );
    let (_, s) = app.admin(Method::GET, "/api/admin/settings", None).await;
    assert_eq!(s["time_zone"], "Europe/Berlin");
    assert_eq!(s["horizon_days"], 10);

    // The settings page: an unticked box closes booking; a bad zone is named and changes nothing.
    let form = |zone: &'static str| {
        [
            ("owner_name", "Olga Owner"),
            ("owner_email", "owner@example.org"),
            ("time_zone", zone),
            ("language", "en"),
            ("min_notice_hours", "0"),
            ("horizon_days", "30"),
        ]
    };
    let (status, html) = owner
        .post(&app, "/admin/settings", &form("Mars/Olympus"))
        .await;
    assert_eq!(status, 422);
    assert!(html.contains("This is not a known time zone."));
    let (_, s) = app.admin(Method::GET, "/api/admin/settings", None).await;
    assert_eq!(
        (s["booking_open"].as_bool(), s["horizon_days"].as_i64()),
        (Some(true), Some(10))
    );
    let (status, location) = owner
        .post(&app, "/admin/settings", &form("America/New_York"))
        .await;
    assert_eq!(
        (status, location.as_str()),
        (303, "/admin/settings?done=settings_saved")
    );
    let (_, s) = app.admin(Method::GET, "/api/admin/settings", None).await;
    assert_eq!(s["booking_open"], false);
    assert_eq!(s["time_zone"], "America/New_York");
    assert_eq!(s["horizon_days"], 30);
    let (_, html) = owner.get(&app, "/admin/settings?done=settings_saved").await;
    assert!(html.contains("The settings were saved."));
    assert!(
        html.contains("<option value=\"Europe/Berlin\">"),
        "zone suggestions"
    );
}

#[tokio::test]
async fn stored_owner_settings_reach_the_emails() {
    let app = spawn_admin_app().await;
    let (status, _) = app
        .admin(
            Method::PUT,
            "/api/admin/settings",
            Some(json!({"owner_name": "Grete Guide", "owner_email": "grete@example.org"})),
        )
        .await;
    assert_eq!(status, 200);
    let slot = app.create_slot(24).await;
    assert_eq!(app.book(&intake(&slot)).await.0, 201);
    let owner_mail = app.wait_for_mail("owner_new_request", 1).await.remove(0);
    let text = String::from_utf8_lossy(&owner_mail);
    assert!(
        text.contains("To: \"Grete Guide\" <grete@example.org>"),
        "{text}"
    );
}

#[tokio::test]
async fn the_owners_message_is_quoted_in_the_requesters_email_and_kept_in_the_history() {
    let app = spawn_admin_app().await;
    let slot = app.create_slot(24).await;
    let (_, b) = app.book(&intake(&slot)).await;
    let id = b["id"].as_str().unwrap();
    let owner = login(&app).await;
    let message = "Looking forward to it!\nPlease bring <your> notes.";
    let (status, location) = owner
        .post(
            &app,
            &format!("/admin/bookings/{id}/act"),
            &[("action", "accept"), ("message", message)],
        )
        .await;
    assert_eq!(status, 303, "{location}");
    assert_eq!(location, format!("/admin/bookings/{id}?done=action_done"));
    let detail = app.booking(id).await;
    assert_eq!(detail["status"], "accepted");
    assert_eq!(detail["events"][1]["note"], message);
    let mail = app.wait_for_mail("requester_accepted", 1).await.remove(0);
    let text = plain_text(&mail).replace("\r\n", "\n");
    assert!(
        text.contains(
            "A message from Olga Owner:\n> Looking forward to it!\n> Please bring <your> notes."
        ),
        "{text}"
    );
    let parsed = mailparse::parse_mail(&mail).unwrap();
    let html = parsed
        .subparts
        .iter()
        .flat_map(|p| std::iter::once(p).chain(p.subparts.iter()))
        .find(|p| p.ctype.mimetype == "text/html")
        .expect("an HTML part")
        .get_body()
        .unwrap();
    assert!(html.contains("<blockquote"), "{html}");
    assert!(!html.contains("<your>"), "escaped in HTML: {html}");
    // The page shows the history with the note, and the email with its delivery state.
    let (_, html) = owner.get(&app, &format!("/admin/bookings/{id}")).await;
    assert!(
        html.contains("Please bring &#60;your&#62; notes.")
            || html.contains("Please bring &lt;your&gt; notes."),
        "{html}"
    );
    assert!(html.contains("Confirmation with invitation"));
}

#[tokio::test]
async fn a_pattern_across_the_spring_clock_change_keeps_berlin_wall_clock_times() {
    let app = spawn_admin_app().await;
    // Berlin springs forward on Sunday 28 March 2027.
    let (status, report) = app
        .admin(
            Method::POST,
            "/api/admin/slots/generate",
            Some(json!({
                "weekdays": [5, 6, 7, 1], "window_start": "09:00", "window_end": "12:00",
                "session_minutes": 45, "gap_minutes": 15,
                "first_day": "2027-03-26", "last_day": "2027-03-29"
            })),
        )
        .await;
    assert_eq!(status, 201, "{report}");
    let created = report["created"].as_array().unwrap();
    assert_eq!(created.len(), 12);
    assert!(report["skipped"].as_array().unwrap().is_empty());
    let berlin = jiff::tz::TimeZone::get("Europe/Berlin").unwrap();
    let local: Vec<String> = created
        .iter()
        .map(|s| {
            let t: jiff::Timestamp = s["starts_at"].as_str().unwrap().parse().unwrap();
            t.to_zoned(berlin.clone()).strftime("%a %H:%M").to_string()
        })
        .collect();
    assert_eq!(
        local,
        [
            "Fri 09:00",
            "Fri 10:00",
            "Fri 11:00",
            "Sat 09:00",
            "Sat 10:00",
            "Sat 11:00",
            "Sun 09:00",
            "Sun 10:00",
            "Sun 11:00",
            "Mon 09:00",
            "Mon 10:00",
            "Mon 11:00"
        ]
    );
    // The same local time is a different UTC time on either side of the change.
    assert_eq!(created[0]["starts_at"], "2027-03-26T08:00:00Z");
    assert_eq!(created[6]["starts_at"], "2027-03-28T07:00:00Z");
    // Running the same pattern again skips every session, each reported as an overlap.
    let (status, again) = app
        .admin(
            Method::POST,
            "/api/admin/slots/generate",
            Some(json!({
                "weekdays": [7], "window_start": "09:00", "window_end": "12:00",
                "session_minutes": 45, "gap_minutes": 15,
                "first_day": "2027-03-26", "last_day": "2027-03-29"
            })),
        )
        .await;
    assert_eq!(status, 201);
    assert!(again["created"].as_array().unwrap().is_empty());
    let skipped = again["skipped"].as_array().unwrap();
    assert_eq!(skipped.len(), 3);
    assert!(skipped.iter().all(|s| s["reason"] == "overlap"));
    assert_eq!(
        skipped[0],
        json!({"date": "2027-03-28", "time": "09:00", "reason": "overlap"})
    );
}

#[tokio::test]
async fn slots_are_edited_and_changed_in_bulk_through_the_ui() {
    slots_are_edited_and_changed_in_bulk_through_the_ui_on(spawn_admin_app().await).await;
}

/// The body, on any store (`tests/api/postgres.rs` runs it on PostgreSQL).
pub async fn slots_are_edited_and_changed_in_bulk_through_the_ui_on(app: TestApp) {
    let a = app.create_slot(24).await;
    let b = app.create_slot(26).await;
    let booked = app.create_slot(28).await;
    assert_eq!(app.book(&intake(&booked)).await.0, 201);
    let owner = login(&app).await;
    let (status, location) = owner
        .post(
            &app,
            "/admin/slots/bulk",
            &[
                ("action", "unavailable"),
                ("ids", &a),
                ("ids", &b),
                ("ids", &booked),
                ("back", "/admin/slots?view=list"),
            ],
        )
        .await;
    assert_eq!(status, 303);
    assert_eq!(
        location,
        "/admin/slots?view=list&done=slots_changed&n=2&r=1"
    );
    assert!(app.open_slot_ids().await.is_empty());
    let (_, html) = owner.get(&app, &location).await;
    assert!(html.contains("2 slots changed; 1 left as they were"));
    owner
        .post(
            &app,
            "/admin/slots/bulk",
            &[("action", "available"), ("ids", &a)],
        )
        .await;
    assert_eq!(app.open_slot_ids().await, vec![a.clone()]);
    owner
        .post(
            &app,
            "/admin/slots/bulk",
            &[("action", "delete"), ("ids", &b), ("ids", &booked)],
        )
        .await;
    let (_, slots) = app.admin(Method::GET, "/api/admin/slots", None).await;
    let ids: Vec<&str> = slots["slots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&a.as_str()) && ids.contains(&booked.as_str()) && !ids.contains(&b.as_str())
    );

    // Edit: move the slot to another local time in the owner's zone (Europe/Berlin).
    let (status, html) = owner.get(&app, &format!("/admin/slots/{a}")).await;
    assert_eq!(status, 200);
    assert!(html.contains("name=\"date\""));
    let (status, location) = owner
        .post(
            &app,
            &format!("/admin/slots/{a}"),
            &[
                ("date", "2027-01-15"),
                ("start", "14:00"),
                ("end", "14:50"),
                ("meeting_details", "https://meet.example/x"),
            ],
        )
        .await;
    assert_eq!(status, 303, "{location}");
    let (_, slots) = app
        .admin(
            Method::GET,
            "/api/admin/slots?from=2027-01-15T00:00:00Z&to=2027-01-16T00:00:00Z",
            None,
        )
        .await;
    assert_eq!(slots["slots"][0]["starts_at"], "2027-01-15T13:00:00Z");
    assert_eq!(slots["slots"][0]["ends_at"], "2027-01-15T13:50:00Z");
    assert_eq!(
        slots["slots"][0]["meeting_details"],
        "https://meet.example/x"
    );
    // Bad input names its field and changes nothing.
    let (status, html) = owner
        .post(
            &app,
            &format!("/admin/slots/{a}"),
            &[("date", "2027-01-15"), ("start", "15:00"), ("end", "14:00")],
        )
        .await;
    assert_eq!(status, 422);
    assert!(html.contains("The end must be after the start."));
    let (_, slots) = app
        .admin(
            Method::GET,
            "/api/admin/slots?from=2027-01-15T00:00:00Z&to=2027-01-16T00:00:00Z",
            None,
        )
        .await;
    assert_eq!(slots["slots"][0]["starts_at"], "2027-01-15T13:00:00Z");
    // A local time the clocks skip is refused rather than silently moved.
    let (status, _) = owner
        .post(
            &app,
            "/admin/slots",
            &[("date", "2027-03-28"), ("start", "02:30"), ("end", "03:30")],
        )
        .await;
    assert_eq!(status, 422);
}

#[tokio::test]
async fn bookings_are_filtered_by_status_and_searched() {
    let app = spawn_admin_app().await;
    let mut ids = Vec::new();
    for (i, (name, email, topic)) in [
        ("Ada Lovelace", "ada@example.net", "Engines"),
        ("Grace Hopper", "grace@navy.example", "Compilers"),
        ("Alan Turing", "alan@example.org", "Computable numbers"),
    ]
    .into_iter()
    .enumerate()
    {
        let slot = app.create_slot(24 + 2 * i64::try_from(i).unwrap()).await;
        let mut body = intake(&slot);
        body["name"] = json!(name);
        body["email"] = json!(email);
        body["topic"] = json!(topic);
        let (_, b) = app.book(&body).await;
        ids.push(b["id"].as_str().unwrap().to_owned());
    }
    let (status, _) = app
        .admin(
            Method::POST,
            &format!("/api/admin/bookings/{}/accept", ids[1]),
            None,
        )
        .await;
    assert_eq!(status, 200);
    let owner = login(&app).await;
    let names = |html: &str| -> Vec<String> {
        ["Ada Lovelace", "Grace Hopper", "Alan Turing"]
            .iter()
            .filter(|n| html.contains(*n))
            .map(|n| (*n).to_owned())
            .collect()
    };
    let (_, html) = owner.get(&app, "/admin/bookings").await;
    // Pending first, then accepted.
    let ada = html.find("Ada Lovelace").unwrap();
    let alan = html.find("Alan Turing").unwrap();
    let grace = html.find("Grace Hopper").unwrap();
    assert!(ada < alan && alan < grace, "pending before accepted");
    let (_, html) = owner.get(&app, "/admin/bookings?status=accepted").await;
    assert_eq!(names(&html), ["Grace Hopper"]);
    let (_, html) = owner.get(&app, "/admin/bookings?q=COMPUT").await;
    assert_eq!(names(&html), ["Alan Turing"]);
    let (_, html) = owner.get(&app, "/admin/bookings?q=navy").await;
    assert_eq!(names(&html), ["Grace Hopper"]);
    let (_, html) = owner.get(&app, "/admin/bookings?status=pending&q=a").await;
    assert_eq!(names(&html), ["Ada Lovelace", "Alan Turing"]);
    // The owner API filters the same way (one implementation).
    let (_, body) = app
        .admin(Method::GET, "/api/admin/bookings?q=engines", None)
        .await;
    let found: Vec<&Value> = body["bookings"].as_array().unwrap().iter().collect();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["name"], "Ada Lovelace");
}

#[tokio::test]
async fn the_pattern_form_reports_what_it_skipped() {
    let app = spawn_admin_app().await;
    let owner = login(&app).await;
    let form = [
        ("weekdays", "1"),
        ("weekdays", "2"),
        ("window_start", "09:00"),
        ("window_end", "11:00"),
        ("session_minutes", "60"),
        ("gap_minutes", "0"),
        ("first_day", "2027-01-04"),
        ("last_day", "2027-01-10"),
    ];
    let (status, html) = owner.post(&app, "/admin/slots/generate", &form).await;
    assert_eq!(status, 200);
    assert!(html.contains("4 slots created."), "{html}");
    assert!(html.contains("No session was skipped."));
    let (status, html) = owner.post(&app, "/admin/slots/generate", &form).await;
    assert_eq!(status, 200);
    assert!(html.contains("0 slots created."));
    assert!(html.contains("4 sessions skipped:"));
    assert_eq!(html.matches("Overlaps an existing slot").count(), 4);
    assert!(html.contains("Mon, Jan 4"), "CLDR short date: {html}");
    // A bad pattern names its fields and creates nothing.
    let (status, html) = owner
        .post(
            &app,
            "/admin/slots/generate",
            &[
                ("window_start", "11:00"),
                ("window_end", "10:00"),
                ("session_minutes", "60"),
                ("first_day", "2027-02-01"),
                ("last_day", "2027-02-07"),
            ],
        )
        .await;
    assert_eq!(status, 422);
    assert!(html.contains("Please fill this in."), "no weekday chosen");
    assert!(html.contains("The end must be after the start."));
    let (_, slots) = app
        .admin(
            Method::GET,
            "/api/admin/slots?from=2027-01-01T00:00:00Z&to=2027-03-01T00:00:00Z",
            None,
        )
        .await;
    assert_eq!(slots["slots"].as_array().unwrap().len(), 4);
}

#[tokio::test]
async fn a_declined_bookings_slot_can_be_withdrawn_from_the_booking_page() {
    let app = spawn_admin_app().await;
    let slot = app.create_slot(24).await;
    let (_, b) = app.book(&intake(&slot)).await;
    let id = b["id"].as_str().unwrap();
    let owner = login(&app).await;
    // While the booking holds it, the slot cannot be withdrawn.
    let (status, _) = owner
        .post(&app, &format!("/admin/bookings/{id}/slot-unavailable"), &[])
        .await;
    assert_eq!(status, 409);
    let (status, _) = owner
        .post(
            &app,
            &format!("/admin/bookings/{id}/act"),
            &[("action", "decline")],
        )
        .await;
    assert_eq!(status, 303);
    assert_eq!(
        app.open_slot_ids().await,
        vec![slot.clone()],
        "declining frees the slot"
    );
    let (_, html) = owner.get(&app, &format!("/admin/bookings/{id}")).await;
    assert!(html.contains("id=\"slot-unavailable\""));
    assert!(
        !html.contains("id=\"do-accept\""),
        "no actions a declined booking cannot take"
    );
    let (status, location) = owner
        .post(&app, &format!("/admin/bookings/{id}/slot-unavailable"), &[])
        .await;
    assert_eq!(
        (status, location),
        (303, format!("/admin/bookings/{id}?done=slot_unavailable"))
    );
    assert!(app.open_slot_ids().await.is_empty());
    // An unknown action or booking changes nothing.
    let (status, _) = owner
        .post(
            &app,
            &format!("/admin/bookings/{id}/act"),
            &[("action", "explode")],
        )
        .await;
    assert_eq!(status, 422);
    let (status, _) = owner
        .post(
            &app,
            &format!("/admin/bookings/{}/act", uuid::Uuid::new_v4()),
            &[("action", "accept")],
        )
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn the_first_serve_prints_a_setup_link_that_works() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let config = test_config(dir.path());
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_guidance"))
        .arg("serve")
        .current_dir(dir.path())
        .env("GUIDANCE_DATABASE_URL", &config.database_url)
        .env("GUIDANCE_LISTEN", "127.0.0.1:0")
        .env("GUIDANCE_MAIL_DIR", &config.mail_dir)
        .env("GUIDANCE_DATA_DIR", &config.data_dir)
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("guidance serve starts");
    let stdout = child.stdout.take().unwrap();
    // Keep reading the console to its end: a closed pipe would make the server's next line fail.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if line.contains("/admin/setup/") {
                let _ = tx.send(line.trim().to_owned());
            }
        }
    });
    let link = tokio::task::spawn_blocking(move || {
        rx.recv_timeout(std::time::Duration::from_secs(60)).ok()
    })
    .await
    .unwrap();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let result = async {
        let link = link.expect("a setup link on the console");
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
    .await;
    let _ = child.kill();
    let _ = child.wait();
    result
}
