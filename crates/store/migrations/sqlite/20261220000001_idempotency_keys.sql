-- Idempotency keys: a request sent again with the key of its first sending gets the first
-- answer again. Written in the transaction of the booking or change it answered, so that an
-- answer lost on the way can always be given again; kept until `expires_at` (by the
-- application's clock). The answer is the booking as that answer showed it (JSON), not the
-- answer's bytes, which hold the visitor's own link: nothing here opens anything.
CREATE TABLE guidance_idempotency_keys (
    scope        TEXT NOT NULL CHECK (scope IN ('booking', 'action')),
    key          TEXT NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    request_hash TEXT NOT NULL,
    booking_id   TEXT NOT NULL REFERENCES guidance_bookings (id) ON DELETE CASCADE,
    answer       TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    PRIMARY KEY (scope, key)
);
CREATE INDEX guidance_idempotency_keys_expires_at ON guidance_idempotency_keys (expires_at);
CREATE INDEX guidance_idempotency_keys_booking_id ON guidance_idempotency_keys (booking_id);
