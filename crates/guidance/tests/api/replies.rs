//! The owner's answer from their calendar: replies put into a real Dovecot (IMAP APPEND) are
//! read by the service's reply reader and act through the owner's own use case, once, and only
//! when the owner really sent them.

mod mail;

use std::time::Duration;

use guidance_app::replies::DkimVerifier;
use guidance_app::replies::imap::InboxSettings;
use guidance_store::{Booking, ReplyOutcome};
use guidance_testkit::api::intake;
use guidance_testkit::dovecot::Dovecot;
use guidance_testkit::wait;
use tokio::sync::watch;
use uuid::Uuid;

use crate::helpers::{TestApp, spawn_app, test_config};
use mail::{AUTHSERV, Answer, OWNER, Provider};

/// How long a reply may take to be read and acted on.
const LIMIT: Duration = Duration::from_secs(30);
/// Dovecot's folder for handled replies (its separator is `.`).
const PROCESSED: &str = "Guidance.Processed";

/// The reader, started on `app` as `serve` starts it, with the provider's key as the only DNS
/// answer it can get.
struct Reader {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Reader {
    fn start(
        app: &TestApp,
        url: String,
        ca: Option<std::path::PathBuf>,
        provider: &Provider,
    ) -> Reader {
        let mut config = test_config(app.dir.path());
        config.imap_url = Some(url);
        config.imap_ca_file = ca;
        config.imap_trusted_authserv = Some(AUTHSERV.to_owned());
        config.imap_poll_secs = 2;
        let inbox = InboxSettings::from_config(&config)
            .expect("valid IMAP settings")
            .expect("configured");
        let (name, value) = &provider.record;
        let verifier = DkimVerifier::offline(&[(name.as_str(), value.as_str())]).expect("verifier");
        let (stop, rx) = watch::channel(false);
        let task = tokio::spawn(guidance_app::replies::worker::run(
            app.app.clone(),
            inbox,
            verifier,
            rx,
        ));
        Reader { stop, task }
    }

    async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// A pending request, as the store has it.
async fn pending_request(app: &TestApp, hours: i64) -> Booking {
    let slot = app.create_slot(hours).await;
    let (status, body) = app.book(&intake(&slot)).await;
    assert_eq!(status, 201, "{body}");
    let id: Uuid = body["id"].as_str().expect("an id").parse().expect("a uuid");
    app.app.store.get_booking(id).await.expect("the booking")
}

async fn status_of(app: &TestApp, id: Uuid) -> String {
    app.app
        .store
        .get_booking(id)
        .await
        .expect("booking")
        .status
        .to_string()
}

/// Waits until `n` replies are recorded; returns them, newest first.
async fn recorded(
    app: &TestApp,
    n: usize,
    dovecot: &Dovecot,
) -> Vec<guidance_store::CalendarReply> {
    wait::poll(LIMIT, || async {
        let list = app
            .app
            .store
            .list_calendar_replies(100)
            .await
            .expect("list");
        (list.len() >= n).then_some(list)
    })
    .await
    .unwrap_or_else(|| {
        panic!(
            "{n} replies were not recorded in time; Dovecot:\n{}",
            dovecot.log()
        )
    })
}

fn answer<'a>(uid: &'a str, partstat: &'a str, message_id: &'a str) -> Answer<'a> {
    Answer {
        uid,
        sequence: Some(0),
        partstat,
        attendee: OWNER,
        from: OWNER,
        message_id,
    }
}

