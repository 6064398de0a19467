-- Guidance schema for PostgreSQL and Supabase. Same tables and column names as the SQLite
-- schema in crates/store/migrations/sqlite/; here the database types are the real ones and the
-- rules the service relies on are constraints the database enforces itself.
--
-- Applies unchanged on plain PostgreSQL (applied by `guidance migrate`) and on Supabase
-- (`supabase db push`). Statements that name Supabase's roles (anon, authenticated,
-- service_role) run only where those roles exist.

-- ---------------------------------------------------------------------------------------------
-- Slots
-- ---------------------------------------------------------------------------------------------

CREATE TABLE public.guidance_availability (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    starts_at       timestamptz NOT NULL,
    ends_at         timestamptz NOT NULL,
    status          text NOT NULL DEFAULT 'open'
                    CONSTRAINT guidance_availability_status_check
                    CHECK (status IN ('open', 'booked', 'unavailable')),
    meeting_details text,
    notes           text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT guidance_availability_window_check CHECK (ends_at > starts_at),
    -- No two live (open or booked) slots overlap. Ranges are half-open, so back-to-back slots
    -- are fine. A range type has its own GiST operator class: no btree_gist needed.
    CONSTRAINT guidance_availability_no_overlap
        EXCLUDE USING gist (tstzrange(starts_at, ends_at) WITH &&)
        WHERE (status <> 'unavailable')
);
CREATE INDEX guidance_availability_starts_at ON public.guidance_availability (starts_at);

-- The public face of the slots: the times of open slots and nothing else. Kept by a trigger
-- from guidance_availability, so that the client roles never need any access to the table that
-- holds meeting details and notes: not even a project that grants them every table (as older
-- Supabase projects do) can expose those columns, because no policy lets a client role read a
-- row of guidance_availability.
CREATE TABLE public.guidance_open_slot_times (
    id        uuid PRIMARY KEY REFERENCES public.guidance_availability (id) ON DELETE CASCADE,
    starts_at timestamptz NOT NULL,
    ends_at   timestamptz NOT NULL
);
CREATE INDEX guidance_open_slot_times_starts_at ON public.guidance_open_slot_times (starts_at);

CREATE FUNCTION public.guidance_sync_open_slot_times() RETURNS trigger
    LANGUAGE plpgsql
    SECURITY INVOKER
    SET search_path = ''
AS $$
BEGIN
    IF NEW.status = 'open' THEN
        INSERT INTO public.guidance_open_slot_times (id, starts_at, ends_at)
        VALUES (NEW.id, NEW.starts_at, NEW.ends_at)
        ON CONFLICT (id) DO UPDATE SET starts_at = EXCLUDED.starts_at, ends_at = EXCLUDED.ends_at;
    ELSE
        DELETE FROM public.guidance_open_slot_times WHERE id = NEW.id;
    END IF;
    RETURN NULL;
END;
$$;
REVOKE ALL ON FUNCTION public.guidance_sync_open_slot_times() FROM PUBLIC;

CREATE TRIGGER guidance_availability_sync_open_slot_times
AFTER INSERT OR UPDATE OF status, starts_at, ends_at ON public.guidance_availability
FOR EACH ROW EXECUTE FUNCTION public.guidance_sync_open_slot_times();

-- ---------------------------------------------------------------------------------------------
-- Bookings, tokens, audit, outbox
-- ---------------------------------------------------------------------------------------------

CREATE TABLE public.guidance_bookings (
    id                      uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    slot_id                 uuid REFERENCES public.guidance_availability (id) ON DELETE SET NULL,
    starts_at               timestamptz NOT NULL,
    ends_at                 timestamptz NOT NULL,
    requester_name          text NOT NULL,
    requester_email         text NOT NULL,
    requester_locale        text NOT NULL,
    requester_time_zone     text NOT NULL,
    topic                   text NOT NULL,
    priority                text NOT NULL
                            CONSTRAINT guidance_bookings_priority_check
                            CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
    answers                 jsonb NOT NULL DEFAULT '{}'::jsonb
                            CONSTRAINT guidance_bookings_answers_check
                            CHECK (jsonb_typeof(answers) = 'object'),
    status                  text NOT NULL
                            CONSTRAINT guidance_bookings_status_check
                            CHECK (status IN ('pending', 'accepted', 'declined', 'needs_reschedule', 'cancelled', 'expired')),
    version                 bigint NOT NULL DEFAULT 0,
    ics_uid                 text NOT NULL UNIQUE,
    ics_sequence            bigint NOT NULL DEFAULT 0,
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now(),
    accepted_at             timestamptz,
    declined_at             timestamptz,
    reschedule_requested_at timestamptz,
    cancelled_at            timestamptz,
    expired_at              timestamptz,
    CONSTRAINT guidance_bookings_window_check CHECK (ends_at > starts_at)
);
-- At most one live booking per slot: the database itself makes double booking impossible.
CREATE UNIQUE INDEX guidance_bookings_one_live_per_slot
    ON public.guidance_bookings (slot_id) WHERE status IN ('pending', 'accepted');
CREATE INDEX guidance_bookings_status ON public.guidance_bookings (status, starts_at);

