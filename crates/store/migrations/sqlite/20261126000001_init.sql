-- Guidance schema for SQLite (the embedded default). Same table and column names as the
-- PostgreSQL schema in supabase/migrations/. Times are UTC text in one fixed-width form
-- (2026-03-29T01:00:00Z) so that text comparison orders like time.

CREATE TABLE guidance_availability (
    id              TEXT PRIMARY KEY NOT NULL,
    starts_at       TEXT NOT NULL,
    ends_at         TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'booked', 'unavailable')),
    meeting_details TEXT,
    notes           TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    CHECK (ends_at > starts_at)
);
CREATE INDEX guidance_availability_starts_at ON guidance_availability (starts_at);

-- No two live (open or booked) slots may overlap. SQLite has no exclusion constraints, so the
-- database checks every insert and every change of time or status itself.
CREATE TRIGGER guidance_availability_no_overlap_insert
BEFORE INSERT ON guidance_availability
WHEN NEW.status <> 'unavailable' AND EXISTS (
    SELECT 1 FROM guidance_availability s
    WHERE s.status <> 'unavailable' AND s.starts_at < NEW.ends_at AND s.ends_at > NEW.starts_at
)
BEGIN
    SELECT RAISE(ABORT, 'guidance_slot_overlap');
END;

CREATE TRIGGER guidance_availability_no_overlap_update
BEFORE UPDATE OF starts_at, ends_at, status ON guidance_availability
WHEN NEW.status <> 'unavailable' AND EXISTS (
    SELECT 1 FROM guidance_availability s
    WHERE s.id <> NEW.id AND s.status <> 'unavailable'
      AND s.starts_at < NEW.ends_at AND s.ends_at > NEW.starts_at
)
BEGIN
    SELECT RAISE(ABORT, 'guidance_slot_overlap');
END;

CREATE TABLE guidance_bookings (
    id                      TEXT PRIMARY KEY NOT NULL,
    slot_id                 TEXT REFERENCES guidance_availability (id) ON DELETE SET NULL,
    starts_at               TEXT NOT NULL,
    ends_at                 TEXT NOT NULL,
    requester_name          TEXT NOT NULL,
    requester_email         TEXT NOT NULL,
    requester_locale        TEXT NOT NULL,
    requester_time_zone     TEXT NOT NULL,
    topic                   TEXT NOT NULL,
    priority                TEXT NOT NULL CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
    answers                 TEXT NOT NULL DEFAULT '{}',
    status                  TEXT NOT NULL CHECK (status IN ('pending', 'accepted', 'declined', 'needs_reschedule', 'cancelled', 'expired')),
    version                 INTEGER NOT NULL DEFAULT 0,
    ics_uid                 TEXT NOT NULL UNIQUE,
    ics_sequence            INTEGER NOT NULL DEFAULT 0,
    created_at              TEXT NOT NULL,
    updated_at              TEXT NOT NULL,
    accepted_at             TEXT,
    declined_at             TEXT,
    reschedule_requested_at TEXT,
    cancelled_at            TEXT,
    expired_at              TEXT,
    CHECK (ends_at > starts_at)
);
-- At most one live booking per slot: the database itself makes double booking impossible.
CREATE UNIQUE INDEX guidance_bookings_one_live_per_slot
    ON guidance_bookings (slot_id) WHERE status IN ('pending', 'accepted');
CREATE INDEX guidance_bookings_status ON guidance_bookings (status, starts_at);

CREATE TABLE guidance_booking_actions (
    id              TEXT PRIMARY KEY NOT NULL,
    booking_id      TEXT NOT NULL REFERENCES guidance_bookings (id) ON DELETE CASCADE,
    action          TEXT NOT NULL CHECK (action IN ('accept', 'decline', 'reschedule', 'cancel', 'pick_slot')),
    token_hash      TEXT NOT NULL UNIQUE,
    booking_version INTEGER NOT NULL,
    expires_at      TEXT NOT NULL,
    used_at         TEXT,
    created_at      TEXT NOT NULL
);
CREATE INDEX guidance_booking_actions_booking ON guidance_booking_actions (booking_id);

CREATE TABLE guidance_booking_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    booking_id  TEXT NOT NULL REFERENCES guidance_bookings (id) ON DELETE CASCADE,
    actor       TEXT NOT NULL CHECK (actor IN ('owner', 'requester', 'system')),
    action      TEXT NOT NULL,
    from_status TEXT,
    to_status   TEXT NOT NULL,
    note        TEXT,
    created_at  TEXT NOT NULL
);
CREATE INDEX guidance_booking_events_booking ON guidance_booking_events (booking_id, id);

CREATE TABLE guidance_email_outbox (
    id              TEXT PRIMARY KEY NOT NULL,
    booking_id      TEXT REFERENCES guidance_bookings (id) ON DELETE SET NULL,
    kind            TEXT NOT NULL,
    recipient       TEXT NOT NULL,
    subject         TEXT NOT NULL,
    message_id      TEXT NOT NULL UNIQUE,
    message         BLOB NOT NULL,
    status          TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    lease_until     TEXT,
    last_error      TEXT,
    sent_at         TEXT,
    created_at      TEXT NOT NULL
);
CREATE INDEX guidance_email_outbox_due ON guidance_email_outbox (status, next_attempt_at);
CREATE INDEX guidance_email_outbox_booking ON guidance_email_outbox (booking_id);
