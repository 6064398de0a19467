-- Email confirmation: a new request may wait for the visitor to confirm their email address.
-- The new booking status 'unconfirmed' holds its slot like 'pending' and 'accepted', and the
-- new action 'confirm' is the link that confirms. The slot itself is marked 'booked' while any
-- of them holds it, so guidance_open_slot_times (kept by a trigger from the slot's status) and
-- the guidance_open_slots view leave a held slot out without change. An index serves the limit
-- of requests awaiting the owner per address.

ALTER TABLE public.guidance_bookings
    DROP CONSTRAINT guidance_bookings_status_check,
    ADD CONSTRAINT guidance_bookings_status_check
        CHECK (status IN ('pending', 'unconfirmed', 'accepted', 'declined', 'needs_reschedule', 'cancelled', 'expired'));

-- At most one live booking per slot: the database itself makes double booking impossible.
DROP INDEX public.guidance_bookings_one_live_per_slot;
CREATE UNIQUE INDEX guidance_bookings_one_live_per_slot
    ON public.guidance_bookings (slot_id) WHERE status IN ('pending', 'unconfirmed', 'accepted');

-- The requests of one address that await the owner (GUIDANCE_MAX_PENDING_PER_EMAIL).
CREATE INDEX guidance_bookings_awaiting_owner_by_email
    ON public.guidance_bookings (lower(requester_email)) WHERE status IN ('pending', 'unconfirmed');

ALTER TABLE public.guidance_booking_actions
    DROP CONSTRAINT guidance_booking_actions_action_check,
    ADD CONSTRAINT guidance_booking_actions_action_check
        CHECK (action IN ('accept', 'decline', 'reschedule', 'cancel', 'pick_slot', 'confirm'));

-- The expiry job looks up the confirm link of each unconfirmed request.
CREATE INDEX guidance_booking_actions_confirm_expiry
    ON public.guidance_booking_actions (booking_id, expires_at) WHERE action = 'confirm';
