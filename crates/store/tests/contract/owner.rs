//! The contract on what the owner keeps: supplemental questions, slot edits, resent emails,
//! the password, setup links and sessions, and settings.

use super::*;

// ---------------------------------------------------------------------------------------------
// 7. Supplemental questions
// ---------------------------------------------------------------------------------------------

/// Questions come back in the order saved; saving again replaces the whole list.
pub async fn questions_replace_and_list_in_order(store: Arc<dyn Store>) {
    assert!(store.list_questions().await.unwrap().is_empty());
    let list = guidance_core::Question::parse_list(&serde_json::json!([
        {"key": "size", "label": "Team size", "kind": "choice", "required": true, "options": ["1", "2-10"]},
        {"key": "company", "label": "Company", "kind": "short_text"},
        {"key": "consent", "label": "I agree", "kind": "checkbox", "required": true}
    ]))
    .unwrap();
    store.replace_questions(&list, now()).await.unwrap();
    assert_eq!(store.list_questions().await.unwrap(), list);
    let shorter = vec![list[1].clone()];
    store.replace_questions(&shorter, now()).await.unwrap();
    assert_eq!(store.list_questions().await.unwrap(), shorter);
    store.replace_questions(&[], now()).await.unwrap();
    assert!(store.list_questions().await.unwrap().is_empty());
}

// ---------------------------------------------------------------------------------------------
// 8. Owner (admin UI): slot edits, resending emails, sign-in, settings
// ---------------------------------------------------------------------------------------------

pub async fn slot_update_changes_window_unless_booked_or_overlapping(store: Arc<dyn Store>) {
    let store = &*store;
    let t0 = now();
    let a = slot_at(store, future(t0), 60).await;
    let b = slot_at(store, future(t0) + hours(2), 60).await;
    let moved = store
        .update_slot(
            a.id,
            window(future(t0) + mins(30), 45),
            Some("Room 2".into()),
            t0,
        )
        .await
        .expect("moved");
    assert_eq!(moved.starts_at, future(t0) + mins(30));
    assert_eq!(moved.ends_at, future(t0) + mins(75));
    assert_eq!(moved.meeting_details.as_deref(), Some("Room 2"));
    assert_eq!(store.get_slot(a.id).await.expect("slot"), moved);
    assert_err!(
        store
            .update_slot(a.id, window(future(t0) + hours(2) + mins(30), 60), None, t0)
            .await,
        StoreError::SlotOverlap
    );
    assert_err!(
        store
            .update_slot(Uuid::new_v4(), window(future(t0), 60), None, t0)
            .await,
        StoreError::NotFound
    );
    book(store, &b, "ann", t0).await;
    assert_err!(
        store
            .update_slot(b.id, window(future(t0) + hours(5), 60), None, t0)
            .await,
        StoreError::SlotBooked
    );
    assert_eq!(
        store.get_slot(b.id).await.expect("slot").starts_at,
        b.starts_at
    );
    assert_eq!(store.get_slot(a.id).await.expect("slot"), moved);
}

pub async fn requeued_email_keeps_its_bytes_and_message_id(store: Arc<dyn Store>) {
    let store = &*store;
    let t0 = now();
    let b = book(store, &slot_at(store, future(t0), 60).await, "ann", t0).await;
    let claimed = claim_all(store, t0).await;
    let (failed, sent) = (claimed[0], claimed[1]);
    // While a worker holds it, it cannot be queued again.
    assert_err!(
        store.requeue_email(b.booking.id, failed, t0).await,
        StoreError::Conflict
    );
    store
        .mark_email_failed(failed, "disk full")
        .await
        .expect("failed");
    store.mark_email_sent(sent, t0).await.expect("sent");
    let email = |id: Uuid| async move {
        store
            .booking_emails(b.booking.id)
            .await
            .expect("emails")
            .into_iter()
            .find(|m| m.id == id)
            .expect("stored")
    };
    let before = email(failed).await;
    assert_eq!(
        store
            .emails_with_errors()
            .await
            .expect("errors")
            .iter()
            .map(|m| m.id)
            .collect::<Vec<_>>(),
        vec![failed]
    );

    let t1 = t0 + mins(5);
    let again = store
        .requeue_email(b.booking.id, failed, t1)
        .await
        .expect("requeued");
    assert_eq!(again.status, EmailStatus::Queued);
    assert_eq!(again.attempts, 0);
    assert_eq!(again.next_attempt_at, t1);
    assert_eq!(again.message, before.message);
    assert_eq!(again.message_id, before.message_id);
    assert_eq!(claim_all(store, t1).await, vec![failed]);
    store.mark_email_sent(failed, t1).await.expect("sent");
    assert!(store.emails_with_errors().await.expect("errors").is_empty());

    // A sent email can be sent again too: still one row, same Message-ID.
    let resent = store
        .requeue_email(b.booking.id, sent, t1)
        .await
        .expect("requeued");
    assert_eq!(resent.status, EmailStatus::Queued);
    assert_eq!(resent.sent_at, None);
    assert_eq!(
        store
            .booking_emails(b.booking.id)
            .await
            .expect("emails")
            .len(),
        2
    );
    assert_err!(
        store.requeue_email(b.booking.id, Uuid::new_v4(), t1).await,
        StoreError::NotFound
    );
    // An email of another booking is not found through this one.
    let other = book(
        store,
        &slot_at(store, future(t0) + hours(3), 60).await,
        "bob",
        t0,
    )
    .await;
    assert_err!(
        store.requeue_email(other.booking.id, failed, t1).await,
        StoreError::NotFound
    );
}

