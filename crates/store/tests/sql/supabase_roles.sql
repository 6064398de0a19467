-- Test-only: Supabase's roles on a plain PostgreSQL, so that the migrations in
-- supabase/migrations/ and the service run here as they do on a Supabase project.
-- Never part of supabase/migrations/: a Supabase project has these roles already.
--
-- Roles belong to the whole cluster; tests create them concurrently, so a lost race is fine.
DO $$
BEGIN
    BEGIN
        CREATE ROLE anon NOLOGIN NOINHERIT;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
    END;
    BEGIN
        CREATE ROLE authenticated NOLOGIN NOINHERIT;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
    END;
    BEGIN
        -- As on Supabase: the service's role bypasses row-level security.
        CREATE ROLE service_role NOLOGIN NOINHERIT BYPASSRLS;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
    END;
END
$$;

-- What older Supabase projects do in public: every client role may use the schema, and every
-- new table, sequence and function is granted to all of them. The migrations must undo that.
GRANT USAGE ON SCHEMA public TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON TABLES TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON SEQUENCES TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON FUNCTIONS TO anon, authenticated, service_role;
