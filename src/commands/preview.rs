//! `sunset preview`: the exact text a user would get now.

use crate::campaign::Campaign;
use crate::config::Config;
use crate::domain::countdown::{Countdown, Phase};
use crate::domain::notice::NoticeKind;
use crate::i18n::Catalog;
use jiff::Timestamp;

/// What to preview instead of the real countdown.
#[derive(Clone, Copy, Debug)]
pub enum Standing {
    Now,
    /// N ≥ 1: countdown with N days; 0: the final day.
    Days(i64),
    Phase(Phase),
}

/// Why a preview cannot be shown.
#[derive(Debug, thiserror::Error)]
pub enum PreviewError {
    #[error("unknown locale `{asked}`; available: {available}")]
    UnknownLocale { asked: String, available: String },
    #[error(transparent)]
    Render(#[from] crate::i18n::RenderError),
}

/// Renders the notice `text.body` for `locale` as it would be sent now, with
/// the digits of `country`, else of the locale's own region.
pub fn render(
    config: &Config,
    catalog: &Catalog,
    locale: &str,
    standing: Standing,
    country: Option<&str>,
) -> Result<String, PreviewError> {
    let localizer = &catalog.localizer;
    // `ar-EG` alone shows Egypt's digits, as a user there would get them.
    let region = locale
        .parse::<unic_langid::LanguageIdentifier>()
        .ok()
        .and_then(|tag| tag.region)
        .map(|region| region.as_str().to_owned());
    let locale = catalog
        .chooser
        .supported(locale)
        .ok_or_else(|| PreviewError::UnknownLocale {
            asked: locale.to_owned(),
            available: localizer.locales().join(", "),
        })?;
    let campaign = Campaign::from_config(config);
    let now = campaign.countdown_at(Timestamp::now());
    let countdown = match standing {
        Standing::Now => now,
        Standing::Days(0) | Standing::Phase(Phase::FinalDay) => Countdown {
            phase: Phase::FinalDay,
            days_left: 0,
            hours_left: now.hours_left.clamp(1, 24),
        },
        Standing::Days(days) => Countdown {
            phase: Phase::Countdown,
            days_left: days,
            hours_left: days * 24,
        },
        Standing::Phase(phase) => Countdown {
            phase,
            days_left: now.days_left.max(1),
            hours_left: 0,
        },
    };
    let mut args = campaign.preview_args(countdown);
    args.country = country.map(str::to_ascii_uppercase).or(region);
    Ok(localizer.render(&locale, NoticeKind::Notice, &args)?)
}
