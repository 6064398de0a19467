-- Meeting rooms: the room name of an accepted booking when the service makes rooms
-- (GUIDANCE_MEETING_URL). Only the name is kept; a JWT that opens a secured room is derived
-- from the configured secret whenever a link is shown, so nothing stored here opens the room.
-- The same column as the SQLite migration of the same name; the table keeps its row-level
-- security and grants (no policy for the client roles; the service role only).
ALTER TABLE public.guidance_bookings ADD COLUMN meeting_room text;
