//! An inbound WhatsApp message as the responder sees it.

use super::ids::{Bsuid, UserRef, WaId};
use jiff::Timestamp;

/// What kind of message arrived, as far as the reply policy cares.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MessageKind {
    /// Anything a person wrote or sent: text, media, location, contacts,
    /// interactive replies, orders, `request_welcome`, and types not known yet.
    Conversational,
    /// A reaction, or a removed one: never answered.
    Reaction,
    /// A number or id change reported by WhatsApp itself.
    System,
    /// Edits, and whatever another API bot sends (`unsupported`, or
    /// `unknown` in older webhook versions): answering would loop.
    Unsupported,
}

impl MessageKind {
    pub fn from_wire_type(wire_type: &str) -> Self {
        match wire_type {
            "reaction" => MessageKind::Reaction,
            "system" => MessageKind::System,
            // Older webhook versions name what newer ones call unsupported
            // `unknown` (error 131051): the same edits and bot messages.
            "unsupported" | "unknown" => MessageKind::Unsupported,
            _ => MessageKind::Conversational,
        }
    }
}

/// A change of identity that WhatsApp reports as a `system` message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdentityChange {
    pub new_wa_id: Option<WaId>,
    pub new_bsuid: Option<Bsuid>,
}

/// One inbound message, parsed and valid.
#[derive(Clone, Debug)]
pub struct InboundMessage {
    /// Meta's message id (`wamid.…`): unique, and the key of de-duplication.
    pub id: String,
    /// The business number it was sent to.
    pub phone_number_id: String,
    pub from: UserRef,
    pub profile_name: Option<String>,
    /// The `type` as written on the wire, kept for the log.
    pub wire_type: String,
    pub kind: MessageKind,
    /// The text, a media caption, a button's text or an interactive reply's
    /// title: what keywords and the language are read from.
    pub text: Option<String>,
    /// When the user sent it (the webhook's `timestamp`).
    pub sent_at: Timestamp,
    /// Sent in a group chat rather than to the business directly.
    pub in_group: bool,
    pub identity_change: Option<IdentityChange>,
}
