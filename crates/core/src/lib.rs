//! Guidance's domain: everything that can be decided without IO.
//!
//! Input from outside becomes one of the parsed types here once, at the edge
//! ([`intake::Intake::parse`], [`slot::SlotWindow::parse`]); storage and email code accept only
//! those types, so nothing unchecked reaches SQL, a mail header or a calendar line.

pub mod booking;
pub mod effects;
pub mod feed;
pub mod fields;
pub mod i18n;
pub mod ics;
pub mod idempotency;
pub mod ids;
pub mod intake;
pub mod meeting;
pub mod owner_settings;
pub mod pattern;
pub mod question;
pub mod sealed;
pub mod session_times;
pub mod slot;
pub mod text;
pub mod token;
pub mod webhook;

pub use booking::{BookingAction, BookingStatus, IllegalTransition};
pub use fields::{FieldErrors, FieldReason};
pub use intake::{Intake, Priority};
pub use owner_settings::OwnerSettings;
pub use question::{Question, QuestionKind};
pub use slot::{SlotStatus, SlotWindow};
pub use token::{ActionToken, TokenHash, TokenSecret};
