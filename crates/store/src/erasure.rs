//! What erasing a visitor's data asks of the store ([`Erase`]) and what it erased
//! ([`Erased`]). The statements, one per table, are in `shared::erasure`.

use jiff::Timestamp;
use uuid::Uuid;

use crate::Actor;

/// Whose data to erase. The bookings chosen keep their times and status (the slot statistics
/// stay whole); everything else about the visitor goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Erase {
    /// One booking (the visitor's own deletion).
    Booking(Uuid),
    /// Every booking of an email address, compared trimmed and ignoring case, and every row
    /// naming that address (the owner's erase).
    Email(String),
    /// Every booking whose session ended at or before this time (retention).
    EndedBefore(Timestamp),
    /// No new booking: only what erased bookings still left behind (emails that were waiting to
    /// be sent when their booking was erased, sent since).
    Leftovers,
}

/// What an erasure removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Erased {
    /// The bookings erased now (not those erased before).
    pub bookings: Vec<Uuid>,
    /// The stored emails deleted: their copies in the mail directory, named by these ids, go
    /// too.
    pub emails: Vec<Uuid>,
    /// Whether any row was deleted or blanked (the data's old bytes are then to be purged from
    /// the database's files: SQLite's write-ahead log, PostgreSQL's dead row versions).
    pub changed: bool,
}

/// An erasure: whose data, by whom (named in each booking's history), when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Erasure {
    /// Whose data.
    pub whom: Erase,
    /// Who asked: the visitor, the owner, or the service (retention).
    pub actor: Actor,
    /// When.
    pub now: Timestamp,
}
