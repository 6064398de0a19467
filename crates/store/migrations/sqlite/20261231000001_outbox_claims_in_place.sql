-- The leased emails' index goes, as on PostgreSQL (where it kept the claim from updating a row
-- in place; see the migration of the same name in supabase/migrations/): the worker finds the
-- leased emails among the due ones, on the index of the waiting emails. Here it saves an index
-- entry written at each claim and removed at each mark.
DROP INDEX IF EXISTS guidance_email_outbox_leased;
