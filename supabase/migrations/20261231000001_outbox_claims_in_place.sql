-- Every email is claimed (a lease) and then marked sent: two new versions of its row of about a
-- kilobyte. The claim changed an indexed column (the leased emails' index), so each claimed
-- email also got a new entry in every index of the table: the outbox's claims were the most
-- expensive work PostgreSQL did for a booking beyond the booking itself. Without that index,
-- and with room left on each page (a fill factor of 70%), the claim's new version goes beside
-- the old one with no index entry (a heap-only tuple), and the old one is pruned from the page
-- once no snapshot needs it. The worker finds the leased emails among the due ones, on the
-- index of the waiting emails (see `next_due_statement` in crates/store/src/shared/outbox.rs).
-- The fill factor applies to the pages written from now on. Same index change as the SQLite
-- migration of the same name.
DROP INDEX IF EXISTS public.guidance_email_outbox_leased;
ALTER TABLE public.guidance_email_outbox SET (fillfactor = 70);
