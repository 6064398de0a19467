-- Proposed times: when the owner asks a visitor to choose another time, they may propose up to
-- three open slots. Each is held for that visitor until the reschedule window ends: its slot is
-- marked 'booked' in the same transaction (so the public lists leave it out and a booking of it
-- is refused by the same statement that claims every slot), and a row here says for whom. The
-- same table as the SQLite migration of the same name.
--
-- Each row carries the hash of the signed link that takes it (the link itself is only in the
-- visitor's email). A proposal is live while neither `taken_at` nor `released_at` is set.
--
-- Only the service reads and writes it.
CREATE TABLE public.guidance_proposed_times (
    id          uuid PRIMARY KEY,
    booking_id  uuid NOT NULL REFERENCES public.guidance_bookings (id) ON DELETE CASCADE,
    slot_id     uuid REFERENCES public.guidance_availability (id) ON DELETE SET NULL,
    starts_at   timestamptz NOT NULL,
    ends_at     timestamptz NOT NULL,
    token_hash  text NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL,
    taken_at    timestamptz,
    released_at timestamptz,
    CONSTRAINT guidance_proposed_times_window_check CHECK (ends_at > starts_at)
);
-- A slot is held for one visitor at a time.
CREATE UNIQUE INDEX guidance_proposed_times_one_hold_per_slot
    ON public.guidance_proposed_times (slot_id) WHERE taken_at IS NULL AND released_at IS NULL;
CREATE INDEX guidance_proposed_times_booking ON public.guidance_proposed_times (booking_id);

-- No policy for the client roles: with RLS on they see no row even if a project grants them
-- every table.
ALTER TABLE public.guidance_proposed_times ENABLE ROW LEVEL SECURITY;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'anon')
       AND EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'authenticated') THEN
        REVOKE ALL ON public.guidance_proposed_times FROM anon, authenticated;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'service_role') THEN
        GRANT SELECT, INSERT, UPDATE, DELETE ON public.guidance_proposed_times TO service_role;
    END IF;
END
$$;
