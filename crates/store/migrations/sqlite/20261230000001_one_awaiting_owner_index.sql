-- `guidance_bookings_awaiting_owner` (20261229000001) repeated an index this table already had:
-- `guidance_bookings_awaiting_owner_by_email` (20261215000001) holds the same keys under the same
-- condition, and the count of an address's awaiting requests used it all along. Every booking
-- wrote both; one is enough.
DROP INDEX IF EXISTS guidance_bookings_awaiting_owner;
