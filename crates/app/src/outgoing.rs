//! What a change sends: its emails as the outbox keeps them, and the signed links in them.
//! Used by every change that queues an email (a request, the owner's and the visitor's
//! moves, a reminder written when due, a calendar that stopped answering).

use guidance_core::BookingAction;
use guidance_core::token::ActionToken;
use guidance_mail::Message;
use guidance_store::{NewEmail, NewToken};
use jiff::Timestamp;

use crate::App;

/// The owner's three links for a pending request.
pub(crate) struct OwnerLinks {
    accept: String,
    decline: String,
    reschedule: String,
}

impl OwnerLinks {
    /// The owner's email of a new request (or of a new time the visitor chose).
    pub(crate) fn new_request_message(&self) -> Message {
        Message::OwnerNewRequest {
            accept_url: self.accept.clone(),
            decline_url: self.decline.clone(),
            reschedule_url: self.reschedule.clone(),
        }
    }

    /// The owner's reminder of the request, with these links, due by `answer_by`.
    pub(crate) fn answer_reminder_message(&self, answer_by: Timestamp) -> Message {
        Message::OwnerAnswerReminder {
            accept_url: self.accept.clone(),
            decline_url: self.decline.clone(),
            reschedule_url: self.reschedule.clone(),
            answer_by,
        }
    }
}

/// The owner's three links (accept, decline, reschedule), expiring at `expires_at`, with the
/// records of their tokens.
pub(crate) fn owner_tokens(app: &App, expires_at: Timestamp) -> (Vec<NewToken>, OwnerLinks) {
    let mut tokens = Vec::new();
    let mut link = |action| {
        let (t, url) = new_token(app, action, expires_at);
        tokens.push(t);
        url
    };
    let links = OwnerLinks {
        accept: link(BookingAction::Accept),
        decline: link(BookingAction::Decline),
        reschedule: link(BookingAction::Reschedule),
    };
    (tokens, links)
}

/// A new signed link doing `action`, expiring at `expires_at`, with the record of its token.
pub(crate) fn new_token(
    app: &App,
    action: BookingAction,
    expires_at: Timestamp,
) -> (NewToken, String) {
    let t = ActionToken::generate(&app.secret);
    let url = format!("{}/a/{}", app.settings.public_url, t.expose());
    (
        NewToken {
            action,
            hash: t.hash(),
            expires_at,
        },
        url,
    )
}

/// A rendered email as the outbox keeps it: sealed (see [`guidance_core::sealed`]).
pub(crate) fn queued_email(app: &App, r: guidance_mail::Rendered) -> NewEmail {
    NewEmail {
        id: guidance_core::ids::new_row_id(),
        kind: r.kind.to_owned(),
        recipient: r.recipient,
        subject: r.subject,
        message: app.seal.seal(&r.message_id, &r.bytes),
        message_id: r.message_id,
        send_after: None,
        send_before: None,
        leased_until: None,
    }
}