CREATE TABLE public.guidance_booking_actions (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    booking_id      uuid NOT NULL REFERENCES public.guidance_bookings (id) ON DELETE CASCADE,
    action          text NOT NULL
                    CONSTRAINT guidance_booking_actions_action_check
                    CHECK (action IN ('accept', 'decline', 'reschedule', 'cancel', 'pick_slot')),
    token_hash      text NOT NULL UNIQUE,
    booking_version bigint NOT NULL,
    expires_at      timestamptz NOT NULL,
    used_at         timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX guidance_booking_actions_booking ON public.guidance_booking_actions (booking_id);

CREATE TABLE public.guidance_booking_events (
    id          bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    booking_id  uuid NOT NULL REFERENCES public.guidance_bookings (id) ON DELETE CASCADE,
    actor       text NOT NULL
                CONSTRAINT guidance_booking_events_actor_check
                CHECK (actor IN ('owner', 'requester', 'system')),
    action      text NOT NULL,
    from_status text,
    to_status   text NOT NULL,
    note        text,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX guidance_booking_events_booking ON public.guidance_booking_events (booking_id, id);

CREATE TABLE public.guidance_email_outbox (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    booking_id      uuid REFERENCES public.guidance_bookings (id) ON DELETE SET NULL,
    kind            text NOT NULL,
    recipient       text NOT NULL,
    subject         text NOT NULL,
    message_id      text NOT NULL UNIQUE,
    message         bytea NOT NULL,
    status          text NOT NULL DEFAULT 'queued'
                    CONSTRAINT guidance_email_outbox_status_check
                    CHECK (status IN ('queued', 'sent', 'failed')),
    attempts        bigint NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    lease_until     timestamptz,
    last_error      text,
    sent_at         timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    -- Insertion order, for sending in the order the emails were caused.
    seq             bigint GENERATED BY DEFAULT AS IDENTITY UNIQUE
);
CREATE INDEX guidance_email_outbox_due ON public.guidance_email_outbox (status, next_attempt_at);
CREATE INDEX guidance_email_outbox_booking ON public.guidance_email_outbox (booking_id);

-- ---------------------------------------------------------------------------------------------
-- What the client roles may see: open future slots, their times only
-- ---------------------------------------------------------------------------------------------

-- security_invoker: the caller's own privileges and policies apply (Supabase's advisor flags
-- views that run with their owner's).
CREATE VIEW public.guidance_open_slots
WITH (security_invoker = true) AS
SELECT id, starts_at, ends_at
FROM public.guidance_open_slot_times
WHERE starts_at > now();

-- Row-level security on every table. The owner (plain PostgreSQL) and service_role (BYPASSRLS)
-- are not held back by it; the client roles see only what a policy below allows.
ALTER TABLE public.guidance_availability ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.guidance_open_slot_times ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.guidance_bookings ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.guidance_booking_actions ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.guidance_booking_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.guidance_email_outbox ENABLE ROW LEVEL SECURITY;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'anon')
       AND EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'authenticated') THEN
        -- Revoke whatever the project's default privileges handed out, then grant only reading
        -- the times of open future slots.
        REVOKE ALL ON public.guidance_availability, public.guidance_open_slot_times,
            public.guidance_bookings, public.guidance_booking_actions,
            public.guidance_booking_events, public.guidance_email_outbox,
            public.guidance_open_slots
            FROM anon, authenticated;
        REVOKE ALL ON SEQUENCE public.guidance_booking_events_id_seq,
            public.guidance_email_outbox_seq_seq FROM anon, authenticated;
        REVOKE ALL ON FUNCTION public.guidance_sync_open_slot_times() FROM anon, authenticated;
        GRANT SELECT (id, starts_at, ends_at) ON public.guidance_open_slot_times TO anon, authenticated;
        GRANT SELECT ON public.guidance_open_slots TO anon, authenticated;
        -- The second wall: even with every table privilege granted back, a client role reads
        -- only future open slot times, and nothing of any other table.
        CREATE POLICY guidance_open_slot_times_read_future ON public.guidance_open_slot_times
            FOR SELECT TO anon, authenticated
            USING (starts_at > now());
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'service_role') THEN
        -- The service's role: everything the service does, nothing more. It has BYPASSRLS on
        -- Supabase; it is granted table by table so that it also works where it has not.
        GRANT USAGE ON SCHEMA public TO service_role;
        GRANT SELECT, INSERT, UPDATE, DELETE ON public.guidance_availability,
            public.guidance_open_slot_times, public.guidance_bookings,
            public.guidance_booking_actions, public.guidance_booking_events,
            public.guidance_email_outbox TO service_role;
        GRANT SELECT ON public.guidance_open_slots TO service_role;
        GRANT USAGE, SELECT ON SEQUENCE public.guidance_booking_events_id_seq,
            public.guidance_email_outbox_seq_seq TO service_role;
        GRANT EXECUTE ON FUNCTION public.guidance_sync_open_slot_times() TO service_role;
    END IF;
    -- `guidance migrate` keeps its own record of applied migrations in public (Supabase's CLI
    -- keeps it elsewhere); it is nobody's business but the owner's.
    IF to_regclass('public._sqlx_migrations') IS NOT NULL THEN
        ALTER TABLE public._sqlx_migrations ENABLE ROW LEVEL SECURITY;
        IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'anon')
           AND EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'authenticated') THEN
            REVOKE ALL ON public._sqlx_migrations FROM anon, authenticated;
        END IF;
    END IF;
END
$$;
