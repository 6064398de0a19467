-- The owner's own calendars (busy times) and the owner's feed of bookings.
--
-- A source's address and credentials open the owner's calendar, so they are kept only sealed
-- (an AEAD under a key derived from the site's secret); `host` is what the admin UI shows.
-- Only the busy intervals of a poll are kept: no titles, no attendees.
CREATE TABLE guidance_calendar_sources (
    id               TEXT PRIMARY KEY NOT NULL,
    name             TEXT NOT NULL,
    kind             TEXT NOT NULL CHECK (kind IN ('ics', 'caldav')),
    host             TEXT NOT NULL,
    sealed           BLOB NOT NULL,
    created_at       TEXT NOT NULL,
    last_polled_at   TEXT,
    last_success_at  TEXT,
    failing_since    TEXT,
    last_error       TEXT,
    failure_notified INTEGER NOT NULL DEFAULT 0 CHECK (failure_notified IN (0, 1)),
    etag             TEXT,
    last_modified    TEXT,
    busy_count       INTEGER NOT NULL DEFAULT 0,
    lease_until      TEXT
);

CREATE TABLE guidance_calendar_busy (
    source_id TEXT NOT NULL REFERENCES guidance_calendar_sources (id) ON DELETE CASCADE,
    starts_at TEXT NOT NULL,
    ends_at   TEXT NOT NULL,
    CHECK (starts_at < ends_at)
);
CREATE INDEX guidance_calendar_busy_source ON guidance_calendar_busy (source_id, starts_at);

-- The owner's feed address is signed with the site's secret over this generation: rotating
-- bumps it, and the old address stops working at once. One row at most.
CREATE TABLE guidance_calendar_feed (
    id         INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    generation INTEGER NOT NULL,
    updated_at TEXT NOT NULL
);
