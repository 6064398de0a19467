-- Calendar replies read from the service mailbox (iMIP REPLY/COUNTER): one row per email, by
-- its Message-ID, so that an email is acted on once however often it is delivered or however
-- many processes read the mailbox, and the owner sees what was done with each and, when
-- ignored, why. The same tables as the SQLite migration of the same name.
--
-- Only the service reads and writes them.

CREATE TABLE public.guidance_calendar_replies (
    message_id  text PRIMARY KEY,
    received_at timestamptz NOT NULL,
    sender      text,
    method      text,
    partstat    text,
    ics_uid     text,
    booking_id  uuid REFERENCES public.guidance_bookings (id) ON DELETE SET NULL,
    outcome     text NOT NULL
                CONSTRAINT guidance_calendar_replies_outcome_check
                CHECK (outcome IN ('accept', 'decline', 'tentative', 'counter', 'ignored')),
    reason      text
);
CREATE INDEX guidance_calendar_replies_received
    ON public.guidance_calendar_replies (received_at);

-- Who reads the mailbox right now (one process at a time), and how the last look went.
CREATE TABLE public.guidance_inbox_lease (
    id         integer PRIMARY KEY CONSTRAINT guidance_inbox_lease_one CHECK (id = 1),
    holder     uuid NOT NULL,
    expires_at timestamptz NOT NULL,
    checked_at timestamptz,
    last_error text
);

-- No policy for the client roles: with RLS on they see no row even if a project grants them
-- every table.
ALTER TABLE public.guidance_calendar_replies ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.guidance_inbox_lease ENABLE ROW LEVEL SECURITY;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'anon')
       AND EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'authenticated') THEN
        REVOKE ALL ON public.guidance_calendar_replies, public.guidance_inbox_lease
            FROM anon, authenticated;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'service_role') THEN
        GRANT SELECT, INSERT, UPDATE, DELETE
            ON public.guidance_calendar_replies, public.guidance_inbox_lease TO service_role;
    END IF;
END
$$;
