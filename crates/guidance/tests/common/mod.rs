//! What the tests of the real `guidance` binary as separate processes (`scale_out.rs`,
//! `faults.rs`) share beyond `guidance_testkit`: the processes started on one database and one
//! mail directory, and the SQL that reads what they left behind, the same on SQLite and
//! PostgreSQL.

#![allow(
    dead_code,
    reason = "each test binary uses its own part of these helpers"
)]

use std::path::Path;
use std::process::Command;

use guidance_testkit::binary::{self, Server};

/// `guidance <args>` on `db_url`, delivering into `mail_dir`, with its files in `data_dir`, and
/// links pointing at a public address of its own (see [`binary::command`] for the rest).
pub fn command(args: &[&str], db_url: &str, mail_dir: &Path, data_dir: &Path) -> Command {
    let mut cmd = binary::command(
        env!("CARGO_BIN_EXE_guidance"),
        args,
        db_url,
        mail_dir,
        data_dir,
    );
    cmd.env("GUIDANCE_PUBLIC_URL", "http://guidance.example.org");
    cmd
}

/// Runs `guidance migrate` on `db_url` and panics with its output when it fails.
pub fn migrate(db_url: &str, dir: &Path) {
    binary::run(command(
        &["migrate"],
        db_url,
        &dir.join("mail"),
        &dir.join("m"),
    ));
}

/// Starts `guidance serve` named `name` (its data directory and log file under `dir`).
pub fn serve(db_url: &str, mail_dir: &Path, dir: &Path, name: &str) -> Server {
    binary::serve(
        command(&["serve"], db_url, mail_dir, &dir.join(name)),
        dir.join(format!("{name}.log")),
    )
}

/// Live bookings, slots holding two or more live bookings, slots marked booked, and live
/// bookings on a slot marked booked: the same SQL on SQLite and PostgreSQL.
pub const LIVE_COUNTS: &str = "SELECT \
    (SELECT count(*) FROM guidance_bookings WHERE status IN ('pending', 'accepted')), \
    (SELECT count(*) FROM (SELECT slot_id FROM guidance_bookings WHERE status IN ('pending', 'accepted') \
        GROUP BY slot_id HAVING count(*) > 1) AS doubled), \
    (SELECT count(*) FROM guidance_availability WHERE status = 'booked'), \
    (SELECT count(*) FROM guidance_bookings b JOIN guidance_availability s ON s.id = b.slot_id \
        WHERE b.status IN ('pending', 'accepted') AND s.status = 'booked')";

/// The ids of the live bookings, as text on both databases.
pub const LIVE_IDS: &str =
    "SELECT CAST(id AS TEXT) FROM guidance_bookings WHERE status IN ('pending', 'accepted')";

/// Bookings written only in part: without their event, without their two emails (the owner's
/// invitation and the requester's note) or without the owner's three action links. A booking
/// is one transaction, so this must be 0 whatever happened to the process or the connection.
/// (Emails scheduled for later — the owner's reminder to answer — are not counted.)
pub const PARTIAL_BOOKINGS: &str = "SELECT count(*) FROM guidance_bookings b WHERE \
    (SELECT count(*) FROM guidance_booking_events e WHERE e.booking_id = b.id) <> 1 \
    OR (SELECT count(*) FROM guidance_email_outbox o \
        WHERE o.booking_id = b.id AND o.send_before IS NULL) <> 2 \
    OR (SELECT count(*) FROM guidance_booking_actions a WHERE a.booking_id = b.id) <> 3";

/// Every email in the outbox due at once (not those scheduled for later: reminders): its
/// booking, Message-ID, kind, status, and whether a worker holds it (claimed and not finished),
/// as text on both databases.
pub const OUTBOX: &str = "SELECT CAST(booking_id AS TEXT), message_id, kind, status, \
    lease_until IS NOT NULL FROM guidance_email_outbox WHERE send_before IS NULL \
    ORDER BY message_id";

/// Every booking: id, its slot, its status and its slot's status, as text on both databases.
pub const BOOKINGS: &str = "SELECT CAST(b.id AS TEXT), CAST(b.slot_id AS TEXT), b.status, s.status \
    FROM guidance_bookings b JOIN guidance_availability s ON s.id = b.slot_id";
