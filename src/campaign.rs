//! The campaign as a notice sees it: what to say, until when, which links.

use crate::config::{Config, Secret};
use crate::domain::countdown::{Countdown, Deadline};
use crate::domain::ids::Bsuid;
use crate::i18n::NoticeArgs;
use crate::signing;
use jiff::{SignedDuration, Timestamp};
use reqwest::Url;
use std::collections::BTreeMap;

/// Account-linking tokens stay valid this long after the deadline, so users
/// who read the notice late can still recover their history; one sent
/// after the deadline, this long after it is sent.
pub const LINK_TOKEN_GRACE: SignedDuration = SignedDuration::from_hours(30 * 24);

/// Everything needed to fill a notice's variables.
#[derive(Clone, Debug)]
pub struct Campaign {
    pub service: String,
    pub deadline: Deadline,
    public_url: Url,
    ios: String,
    android: String,
    web: String,
    link_account: String,
    vars: BTreeMap<String, String>,
    signing_key: Secret,
}

impl Campaign {
    pub fn from_config(config: &Config) -> Self {
        let s = &config.settings;
        Self {
            service: s.campaign.service.clone(),
            deadline: config.deadline.clone(),
            public_url: config.public_url.clone(),
            ios: s.links.ios.clone(),
            android: s.links.android.clone(),
            web: s.links.web.clone(),
            link_account: s.links.link_account.clone(),
            vars: s.campaign.vars.clone(),
            signing_key: config.secrets.signing_key.clone(),
        }
    }

    pub fn countdown_at(&self, now: Timestamp) -> Countdown {
        self.deadline.countdown_at(now)
    }

    /// Cookies are marked Secure when users reach us over https.
    pub fn public_url_is_https(&self) -> bool {
        self.public_url.scheme() == "https"
    }

    pub fn linking_enabled(&self) -> bool {
        !self.link_account.is_empty()
    }

    /// The store page for the device a user agent names.
    pub fn app_link_for(&self, user_agent: &str) -> &str {
        if ["iPhone", "iPad", "iPod"]
            .iter()
            .any(|d| user_agent.contains(d))
        {
            &self.ios
        } else if user_agent.contains("Android") {
            &self.android
        } else {
            &self.web
        }
    }

    /// The external account-linking URL a valid token redirects to.
    pub fn link_account_target(&self, token: &str) -> String {
        self.link_account.replace("{token}", token)
    }

    /// `{public_url}/link/{token}`.
    fn account_link(&self, token: &str) -> String {
        self.public(&format!("link/{token}"))
    }

    fn public(&self, path: &str) -> String {
        format!("{}/{path}", self.public_url.as_str().trim_end_matches('/'))
    }

    /// The variables of a notice for one user: its own smart link and a
    /// link token bound to the user and the business number.
    pub fn notice_args(
        &self,
        now: Timestamp,
        notice_id: i64,
        phone_number_id: &str,
        user_key: &str,
    ) -> NoticeArgs {
        let key = self.signing_key.expose();
        let code = signing::smart_link_code(key, notice_id);
        let expires = (self.deadline.instant.max(now) + LINK_TOKEN_GRACE).as_second();
        let countdown = self.countdown_at(now);
        let token = signing::link_token(key, phone_number_id, user_key, expires);
        self.args(countdown, &code, &token)
    }

    /// A notice as stored: the account link's token names the user and
    /// opens the linking page, so the log keeps `{token}` in its place.
    pub fn without_link_token(&self, text: &str, args: &NoticeArgs) -> String {
        match &args.link_account {
            Some(link) => text.replace(link.as_str(), &self.account_link("{token}")),
            None => text.to_owned(),
        }
    }

    /// The variables a locale set is checked with: this campaign's own,
    /// and a link code and token at least as long as any a notice gets (a
    /// BSUID of 64 characters, the largest notice id).
    pub fn sample_args(&self) -> NoticeArgs {
        let key = self.signing_key.expose();
        let code = signing::smart_link_code(key, i64::MAX);
        // As long as a token gets: the longest BSUID we take is its user.
        let user = "X".repeat(Bsuid::MAX_LEN);
        let token = signing::link_token(key, &"0".repeat(20), &user, i64::MAX);
        let mut args = self.args(self.countdown_at(Timestamp::now()), &code, &token);
        // Checked with and without linking, whatever this campaign does.
        args.link_account = Some(self.account_link(&token));
        args
    }

    /// The variables `sunset preview` shows: `PREVIEW` for code and token.
    pub fn preview_args(&self, countdown: Countdown) -> NoticeArgs {
        self.args(countdown, "PREVIEW", "PREVIEW")
    }

    fn args(&self, countdown: Countdown, code: &str, token: &str) -> NoticeArgs {
        let last_day = (self.deadline.instant - SignedDuration::from_secs(1))
            .to_zoned_datetime(self.deadline.time_zone.clone())
            .date();
        NoticeArgs {
            service: self.service.clone(),
            countdown,
            last_day,
            app_link: self.public(&format!("l/{code}")),
            link_account: self.linking_enabled().then(|| self.account_link(token)),
            ios: self.ios.clone(),
            android: self.android.clone(),
            web: self.web.clone(),
            vars: self.vars.clone(),
            country: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_links_a_check_renders_with_are_as_long_as_any_user_gets() {
        let env = BTreeMap::from([
            ("SUNSET_CAMPAIGN__DEADLINE", "2027-06-30T23:59:59Z"),
            (
                "SUNSET_LINKS__LINK_ACCOUNT",
                "https://example.com/link?token={token}",
            ),
        ])
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let config = Config::load_with(std::path::Path::new("/nonexistent.toml"), &env).unwrap();
        let campaign = Campaign::from_config(&config);
        let longest_user = format!("US.{}", "A".repeat(140));
        assert!(Bsuid::parse(&longest_user).is_some());
        let real = campaign.notice_args(
            Timestamp::now(),
            i64::MAX,
            "1234567890123456",
            &longest_user,
        );
        let sample = campaign.sample_args();
        assert!(sample.app_link.len() >= real.app_link.len());
        let length = |args: &NoticeArgs| args.link_account.as_ref().map(String::len);
        assert!(length(&sample) >= length(&real), "{sample:?}");
    }
}
