//! A populated site, for tests that move data between stores (`tests/copy.rs`).

use super::*;

// ---------------------------------------------------------------------------------------------
// A populated site, for tests that move data between stores (tests/copy.rs)
// ---------------------------------------------------------------------------------------------

/// Fills an empty store the way a site in use looks: slots of every status, bookings in several
/// states with used and unused tokens, their audit trails, and emails queued, leased, retried,
/// sent and failed, a polled calendar, and calendar replies acted on and ignored. Returns the
/// hashes of every token issued.
#[allow(
    dead_code,
    reason = "used by tests/copy.rs only; the contract runners share this module"
)]
pub async fn populate_a_site(store: &dyn Store) -> Vec<TokenHash> {
    let t0 = now();
    let mut hashes = Vec::new();
    store
        .create_slot(
            window(future(t0), 60),
            Some("Room 1, https://meet.example/abc".into()),
            t0,
        )
        .await
        .expect("slot");
    let withdrawn = slot_at(store, future(t0) + hours(2), 45).await;
    store
        .set_slot_available(withdrawn.id, false, t0)
        .await
        .expect("withdraw");
    let _past = slot_at(store, t0 - hours(30), 30).await;

    // Pending, untouched.
    let pending = book(
        store,
        &slot_at(store, future(t0) + hours(4), 60).await,
        "pia",
        t0,
    )
    .await;
    hashes.extend(pending.request.tokens.iter().map(|(_, h)| h.clone()));
    // Accepted through its token (used), with a follow-up token.
    let accepted = book(
        store,
        &slot_at(store, future(t0) + hours(6), 60).await,
        "abe",
        t0,
    )
    .await;
    hashes.extend(accepted.request.tokens.iter().map(|(_, h)| h.clone()));
    let cancel = token_hash();
    hashes.push(cancel.clone());
    store
        .transition(transition(
            &accepted.booking,
            BookingAction::Accept,
            Some(accepted.request.token(BookingAction::Accept)),
            Some((BookingAction::Cancel, cancel)),
            t0 + mins(1),
        ))
        .await
        .expect("accept");
    // Declined: its slot is open again.
    let declined = book(
        store,
        &slot_at(store, future(t0) + hours(8), 60).await,
        "dee",
        t0,
    )
    .await;
    hashes.extend(declined.request.tokens.iter().map(|(_, h)| h.clone()));
    // Declined through the owner API with an idempotency key, kept with its answer.
    let mut decline = transition(
        &declined.booking,
        BookingAction::Decline,
        Some(declined.request.token(BookingAction::Decline)),
        None,
        t0 + mins(2),
    );
    decline.keep_answer = keep(
        guidance_core::idempotency::Scope::Action,
        "decline-1",
        b"{}",
        t0 + hours(24),
    );
    store.transition(decline).await.expect("decline");
    // Waiting for a new time.
    let moving = book(
        store,
        &slot_at(store, future(t0) + hours(10), 60).await,
        "max",
        t0,
    )
    .await;
    hashes.extend(moving.request.tokens.iter().map(|(_, h)| h.clone()));
    let pick = token_hash();
    hashes.push(pick.clone());
    // The owner proposes one time, held for the visitor.
    let proposed = slot_at(store, future(t0) + hours(12), 60).await;
    let mut reschedule = transition(
        &moving.booking,
        BookingAction::Reschedule,
        None,
        Some((BookingAction::PickSlot, pick)),
        t0 + mins(3),
    );
    reschedule.proposals = vec![guidance_store::NewProposal {
        slot: SlotChange {
            slot_id: proposed.id,
            window: slot_window(&proposed),
        },
        hash: token_hash(),
    }];
    store.transition(reschedule).await.expect("reschedule");

    // The outbox in every state: one sent, one failed, one waiting to retry, one leased by a
    // worker that is still sending (or died), the rest queued.
    let claimed = [
        store.claim_email(t0 + mins(5), t0 + mins(10)).await,
        store.claim_email(t0 + mins(5), t0 + mins(10)).await,
        store.claim_email(t0 + mins(5), t0 + mins(10)).await,
        store.claim_email(t0 + mins(5), t0 + mins(10)).await,
    ]
    .map(|c| c.expect("claim").expect("an email is due").id);
    store
        .mark_email_sent(claimed[0], t0 + mins(5))
        .await
        .expect("sent");
    store
        .mark_email_failed(claimed[1], "550 no such user")
        .await
        .expect("failed");
    store
        .mark_email_retry(claimed[2], "421 try later", t0 + hours(1))
        .await
        .expect("retry");

    // The owner's supplemental questions, one of each kind.
    let questions = guidance_core::Question::parse_list(&serde_json::json!([
        {"key": "size", "label": "Team size", "kind": "choice", "required": true, "options": ["1", "2-10", "more"]},
        {"key": "company", "label": "Company", "kind": "short_text"},
        {"key": "context", "label": "Context", "kind": "long_text"},
        {"key": "consent", "label": "I agree", "kind": "checkbox", "required": true}
    ]))
    .expect("questions");
    store
        .replace_questions(&questions, t0)
        .await
        .expect("questions");

    // The owner: a password, a signed-in session, an open setup link and stored settings.
    store
        .set_admin_password_hash("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA", t0)
        .await
        .expect("password");
    store
        .create_admin_session(guidance_store::NewAdminSession {
            id_hash: TokenHash::from_stored("5e".repeat(32)),
            now: t0,
            idle_expires_at: t0 + hours(8),
            expires_at: t0 + hours(24 * 7),
        })
        .await
        .expect("session");
    store
        .create_admin_setup_token(&TokenHash::from_stored("5f".repeat(32)), t0 + hours(24), t0)
        .await
        .expect("setup link");
    store
        .save_settings(
            &std::collections::BTreeMap::from([
                ("owner_name".to_owned(), "Olga «O» Owner".to_owned()),
                ("time_zone".to_owned(), "Europe/Berlin".to_owned()),
            ]),
            t0,
        )
        .await
        .expect("settings");

    // A calendar source with busy intervals, and a rotated feed.
    super::calendars::a_polled_source(store, t0).await;
    // A webhook endpoint with a message queued by a booking's request.
    super::webhooks::a_booking_announced(store, t0).await;
    store.rotate_feed(t0).await.expect("rotate feed");

    // Calendar replies read from the service mailbox: one that noted a maybe on the pending
    // request (named in its history), one ignored with its reason.
    for (message_id, booking, outcome, reason) in [
        (
            "maybe@calendar.example",
            Some(&pending.booking),
            guidance_store::ReplyOutcome::Tentative,
            None,
        ),
        (
            "forged@elsewhere.example",
            None,
            guidance_store::ReplyOutcome::Ignored,
            Some("unknown_uid"),
        ),
    ] {
        let recorded = store
            .record_calendar_reply(&guidance_store::CalendarReply {
                message_id: message_id.to_owned(),
                received_at: t0 + mins(6),
                sender: Some(OWNER.to_owned()),
                method: Some("REPLY".to_owned()),
                partstat: Some("TENTATIVE".to_owned()),
                ics_uid: Some(
                    booking
                        .map_or("not-ours@elsewhere", |b| b.ics_uid.as_str())
                        .to_owned(),
                ),
                booking_id: booking.map(|b| b.id),
                outcome,
                reason: reason.map(str::to_owned),
            })
            .await
            .expect("reply");
        assert!(recorded);
    }
    hashes
}
