//! The ids of the rows a booking writes by the thousand (bookings, their links' token rows,
//! emails and their Message-IDs, calendar UIDs, webhook deliveries): time-ordered UUIDs
//! (version 7, RFC 9562).
//!
//! Why not random ones: every such id is a key of one index or more, and a random key lands on
//! a random page of its index. On a database much larger than its cache each insert then reads
//! a page from disk and, at the next checkpoint, writes it back; the indexes also fill their
//! pages only about two thirds. Keys in creation order land on the last pages, which stay in
//! the cache, fill up, and are written once for many rows.
//!
//! They are not secrets: each carries its creation time to the millisecond, and 74 random
//! bits. Whatever must not be guessed (links' tokens, sessions, leases) stays random (`v4`).

use uuid::Uuid;

/// A new id for a row written in bulk: unique, and after the ids made before it.
pub fn new_row_id() -> Uuid {
    Uuid::now_v7()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_come_in_the_order_they_were_made_and_never_twice() {
        let ids: Vec<Uuid> = (0..10_000).map(|_| new_row_id()).collect();
        // As the databases compare them: by their text (SQLite) and by their bytes (PostgreSQL).
        assert!(ids.windows(2).all(|w| w[0] < w[1]));
        let texts: Vec<String> = ids.iter().map(Uuid::to_string).collect();
        assert!(texts.windows(2).all(|w| w[0] < w[1]));
        assert!(ids.iter().all(|id| id.get_version_num() == 7));
    }
}
