//! The booking state machine, and who may move a booking.
//!
//! ```text
//! pending ──accept──▶ accepted ──cancel──▶ cancelled
//!    │  └──decline──▶ declined
//!    │  └──reschedule──▶ needs_reschedule ──pick_slot──▶ pending
//!    │                     ├── take_proposed_time ──▶ accepted
//!    │                     └── cancel / expire ──▶ cancelled / expired
//!    └──expire──▶ expired            accepted ──reschedule──▶ needs_reschedule
//! ```
//! A pending request may also be cancelled (the visitor withdraws it).
//!
//! When the owner asks for email confirmation, a new request starts as `unconfirmed`: it holds
//! its slot for a short time, and only the visitor's confirmation makes it `pending` and tells
//! the owner.
//!
//! ```text
//! unconfirmed ──confirm──▶ pending
//!      └── cancel / expire ──▶ cancelled / expired
//! ```
//! Every other pair is refused.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Where a booking stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BookingStatus {
    /// Requested, waiting for the owner; holds its slot.
    Pending,
    /// Requested, but the visitor has not yet confirmed their email address: holds its slot for
    /// a short time; the owner has not been told.
    Unconfirmed,
    /// Confirmed by the owner; holds its slot.
    Accepted,
    /// Refused by the owner.
    Declined,
    /// The owner asked the visitor to choose another time; the old slot is free.
    NeedsReschedule,
    /// Cancelled by the owner or the visitor.
    Cancelled,
    /// Nobody answered in time.
    Expired,
}

impl BookingStatus {
    /// Every status, in the order the owner wants to see them.
    pub const ALL: [BookingStatus; 7] = [
        BookingStatus::Pending,
        BookingStatus::Accepted,
        BookingStatus::NeedsReschedule,
        BookingStatus::Unconfirmed,
        BookingStatus::Declined,
        BookingStatus::Cancelled,
        BookingStatus::Expired,
    ];

    /// The stable name, as in SQL and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            BookingStatus::Pending => "pending",
            BookingStatus::Unconfirmed => "unconfirmed",
            BookingStatus::Accepted => "accepted",
            BookingStatus::Declined => "declined",
            BookingStatus::NeedsReschedule => "needs_reschedule",
            BookingStatus::Cancelled => "cancelled",
            BookingStatus::Expired => "expired",
        }
    }

    /// Parses the stable name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// Whether a booking in this status holds its slot.
    pub fn holds_slot(self) -> bool {
        matches!(
            self,
            BookingStatus::Pending | BookingStatus::Accepted | BookingStatus::Unconfirmed
        )
    }

    /// Whether the owner's calendar holds an entry for the booking (tentative while pending,
    /// confirmed once accepted). An unconfirmed request holds its slot, but the owner has not
    /// heard of it yet.
    pub fn in_owner_calendar(self) -> bool {
        matches!(self, BookingStatus::Pending | BookingStatus::Accepted)
    }

    /// Whether nothing can happen to the booking any more.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            BookingStatus::Declined | BookingStatus::Cancelled | BookingStatus::Expired
        )
    }
}

impl fmt::Display for BookingStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Something that moves a booking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BookingAction {
    /// The owner confirms.
    Accept,
    /// The owner refuses.
    Decline,
    /// The owner asks the visitor to choose another time.
    Reschedule,
    /// The owner or the visitor calls it off.
    Cancel,
    /// The visitor chose a new slot after being asked to.
    PickSlot,
    /// The visitor took one of the times the owner proposed with the reschedule: accepted at
    /// once, since the owner chose it.
    TakeProposedTime,
    /// Time ran out (the slot started unanswered, no new slot was chosen in time, or the
    /// visitor did not confirm their email address in time).
    Expire,
    /// The visitor confirmed their email address with the link sent to it.
    Confirm,
}

