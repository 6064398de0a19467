-- Proposed times: when the owner asks a visitor to choose another time, they may propose up to
-- three open slots. Each is held for that visitor until the reschedule window ends: its slot is
-- marked 'booked' in the same transaction (so the public lists leave it out and a booking of it
-- is refused by the same statement that claims every slot), and a row here says for whom.
--
-- Each row carries the hash of the signed link that takes it (the link itself is only in the
-- visitor's email). A proposal is live while neither `taken_at` nor `released_at` is set: the
-- visitor took it (the booking moved to it), or the booking changed otherwise (another time
-- taken, cancelled, expired) and the hold was given back.
CREATE TABLE guidance_proposed_times (
    id              TEXT PRIMARY KEY NOT NULL,
    booking_id      TEXT NOT NULL REFERENCES guidance_bookings (id) ON DELETE CASCADE,
    slot_id         TEXT REFERENCES guidance_availability (id) ON DELETE SET NULL,
    starts_at       TEXT NOT NULL,
    ends_at         TEXT NOT NULL,
    token_hash      TEXT NOT NULL UNIQUE,
    created_at      TEXT NOT NULL,
    taken_at        TEXT,
    released_at     TEXT,
    CHECK (ends_at > starts_at)
);
-- A slot is held for one visitor at a time.
CREATE UNIQUE INDEX guidance_proposed_times_one_hold_per_slot
    ON guidance_proposed_times (slot_id) WHERE taken_at IS NULL AND released_at IS NULL;
CREATE INDEX guidance_proposed_times_booking ON guidance_proposed_times (booking_id);
