-- Every new request counts the requests of its address that await the owner (pending, or not
-- yet confirmed by the visitor), to hold each address to GUIDANCE_MAX_PENDING_PER_EMAIL. Without
-- an index that count read every booking ever made, inside the writing transaction: a site
-- booked slower the longer it had run. The index holds only the requests awaiting the owner,
-- by address as the count compares it (trimmed by the application, any case). The same index
-- as the SQLite migration of the same name; the table keeps its row-level security and grants.
CREATE INDEX guidance_bookings_awaiting_owner ON public.guidance_bookings (lower(requester_email))
    WHERE status IN ('pending', 'unconfirmed');
