//! The links of proposed times: one signed, single-use link per time the owner proposes, to a
//! page whose button takes it. Only the link's hash is stored (with the hold it takes); the link
//! itself goes into the visitor's email alone.

use guidance_core::SlotWindow;
use guidance_core::token::ActionToken;
use guidance_mail::ProposedLink;
use guidance_store::{NewProposal, Slot, SlotChange};

use crate::{App, AppError, AppResult};

/// The path of a proposed time's page, under the public URL; the token follows it.
pub const PATH: &str = "/p/";

/// For each of `slots`: the hold to record with the reschedule (with its link's hash) and the
/// link for the visitor's email.
pub(crate) fn links(app: &App, slots: &[Slot]) -> AppResult<(Vec<NewProposal>, Vec<ProposedLink>)> {
    let mut held = Vec::new();
    let mut links = Vec::new();
    for slot in slots {
        let token = ActionToken::generate(&app.secret);
        let window = SlotWindow::parse(slot.starts_at, slot.ends_at)
            .map_err(|e| AppError::Internal(e.to_string()))?;
        held.push(NewProposal {
            slot: SlotChange {
                slot_id: slot.id,
                window,
            },
            hash: token.hash(),
        });
        links.push(ProposedLink {
            starts_at: slot.starts_at,
            ends_at: slot.ends_at,
            url: format!("{}{PATH}{}", app.settings.public_url, token.expose()),
        });
    }
    Ok((held, links))
}
