-- Email confirmation: a new request may wait for the visitor to confirm their email address.
-- The new booking status 'unconfirmed' holds its slot like 'pending' and 'accepted' (the one
-- live booking per slot index includes it), and the new action 'confirm' is the link that
-- confirms. An index serves the limit of requests awaiting the owner per address.
--
-- SQLite changes a CHECK constraint only by rebuilding the table
-- (https://www.sqlite.org/lang_altertable.html#otheralter): each table is copied, row for row,
-- into a new one with the new rules, which then takes the old one's name and indexes (no
-- trigger or view refers to these tables). The store applies migrations on a connection with
-- foreign keys off, so that dropping the old table neither deletes nor nulls what refers to it;
-- the check at the end refuses the whole migration if any reference no longer holds.

CREATE TABLE guidance_bookings_new (
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
    status                  TEXT NOT NULL CHECK (status IN ('pending', 'unconfirmed', 'accepted', 'declined', 'needs_reschedule', 'cancelled', 'expired')),
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
INSERT INTO guidance_bookings_new (id, slot_id, starts_at, ends_at, requester_name, requester_email,
    requester_locale, requester_time_zone, topic, priority, answers, status, version, ics_uid,
    ics_sequence, created_at, updated_at, accepted_at, declined_at, reschedule_requested_at,
    cancelled_at, expired_at)
SELECT id, slot_id, starts_at, ends_at, requester_name, requester_email,
    requester_locale, requester_time_zone, topic, priority, answers, status, version, ics_uid,
    ics_sequence, created_at, updated_at, accepted_at, declined_at, reschedule_requested_at,
    cancelled_at, expired_at
FROM guidance_bookings;
DROP TABLE guidance_bookings;
ALTER TABLE guidance_bookings_new RENAME TO guidance_bookings;

-- At most one live booking per slot: the database itself makes double booking impossible.
CREATE UNIQUE INDEX guidance_bookings_one_live_per_slot
    ON guidance_bookings (slot_id) WHERE status IN ('pending', 'unconfirmed', 'accepted');
CREATE INDEX guidance_bookings_status ON guidance_bookings (status, starts_at);
-- The requests of one address that await the owner (GUIDANCE_MAX_PENDING_PER_EMAIL).
CREATE INDEX guidance_bookings_awaiting_owner_by_email
    ON guidance_bookings (lower(requester_email)) WHERE status IN ('pending', 'unconfirmed');

CREATE TABLE guidance_booking_actions_new (
    id              TEXT PRIMARY KEY NOT NULL,
    booking_id      TEXT NOT NULL REFERENCES guidance_bookings (id) ON DELETE CASCADE,
    action          TEXT NOT NULL CHECK (action IN ('accept', 'decline', 'reschedule', 'cancel', 'pick_slot', 'confirm')),
    token_hash      TEXT NOT NULL UNIQUE,
    booking_version INTEGER NOT NULL,
    expires_at      TEXT NOT NULL,
    used_at         TEXT,
    created_at      TEXT NOT NULL
);
INSERT INTO guidance_booking_actions_new (id, booking_id, action, token_hash, booking_version,
    expires_at, used_at, created_at)
SELECT id, booking_id, action, token_hash, booking_version, expires_at, used_at, created_at
FROM guidance_booking_actions;
DROP TABLE guidance_booking_actions;
ALTER TABLE guidance_booking_actions_new RENAME TO guidance_booking_actions;
CREATE INDEX guidance_booking_actions_booking ON guidance_booking_actions (booking_id);
-- The expiry job looks up the confirm link of each unconfirmed request.
CREATE INDEX guidance_booking_actions_confirm_expiry
    ON guidance_booking_actions (booking_id, expires_at) WHERE action = 'confirm';

-- Every reference must still hold: a CHECK that fails (and rolls the migration back) when the
-- foreign key check reports any row.
CREATE TEMP TABLE guidance_migration_check (broken INTEGER NOT NULL CHECK (broken = 0));
INSERT INTO guidance_migration_check SELECT COUNT(*) FROM pragma_foreign_key_check;
DROP TABLE guidance_migration_check;
