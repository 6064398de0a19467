//! The booking state machine (DESIGN §1).
//!
//! ```text
//! pending ──accept──▶ accepted ──cancel──▶ cancelled
//!    │  └──decline──▶ declined
//!    │  └──reschedule──▶ needs_reschedule ──pick_slot──▶ pending
//!    │                     └── cancel / expire ──▶ cancelled / expired
//!    └──expire──▶ expired            accepted ──reschedule──▶ needs_reschedule
//! ```
//! A pending request may also be cancelled (the visitor withdraws it). Every other pair is refused.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Where a booking stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BookingStatus {
    /// Requested, waiting for the owner; holds its slot.
    Pending,
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
    pub const ALL: [BookingStatus; 6] = [
        BookingStatus::Pending,
        BookingStatus::Accepted,
        BookingStatus::NeedsReschedule,
        BookingStatus::Declined,
        BookingStatus::Cancelled,
        BookingStatus::Expired,
    ];

    /// The stable name, as in SQL and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            BookingStatus::Pending => "pending",
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
    /// Time ran out (the slot started unanswered, or no new slot was chosen in time).
    Expire,
}

impl BookingAction {
    /// Every action.
    pub const ALL: [BookingAction; 6] = [
        BookingAction::Accept,
        BookingAction::Decline,
        BookingAction::Reschedule,
        BookingAction::Cancel,
        BookingAction::PickSlot,
        BookingAction::Expire,
    ];

    /// The stable name, as in SQL, JSON and URLs.
    pub fn as_str(self) -> &'static str {
        match self {
            BookingAction::Accept => "accept",
            BookingAction::Decline => "decline",
            BookingAction::Reschedule => "reschedule",
            BookingAction::Cancel => "cancel",
            BookingAction::PickSlot => "pick_slot",
            BookingAction::Expire => "expire",
        }
    }

    /// Parses the stable name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }

    /// The status this action leads to from `from`, or why it cannot happen.
    pub fn apply(self, from: BookingStatus) -> Result<BookingStatus, IllegalTransition> {
        use BookingAction as A;
        use BookingStatus as S;
        let to = match (from, self) {
            (S::Pending, A::Accept) => S::Accepted,
            (S::Pending, A::Decline) => S::Declined,
            (S::Pending | S::Accepted, A::Reschedule) => S::NeedsReschedule,
            (S::Pending | S::Accepted | S::NeedsReschedule, A::Cancel) => S::Cancelled,
            (S::NeedsReschedule, A::PickSlot) => S::Pending,
            (S::Pending | S::NeedsReschedule, A::Expire) => S::Expired,
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

/// An action that cannot happen in the booking's current status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a {from} booking cannot be {action}ed", action = action.as_str())]
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

    const LEGAL: [(S, A, S); 10] = [
        (S::Pending, A::Accept, S::Accepted),
        (S::Pending, A::Decline, S::Declined),
        (S::Pending, A::Reschedule, S::NeedsReschedule),
        (S::Pending, A::Cancel, S::Cancelled),
        (S::Pending, A::Expire, S::Expired),
        (S::Accepted, A::Reschedule, S::NeedsReschedule),
        (S::Accepted, A::Cancel, S::Cancelled),
        (S::NeedsReschedule, A::PickSlot, S::Pending),
        (S::NeedsReschedule, A::Cancel, S::Cancelled),
        (S::NeedsReschedule, A::Expire, S::Expired),
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
