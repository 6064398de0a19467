-- Around the session: a pending request's answer-by time, and emails scheduled ahead (the
-- owner's reminder before that time, the session reminders). The same columns as the SQLite
-- migration of the same name. The tables keep their row-level security and grants: new columns
-- are covered by the existing policies (none for the client roles; the service role only).
--
-- `answer_by`: when a pending request expires unanswered (NULL: at its session's start, as for
-- requests made before this migration).
ALTER TABLE public.guidance_bookings ADD COLUMN answer_by timestamptz;

-- A scheduled email is queued with `next_attempt_at` at its moment and `send_before` the moment
-- after which it is pointless (the session started, the answer-by time passed): the worker drops
-- it then instead of sending it late. A change of the booking withdraws the scheduled emails it
-- makes pointless; both keep the row, with when and why (`withdrawn`, `too_late`).
ALTER TABLE public.guidance_email_outbox
    ADD COLUMN send_before timestamptz,
    ADD COLUMN withdrawn_at timestamptz,
    ADD COLUMN withdrawn_reason text
        CONSTRAINT guidance_email_outbox_withdrawn_reason_check
        CHECK (withdrawn_reason IN ('withdrawn', 'too_late'));
