-- One booking, as PostgresStore::create_booking does it (crates/store/src/shared/booking.rs),
-- for pgbench. guidance-bench runs it, in turns with guidance's own bookings, as
--   pgbench -n -M prepared -c C -j 2 -T S -f book.sql -D service_role=0|1 -D msg_len=BYTES
-- on slots it seeded and numbered in guidance_bench_slots (random order, like the slots it
-- hands to guidance), so that every transaction claims a distinct open slot.
--
-- The same statements in the same order: switch to service_role where guidance does, lock the
-- visitor's address (each transaction a visitor of its own, as in guidance's run; guidance
-- makes the lock's key in Rust, pgbench uses the visitor's number), then one statement: the
-- slot's claim, the conditional UPDATE that also counts the address's requests awaiting the
-- owner (fewer than guidance's default limit, 3), as the WITH query `guard` (its RETURNING also
-- makes the booking's id, which guidance makes in Rust), and the inserts, each of rows only if
-- the guard returned one (the others as WITH queries of the booking's insert, which returns
-- it, as PostgresStore's guarded batches go): the booking, its audit event, the owner's three
-- action tokens (SHA-256 hex, like guidance), the two queued emails (the owner's request and
-- the visitor's receipt, of the size guidance rendered in the same run, queued already
-- claimed by the server's worker, which sends them from memory; the owner's answer-by
-- reminder is only a time in the booking's row, written when due) and a webhook message for
-- each endpoint that asked for `booking.requested` (the bench adds none); commit. guidance
-- binds the rows' values it already has and selects them only if the guard returned a row;
-- pgbench reads them from the guard's row.
-- `-M prepared` because sqlx, too, prepares each statement once per connection. Row ids,
-- Message-IDs and calendar UIDs come in the order they are made, as guidance's
-- (`guidance_bench_id()`, which the bench creates); the tokens are random. pgbench sends each
-- statement in a round trip of its own; guidance sends them all, `BEGIN` to `COMMIT`, in one
-- simple query (its statement prepared by name once per connection, the values written in as
-- literals), which pgbench cannot do in its prepared mode (PostgreSQL prepares one statement
-- at a time). What guidance does besides, and pgbench does not: render and seal the emails,
-- speak HTTP, and send the emails.

\set visitor random(1, 1000000000000)
BEGIN;
\if :service_role
SET LOCAL ROLE service_role;
\endif
SELECT pg_advisory_xact_lock(:visitor);
WITH guard AS (
    UPDATE guidance_availability a SET status = 'booked', updated_at = now()
      FROM guidance_bench_slots b
     WHERE b.n = (SELECT nextval('guidance_bench_seq'))
       AND a.id = b.id AND a.status = 'open'
       AND a.starts_at = b.starts_at AND a.ends_at = b.ends_at AND a.starts_at > now()
       AND (SELECT COUNT(*) FROM guidance_bookings
             WHERE lower(requester_email) = lower('visitor' || :visitor || '@example.net')
               AND status IN ('pending', 'unconfirmed')) < 3
    RETURNING a.id AS slot_id, a.starts_at AS starts_at, a.ends_at AS ends_at,
        guidance_bench_id() AS booking_id
), s1 AS (
    INSERT INTO guidance_booking_events (booking_id, actor, action, from_status, to_status, note, created_at)
    SELECT g.booking_id, 'requester', 'request', NULL, 'pending', NULL, now() FROM guard g
), s2 AS (
    INSERT INTO guidance_booking_actions (id, booking_id, action, token_hash, booking_version, expires_at, created_at)
    SELECT guidance_bench_id(), g.booking_id, v.action,
        encode(sha256(convert_to(gen_random_uuid()::text, 'UTF8')), 'hex'), 0, g.starts_at, now()
      FROM guard g, (VALUES ('accept'), ('decline'), ('reschedule')) AS v(action)
), s3 AS (
    INSERT INTO guidance_email_outbox (id, booking_id, kind, recipient, subject, message_id, message,
        next_attempt_at, created_at, send_before, lease_until, attempts)
    SELECT guidance_bench_id(), g.booking_id, v.kind, v.recipient, v.subject,
        guidance_bench_id()::text || '@guidance', convert_to(repeat('x', :msg_len), 'UTF8'),
        now(), now(), NULL, now() + interval '5 minutes', 1
      FROM guard g, (VALUES
        ('owner_new_request', 'owner@example.org', 'New guidance request'),
        ('requester_received', 'visitor' || :visitor || '@example.net', 'We received your request')
      ) AS v(kind, recipient, subject)
), s4 AS (
    INSERT INTO guidance_webhook_deliveries (id, endpoint_id, booking_id, event, payload,
        next_attempt_at, created_at)
    SELECT CAST(substr(CAST(guidance_bench_id() AS TEXT), 1, 28) ||
            substr(CAST(100000000 + row_number() OVER (ORDER BY e.id) AS TEXT), 2) AS uuid),
        e.id, g.booking_id, 'booking.requested', '{}', now(), now()
      FROM guard g, guidance_webhook_endpoints e
     WHERE replace(' ' || e.events || ' ', ' booking.requested ', ' ') <> ' ' || e.events || ' '
)
INSERT INTO guidance_bookings (id, slot_id, starts_at, ends_at, requester_name, requester_email,
    requester_locale, requester_time_zone, topic, priority, answers, status, version, ics_uid,
    ics_sequence, created_at, updated_at, answer_by, answer_reminder_at)
SELECT g.booking_id, g.slot_id, g.starts_at, g.ends_at, 'Bench Visitor',
    'visitor' || :visitor || '@example.net', 'en', 'Europe/Berlin', 'A benchmark session',
    'normal', '{}'::jsonb, 'pending', 0, guidance_bench_id()::text || '@guidance', 0, now(), now(),
    g.starts_at, g.starts_at - interval '12 hours'
  FROM guard g
RETURNING id, slot_id, starts_at, ends_at, requester_name, requester_email,
    requester_locale, requester_time_zone, topic, priority, answers::text AS answers, status,
    version, ics_uid, ics_sequence, created_at, updated_at, accepted_at, declined_at,
    reschedule_requested_at, cancelled_at, expired_at, answer_by;
COMMIT;
