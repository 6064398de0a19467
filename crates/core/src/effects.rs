//! What a change of a booking sends: which emails go to whom, and which new links they carry.
//! Pure: the application fills in the links, renders the emails and queues them in the
//! transaction that makes the change.

use crate::booking::{BookingAction, BookingStatus};

/// One email a change sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    /// To the owner: a request to answer, with the accept, decline and reschedule links.
    OwnerNewRequest,
    /// To the owner: their tentative calendar entry becomes a confirmed one.
    OwnerAccepted,
    /// To the owner: their calendar entry is withdrawn.
    OwnerCalendarCancel,
    /// To the requester: the request reached the owner.
    RequesterReceived,
    /// To the requester: accepted, with the invitation.
    RequesterAccepted,
    /// To the requester: declined.
    RequesterDeclined,
    /// To the requester: please choose another time, with the link to do so.
    RequesterPickNewTime {
        /// Whether the requester's calendar holds an invitation to withdraw.
        had_invite: bool,
    },
    /// To the requester: called off.
    RequesterCancelled {
        /// Whether the requester's calendar holds an invitation to withdraw.
        had_invite: bool,
        /// Whether the requester called it off themselves.
        by_requester: bool,
    },
    /// To the requester: the owner did not answer in time, so the request lapsed.
    RequesterExpired,
    /// To the owner: the request they did not answer expired; its calendar entry is withdrawn.
    OwnerExpired,
}

/// The emails that `action` taking a booking from `from` to `to` sends, in the order they are
/// queued. `by_requester` says who acted (for the wording of a cancellation).
pub fn notices(
    action: BookingAction,
    from: BookingStatus,
    to: BookingStatus,
    by_requester: bool,
) -> Vec<Notice> {
    let had_invite = from == BookingStatus::Accepted;
    let mut out = match action {
        // The owner's tentative entry becomes a confirmed one (same UID, SEQUENCE up).
        // A proposed time taken is accepted as the owner accepts: the owner chose it.
        BookingAction::Accept | BookingAction::TakeProposedTime => {
            vec![Notice::RequesterAccepted, Notice::OwnerAccepted]
        }
        BookingAction::Decline => vec![Notice::RequesterDeclined],
        BookingAction::Reschedule => vec![Notice::RequesterPickNewTime { had_invite }],
        // A new time, or a confirmed request: the owner hears of it now.
        BookingAction::PickSlot | BookingAction::Confirm => {
            vec![Notice::OwnerNewRequest, Notice::RequesterReceived]
        }
        BookingAction::Cancel => vec![Notice::RequesterCancelled {
            had_invite,
            by_requester,
        }],
        // Only a request the owner left unanswered is news to anyone: one waiting for the
        // visitor (to confirm, or to pick a new time) simply lapses.
        BookingAction::Expire if from == BookingStatus::Pending => {
            return vec![Notice::RequesterExpired, Notice::OwnerExpired];
        }
        BookingAction::Expire => Vec::new(),
    };
    // The owner's calendar holds an entry while the booking holds its slot; take it out whenever
    // the booking stops holding it.
    if from.in_owner_calendar() && !to.in_owner_calendar() {
        out.push(Notice::OwnerCalendarCancel);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use BookingAction as A;
    use BookingStatus as S;
    use Notice as N;

    fn of(action: A, from: S, by_requester: bool) -> Vec<Notice> {
        notices(action, from, action.apply(from).unwrap(), by_requester)
    }

    #[test]
    fn the_owner_hears_of_a_request_once_it_is_pending() {
        assert_eq!(
            of(A::Confirm, S::Unconfirmed, true),
            [N::OwnerNewRequest, N::RequesterReceived]
        );
        assert_eq!(
            of(A::PickSlot, S::NeedsReschedule, true),
            [N::OwnerNewRequest, N::RequesterReceived]
        );
    }

    #[test]
    fn the_owners_calendar_entry_goes_whenever_the_booking_leaves_it() {
        assert_eq!(
            of(A::Decline, S::Pending, false),
            [N::RequesterDeclined, N::OwnerCalendarCancel]
        );
        assert_eq!(
            of(A::Reschedule, S::Accepted, false),
            [
                N::RequesterPickNewTime { had_invite: true },
                N::OwnerCalendarCancel
            ]
        );
        // An unanswered request: both hear of it, the owner's note withdrawing the entry.
        assert_eq!(
            of(A::Expire, S::Pending, false),
            [N::RequesterExpired, N::OwnerExpired]
        );
        // Nothing reached the owner's calendar for an unconfirmed or rescheduled request.
        assert_eq!(of(A::Expire, S::Unconfirmed, false), []);
        assert_eq!(
            of(A::Cancel, S::NeedsReschedule, true),
            [N::RequesterCancelled {
                had_invite: false,
                by_requester: true
            }]
        );
        assert_eq!(
            of(A::Accept, S::Pending, false),
            [N::RequesterAccepted, N::OwnerAccepted]
        );
        // A proposed time the visitor takes is confirmed to both at once.
        assert_eq!(
            of(A::TakeProposedTime, S::NeedsReschedule, true),
            [N::RequesterAccepted, N::OwnerAccepted]
        );
    }
}
