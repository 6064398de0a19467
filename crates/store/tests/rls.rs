//! Row-level security as Supabase runs it, proven on a plain PostgreSQL with Supabase's roles
//! emulated by `tests/sql/supabase_roles.sql` (which also grants every new table to the client
//! roles, as older Supabase projects do: the migrations must take that back).
//!
//! As `anon` and `authenticated`: the times of open future slots are readable through the view
//! `guidance_open_slots`, and nothing else is (not the bookings, the questions, the owner's
//! password hash, sessions, setup links or settings), nor can anything be written. Then the same after
//! granting the client roles every privilege on every table again: the policies still hold.
//! As `service_role`: everything the service does works (the whole contract suite runs so, in
//! `tests/postgres.rs`). And a plain owner without `service_role` runs the service too.

use std::collections::BTreeSet;

use guidance_core::intake::RawIntake;
use guidance_core::{ActionToken, BookingAction, Intake, SlotWindow, TokenHash, TokenSecret};
use guidance_store::postgres::{PostgresStore, TABLES};
use guidance_store::{NewAdminSession, NewBooking, NewEmail, NewToken, Slot, Store};
use guidance_testkit::pg::TestDatabase;
use jiff::{SignedDuration, Timestamp};
use sqlx::postgres::{PgConnection, PgRow};
use sqlx::{Column, Connection, Row};
use uuid::Uuid;

/// `SET LOCAL ROLE NONE`: the test's own login, the database owner (a superuser).
const OWNER: &str = "NONE";
const CLIENT_ROLES: [&str; 2] = ["anon", "authenticated"];
/// Every relation of the schema a client could aim at, the view included, each with a column
/// an update can set to itself.
const RELATIONS: [(&str, &str); 12] = [
    ("guidance_availability", "id"),
    ("guidance_open_slot_times", "id"),
    ("guidance_bookings", "id"),
    ("guidance_booking_actions", "id"),
    ("guidance_booking_events", "id"),
    ("guidance_email_outbox", "id"),
    ("guidance_open_slots", "id"),
    ("guidance_questions", "key"),
    ("guidance_admin_credentials", "id"),
    ("guidance_admin_setup_tokens", "token_hash"),
    ("guidance_admin_sessions", "id_hash"),
    ("guidance_settings", "key"),
];

fn now() -> Timestamp {
    Timestamp::from_second(Timestamp::now().as_second()).expect("in range")
}

fn window(starts_at: Timestamp) -> SlotWindow {
    SlotWindow::parse(starts_at, starts_at + SignedDuration::from_mins(45)).expect("window")
}

/// What the seeded database holds.
struct Seeded {
    booking_id: Uuid,
    open_future: Slot,
    booked: Slot,
    unavailable: Slot,
    open_past: Slot,
}

