//! The reply policy: exactly one decision per inbound message.

use super::countdown::Phase;
use super::keywords::Keyword;
use super::message::{InboundMessage, MessageKind};
use super::notice::NoticeKind;
use jiff::{SignedDuration, Timestamp};
use std::fmt;

/// WhatsApp allows a free-form reply only within 24 hours of the user's
/// latest message; past it the Graph API answers 131047.
pub const REPLY_WINDOW: SignedDuration = SignedDuration::from_hours(24);

/// What was done with one inbound message. The order of the variants is the
/// order in which they are tried: the first that applies wins.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Decision {
    /// The message id was seen before (Meta retries, other boxes).
    Duplicate,
    /// Reactions, system messages, unsupported ones, groups, other numbers.
    Ignored,
    /// Older than the 24-hour window: a reply would fail.
    Expired,
    /// A stop, start or language keyword.
    Keyword,
    /// The user opted out earlier.
    OptedOut,
    /// The user tripped the flood breaker.
    Suppressed,
    /// A notice went out recently and nothing it said has changed.
    Coalesced,
    /// The notice is due.
    Notified,
}

impl Decision {
    pub const ALL: [Decision; 8] = [
        Self::Duplicate,
        Self::Ignored,
        Self::Expired,
        Self::Keyword,
        Self::OptedOut,
        Self::Suppressed,
        Self::Coalesced,
        Self::Notified,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Duplicate => "duplicate",
            Self::Ignored => "ignored",
            Self::Expired => "expired",
            Self::Keyword => "keyword",
            Self::OptedOut => "opted_out",
            Self::Suppressed => "suppressed",
            Self::Coalesced => "coalesced",
            Self::Notified => "notified",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.as_str() == raw)
    }
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The last notice a user was sent, as far as coalescing cares.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LastNotice {
    pub at: Timestamp,
    pub phase: Phase,
    pub locale: String,
}

/// The flood breaker's window: a sender writing more than this many
/// messages in one window (another bot, a script) is suppressed.
pub const FLOOD_WINDOW: SignedDuration = SignedDuration::from_secs(60);
pub const FLOOD_LIMIT: u32 = 10;

/// Messages a user sent in the current flood window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FloodWindow {
    pub start: Timestamp,
    pub count: u32,
}

impl FloodWindow {
    /// The window after one more message at `now`.
    pub fn record(previous: Option<FloodWindow>, now: Timestamp) -> FloodWindow {
        match previous {
            Some(window) if now.duration_since(window.start) < FLOOD_WINDOW => FloodWindow {
                start: window.start,
                count: window.count.saturating_add(1),
            },
            _ => FloodWindow {
                start: now,
                count: 1,
            },
        }
    }

    pub fn tripped(&self) -> bool {
        self.count > FLOOD_LIMIT
    }
}

/// What is stored about the user at the moment the message is decided.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserState {
    pub opted_out: bool,
    pub last_notice: Option<LastNotice>,
    /// The flood window including the message being decided.
    pub flood: Option<FloodWindow>,
}

/// What a decision changes on the user's record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UserChange {
    OptOut,
    OptIn,
    /// The language keyword's locale becomes the user's stored choice.
    ChooseLocale(String),
}

/// The decision, what to send and what to remember.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    pub decision: Decision,
    pub reply: Option<NoticeKind>,
    pub change: Option<UserChange>,
}

impl Verdict {
    fn silent(decision: Decision) -> Self {
        Self {
            decision,
            reply: None,
            change: None,
        }
    }
}

/// Everything the decision depends on.
pub struct Situation<'a> {
    pub message: &'a InboundMessage,
    pub seen_before: bool,
    /// The keyword the whole message is, if any.
    pub keyword: Option<&'a Keyword>,
    pub user: &'a UserState,
    /// The phase and locale a notice sent now would have.
    pub phase: Phase,
    pub locale: &'a str,
    pub now: Timestamp,
}

/// The campaign's reply settings.
#[derive(Clone, Debug)]
pub struct ReplyPolicy {
    pub min_reply_interval: SignedDuration,
    /// The business numbers answered for; empty means all of them.
    pub answered_numbers: Vec<String>,
}

impl ReplyPolicy {
    pub fn decide(&self, s: &Situation<'_>) -> Verdict {
        if s.seen_before {
            return Verdict::silent(Decision::Duplicate);
        }
        if self.is_ignored(s.message) {
            return Verdict::silent(Decision::Ignored);
        }
        if s.now.duration_since(s.message.sent_at) > REPLY_WINDOW {
            return Verdict::silent(Decision::Expired);
        }
        let keyword = |reply, change| Verdict {
            decision: Decision::Keyword,
            reply: Some(reply),
            change: Some(change),
        };
        match (s.keyword, s.user.opted_out) {
            // A stop or start word is a keyword whoever sends it, and is
            // confirmed: a second STOP gets the confirmation again (the
            // first may not have been seen), and nothing else is answered.
            (Some(Keyword::Stop), _) => {
                return keyword(NoticeKind::StopConfirmation, UserChange::OptOut);
            }
            (Some(Keyword::Start), _) => {
                return keyword(NoticeKind::StartConfirmation, UserChange::OptIn);
            }
            (Some(Keyword::Language(locale)), false) => {
                return keyword(NoticeKind::Notice, UserChange::ChooseLocale(locale.clone()));
            }
            (_, true) => return Verdict::silent(Decision::OptedOut),
            (None, false) => {}
        }
        if s.user.flood.is_some_and(|f| f.tripped()) {
            return Verdict::silent(Decision::Suppressed);
        }
        if self.is_coalesced(s) {
            return Verdict::silent(Decision::Coalesced);
        }
        Verdict {
            decision: Decision::Notified,
            reply: Some(NoticeKind::Notice),
            change: None,
        }
    }

