-- The emails still waiting to go out (queued and not withdrawn), by when they are due. The
-- outbox worker asks after every round when the next one is due, and claims the due ones. On
-- the index of every email by status and time both walked every queued email: each request's
-- answer-by reminder waits there, scheduled days ahead, and a withdrawn reminder stays queued
-- (with when and why it was withdrawn), so a site did more of this work with every booking it
-- had ever taken. That index goes: the databases chose it over a narrower one. The same change
-- as the SQLite migration of the same name.
DROP INDEX IF EXISTS public.guidance_email_outbox_due;
CREATE INDEX guidance_email_outbox_waiting ON public.guidance_email_outbox (next_attempt_at)
    WHERE status = 'queued' AND withdrawn_at IS NULL;
-- The emails being sent (a worker holds a lease on them until then): few at any time.
CREATE INDEX guidance_email_outbox_leased ON public.guidance_email_outbox (lease_until)
    WHERE status = 'queued' AND withdrawn_at IS NULL AND lease_until IS NOT NULL;
-- The emails that failed for good, for the admin's list and the metrics.
CREATE INDEX guidance_email_outbox_failed ON public.guidance_email_outbox (created_at)
    WHERE status = 'failed';