/// One slot of each kind a visitor must or must not see, a booking with tokens, events and
/// emails, all written through the store.
async fn seed(store: &dyn Store) -> Seeded {
    let t0 = now();
    let slot = |hours: i64| {
        let details = Some(format!("secret meeting room {hours}"));
        store.create_slot(window(t0 + SignedDuration::from_hours(hours)), details, t0)
    };
    let open_future = slot(48).await.expect("slot");
    let booked = slot(50).await.expect("slot");
    let unavailable = slot(52).await.expect("slot");
    let open_past = slot(-48).await.expect("slot");
    store
        .set_slot_available(unavailable.id, false, t0)
        .await
        .expect("withdraw");
    let intake = Intake::parse(&RawIntake {
        name: "Vera Visitor".into(),
        email: "vera@example.test".into(),
        topic: "Private matter".into(),
        priority: "normal".into(),
        answers: serde_json::json!({"company": "Secret Ltd"}),
        locale: "en".into(),
        time_zone: "UTC".into(),
    })
    .expect("intake");
    let id = Uuid::new_v4();
    store
        .create_booking(NewBooking {
            id,
            slot_id: booked.id,
            window: window(booked.starts_at),
            intake,
            status: guidance_core::BookingStatus::Pending,
            ics_uid: format!("{id}@guidance.test"),
            tokens: vec![NewToken {
                action: BookingAction::Accept,
                hash: ActionToken::generate(&TokenSecret::generate()).hash(),
                expires_at: t0 + SignedDuration::from_hours(24),
            }],
            emails: vec![NewEmail {
                id: guidance_core::ids::new_row_id(),
                kind: "owner_new_request".into(),
                recipient: "owner@guidance.test".into(),
                subject: "New request".into(),
                message_id: format!("<{id}@guidance.test>"),
                message: b"Subject: New request\r\n\r\nHello\r\n".to_vec(),
                send_after: None,
                send_before: None,
                leased_until: None,
            }],
            webhook: None,
            answer_by: None,
            answer_reminder_at: None,
            pending_limit: None,
            keep_answer: None,
            after_commit: Default::default(),
            now: t0,
        })
        .await
        .expect("booking");
    let questions = guidance_core::Question::parse_list(&serde_json::json!([
        {"key": "budget", "label": "Private budget question", "kind": "short_text", "required": true}
    ]))
    .expect("questions");
    store
        .replace_questions(&questions, t0)
        .await
        .expect("questions");
    // The owner's sign-in and settings: a password hash, a session, a setup link.
    store
        .set_admin_password_hash("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$c2VjcmV0", t0)
        .await
        .expect("password");
    store
        .create_admin_session(NewAdminSession {
            id_hash: TokenHash::from_stored("ab".repeat(32)),
            now: t0,
            idle_expires_at: t0 + SignedDuration::from_hours(8),
            expires_at: t0 + SignedDuration::from_hours(24),
        })
        .await
        .expect("session");
    store
        .create_admin_setup_token(
            &TokenHash::from_stored("cd".repeat(32)),
            t0 + SignedDuration::from_hours(24),
            t0,
        )
        .await
        .expect("setup link");
    store
        .save_settings(
            &std::collections::BTreeMap::from([(
                "owner_email".to_owned(),
                "o@example.test".to_owned(),
            )]),
            t0,
        )
        .await
        .expect("settings");
    Seeded {
        booking_id: id,
        open_future,
        booked,
        unavailable,
        open_past,
    }
}

/// Runs `sql` as `role` inside a transaction that is rolled back, so nothing it might have done
/// stays; the store's own view of the data is checked separately.
async fn as_role(
    conn: &mut PgConnection,
    role: &str,
    sql: &str,
) -> Result<Vec<PgRow>, sqlx::Error> {
    let mut tx = conn.begin().await.expect("begin");
    sqlx::query(&format!("SET LOCAL ROLE {role}"))
        .execute(&mut *tx)
        .await
        .expect("switch role");
    let result = sqlx::query(sql).fetch_all(&mut *tx).await;
    tx.rollback().await.expect("rollback");
    result
}

/// Rows affected by a write as `role` (rolled back), or its error.
async fn write_as(conn: &mut PgConnection, role: &str, sql: &str) -> Result<u64, sqlx::Error> {
    let mut tx = conn.begin().await.expect("begin");
    sqlx::query(&format!("SET LOCAL ROLE {role}"))
        .execute(&mut *tx)
        .await
        .expect("switch role");
    let result = sqlx::query(sql).execute(&mut *tx).await;
    tx.rollback().await.expect("rollback");
    result.map(|r| r.rows_affected())
}

fn is_permission_denied(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .and_then(|d| d.code())
        .is_some_and(|c| c == "42501")
}

