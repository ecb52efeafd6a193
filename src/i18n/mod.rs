//! Localized wording: Fluent bundles loaded from `locales/<tag>/sunset.ftl`,
//! rendered with CLDR plural rules, and checked before they can reach a user.

mod bundle;
mod catalog;
pub mod check;
mod files;
mod format;
mod parse;

pub use bundle::{LocaleProblem, Localizer};
pub use catalog::{Catalog, LiveCatalog, Refusal};
pub use files::{
    FILE_NAME, LocaleFile, folders_without_file, read_locale_files, read_locale_set, version_of,
};

use crate::domain::countdown::{Countdown, Phase};
use crate::domain::notice::NoticeKind;
use std::collections::BTreeMap;

/// The message ids every locale must have.
pub const REQUIRED_MESSAGES: [&str; 8] = [
    "notice-countdown",
    "notice-final-day",
    "notice-ended",
    "stop-confirmation",
    "start-confirmation",
    "keywords-stop",
    "keywords-start",
    "language-names",
];

/// The optional lines of the pages a browser gets for a dead or unknown
/// link, in its language when the locale has them.
pub const PAGE_MESSAGES: [&str; 4] = [
    "link-expired-title",
    "link-expired-text",
    "link-unknown-title",
    "link-unknown-text",
];

/// WhatsApp refuses text bodies longer than this.
pub const MAX_BODY_CHARS: usize = 4096;

/// The message a notice of this kind renders in this phase.
pub fn message_id(kind: NoticeKind, phase: Phase) -> &'static str {
    match (kind, phase) {
        (NoticeKind::StopConfirmation, _) => "stop-confirmation",
        (NoticeKind::StartConfirmation, _) => "start-confirmation",
        (NoticeKind::Notice, Phase::Countdown) => "notice-countdown",
        (NoticeKind::Notice, Phase::FinalDay) => "notice-final-day",
        (NoticeKind::Notice, Phase::Ended) => "notice-ended",
    }
}

/// Everything a notice's wording may refer to.
#[derive(Clone, Debug)]
pub struct NoticeArgs {
    pub service: String,
    pub countdown: Countdown,
    /// The last day of service, in the campaign's time zone.
    pub last_day: jiff::civil::Date,
    /// The smart link to the apps.
    pub app_link: String,
    /// The account-linking link; `None` when linking is off.
    pub link_account: Option<String>,
    pub ios: String,
    pub android: String,
    pub web: String,
    /// `[campaign.vars]`.
    pub vars: BTreeMap<String, String>,
    /// The user's country (ISO code): its region decides digits and dates.
    pub country: Option<String>,
}

/// Why a notice could not be rendered. Never sent half-rendered.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("no locale `{0}` is loaded")]
    UnknownLocale(String),
    #[error("locale `{locale}` has no message `{id}`")]
    MissingMessage { locale: String, id: String },
    #[error("locale `{locale}`, message `{id}`: {problems}")]
    Broken {
        locale: String,
        id: String,
        problems: String,
    },
    #[error(
        "locale `{locale}`, message `{id}`: {chars} characters, over WhatsApp's {MAX_BODY_CHARS}"
    )]
    TooLong {
        locale: String,
        id: String,
        chars: usize,
    },
}
