-- Meeting rooms: the room name of an accepted booking when the service makes rooms
-- (GUIDANCE_MEETING_URL). Only the name is kept; a JWT that opens a secured room is derived
-- from the configured secret whenever a link is shown, so nothing stored here opens the room.
ALTER TABLE guidance_bookings ADD COLUMN meeting_room TEXT;
