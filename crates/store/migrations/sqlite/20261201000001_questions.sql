-- The owner's supplemental questions, asked on the booking page after the intake. One row per
-- question, in the order shown (position). Answers stay in guidance_bookings.answers (JSON),
-- keyed by guidance_questions.key.
CREATE TABLE guidance_questions (
    key        TEXT PRIMARY KEY NOT NULL,
    position   INTEGER NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('short_text', 'long_text', 'choice', 'checkbox')),
    label      TEXT NOT NULL,
    required   INTEGER NOT NULL DEFAULT 0 CHECK (required IN (0, 1)),
    options    TEXT NOT NULL DEFAULT '[]',
    updated_at TEXT NOT NULL
);
