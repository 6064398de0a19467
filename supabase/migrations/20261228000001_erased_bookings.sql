-- The visitor's data: a booking whose visitor's data was erased (by retention, the visitor's own
-- deletion or the owner's erase) keeps only its times, status and history, with an empty
-- requester_email. Each erasure also sweeps what earlier ones left (emails still to be sent
-- then), looking for these bookings: the index keeps that look small. The same index as the
-- SQLite migration of the same name; the table keeps its row-level security and grants.
CREATE INDEX guidance_bookings_erased ON public.guidance_bookings (id) WHERE requester_email = '';
