-- Calendar replies read from the service mailbox (iMIP REPLY/COUNTER): one row per email, by
-- its Message-ID, so that an email is acted on once however often it is delivered or read, and
-- the owner sees what was done with each and, when ignored, why.
CREATE TABLE guidance_calendar_replies (
    message_id  TEXT PRIMARY KEY NOT NULL,
    received_at TEXT NOT NULL,
    sender      TEXT,
    method      TEXT,
    partstat    TEXT,
    ics_uid     TEXT,
    booking_id  TEXT REFERENCES guidance_bookings (id) ON DELETE SET NULL,
    outcome     TEXT NOT NULL
                CHECK (outcome IN ('accept', 'decline', 'tentative', 'counter', 'ignored')),
    reason      TEXT
);
CREATE INDEX guidance_calendar_replies_received ON guidance_calendar_replies (received_at);

-- Who reads the mailbox right now (one process at a time), and how the last look went.
CREATE TABLE guidance_inbox_lease (
    id         INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    holder     TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    checked_at TEXT,
    last_error TEXT
);
