-- Around the session: a pending request's answer-by time, and emails scheduled ahead (the
-- owner's reminder before that time, the session reminders).
--
-- `answer_by`: when a pending request expires unanswered (NULL: at its session's start, as for
-- requests made before this migration).
ALTER TABLE guidance_bookings ADD COLUMN answer_by TEXT;

-- A scheduled email is queued with `next_attempt_at` at its moment and `send_before` the moment
-- after which it is pointless (the session started, the answer-by time passed): the worker drops
-- it then instead of sending it late. A change of the booking withdraws the scheduled emails it
-- makes pointless; both keep the row, with when and why (`withdrawn`, `too_late`).
ALTER TABLE guidance_email_outbox ADD COLUMN send_before TEXT;
ALTER TABLE guidance_email_outbox ADD COLUMN withdrawn_at TEXT;
ALTER TABLE guidance_email_outbox ADD COLUMN withdrawn_reason TEXT
    CHECK (withdrawn_reason IN ('withdrawn', 'too_late'));
