//! Reads the owner's own calendars: an iCalendar document (a private ICS address, or the
//! calendar data of a CalDAV `calendar-query`) becomes the busy intervals of a window.
//!
//! Pure and synchronous: fetching is the application's. Recurrence (`RRULE`, `RDATE`,
//! `EXDATE`) is expanded in wall-clock time by the `rrule` crate and each occurrence is then
//! placed in its zone by jiff, so that a weekly 09:00 meeting stays at 09:00 across DST
//! changes. Moved and cancelled occurrences (`RECURRENCE-ID`) replace the ones they name;
//! `TRANSP:TRANSPARENT` and `STATUS:CANCELLED` do not block; the caller's own events (by UID)
//! are skipped. Only intervals come out: no titles, no attendees.

mod event;
mod expand;
mod interval;
mod values;
mod windows_zones;
mod zone;

pub use expand::{MAX_INTERVALS, busy_intervals};
pub use interval::{Interval, first_overlap, merge, widen};

/// Why a document gave no busy times.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CalendarError {
    /// Not an iCalendar document at all (an HTML login page, say).
    #[error("not an iCalendar document")]
    NotCalendar,
}