#[tokio::test]
async fn yes_from_gmail_outlook_proton_and_apple_accepts_each_request() {
    let dovecot = Dovecot::start();
    let app = spawn_app().await;
    let provider = Provider::new();
    let bookings = [
        pending_request(&app, 30).await,
        pending_request(&app, 32).await,
        pending_request(&app, 34).await,
        pending_request(&app, 36).await,
    ];
    let mut gmail = answer(&bookings[0].ics_uid, "ACCEPTED", "gmail-1@mail.gmail.com");
    gmail.sequence = None;
    let messages = [
        provider.sign(&mail::gmail(&gmail)),
        provider.sign(&mail::outlook(&answer(
            &bookings[1].ics_uid,
            "ACCEPTED",
            "outlook-1@outlook.com",
        ))),
        mail::vouched(
            &mail::proton(&answer(
                &bookings[2].ics_uid,
                "ACCEPTED",
                "proton-1@proton.me",
            )),
            AUTHSERV,
        ),
        mail::vouched(
            &mail::apple(&answer(
                &bookings[3].ics_uid,
                "ACCEPTED",
                "apple-1@icloud.com",
            )),
            AUTHSERV,
        ),
    ];
    // Over TLS, trusting the test authority.
    let reader = Reader::start(&app, dovecot.tls_url(), Some(dovecot.ca()), &provider);
    for m in &messages {
        dovecot.append("INBOX", m.as_bytes());
    }
    let replies = recorded(&app, 4, &dovecot).await;
    for r in &replies {
        assert_eq!(
            (r.outcome, r.reason.as_deref()),
            (ReplyOutcome::Accept, None),
            "{r:?}"
        );
    }
    for b in &bookings {
        assert_eq!(status_of(&app, b.id).await, "accepted");
        let kinds = app.email_kinds(&b.id.to_string()).await;
        assert!(kinds.iter().any(|k| k == "requester_accepted"), "{kinds:?}");
        let events = app.app.store.booking_events(b.id).await.expect("events");
        let actions: Vec<&str> = events.iter().map(|e| e.action.as_str()).collect();
        assert!(
            actions.ends_with(&["accept", "calendar_accept"]),
            "{actions:?}"
        );
    }
    let filed = wait::poll(LIMIT, || async {
        (dovecot.count(PROCESSED) == 4).then_some(())
    })
    .await;
    assert!(filed.is_some(), "handled replies are moved to {PROCESSED}");
    assert_eq!(dovecot.count("INBOX"), 0);
    reader.stop().await;
}

#[tokio::test]
async fn no_maybe_and_another_time_do_what_the_owner_meant() {
    let dovecot = Dovecot::start();
    let app = spawn_app().await;
    let provider = Provider::new();
    let no = pending_request(&app, 30).await;
    let maybe = pending_request(&app, 32).await;
    let other_time = pending_request(&app, 34).await;
    // STARTTLS on the plain port.
    let reader = Reader::start(&app, dovecot.starttls_url(), Some(dovecot.ca()), &provider);
    dovecot.append(
        "INBOX",
        provider
            .sign(&mail::outlook(&answer(&no.ics_uid, "DECLINED", "no@x")))
            .as_bytes(),
    );
    dovecot.append(
        "INBOX",
        provider
            .sign(&mail::apple(&answer(
                &maybe.ics_uid,
                "TENTATIVE",
                "maybe@x",
            )))
            .as_bytes(),
    );
    dovecot.append(
        "INBOX",
        provider
            .sign(&mail::counter(
                &answer(&other_time.ics_uid, "NEEDS-ACTION", "counter@x"),
                "20300107T150000",
                "20300107T160000",
            ))
            .as_bytes(),
    );
    recorded(&app, 3, &dovecot).await;
    assert_eq!(status_of(&app, no.id).await, "declined");
    assert!(
        app.email_kinds(&no.id.to_string())
            .await
            .iter()
            .any(|k| k == "requester_declined")
    );

    assert_eq!(status_of(&app, maybe.id).await, "pending");
    let events = app
        .app
        .store
        .booking_events(maybe.id)
        .await
        .expect("events");
    assert_eq!(
        events.last().map(|e| e.action.as_str()),
        Some("calendar_tentative")
    );

    assert_eq!(status_of(&app, other_time.id).await, "needs_reschedule");
    let events = app
        .app
        .store
        .booking_events(other_time.id)
        .await
        .expect("events");
    let reschedule = events
        .iter()
        .find(|e| e.action == "reschedule")
        .expect("asked to reschedule");
    // 15:00 in Berlin (winter) is 06:00 in Los Angeles, the visitor's zone.
    let note = reschedule.note.clone().unwrap_or_default();
    assert!(
        note.contains("proposed another time") && note.contains("6:00"),
        "{note}"
    );
    assert!(events.iter().any(|e| e.action == "calendar_counter"));
    let kinds = app.email_kinds(&other_time.id.to_string()).await;
    assert!(
        kinds.iter().any(|k| k == "requester_pick_new_time"),
        "{kinds:?}"
    );
    reader.stop().await;
}

