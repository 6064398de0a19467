-- The owner's supplemental questions, asked on the booking page after the intake: one row per
-- question, in the order shown (position). The same table as the SQLite migration of the same
-- name; answers stay with their bookings (guidance_bookings.answers), keyed by
-- guidance_questions.key.
--
-- Only the service reads and writes it: the booking page asks the service, never the database.

CREATE TABLE public.guidance_questions (
    key        text PRIMARY KEY,
    position   integer NOT NULL,
    kind       text NOT NULL
               CONSTRAINT guidance_questions_kind_check
               CHECK (kind IN ('short_text', 'long_text', 'choice', 'checkbox')),
    label      text NOT NULL,
    required   boolean NOT NULL DEFAULT false,
    options    jsonb NOT NULL DEFAULT '[]'::jsonb
               CONSTRAINT guidance_questions_options_check
               CHECK (jsonb_typeof(options) = 'array'),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- No policy for the client roles: with RLS on they see no row even if a project grants them
-- every table.
ALTER TABLE public.guidance_questions ENABLE ROW LEVEL SECURITY;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'anon')
       AND EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'authenticated') THEN
        -- Take back whatever the project's default privileges handed out.
        REVOKE ALL ON public.guidance_questions FROM anon, authenticated;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'service_role') THEN
        GRANT SELECT, INSERT, UPDATE, DELETE ON public.guidance_questions TO service_role;
    END IF;
END
$$;
