-- The owner's reminder of a request awaiting their answer is written when it falls due, not
-- rendered and stored with every request (most owners answer first, and never get it).
-- `answer_reminder_at`: while a request is pending, when its owner is reminded of it (NULL: not,
-- or the reminder is written already). The worker's minute run writes each due reminder with
-- fresh links and clears the column in the same transaction, once. Requests made before this
-- migration keep their stored reminders, which the worker sends as before. Same change as the
-- PostgreSQL migration of the same name.
ALTER TABLE guidance_bookings ADD COLUMN answer_reminder_at TEXT;