#[tokio::test]
async fn forged_and_stale_replies_change_nothing_and_are_listed_with_their_reason() {
    let dovecot = Dovecot::start();
    let app = crate::admin_ui::spawn_admin_app().await;
    let provider = Provider::new();
    let target = pending_request(&app, 30).await;
    // A request whose invitation was sent again (asked for another time, then a new one
    // chosen): SEQUENCE 2.
    let moved = pending_request(&app, 32).await;
    guidance_app::bookings::owner_action(
        &app.app,
        moved.id,
        guidance_core::BookingAction::Reschedule,
        None,
    )
    .await
    .expect("reschedule");
    let new_slot = app.create_slot(40).await;
    guidance_app::bookings::requester_pick(&app.app, moved.id, &new_slot)
        .await
        .expect("pick");
    let uid = target.ics_uid.as_str();

    let bad_signature = provider
        .sign(&mail::gmail(&answer(uid, "ACCEPTED", "bad-dkim@x")))
        .replace(
            "Owner has accepted this invitation.",
            "Owner has accepted this, honestly.",
        );
    let other_server = mail::vouched(
        &mail::proton(&answer(uid, "ACCEPTED", "other-server@x")),
        "mx.attacker.test",
    );
    let mut visitor = answer(uid, "ACCEPTED", "visitor@x");
    visitor.attendee = "ada@example.net";
    let visitor = provider.sign(&mail::gmail(&visitor));
    let stale = provider.sign(&mail::outlook(&answer(
        &moved.ics_uid,
        "ACCEPTED",
        "stale@x",
    )));
    let unknown = provider.sign(&mail::apple(&answer(
        "not-ours@elsewhere",
        "ACCEPTED",
        "unknown@x",
    )));
    let reader = Reader::start(&app, dovecot.plain_url(), None, &provider);
    for m in [&bad_signature, &other_server, &visitor, &stale, &unknown] {
        dovecot.append("INBOX", m.as_bytes());
    }
    let replies = recorded(&app, 5, &dovecot).await;
    let reason = |id: &str| {
        let r = replies
            .iter()
            .find(|r| r.message_id == id)
            .expect("recorded");
        assert_eq!(r.outcome, ReplyOutcome::Ignored);
        r.reason.clone().unwrap_or_default()
    };
    assert_eq!(reason("bad-dkim@x"), "not_authenticated");
    assert_eq!(reason("other-server@x"), "not_authenticated");
    assert_eq!(reason("visitor@x"), "not_the_owner");
    assert_eq!(reason("stale@x"), "old_sequence");
    assert_eq!(reason("unknown@x"), "unknown_uid");
    assert_eq!(status_of(&app, target.id).await, "pending");
    assert_eq!(status_of(&app, moved.id).await, "pending");
    reader.stop().await;

    // The owner API lists them too, with their stable reasons.
    let (status, body) = app
        .admin(reqwest::Method::GET, "/api/admin/replies", None)
        .await;
    assert_eq!(status, 200, "{body}");
    let listed = body["replies"].as_array().expect("replies");
    assert_eq!(listed.len(), 5);
    assert!(
        listed
            .iter()
            .all(|r| r["outcome"] == "ignored" && r["reason"].is_string()),
        "{body}"
    );

    // The owner sees each of them, with its reason, on the replies page.
    let owner = crate::admin_ui::login(&app).await;
    let (status, html) = owner.get(&app, "/admin/replies").await;
    assert_eq!(status, 200);
    for reason in [
        "not shown to come from you",
        "the answer is not from your address",
        "answers an earlier version of the invitation",
        "not about one of your bookings",
    ] {
        assert!(
            html.contains(reason),
            "{reason} missing from the replies page"
        );
    }
    assert_eq!(html.matches("<tr class=\"ignored\">").count(), 5);
    let (_, settings) = owner.get(&app, "/admin/settings").await;
    assert!(
        settings.contains("Replies from your calendar are not read"),
        "this app reads no mailbox itself"
    );
}

#[tokio::test]
async fn a_reply_delivered_twice_acts_once_and_a_restarted_server_is_read_again() {
    let mut dovecot = Dovecot::start();
    let app = spawn_app().await;
    let provider = Provider::new();
    let first = pending_request(&app, 30).await;
    let second = pending_request(&app, 32).await;
    let reader = Reader::start(&app, dovecot.plain_url(), None, &provider);
    let yes = provider.sign(&mail::gmail(&answer(&first.ics_uid, "ACCEPTED", "twice@x")));
    dovecot.append("INBOX", yes.as_bytes());
    dovecot.append("INBOX", yes.as_bytes());
    recorded(&app, 1, &dovecot).await;
    let filed = wait::poll(LIMIT, || async {
        (dovecot.count(PROCESSED) == 2).then_some(())
    })
    .await;
    assert!(filed.is_some(), "both copies are filed away");
    assert_eq!(
        app.app
            .store
            .list_calendar_replies(100)
            .await
            .unwrap()
            .len(),
        1
    );
    let accepts = app
        .app
        .store
        .booking_events(first.id)
        .await
        .unwrap()
        .iter()
        .filter(|e| e.action == "accept")
        .count();
    assert_eq!(accepts, 1);

    // The server goes away mid-run and comes back: the reader connects again.
    dovecot.restart();
    let no = provider.sign(&mail::outlook(&answer(
        &second.ics_uid,
        "DECLINED",
        "after-restart@x",
    )));
    dovecot.append("INBOX", no.as_bytes());
    recorded(&app, 2, &dovecot).await;
    assert_eq!(status_of(&app, second.id).await, "declined");
    reader.stop().await;
}

