-- Idempotency keys: a request sent again with the key of its first sending gets the first
-- answer again. The same table as the SQLite migration of the same name. Written in the
-- transaction of the booking or change it answered, so that an answer lost on the way can
-- always be given again; kept until expires_at (by the application's clock). The answer is the
-- booking as that answer showed it (JSON), not the answer's bytes, which hold the visitor's own
-- link: nothing here opens anything.
--
-- Only the service reads and writes it: the client roles get nothing, not even with every
-- table granted back to them (RLS on, no policy).
CREATE TABLE public.guidance_idempotency_keys (
    scope        text NOT NULL CHECK (scope IN ('booking', 'action')),
    key          text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    request_hash text NOT NULL,
    booking_id   uuid NOT NULL REFERENCES public.guidance_bookings (id) ON DELETE CASCADE,
    answer       text NOT NULL,
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    PRIMARY KEY (scope, key)
);
CREATE INDEX guidance_idempotency_keys_expires_at ON public.guidance_idempotency_keys (expires_at);
CREATE INDEX guidance_idempotency_keys_booking_id ON public.guidance_idempotency_keys (booking_id);

ALTER TABLE public.guidance_idempotency_keys ENABLE ROW LEVEL SECURITY;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'anon')
       AND EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'authenticated') THEN
        -- Take back whatever the project's default privileges handed out.
        REVOKE ALL ON public.guidance_idempotency_keys FROM anon, authenticated;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'service_role') THEN
        GRANT SELECT, INSERT, UPDATE, DELETE ON public.guidance_idempotency_keys TO service_role;
    END IF;
END
$$;
