-- The worker claims the due emails in the order they fell due, then were queued
-- (next_attempt_at, created_at, rowid). Times are kept to whole seconds, so a busy second
-- queues hundreds of emails with the same next_attempt_at, and on an index of that column alone
-- each claim of a few dozen sorted every due email of the backlog. On this index (every SQLite
-- index ends with the rowid) the claim reads the emails in its own order and stops at the last
-- one it takes. Same change as the PostgreSQL migration of the same name.
DROP INDEX IF EXISTS guidance_email_outbox_waiting;
CREATE INDEX guidance_email_outbox_waiting
    ON guidance_email_outbox (next_attempt_at, created_at)
    WHERE status = 'queued' AND withdrawn_at IS NULL;
