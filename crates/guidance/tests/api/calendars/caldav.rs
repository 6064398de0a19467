//! A real CalDAV server (Radicale, from PyPI) as a source: an event added with `PUT` hides its
//! slot after the next poll, and deleting it brings the slot back.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use guidance_testkit::python;
use reqwest::Method;
use serde_json::json;

use super::{add_source, base_day, hidden, hourly_slots, local, poll};
use crate::helpers::spawn_app;

const USER: &str = "owner";
const PASSWORD: &str = "app-password-123";

/// Radicale as a child process with basic auth, on a free port; killed when dropped.
struct Radicale {
    child: Child,
    base: String,
    _dir: tempfile::TempDir,
}

impl Drop for Radicale {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start_radicale() -> Radicale {
    let dir = tempfile::tempdir().unwrap();
    let users = dir.path().join("users");
    std::fs::write(&users, format!("{USER}:{PASSWORD}\n")).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(python::interpreter())
        .args(["-m", "radicale", "--config", ""])
        .args(["--server-hosts", &format!("127.0.0.1:{port}")])
        .arg("--storage-filesystem-folder")
        .arg(dir.path().join("collections"))
        .args([
            "--auth-type",
            "htpasswd",
            "--auth-htpasswd-encryption",
            "plain",
        ])
        .arg("--auth-htpasswd-filename")
        .arg(&users)
        .args(["--logging-level", "warning"])
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("Radicale must be installed in the test Python (pip install radicale)");
    let base = format!("http://127.0.0.1:{port}");
    let mut radicale = Radicale {
        child,
        base,
        _dir: dir,
    };
    for _ in 0..100 {
        if let Some(status) = radicale.child.try_wait().unwrap() {
            panic!("Radicale exited at start: {status}");
        }
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return radicale;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("Radicale did not listen on port {port}");
}

#[tokio::test]
async fn an_event_put_on_a_caldav_server_hides_its_slot_until_it_is_deleted() {
    let radicale = start_radicale().await;
    let dav = reqwest::Client::new();
    let collection = format!("{}/{USER}/work/", radicale.base);
    let made = dav
        .request(Method::from_bytes(b"MKCALENDAR").unwrap(), &collection)
        .basic_auth(USER, Some(PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(made.status(), 201, "MKCALENDAR");

    let app = spawn_app().await;
    let d = base_day();
    let slots = hourly_slots(&app, d, 1).await;
    let source = add_source(
        &app,
        json!({"name": "Nextcloud-like", "url": collection, "username": USER, "password": PASSWORD}),
    )
    .await;
    assert_eq!(source["kind"], "caldav");
    assert_eq!(source["error"], serde_json::Value::Null, "{source}");
    assert!(hidden(&app, &slots).await.is_empty());

    // 14:00–14:30 Berlin, written with its zone as Nextcloud would.
    let day = d.strftime("%Y%m%d");
    let event = format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:dentist-1\r\n\
         DTSTAMP:20260101T000000Z\r\nDTSTART;TZID=Europe/Berlin:{day}T140000\r\n\
         DTEND;TZID=Europe/Berlin:{day}T143000\r\nSUMMARY:Dentist\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    );
    let put = dav
        .put(format!("{collection}dentist-1.ics"))
        .basic_auth(USER, Some(PASSWORD))
        .header("Content-Type", "text/calendar; charset=utf-8")
        .body(event)
        .send()
        .await
        .unwrap();
    assert!(put.status().is_success(), "PUT: {}", put.status());
    assert!(
        hidden(&app, &slots).await.is_empty(),
        "not before the next poll"
    );
    app.pass_hours(0.1).await;
    poll(&app).await;
    let two_pm = slots
        .iter()
        .find(|(_, s, _)| *s == local(d, 14))
        .map(|(id, ..)| id.clone())
        .unwrap();
    assert_eq!(hidden(&app, &slots).await, vec![two_pm]);

    let deleted = dav
        .delete(format!("{collection}dentist-1.ics"))
        .basic_auth(USER, Some(PASSWORD))
        .send()
        .await
        .unwrap();
    assert!(
        deleted.status().is_success(),
        "DELETE: {}",
        deleted.status()
    );
    app.pass_hours(0.1).await;
    poll(&app).await;
    assert!(hidden(&app, &slots).await.is_empty());

    // A wrong password is an error the owner sees, not an empty calendar.
    let wrong = add_source(
        &app,
        json!({"name": "Wrong", "url": collection, "username": USER, "password": "nope"}),
    )
    .await;
    assert!(wrong["error"].as_str().unwrap().contains("401"), "{wrong}");
}
