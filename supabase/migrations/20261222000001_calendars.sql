-- The owner's own calendars (busy times) and the owner's feed of bookings: the same tables as
-- the SQLite migration of the same name.
--
-- A source's address and credentials open the owner's calendar, so they are kept only sealed
-- (an AEAD under a key derived from the site's secret); `host` is what the admin UI shows.
-- Only the busy intervals of a poll are kept: no titles, no attendees. Only the service reads
-- and writes them: the client roles get nothing (RLS on, no policy).
CREATE TABLE public.guidance_calendar_sources (
    id               uuid PRIMARY KEY,
    name             text NOT NULL,
    kind             text NOT NULL CHECK (kind IN ('ics', 'caldav')),
    host             text NOT NULL,
    sealed           bytea NOT NULL,
    created_at       timestamptz NOT NULL,
    last_polled_at   timestamptz,
    last_success_at  timestamptz,
    failing_since    timestamptz,
    last_error       text,
    failure_notified boolean NOT NULL DEFAULT false,
    etag             text,
    last_modified    text,
    busy_count       bigint NOT NULL DEFAULT 0,
    lease_until      timestamptz
);

CREATE TABLE public.guidance_calendar_busy (
    source_id uuid NOT NULL REFERENCES public.guidance_calendar_sources (id) ON DELETE CASCADE,
    starts_at timestamptz NOT NULL,
    ends_at   timestamptz NOT NULL,
    CHECK (starts_at < ends_at)
);
CREATE INDEX guidance_calendar_busy_source ON public.guidance_calendar_busy (source_id, starts_at);

-- The owner's feed address is signed with the site's secret over this generation: rotating
-- bumps it, and the old address stops working at once. One row at most.
CREATE TABLE public.guidance_calendar_feed (
    id         smallint PRIMARY KEY
               CONSTRAINT guidance_calendar_feed_single_row CHECK (id = 1),
    generation bigint NOT NULL,
    updated_at timestamptz NOT NULL
);

ALTER TABLE public.guidance_calendar_sources ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.guidance_calendar_busy ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.guidance_calendar_feed ENABLE ROW LEVEL SECURITY;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'anon')
       AND EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'authenticated') THEN
        REVOKE ALL ON public.guidance_calendar_sources, public.guidance_calendar_busy,
            public.guidance_calendar_feed FROM anon, authenticated;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'service_role') THEN
        GRANT SELECT, INSERT, UPDATE, DELETE ON public.guidance_calendar_sources,
            public.guidance_calendar_busy, public.guidance_calendar_feed TO service_role;
    END IF;
END
$$;
