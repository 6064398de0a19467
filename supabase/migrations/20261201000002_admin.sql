-- The owner's sign-in and settings (admin UI). The same tables as the SQLite migration of the
-- same name. Secrets are never stored, only their SHA-256 (setup links, session ids) or an
-- argon2id hash (the password).
--
-- Only the service reads and writes them: the client roles get nothing, not even with every
-- table granted back to them (RLS on, no policy).

-- The owner's password: one row at most.
CREATE TABLE public.guidance_admin_credentials (
    id            smallint PRIMARY KEY
                  CONSTRAINT guidance_admin_credentials_single_row CHECK (id = 1),
    password_hash text NOT NULL,
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- One-time links that let the first owner choose a password.
CREATE TABLE public.guidance_admin_setup_tokens (
    token_hash text PRIMARY KEY,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Signed-in browser sessions: idle expiry moves with use, expires_at never does.
CREATE TABLE public.guidance_admin_sessions (
    id_hash         text PRIMARY KEY,
    created_at      timestamptz NOT NULL DEFAULT now(),
    last_seen_at    timestamptz NOT NULL,
    idle_expires_at timestamptz NOT NULL,
    expires_at      timestamptz NOT NULL,
    CONSTRAINT guidance_admin_sessions_idle_check CHECK (idle_expires_at <= expires_at)
);
CREATE INDEX guidance_admin_sessions_expires_at ON public.guidance_admin_sessions (expires_at);

-- Owner settings that override the configured defaults: key → value as text.
CREATE TABLE public.guidance_settings (
    key        text PRIMARY KEY,
    value      text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE public.guidance_admin_credentials ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.guidance_admin_setup_tokens ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.guidance_admin_sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.guidance_settings ENABLE ROW LEVEL SECURITY;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'anon')
       AND EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'authenticated') THEN
        -- Take back whatever the project's default privileges handed out.
        REVOKE ALL ON public.guidance_admin_credentials, public.guidance_admin_setup_tokens,
            public.guidance_admin_sessions, public.guidance_settings
            FROM anon, authenticated;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'service_role') THEN
        GRANT SELECT, INSERT, UPDATE, DELETE ON public.guidance_admin_credentials,
            public.guidance_admin_setup_tokens, public.guidance_admin_sessions,
            public.guidance_settings TO service_role;
    END IF;
END
$$;
