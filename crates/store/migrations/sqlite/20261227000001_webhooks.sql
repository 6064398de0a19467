-- Webhooks: the owner's endpoints and the messages queued for them.
--
-- An endpoint's signing secret opens every message it receives, so it is kept only sealed (an
-- AEAD under a key derived from the site's secret, bound to the endpoint's id). `events` holds
-- the names of the events it asked for, separated by spaces.
CREATE TABLE guidance_webhook_endpoints (
    id            TEXT PRIMARY KEY NOT NULL,
    url           TEXT NOT NULL,
    events        TEXT NOT NULL,
    sealed_secret BLOB NOT NULL,
    created_at    TEXT NOT NULL
);

-- One message for one endpoint, queued in the transaction of the booking change it announces
-- (as emails are) and delivered by the outbox worker. Its id is the `webhook-id` of every
-- attempt. `booking_id` lets the visitor's data be erased from `payload`; it is not a foreign
-- key, so that the log outlives what it reports on.
CREATE TABLE guidance_webhook_deliveries (
    id              TEXT PRIMARY KEY NOT NULL,
    endpoint_id     TEXT NOT NULL REFERENCES guidance_webhook_endpoints (id) ON DELETE CASCADE,
    booking_id      TEXT,
    event           TEXT NOT NULL,
    payload         TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'queued'
                    CHECK (status IN ('queued', 'delivered', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_status     INTEGER,
    last_error      TEXT,
    next_attempt_at TEXT NOT NULL,
    lease_until     TEXT,
    last_attempt_at TEXT,
    delivered_at    TEXT,
    created_at      TEXT NOT NULL
);
CREATE INDEX guidance_webhook_deliveries_due
    ON guidance_webhook_deliveries (next_attempt_at) WHERE status = 'queued';
CREATE INDEX guidance_webhook_deliveries_endpoint
    ON guidance_webhook_deliveries (endpoint_id, created_at);
CREATE INDEX guidance_webhook_deliveries_booking ON guidance_webhook_deliveries (booking_id);