/// Inserts that are valid for each relation (the owner's insert succeeds: checked), so that a
/// refusal can only come from privileges and policies.
fn inserts(seeded: &Seeded) -> Vec<(&'static str, String)> {
    let slot = seeded.unavailable.id;
    let booking = seeded.booking_id;
    let later = "now() + interval '30 days'";
    let later_end = "now() + interval '30 days 1 hour'";
    vec![
        (
            "guidance_availability",
            format!(
                "INSERT INTO guidance_availability (starts_at, ends_at) VALUES ({later}, {later_end})"
            ),
        ),
        (
            "guidance_open_slot_times",
            format!(
                "INSERT INTO guidance_open_slot_times (id, starts_at, ends_at) VALUES ('{slot}', {later}, {later_end})"
            ),
        ),
        (
            "guidance_open_slots",
            format!(
                "INSERT INTO guidance_open_slots (id, starts_at, ends_at) VALUES ('{slot}', {later}, {later_end})"
            ),
        ),
        (
            "guidance_bookings",
            format!(
                "INSERT INTO guidance_bookings (slot_id, starts_at, ends_at, requester_name, requester_email, \
                 requester_locale, requester_time_zone, topic, priority, status, ics_uid) \
                 VALUES ('{slot}', {later}, {later_end}, 'Mallory', 'm@example.test', 'en', 'UTC', 'x', 'low', \
                 'pending', 'mallory@guidance.test')"
            ),
        ),
        (
            "guidance_booking_actions",
            format!(
                "INSERT INTO guidance_booking_actions (booking_id, action, token_hash, booking_version, expires_at) \
                 VALUES ('{booking}', 'accept', 'forged', 0, {later})"
            ),
        ),
        (
            "guidance_booking_events",
            format!(
                "INSERT INTO guidance_booking_events (booking_id, actor, action, to_status) \
                 VALUES ('{booking}', 'owner', 'accept', 'accepted')"
            ),
        ),
        (
            "guidance_email_outbox",
            format!(
                "INSERT INTO guidance_email_outbox (booking_id, kind, recipient, subject, message_id, message, next_attempt_at) \
                 VALUES ('{booking}', 'x', 'm@example.test', 'x', '<forged@guidance.test>', '\\x00', now())"
            ),
        ),
        (
            "guidance_questions",
            "INSERT INTO guidance_questions (key, position, kind, label) \
             VALUES ('forged', 9, 'short_text', 'Your password?')"
                .to_string(),
        ),
        (
            // The row may already exist: replace it, as an attacker would want to.
            "guidance_admin_credentials",
            "INSERT INTO guidance_admin_credentials (id, password_hash) VALUES (1, 'forged') \
             ON CONFLICT (id) DO UPDATE SET password_hash = EXCLUDED.password_hash"
                .to_string(),
        ),
        (
            "guidance_admin_setup_tokens",
            format!(
                "INSERT INTO guidance_admin_setup_tokens (token_hash, expires_at) VALUES ('forged', {later})"
            ),
        ),
        (
            "guidance_admin_sessions",
            format!(
                "INSERT INTO guidance_admin_sessions (id_hash, last_seen_at, idle_expires_at, expires_at) \
                 VALUES ('forged', now(), {later}, {later})"
            ),
        ),
        (
            "guidance_settings",
            "INSERT INTO guidance_settings (key, value) VALUES ('owner_email', 'mallory@example.test') \
             ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value"
                .to_string(),
        ),
    ]
}

async fn fresh() -> (TestDatabase, PostgresStore, PgConnection) {
    let db = TestDatabase::create().await;
    let store = PostgresStore::migrate(&db.url).await.expect("migrate");
    let conn = db.connect().await;
    (db, store, conn)
}

/// The ids visible in `guidance_open_slots` to `role`, checking the columns on the way.
async fn open_slot_ids_as(conn: &mut PgConnection, role: &str) -> BTreeSet<Uuid> {
    let rows = as_role(conn, role, "SELECT * FROM guidance_open_slots")
        .await
        .unwrap_or_else(|e| panic!("{role} reads the open slots: {e}"));
    rows.iter()
        .map(|r| {
            let columns: Vec<&str> = r.columns().iter().map(|c| c.name()).collect();
            assert_eq!(columns, ["id", "starts_at", "ends_at"], "as {role}");
            r.get::<Uuid, _>("id")
        })
        .collect()
}

