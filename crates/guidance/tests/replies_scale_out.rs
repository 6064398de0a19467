//! Calendar replies with the real binary as separate processes: two `guidance serve` on one
//! PostgreSQL database both configured to read one Dovecot mailbox. Each reply, even delivered
//! twice, acts exactly once: one acceptance per request, one confirmation email to the visitor,
//! one recorded reply, and every copy filed away.

mod common;

#[allow(
    dead_code,
    reason = "this binary writes only the Proton-shaped replies"
)]
#[path = "api/replies/mail.rs"]
mod mail;

use std::time::Duration;

use guidance_testkit::api::{Api, visitor_intake};
use guidance_testkit::dovecot::Dovecot;
use guidance_testkit::pg::TestDatabase;
use guidance_testkit::wait::poll;

const REQUESTS: usize = 6;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_on_one_database_act_on_each_reply_once() {
    let dovecot = Dovecot::start();
    let db = TestDatabase::create().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let mail_dir = dir.path().join("mail");
    common::migrate(&db.url, dir.path());
    let start = |name: &str| {
        let mut cmd = common::command(&["serve"], &db.url, &mail_dir, &dir.path().join(name));
        cmd.env("GUIDANCE_IMAP_URL", dovecot.plain_url())
            .env("GUIDANCE_IMAP_TRUSTED_AUTHSERV", mail::AUTHSERV)
            .env("GUIDANCE_IMAP_POLL_SECS", "1");
        guidance_testkit::binary::serve(cmd, dir.path().join(format!("{name}.log")))
    };
    let a = start("a");
    let b = start("b");
    let api = Api::new(a.url.clone());
    let mut ids = Vec::new();
    for i in 0..REQUESTS {
        let slot = api.create_slot(30 + 2 * i as i64).await;
        let (status, body) = api.book(&visitor_intake(&slot, i)).await;
        assert_eq!(status, 201, "{body}");
        ids.push(body["id"].as_str().expect("id").to_owned());
    }
    let pool = sqlx::PgPool::connect(&db.url).await.expect("connect");
    for (i, id) in ids.iter().enumerate() {
        let uid: String =
            sqlx::query_scalar("SELECT ics_uid FROM guidance_bookings WHERE id = $1::uuid")
                .bind(id)
                .fetch_one(&pool)
                .await
                .expect("uid");
        let message_id = format!("proton-{i}@proton.me");
        let reply = mail::vouched(
            &mail::proton(&mail::Answer {
                uid: &uid,
                sequence: Some(0),
                partstat: "ACCEPTED",
                attendee: mail::OWNER,
                from: mail::OWNER,
                message_id: &message_id,
            }),
            mail::AUTHSERV,
        );
        // Delivered twice, as happens when a provider retries.
        dovecot.append("INBOX", reply.as_bytes());
        dovecot.append("INBOX", reply.as_bytes());
    }
    let logs = || {
        format!(
            "{}\n{}\n{}",
            a.process.log_text(),
            b.process.log_text(),
            dovecot.log()
        )
    };
    let dovecot_ref = &dovecot;
    let done = poll(Duration::from_secs(60), || {
        let pool = pool.clone();
        async move {
            let accepted: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM guidance_bookings WHERE status = 'accepted'",
            )
            .fetch_one(&pool)
            .await
            .expect("count");
            (accepted == REQUESTS as i64 && dovecot_ref.count("INBOX") == 0).then_some(())
        }
    })
    .await;
    assert!(done.is_some(), "not every reply was acted on:\n{}", logs());
    assert_eq!(dovecot.count("Guidance.Processed"), 2 * REQUESTS);
    let per_booking: Vec<(i64, i64, i64)> = sqlx::query_as(
        "SELECT \
           (SELECT count(*) FROM guidance_booking_events e WHERE e.booking_id = b.id AND e.action = 'accept'), \
           (SELECT count(*) FROM guidance_booking_events e WHERE e.booking_id = b.id AND e.action = 'calendar_accept'), \
           (SELECT count(*) FROM guidance_email_outbox m WHERE m.booking_id = b.id AND m.kind = 'requester_accepted') \
         FROM guidance_bookings b",
    )
    .fetch_all(&pool)
    .await
    .expect("counts");
    assert_eq!(per_booking, vec![(1, 1, 1); REQUESTS], "{}", logs());
    let replies: i64 = sqlx::query_scalar("SELECT count(*) FROM guidance_calendar_replies")
        .fetch_one(&pool)
        .await
        .expect("replies");
    assert_eq!(replies, REQUESTS as i64);
    drop((a, b));
}
