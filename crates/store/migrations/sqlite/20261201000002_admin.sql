-- The owner's sign-in and settings (admin UI). Secrets are never stored, only their SHA-256
-- (setup links, session ids) or an argon2id hash (the password).

-- The owner's password: one row at most.
CREATE TABLE guidance_admin_credentials (
    id            INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    password_hash TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);

-- One-time links that let the first owner choose a password.
CREATE TABLE guidance_admin_setup_tokens (
    token_hash TEXT PRIMARY KEY NOT NULL,
    expires_at TEXT NOT NULL,
    used_at    TEXT,
    created_at TEXT NOT NULL
);

-- Signed-in browser sessions: idle expiry moves with use, `expires_at` never does.
CREATE TABLE guidance_admin_sessions (
    id_hash         TEXT PRIMARY KEY NOT NULL,
    created_at      TEXT NOT NULL,
    last_seen_at    TEXT NOT NULL,
    idle_expires_at TEXT NOT NULL,
    expires_at      TEXT NOT NULL,
    CHECK (idle_expires_at <= expires_at)
);
CREATE INDEX guidance_admin_sessions_expires_at ON guidance_admin_sessions (expires_at);

-- Owner settings that override the configured defaults: key → value as text.
CREATE TABLE guidance_settings (
    key        TEXT PRIMARY KEY NOT NULL,
    value      TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