/// Everything a client role must not do, asserted for both client roles.
async fn assert_clients_see_only_open_future_slots(
    conn: &mut PgConnection,
    seeded: &Seeded,
    regranted: bool,
) {
    for role in CLIENT_ROLES {
        let visible = open_slot_ids_as(conn, role).await;
        assert_eq!(
            visible,
            BTreeSet::from([seeded.open_future.id]),
            "as {role} (regranted: {regranted}): only the open future slot, not the booked {}, unavailable {} or past {}",
            seeded.booked.id,
            seeded.unavailable.id,
            seeded.open_past.id
        );
        // The private tables: refused outright, or (with every privilege granted back)
        // readable but empty, because no policy lets a client role see a row.
        for table in TABLES {
            match as_role(conn, role, &format!("SELECT * FROM {table}")).await {
                Err(e) => assert!(
                    !regranted && is_permission_denied(&e),
                    "as {role}, reading {table}: {e}"
                ),
                Ok(rows) => assert!(
                    regranted && rows.is_empty(),
                    "as {role}, {table} showed {} rows",
                    rows.len()
                ),
            }
        }
        // Meeting details are never reachable, whatever the grants.
        match as_role(
            conn,
            role,
            "SELECT meeting_details, notes FROM guidance_availability",
        )
        .await
        {
            Err(e) => assert!(is_permission_denied(&e), "{e}"),
            Ok(rows) => assert!(rows.is_empty(), "as {role}: meeting details leaked"),
        }
        // The projection table: only future rows, and only with the three public columns.
        let rows = as_role(conn, role, "SELECT * FROM guidance_open_slot_times")
            .await
            .unwrap_or_else(|e| panic!("as {role}: {e}"));
        let ids: BTreeSet<Uuid> = rows.iter().map(|r| r.get::<Uuid, _>("id")).collect();
        assert_eq!(ids, BTreeSet::from([seeded.open_future.id]), "as {role}");
        // No write anywhere. Inserts are refused (no privilege, or no policy that admits the
        // new row: both 42501); updates and deletes are refused, or with every privilege
        // granted back they find no row the policies let them touch.
        for (relation, sql) in inserts(seeded) {
            let owner = write_as(conn, OWNER, &sql).await;
            assert!(matches!(owner, Ok(1)), "the owner's {sql}: {owner:?}");
            let refused = write_as(conn, role, &sql).await;
            assert!(
                refused.as_ref().is_err_and(is_permission_denied),
                "as {role}, insert into {relation}: {refused:?}"
            );
        }
        for (relation, column) in RELATIONS {
            for sql in [
                format!("UPDATE {relation} SET {column} = {column}"),
                format!("DELETE FROM {relation}"),
            ] {
                let owner = write_as(conn, OWNER, &sql).await;
                assert!(
                    owner.as_ref().is_ok_and(|n| *n > 0),
                    "the owner's {sql}: {owner:?}"
                );
                match write_as(conn, role, &sql).await {
                    Err(e) => assert!(
                        !regranted && is_permission_denied(&e),
                        "as {role}: {sql}: {e}"
                    ),
                    Ok(n) => assert!(
                        regranted && n == 0,
                        "as {role}: {sql} changed {n} rows (regranted: {regranted})"
                    ),
                }
            }
        }
        // Functions are not the client's either.
        let call = as_role(conn, role, "SELECT public.guidance_sync_open_slot_times()").await;
        assert!(call.is_err(), "as {role} the trigger function is callable");
    }
}