impl BookingAction {
    /// Every action.
    pub const ALL: [BookingAction; 8] = [
        BookingAction::Accept,
        BookingAction::Decline,
        BookingAction::Reschedule,
        BookingAction::Cancel,
        BookingAction::PickSlot,
        BookingAction::TakeProposedTime,
        BookingAction::Expire,
        BookingAction::Confirm,
    ];

    /// The stable name, as in SQL, JSON and URLs.
    pub fn as_str(self) -> &'static str {
        match self {
            BookingAction::Accept => "accept",
            BookingAction::Decline => "decline",
            BookingAction::Reschedule => "reschedule",
            BookingAction::Cancel => "cancel",
            BookingAction::PickSlot => "pick_slot",
            BookingAction::TakeProposedTime => "take_proposed_time",
            BookingAction::Expire => "expire",
            BookingAction::Confirm => "confirm",
        }
    }

    /// Parses the stable name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }

    /// What the owner may do to a booking, from the owner API or the admin UI, in the order
    /// they are offered. Only the visitor picks a new time or confirms their address; only
    /// time expires a request.
    pub const BY_OWNER: [BookingAction; 4] = [
        BookingAction::Accept,
        BookingAction::Decline,
        BookingAction::Reschedule,
        BookingAction::Cancel,
    ];

    /// Whether the owner may take this action (see [`BookingAction::BY_OWNER`]).
    pub fn by_owner(self) -> bool {
        Self::BY_OWNER.contains(&self)
    }

    /// Parses the stable name of an action the owner may take.
    pub fn parse_by_owner(s: &str) -> Option<Self> {
        Self::parse(s).filter(|a| a.by_owner())
    }

    /// Whether the action ends the booking for good (shown with a warning to the owner).
    pub fn ends_booking(self) -> bool {
        matches!(self, BookingAction::Decline | BookingAction::Cancel)
    }

    /// Whether this action may happen to a booking in status `from`.
    pub fn allowed_from(self, from: BookingStatus) -> bool {
        self.apply(from).is_ok()
    }

    /// The status this action leads to from `from`, or why it cannot happen.
    pub fn apply(self, from: BookingStatus) -> Result<BookingStatus, IllegalTransition> {
        use BookingAction as A;
        use BookingStatus as S;
        let to = match (from, self) {
            (S::Pending, A::Accept) => S::Accepted,
            (S::Pending, A::Decline) => S::Declined,
            (S::Pending | S::Accepted, A::Reschedule) => S::NeedsReschedule,
            (S::Pending | S::Accepted | S::NeedsReschedule | S::Unconfirmed, A::Cancel) => {
                S::Cancelled
            }
            (S::NeedsReschedule, A::PickSlot) => S::Pending,
            (S::NeedsReschedule, A::TakeProposedTime) => S::Accepted,
            (S::Pending | S::NeedsReschedule | S::Unconfirmed, A::Expire) => S::Expired,
            (S::Unconfirmed, A::Confirm) => S::Pending,
            _ => return Err(IllegalTransition { from, action: self }),
        };
        Ok(to)
    }
}

impl fmt::Display for BookingAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The longest message the owner may add to an action for the requester, in characters.
pub const OWNER_MESSAGE_MAX: usize = 2000;

/// An action that cannot happen in the booking's current status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the action {action} is not allowed on a {from} booking")]
pub struct IllegalTransition {
    /// The status the booking is in.
    pub from: BookingStatus,
    /// The refused action.
    pub action: BookingAction,
}

#[cfg(test)]
mod tests {
    use super::*;
    use BookingAction as A;
    use BookingStatus as S;