    fn is_ignored(&self, message: &InboundMessage) -> bool {
        let other_number = !self.answered_numbers.is_empty()
            && !self.answered_numbers.contains(&message.phone_number_id);
        message.kind != MessageKind::Conversational || message.in_group || other_number
    }

    /// A new phase or a new language is news worth a second notice.
    fn is_coalesced(&self, s: &Situation<'_>) -> bool {
        // "0s" answers every message, even two that race in one instant.
        !self.min_reply_interval.is_zero()
            && s.user.last_notice.as_ref().is_some_and(|last| {
                s.now.duration_since(last.at) < self.min_reply_interval
                    && last.phase == s.phase
                    && last.locale == s.locale
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::{UserRef, WaId};

    fn message(kind: &str, sent_at: Timestamp) -> InboundMessage {
        InboundMessage {
            id: "wamid.1".into(),
            phone_number_id: "100".into(),
            from: UserRef::new(WaId::parse("15551234567"), None).unwrap(),
            profile_name: None,
            wire_type: kind.into(),
            kind: MessageKind::from_wire_type(kind),
            text: None,
            sent_at,
            in_group: false,
            identity_change: None,
        }
    }

    fn policy() -> ReplyPolicy {
        ReplyPolicy {
            min_reply_interval: SignedDuration::from_hours(1),
            answered_numbers: vec![],
        }
    }

    fn decide(
        policy: &ReplyPolicy,
        message: &InboundMessage,
        user: &UserState,
        now: Timestamp,
    ) -> Decision {
        decide_keyword(policy, message, user, now, None).decision
    }

    fn decide_keyword(
        policy: &ReplyPolicy,
        message: &InboundMessage,
        user: &UserState,
        now: Timestamp,
        keyword: Option<&Keyword>,
    ) -> Verdict {
        policy.decide(&Situation {
            message,
            seen_before: false,
            keyword,
            user,
            phase: Phase::Countdown,
            locale: "en",
            now,
        })
    }

    #[test]
    fn the_first_rule_that_applies_wins() {
        let now = Timestamp::now();
        let fresh = UserState::default();
        let old = now - SignedDuration::from_hours(48);
        assert_eq!(
            decide(&policy(), &message("reaction", old), &fresh, now),
            Decision::Ignored
        );
        assert_eq!(
            decide(&policy(), &message("text", old), &fresh, now),
            Decision::Expired
        );
        assert_eq!(
            decide(&policy(), &message("text", now), &fresh, now),
            Decision::Notified
        );
        assert_eq!(
            decide(&policy(), &message("a_type_from_2027", now), &fresh, now),
            Decision::Notified
        );
        let opted_out = UserState {
            opted_out: true,
            ..UserState::default()
        };
        assert_eq!(
            decide(&policy(), &message("text", now), &opted_out, now),
            Decision::OptedOut
        );
    }

    #[test]
    fn a_recent_notice_coalesces_unless_phase_or_locale_changed() {
        let now = Timestamp::now();
        let recent = |phase, locale: &str| UserState {
            opted_out: false,
            last_notice: Some(LastNotice {
                at: now - SignedDuration::from_mins(10),
                phase,
                locale: locale.into(),
            }),
            flood: None,
        };
        let text = message("text", now);
        assert_eq!(
            decide(&policy(), &text, &recent(Phase::Countdown, "en"), now),
            Decision::Coalesced
        );
        assert_eq!(
            decide(&policy(), &text, &recent(Phase::Countdown, "ar"), now),
            Decision::Notified
        );
        assert_eq!(
            decide(&policy(), &text, &recent(Phase::FinalDay, "en"), now),
            Decision::Notified
        );
        let every_message = ReplyPolicy {
            min_reply_interval: SignedDuration::ZERO,
            ..policy()
        };
        assert_eq!(
            decide(&every_message, &text, &recent(Phase::Countdown, "en"), now),
            Decision::Notified
        );
    }

    #[test]
    fn stop_and_start_always_confirm_and_a_language_switches() {
        let now = Timestamp::now();
        let text = message("text", now);
        let fresh = UserState::default();
        let opted_out = UserState {
            opted_out: true,
            ..UserState::default()
        };
        let stop = decide_keyword(&policy(), &text, &fresh, now, Some(&Keyword::Stop));
        assert_eq!(stop.reply, Some(NoticeKind::StopConfirmation));
        assert_eq!(stop.change, Some(UserChange::OptOut));
        let again = decide_keyword(&policy(), &text, &opted_out, now, Some(&Keyword::Stop));
        assert_eq!(
            (again.decision, again.reply),
            (Decision::Keyword, Some(NoticeKind::StopConfirmation))
        );
        let start = decide_keyword(&policy(), &text, &opted_out, now, Some(&Keyword::Start));
        assert_eq!(
            (start.decision, start.reply),
            (Decision::Keyword, Some(NoticeKind::StartConfirmation))
        );
        let english = Keyword::Language("en".into());
        let switch = decide_keyword(&policy(), &text, &fresh, now, Some(&english));
        assert_eq!(switch.change, Some(UserChange::ChooseLocale("en".into())));
        assert_eq!(switch.reply, Some(NoticeKind::Notice));
        let silent = decide_keyword(&policy(), &text, &opted_out, now, Some(&english));
        assert_eq!(silent.decision, Decision::OptedOut);
    }

    #[test]
    fn a_flooding_sender_is_suppressed_until_the_window_passes() {
        let now = Timestamp::now();
        let mut window = None;
        let mut decisions = vec![];
        for i in 0..15 {
            let at = now + SignedDuration::from_secs(i);
            window = Some(FloodWindow::record(window, at));
            let user = UserState {
                flood: window,
                ..UserState::default()
            };
            let zero = ReplyPolicy {
                min_reply_interval: SignedDuration::ZERO,
                ..policy()
            };
            decisions.push(decide(&zero, &message("text", at), &user, at));
        }
        assert_eq!(
            decisions
                .iter()
                .filter(|d| **d == Decision::Notified)
                .count(),
            FLOOD_LIMIT as usize
        );
        assert_eq!(decisions[14], Decision::Suppressed);
        let later = FloodWindow::record(window, now + SignedDuration::from_mins(2));
        assert_eq!(later.count, 1);
    }

    #[test]
    fn numbers_outside_the_campaign_and_groups_are_ignored() {
        let now = Timestamp::now();
        let only_other = ReplyPolicy {
            answered_numbers: vec!["999".into()],
            ..policy()
        };
        let text = message("text", now);
        assert_eq!(
            decide(&only_other, &text, &UserState::default(), now),
            Decision::Ignored
        );
        let group = InboundMessage {
            in_group: true,
            ..message("text", now)
        };
        assert_eq!(
            decide(&policy(), &group, &UserState::default(), now),
            Decision::Ignored
        );
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        fn keyword() -> impl Strategy<Value = Option<Keyword>> {
            prop_oneof![
                6 => Just(None),
                1 => Just(Some(Keyword::Stop)),
                1 => Just(Some(Keyword::Start)),
                1 => Just(Some(Keyword::Language("ar".into()))),
            ]
        }

        proptest! {
            /// Replays a user's messages the way the store applies verdicts.
            #[test]
            fn no_unasked_second_notice_within_the_interval_and_none_after_stop(
                steps in prop::collection::vec((0i64..5400, keyword()), 1..60),
                interval_minutes in 0i64..120,
            ) {
                let policy = ReplyPolicy { min_reply_interval: SignedDuration::from_mins(interval_minutes), answered_numbers: vec![] };
                let mut now = Timestamp::from_second(1_800_000_000).unwrap();
                let mut user = UserState::default();
                let mut locale = "en".to_string();
                for (gap, keyword) in steps {
                    now += SignedDuration::from_secs(gap);
                    user.flood = Some(FloodWindow::record(user.flood, now));
                    let text = message("text", now);
                    if let Some(Keyword::Language(l)) = &keyword { locale = l.clone(); }
                    let verdict = policy.decide(&Situation {
                        message: &text, seen_before: false, keyword: keyword.as_ref(), user: &user,
                        phase: Phase::Countdown, locale: &locale, now,
                    });
                    match verdict.decision {
                        Decision::Notified => prop_assert_eq!(verdict.reply, Some(NoticeKind::Notice)),
                        Decision::Suppressed | Decision::Coalesced | Decision::OptedOut => prop_assert_eq!(verdict.reply, None),
                        _ => {}
                    }
                    if user.opted_out && keyword != Some(Keyword::Start) {
                        let confirmation = (keyword == Some(Keyword::Stop)).then_some(NoticeKind::StopConfirmation);
                        prop_assert_eq!(verdict.reply, confirmation);
                    }
                    if verdict.decision == Decision::Notified && let Some(last) = &user.last_notice {
                        let changed = last.locale != locale || last.phase != Phase::Countdown;
                        prop_assert!(changed || now.duration_since(last.at) >= policy.min_reply_interval);
                    }
                    match verdict.change {
                        Some(UserChange::OptOut) => user.opted_out = true,
                        Some(UserChange::OptIn) => user.opted_out = false,
                        _ => {}
                    }
                    if verdict.reply == Some(NoticeKind::Notice) {
                        user.last_notice = Some(LastNotice { at: now, phase: Phase::Countdown, locale: locale.clone() });
                    }
                }
            }
        }
    }
}
