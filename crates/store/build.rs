//! Rebuilds the store when a migration is added: `sqlx::migrate!` embeds the migration files
//! at compile time, but Cargo only watches the files a build already read, so a new one would
//! otherwise be left out of an incremental build.

fn main() {
    println!("cargo:rerun-if-changed=migrations/sqlite");
    println!("cargo:rerun-if-changed=../../supabase/migrations");
}