    const LEGAL: [(S, A, S); 14] = [
        (S::Pending, A::Accept, S::Accepted),
        (S::Pending, A::Decline, S::Declined),
        (S::Pending, A::Reschedule, S::NeedsReschedule),
        (S::Pending, A::Cancel, S::Cancelled),
        (S::Pending, A::Expire, S::Expired),
        (S::Accepted, A::Reschedule, S::NeedsReschedule),
        (S::Accepted, A::Cancel, S::Cancelled),
        (S::NeedsReschedule, A::PickSlot, S::Pending),
        (S::NeedsReschedule, A::TakeProposedTime, S::Accepted),
        (S::NeedsReschedule, A::Cancel, S::Cancelled),
        (S::NeedsReschedule, A::Expire, S::Expired),
        (S::Unconfirmed, A::Confirm, S::Pending),
        (S::Unconfirmed, A::Cancel, S::Cancelled),
        (S::Unconfirmed, A::Expire, S::Expired),
    ];

    #[test]
    fn every_legal_transition_leads_where_the_design_says() {
        for (from, action, to) in LEGAL {
            assert_eq!(action.apply(from), Ok(to), "{from} --{action}-->");
        }
    }

    #[test]
    fn every_other_pair_is_refused() {
        for from in S::ALL {
            for action in A::ALL {
                if LEGAL.iter().any(|(f, a, _)| *f == from && *a == action) {
                    continue;
                }
                assert_eq!(
                    action.apply(from),
                    Err(IllegalTransition { from, action }),
                    "{from} --{action}-->"
                );
            }
        }
    }

    #[test]
    fn final_states_allow_nothing_and_only_live_states_hold_the_slot() {
        for from in S::ALL.into_iter().filter(|s| s.is_final()) {
            assert!(A::ALL.iter().all(|a| a.apply(from).is_err()));
            assert!(!from.holds_slot());
        }
        assert!(S::Pending.holds_slot() && S::Accepted.holds_slot());
        assert!(!S::NeedsReschedule.holds_slot());
    }

    #[test]
    fn an_unconfirmed_request_holds_its_slot_but_is_not_in_the_owners_calendar() {
        assert!(S::Unconfirmed.holds_slot());
        assert!(!S::Unconfirmed.in_owner_calendar());
        assert!(!S::Unconfirmed.is_final());
        assert!(S::Pending.in_owner_calendar() && S::Accepted.in_owner_calendar());
        // Only the visitor's confirmation leads out of it to the owner; the owner cannot accept,
        // decline or reschedule what they have not been told about.
        for action in [
            A::Accept,
            A::Decline,
            A::Reschedule,
            A::PickSlot,
            A::TakeProposedTime,
        ] {
            assert!(action.apply(S::Unconfirmed).is_err(), "{action}");
        }
        for from in S::ALL.into_iter().filter(|s| *s != S::Unconfirmed) {
            assert!(A::Confirm.apply(from).is_err(), "{from}");
        }
    }

    #[test]
    fn refusals_name_the_action_and_the_status() {
        let e = A::Decline.apply(S::Cancelled).unwrap_err();
        assert_eq!(
            e.to_string(),
            "the action decline is not allowed on a cancelled booking"
        );
        let e = A::PickSlot.apply(S::Pending).unwrap_err();
        assert_eq!(
            e.to_string(),
            "the action pick_slot is not allowed on a pending booking"
        );
    }

    #[test]
    fn the_owner_may_accept_decline_reschedule_and_cancel_only() {
        let by_owner: Vec<_> = A::ALL.into_iter().filter(|a| a.by_owner()).collect();
        assert_eq!(by_owner, A::BY_OWNER);
        assert_eq!(A::parse_by_owner("accept"), Some(A::Accept));
        assert_eq!(A::parse_by_owner("pick_slot"), None);
        assert_eq!(A::parse_by_owner("take_proposed_time"), None);
        assert_eq!(A::parse_by_owner("expire"), None);
        assert_eq!(A::parse_by_owner("confirm"), None);
    }

    #[test]
    fn names_round_trip() {
        for s in S::ALL {
            assert_eq!(S::parse(s.as_str()), Some(s));
        }
        for a in A::ALL {
            assert_eq!(A::parse(a.as_str()), Some(a));
        }
        assert_eq!(S::parse("Pending"), None);
    }
}
