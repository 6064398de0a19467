-- Booking a slot or freeing it again (open <-> booked) changes neither its times nor whether it
-- is live, so it cannot create an overlap. The first version of this trigger checked anyway,
-- and the check scans every slot that starts before the changed one (the index on starts_at
-- bounds the search from one side only): each booking got slower as slots accumulated (with
-- 10,000 slots, booking on SQLite ran at half the rate it has with 1,000; scripts/bench).
-- Check only when a slot becomes live again or its times change.
DROP TRIGGER guidance_availability_no_overlap_update;

CREATE TRIGGER guidance_availability_no_overlap_update
BEFORE UPDATE OF starts_at, ends_at, status ON guidance_availability
WHEN NEW.status <> 'unavailable'
  AND (OLD.status = 'unavailable' OR NEW.starts_at <> OLD.starts_at OR NEW.ends_at <> OLD.ends_at)
  AND EXISTS (
    SELECT 1 FROM guidance_availability s
    WHERE s.id <> NEW.id AND s.status <> 'unavailable'
      AND s.starts_at < NEW.ends_at AND s.ends_at > NEW.starts_at
)
BEGIN
    SELECT RAISE(ABORT, 'guidance_slot_overlap');
END;