#[tokio::test]
async fn a_message_too_large_to_be_a_reply_is_listed_unread_and_filed_away() {
    let dovecot = Dovecot::start();
    let app = spawn_app().await;
    let provider = Provider::new();
    let big_one = pending_request(&app, 30).await;
    let small_one = pending_request(&app, 32).await;
    // A genuine, signed yes, padded past the cap with headers the signature does not cover:
    // read, it would accept its request; its size alone keeps it unread.
    let signed = provider.sign(&mail::gmail(&answer(&big_one.ics_uid, "ACCEPTED", "big@x")));
    let filler = "x".repeat(998 - "X-Filler: ".len());
    let lines = (guidance_app::replies::MAX_MESSAGE_BYTES as usize) / 1000 + 2;
    let big = format!(
        "{}{signed}",
        format!("X-Filler: {filler}\r\n").repeat(lines)
    );
    assert!(big.len() > guidance_app::replies::MAX_MESSAGE_BYTES as usize);
    let small = provider.sign(&mail::gmail(&answer(
        &small_one.ics_uid,
        "ACCEPTED",
        "small@x",
    )));
    let reader = Reader::start(&app, dovecot.plain_url(), None, &provider);
    dovecot.append("INBOX", big.as_bytes());
    dovecot.append("INBOX", small.as_bytes());
    let replies = recorded(&app, 2, &dovecot).await;
    let refused = replies
        .iter()
        .find(|r| r.message_id == "big@x")
        .expect("the large message is listed by its Message-ID");
    assert_eq!(
        (
            refused.outcome,
            refused.reason.as_deref(),
            refused.sender.as_deref()
        ),
        (ReplyOutcome::Ignored, Some("too_large"), Some(OWNER)),
        "{refused:?}"
    );
    // Nothing of its content was read: no method, answer or UID known.
    assert_eq!(
        (refused.method.as_deref(), refused.ics_uid.as_deref()),
        (None, None)
    );
    assert_eq!(status_of(&app, big_one.id).await, "pending");
    assert_eq!(status_of(&app, small_one.id).await, "accepted");
    let filed = wait::poll(LIMIT, || async {
        (dovecot.count(PROCESSED) == 2).then_some(())
    })
    .await;
    assert!(filed.is_some(), "the large message is filed away too");
    assert_eq!(dovecot.count("INBOX"), 0);
    reader.stop().await;

    // The owner sees it, with its reason.
    let (status, body) = app
        .admin(reqwest::Method::GET, "/api/admin/replies", None)
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body["replies"]
            .as_array()
            .expect("replies")
            .iter()
            .any(|r| r["reason"] == "too_large" && r["outcome"] == "ignored"),
        "{body}"
    );
}

/// The admin settings page of an app whose own reader (as `serve` runs it) reads `url`, once
/// that reader has noted its first look at the mailbox.
async fn settings_page_after_a_look(url: String) -> String {
    let app = crate::admin_ui::spawn_admin_app_with(move |c| c.imap_url = Some(url)).await;
    let looked = wait::poll(LIMIT, || async {
        let status = app.app.store.inbox_status().await.expect("status")?;
        status.checked_at.map(|_| ())
    })
    .await;
    assert!(looked.is_some(), "the reader noted no look at the mailbox");
    let owner = crate::admin_ui::login(&app).await;
    owner.get(&app, "/admin/settings").await.1
}

#[tokio::test]
async fn the_settings_page_says_whether_replies_are_read_and_why_not() {
    let dovecot = Dovecot::start();
    let shown = format!("imap://127.0.0.1:{}/INBOX", dovecot.imap_port);

    let page = settings_page_after_a_look(dovecot.plain_url()).await;
    assert!(
        page.contains(&format!("Replies are read from {shown}; last looked at")),
        "{page}\n{}",
        dovecot.log()
    );

    // A wrong password: the page names the mailbox and the server's refusal, never a password.
    let wrong = dovecot
        .plain_url()
        .replace(guidance_testkit::dovecot::PASSWORD, "wrong-password");
    let page = settings_page_after_a_look(wrong).await;
    assert!(
        page.contains(&format!("Replies cannot be read from {shown}")),
        "{page}"
    );
    assert!(page.contains("Authentication failed"), "{page}");
    assert!(!page.contains("wrong-password"), "the password is shown");
}
