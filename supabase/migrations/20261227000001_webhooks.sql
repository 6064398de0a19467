-- Webhooks: the owner's endpoints and the messages queued for them; the same tables as the
-- SQLite migration of the same name.
--
-- An endpoint's signing secret opens every message it receives, so it is kept only sealed (an
-- AEAD under a key derived from the site's secret, bound to the endpoint's id). `events` holds
-- the names of the events it asked for, separated by spaces. Only the service reads and writes
-- them: the client roles get nothing (RLS on, no policy).
CREATE TABLE public.guidance_webhook_endpoints (
    id            uuid PRIMARY KEY,
    url           text NOT NULL,
    events        text NOT NULL,
    sealed_secret bytea NOT NULL,
    created_at    timestamptz NOT NULL
);

-- One message for one endpoint, queued in the transaction of the booking change it announces
-- (as emails are) and delivered by the outbox worker. Its id is the `webhook-id` of every
-- attempt. `booking_id` lets the visitor's data be erased from `payload`; it is not a foreign
-- key, so that the log outlives what it reports on.
CREATE TABLE public.guidance_webhook_deliveries (
    id              uuid PRIMARY KEY,
    endpoint_id     uuid NOT NULL
                    REFERENCES public.guidance_webhook_endpoints (id) ON DELETE CASCADE,
    booking_id      uuid,
    event           text NOT NULL,
    payload         text NOT NULL,
    status          text NOT NULL DEFAULT 'queued'
                    CHECK (status IN ('queued', 'delivered', 'failed')),
    attempts        bigint NOT NULL DEFAULT 0,
    last_status     bigint,
    last_error      text,
    next_attempt_at timestamptz NOT NULL,
    lease_until     timestamptz,
    last_attempt_at timestamptz,
    delivered_at    timestamptz,
    created_at      timestamptz NOT NULL
);
CREATE INDEX guidance_webhook_deliveries_due
    ON public.guidance_webhook_deliveries (next_attempt_at) WHERE status = 'queued';
CREATE INDEX guidance_webhook_deliveries_endpoint
    ON public.guidance_webhook_deliveries (endpoint_id, created_at);
CREATE INDEX guidance_webhook_deliveries_booking
    ON public.guidance_webhook_deliveries (booking_id);

ALTER TABLE public.guidance_webhook_endpoints ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.guidance_webhook_deliveries ENABLE ROW LEVEL SECURITY;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'anon')
       AND EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'authenticated') THEN
        REVOKE ALL ON public.guidance_webhook_endpoints, public.guidance_webhook_deliveries
            FROM anon, authenticated;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'service_role') THEN
        GRANT SELECT, INSERT, UPDATE, DELETE ON public.guidance_webhook_endpoints,
            public.guidance_webhook_deliveries TO service_role;
    END IF;
END
$$;