fn some_hash(n: u8) -> TokenHash {
    TokenHash::from_stored(format!("{n:02x}").repeat(32))
}

pub async fn admin_password_setup_link_and_sessions(store: Arc<dyn Store>) {
    let store = &*store;
    let t0 = now();
    assert_eq!(store.admin_password_hash().await.expect("read"), None);

    // A setup link works once, before it expires.
    let link = some_hash(1);
    store
        .create_admin_setup_token(&link, t0 + hours(1), t0)
        .await
        .expect("link");
    assert!(
        store
            .admin_setup_token_valid(&link, t0)
            .await
            .expect("valid")
    );
    assert!(
        !store
            .admin_setup_token_valid(&link, t0 + hours(2))
            .await
            .expect("valid")
    );
    assert_err!(
        store
            .use_admin_setup_token(&link, "$argon2id$late", t0 + hours(2))
            .await,
        StoreError::NotFound
    );
    assert_err!(
        store
            .use_admin_setup_token(&some_hash(9), "$argon2id$x", t0)
            .await,
        StoreError::NotFound
    );
    assert_eq!(store.admin_password_hash().await.expect("read"), None);
    store
        .use_admin_setup_token(&link, "$argon2id$first", t0)
        .await
        .expect("used");
    assert_eq!(
        store.admin_password_hash().await.expect("read").as_deref(),
        Some("$argon2id$first")
    );
    assert_err!(
        store
            .use_admin_setup_token(&link, "$argon2id$again", t0)
            .await,
        StoreError::TokenUsed
    );
    assert!(
        !store
            .admin_setup_token_valid(&link, t0)
            .await
            .expect("valid")
    );

    // Sessions: idle expiry moves with use but never past the absolute expiry.
    let s = some_hash(2);
    store
        .create_admin_session(guidance_store::NewAdminSession {
            id_hash: s.clone(),
            now: t0,
            idle_expires_at: t0 + hours(1),
            expires_at: t0 + hours(3),
        })
        .await
        .expect("session");
    assert!(
        store
            .touch_admin_session(&s, t0 + mins(50), t0 + mins(110))
            .await
            .expect("touch")
    );
    assert!(
        store
            .touch_admin_session(&s, t0 + mins(100), t0 + hours(5))
            .await
            .expect("touch")
    );
    assert!(
        !store
            .touch_admin_session(&s, t0 + hours(3), t0 + hours(4))
            .await
            .expect("touch")
    );
    assert!(
        !store
            .touch_admin_session(&some_hash(3), t0, t0 + hours(1))
            .await
            .expect("touch")
    );
    let idle = some_hash(4);
    store
        .create_admin_session(guidance_store::NewAdminSession {
            id_hash: idle.clone(),
            now: t0,
            idle_expires_at: t0 + hours(1),
            expires_at: t0 + hours(3),
        })
        .await
        .expect("session");
    assert!(
        !store
            .touch_admin_session(&idle, t0 + mins(61), t0 + hours(2))
            .await
            .expect("touch")
    );

    // Logout ends a session; a new password ends them all and kills open setup links.
    let a = some_hash(5);
    let b = some_hash(6);
    for h in [&a, &b] {
        store
            .create_admin_session(guidance_store::NewAdminSession {
                id_hash: h.clone(),
                now: t0,
                idle_expires_at: t0 + hours(1),
                expires_at: t0 + hours(3),
            })
            .await
            .expect("session");
    }
    store.delete_admin_session(&a).await.expect("logout");
    assert!(
        !store
            .touch_admin_session(&a, t0, t0 + hours(1))
            .await
            .expect("touch")
    );
    assert!(
        store
            .touch_admin_session(&b, t0, t0 + hours(1))
            .await
            .expect("touch")
    );
    let link = some_hash(7);
    store
        .create_admin_setup_token(&link, t0 + hours(1), t0)
        .await
        .expect("link");
    store
        .set_admin_password_hash("$argon2id$second", t0)
        .await
        .expect("set");
    assert!(
        !store
            .touch_admin_session(&b, t0, t0 + hours(1))
            .await
            .expect("touch")
    );
    assert!(
        !store
            .admin_setup_token_valid(&link, t0)
            .await
            .expect("valid")
    );
    assert_eq!(
        store.admin_password_hash().await.expect("read").as_deref(),
        Some("$argon2id$second")
    );
}

pub async fn settings_are_stored_and_replaced(store: Arc<dyn Store>) {
    let store = &*store;
    let t0 = now();
    assert!(store.settings().await.expect("settings").is_empty());
    let mut values = std::collections::BTreeMap::new();
    values.insert("booking_open".to_owned(), "false".to_owned());
    values.insert("owner_name".to_owned(), "Olga «O» Owner".to_owned());
    store.save_settings(&values, t0).await.expect("saved");
    assert_eq!(store.settings().await.expect("settings"), values);
    let mut more = std::collections::BTreeMap::new();
    more.insert("booking_open".to_owned(), "true".to_owned());
    more.insert("time_zone".to_owned(), "Europe/Berlin".to_owned());
    store.save_settings(&more, t0).await.expect("saved");
    let stored = store.settings().await.expect("settings");
    assert_eq!(stored.len(), 3);
    assert_eq!(stored["booking_open"], "true");
    assert_eq!(stored["owner_name"], "Olga «O» Owner");
    assert_eq!(stored["time_zone"], "Europe/Berlin");
}