/// Reads back what the seed wrote, as the service: nothing was changed by the attempts.
async fn assert_service_sees_everything(store: &PostgresStore, seeded: &Seeded) {
    let slots = store
        .list_slots(seeded.open_past.starts_at, seeded.unavailable.ends_at, None)
        .await
        .expect("list slots");
    assert_eq!(slots.len(), 4);
    let mut conn = store.connection().await.expect("connection");
    for (table, expected) in [
        ("guidance_availability", 4i64),
        ("guidance_open_slot_times", 2),
        ("guidance_bookings", 1),
        ("guidance_booking_actions", 1),
        ("guidance_booking_events", 1),
        ("guidance_email_outbox", 1),
        ("guidance_questions", 1),
        ("guidance_admin_credentials", 1),
        ("guidance_admin_setup_tokens", 1),
        ("guidance_admin_sessions", 1),
        ("guidance_settings", 1),
    ] {
        let mut tx = sqlx::Connection::begin(&mut *conn).await.expect("begin");
        sqlx::query("SET LOCAL ROLE service_role")
            .execute(&mut *tx)
            .await
            .expect("service role");
        let n: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
            .fetch_one(&mut *tx)
            .await
            .expect("count");
        tx.rollback().await.expect("rollback");
        assert_eq!(n, expected, "{table} as service_role");
    }
    let details = store.get_slot(seeded.booked.id).await.expect("slot");
    assert_eq!(
        details.meeting_details.as_deref(),
        Some("secret meeting room 50")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_roles_read_only_open_future_slot_times() {
    let (_db, store, mut conn) = fresh().await;
    assert!(store.uses_service_role());
    let seeded = seed(&store).await;
    assert_clients_see_only_open_future_slots(&mut conn, &seeded, false).await;
    assert_service_sees_everything(&store, &seeded).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policies_hold_when_client_roles_get_every_table_back() {
    let (_db, store, mut conn) = fresh().await;
    let seeded = seed(&store).await;
    // What older Supabase projects grant by default, applied after the migrations took it away.
    sqlx::raw_sql(
        "GRANT ALL ON ALL TABLES IN SCHEMA public TO anon, authenticated; \
         GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO anon, authenticated;",
    )
    .execute(&mut conn)
    .await
    .expect("grant everything back");
    assert_clients_see_only_open_future_slots(&mut conn, &seeded, true).await;
    assert_service_sees_everything(&store, &seeded).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_view_follows_the_slots() {
    let (_db, store, mut conn) = fresh().await;
    let seeded = seed(&store).await;
    let t0 = now();
    // Withdrawn: gone from the view; open again: back.
    store
        .set_slot_available(seeded.open_future.id, false, t0)
        .await
        .expect("withdraw");
    assert!(open_slot_ids_as(&mut conn, "anon").await.is_empty());
    store
        .set_slot_available(seeded.open_future.id, true, t0)
        .await
        .expect("reopen");
    assert_eq!(
        open_slot_ids_as(&mut conn, "anon").await,
        BTreeSet::from([seeded.open_future.id])
    );
    // Deleted: gone.
    store
        .delete_slot(seeded.open_future.id)
        .await
        .expect("delete");
    assert!(open_slot_ids_as(&mut conn, "anon").await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn security_advisor_findings_are_absent() {
    let (_db, _store, mut conn) = fresh().await;
    // Every table in public has row-level security (the migrations' own record included).
    let without_rls: Vec<String> = sqlx::query_scalar(
        "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = 'public' AND c.relkind = 'r' AND NOT c.relrowsecurity",
    )
    .fetch_all(&mut conn)
    .await
    .expect("tables");
    assert!(
        without_rls.is_empty(),
        "tables without RLS: {without_rls:?}"
    );
    // Every view is security_invoker.
    let definer_views: Vec<String> = sqlx::query_scalar(
        "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = 'public' AND c.relkind = 'v' \
           AND NOT coalesce('security_invoker=true' = ANY (c.reloptions), false)",
    )
    .fetch_all(&mut conn)
    .await
    .expect("views");
    assert!(definer_views.is_empty(), "definer views: {definer_views:?}");
    // Functions: a fixed search_path, not SECURITY DEFINER, not executable by the client roles.
    let loose: Vec<String> = sqlx::query_scalar(
        "SELECT p.proname::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
         WHERE n.nspname = 'public' AND (p.prosecdef OR p.proconfig IS NULL \
            OR has_function_privilege('anon', p.oid, 'EXECUTE') \
            OR has_function_privilege('authenticated', p.oid, 'EXECUTE'))",
    )
    .fetch_all(&mut conn)
    .await
    .expect("functions");
    assert!(loose.is_empty(), "functions: {loose:?}");
    // No extension was installed into public.
    let in_public: Vec<String> = sqlx::query_scalar(
        "SELECT e.extname::text FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace \
         WHERE n.nspname = 'public'",
    )
    .fetch_all(&mut conn)
    .await
    .expect("extensions");
    assert!(in_public.is_empty(), "extensions in public: {in_public:?}");
}

/// On a plain PostgreSQL the service runs as the database's owner, a login that is no member of
/// `service_role`: the migrations apply and the service works, and the client roles still see
/// nothing they should not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_owner_without_service_role_runs_the_service() {
    let db = TestDatabase::create().await;
    let owner = format!("{}_owner", db.name);
    let mut admin = db.connect().await;
    sqlx::raw_sql(&format!(
        "CREATE ROLE {owner} LOGIN NOSUPERUSER; ALTER DATABASE {} OWNER TO {owner};",
        db.name
    ))
    .execute(&mut admin)
    .await
    .expect("create the owner");
    let url = db.url.replacen("postgres@", &format!("{owner}@"), 1);
    let _guard = OwnerGuard {
        db: Some(db),
        owner,
    };
    let store = PostgresStore::migrate(&url)
        .await
        .expect("migrate as the owner");
    assert!(!store.uses_service_role());
    let seeded = seed(&store).await;
    assert_clients_see_only_open_future_slots(&mut admin, &seeded, false).await;
    let bookings = store.list_bookings(None).await.expect("bookings");
    assert_eq!(bookings.len(), 1);
    store.close().await;
    admin.close().await.ok();
}

/// Drops the test database, then its owner role (roles belong to the whole cluster).
struct OwnerGuard {
    db: Option<TestDatabase>,
    owner: String,
}

impl Drop for OwnerGuard {
    fn drop(&mut self) {
        drop(self.db.take());
        let owner = self.owner.clone();
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let mut conn = PgConnection::connect(&guidance_testkit::pg::admin_url()).await?;
                sqlx::raw_sql(&format!("DROP ROLE IF EXISTS {owner}"))
                    .execute(&mut conn)
                    .await
            })
        })
        .join();
    }
}
