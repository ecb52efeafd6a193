//! Deciding a group of inbound messages in memory. A store loads the users
//! the group's senders may be and the message ids it has already seen; this
//! module decides every message in arrival order, exactly as one message at
//! a time would, and hands back the rows to write with a few multi-row
//! statements.

use crate::domain::countdown::Phase;
use crate::domain::decision::{
    Decision, FLOOD_LIMIT, FloodWindow, LastNotice, ReplyPolicy, Situation, UserChange, UserState,
};
use crate::domain::keywords::Keyword;
use crate::domain::locale::{LocaleChooser, LocaleSource};
use crate::domain::message::{InboundMessage, MessageKind};
use crate::domain::notice::NoticeKind;
use crate::signing::pseudonym;
use crate::store::log::StoredRow;
use crate::store::{IngestContext, Ingested, StoreError, flood_window, from_millis, millis};
use jiff::Timestamp;
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;

/// A message with the work that needs no stored state already done, so
/// that the one writer only decides.
pub(crate) struct Prepared {
    pub message: InboundMessage,
    pub keyword: Option<Keyword>,
    /// The locale if the user has no stored choice.
    pub detected: (String, LocaleSource),
    /// The pseudonym a new record for this sender gets.
    pub pseudonym: String,
}

/// One caller's messages and what their decisions depend on.
pub(crate) struct Job {
    pub policy: Arc<ReplyPolicy>,
    pub chooser: Arc<LocaleChooser>,
    pub phase: Phase,
    pub now: Timestamp,
    pub messages: Vec<Prepared>,
}

impl Job {
    pub fn new(messages: Vec<InboundMessage>, ctx: &IngestContext<'_>) -> Self {
        let messages = messages
            .into_iter()
            .map(|message| {
                let text = message.text.as_deref();
                Prepared {
                    keyword: text.and_then(|t| ctx.keywords.classify(t)).cloned(),
                    detected: ctx.chooser.detect(text, message.from.country()),
                    pseudonym: pseudonym(
                        ctx.signing_key,
                        &message.phone_number_id,
                        message.from.key(),
                    ),
                    message,
                }
            })
            .collect();
        Self {
            policy: Arc::clone(ctx.policy),
            chooser: Arc::clone(ctx.chooser),
            phase: ctx.phase,
            now: ctx.now,
            messages,
        }
    }
}

/// A user's record as ingest reads and writes it (not `linked_at`, which
/// only the linking call sets).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct UserRecord {
    pub id: i64,
    pub phone_number_id: String,
    pub bsuid: Option<String>,
    pub wa_id: Option<String>,
    pub pseudonym: String,
    pub country: Option<String>,
    pub profile_name: Option<String>,
    pub chosen_locale: Option<String>,
    pub opted_out: bool,
    pub last_message_at: Option<i64>,
    pub last_notice: Option<LastNotice>,
    pub flood: Option<FloodWindow>,
    pub created_at: i64,
}

/// The columns a store selects for [`UserRecord::from_row`], after `id`.
pub(crate) const USER_COLUMNS: &str = "phone_number_id, bsuid, wa_id, pseudonym, country, profile_name, \
     chosen_locale, opted_out, last_message_at, last_notice_at, last_notice_phase, last_notice_locale, \
     flood_window_start, flood_count, created_at";

impl UserRecord {
    /// A user row as either store returns it, with `id` and [`USER_COLUMNS`].
    pub fn from_row(row: &impl StoredRow) -> Result<Self, StoreError> {
        let id = row.int("id")?;
        let last_notice = match row.maybe_int("last_notice_at")? {
            Some(at) => Some(LastNotice {
                at: from_millis(at)?,
                phase: row
                    .maybe_text("last_notice_phase")?
                    .as_deref()
                    .and_then(Phase::parse)
                    .ok_or_else(|| StoreError::Corrupt(format!("user {id}: last_notice_phase")))?,
                locale: row.maybe_text("last_notice_locale")?.unwrap_or_default(),
            }),
            None => None,
        };
        Ok(Self {
            id,
            phone_number_id: row.text("phone_number_id")?,
            bsuid: row.maybe_text("bsuid")?,
            wa_id: row.maybe_text("wa_id")?,
            pseudonym: row.text("pseudonym")?,
            country: row.maybe_text("country")?,
            profile_name: row.maybe_text("profile_name")?,
            chosen_locale: row.maybe_text("chosen_locale")?,
            opted_out: row.flag("opted_out")?,
            last_message_at: row.maybe_int("last_message_at")?,
            last_notice,
            flood: flood_window(
                row.maybe_int("flood_window_start")?,
                row.int("flood_count")?,
            )?,
            created_at: row.int("created_at")?,
        })
    }
}

/// One row of the inbound log.
#[derive(Clone, Debug)]
pub(crate) struct InboundRow {
    pub id: i64,
    pub message_id: String,
    pub received_at: i64,
    pub message_sent_at: i64,
    pub phone_number_id: String,
    pub user_id: i64,
    pub inbound_type: String,
    pub country: Option<String>,
    pub locale: String,
    pub locale_source: &'static str,
    pub decision: &'static str,
}

/// A queued notice.
#[derive(Clone, Debug)]
pub(crate) struct NoticeRow {
    pub id: i64,
    pub inbound_id: i64,
    pub user_id: i64,
    pub phone_number_id: String,
    pub kind: &'static str,
    pub locale: String,
    pub created_at: i64,
}

/// Ids the planner may give new rows, in order: at least one of each per
/// message of the group. A notice takes its inbound row's id, so the log's
/// `id` is the `biz_opaque_callback_data` of the notice sent for it.
#[derive(Clone, Debug, Default)]
pub(crate) struct FreeIds {
    pub users: VecDeque<i64>,
    pub inbound: VecDeque<i64>,
}

/// One user id and one inbound id per message, in the order they were
/// handed out.
impl FromIterator<(i64, i64)> for FreeIds {
    fn from_iter<I: IntoIterator<Item = (i64, i64)>>(ids: I) -> Self {
        let mut free = Self::default();
        for (user, inbound) in ids {
            free.users.push_back(user);
            free.inbound.push_back(inbound);
        }
        free
    }
}

fn take(free: &mut VecDeque<i64>) -> Result<i64, StoreError> {
    free.pop_front()
        .ok_or_else(|| StoreError::Corrupt("the group ran out of row ids".into()))
}

/// A stored record merged into another of the same person: its phone is
/// freed before the group's rows are written; after them, its messages,
/// notices and link move to `into` and it is deleted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub(crate) struct Merge {
    pub from: i64,
    pub into: i64,
}

/// What to write for a group, and each job's outcomes.
#[derive(Debug, Default)]
pub(crate) struct Plan {
    pub new_users: Vec<UserRecord>,
    pub changed_users: Vec<UserRecord>,
    pub merges: Vec<Merge>,
    /// Stored records whose phone is set free before any row is written:
    /// merged ones, and those whose number went to someone else.
    pub phones_freed: Vec<i64>,
    pub inbound: Vec<InboundRow>,
    pub notices: Vec<NoticeRow>,
    pub outcomes: Vec<Vec<Ingested>>,
}

impl Plan {
    /// True when the group has no row to write.
    pub fn is_empty(&self) -> bool {
        self.new_users.is_empty()
            && self.changed_users.is_empty()
            && self.merges.is_empty()
            && self.inbound.is_empty()
            && self.notices.is_empty()
    }
}

/// (business number, id) pairs to look users up by.
pub(crate) type SenderKeys<'a> = Vec<(&'a str, &'a str)>;

/// The ids of one sender a lookup must cover: who they are now, and who a
/// `system` message says they become.
pub(crate) fn sender_keys<'a>(jobs: &[&'a Job]) -> (SenderKeys<'a>, SenderKeys<'a>) {
    let mut bsuids = vec![];
    let mut wa_ids = vec![];
    for prepared in jobs.iter().flat_map(|job| &job.messages) {
        let m = &prepared.message;
        let number = m.phone_number_id.as_str();
        let change = m.identity_change.as_ref();
        let bsuid = m
            .from
            .bsuid
            .iter()
            .chain(change.and_then(|c| c.new_bsuid.as_ref()));
        bsuids.extend(bsuid.map(|b| (number, b.as_str())));
        let wa_id = m
            .from
            .wa_id
            .iter()
            .chain(change.and_then(|c| c.new_wa_id.as_ref()));
        wa_ids.extend(wa_id.map(|w| (number, w.as_str())));
    }
    (bsuids, wa_ids)
}

/// Every message id in the group, to look up which were seen before.
pub(crate) fn message_ids<'a>(jobs: &[&'a Job]) -> Vec<&'a str> {
    jobs.iter()
        .flat_map(|job| &job.messages)
        .map(|p| p.message.id.as_str())
        .collect()
}

type Key = (String, String);

/// The users of the group, findable by either id, and what they were.
struct Directory {
    users: Vec<UserRecord>,
    loaded: Vec<Option<UserRecord>>,
    by_bsuid: HashMap<Key, usize>,
    by_wa_id: HashMap<Key, usize>,
    /// Ids a record gave up in this group: not handed to another record
    /// before the group is written, so no row update can collide.
    released: HashSet<Key>,
    /// (merged record, the record it went into), by slot.
    merged: Vec<(usize, usize)>,
    /// Records whose phone went to another person (a recycled number).
    phones_taken: Vec<usize>,
}

impl Directory {
    fn new(loaded: Vec<UserRecord>) -> Self {
        let mut directory = Self {
            users: vec![],
            loaded: vec![],
            by_bsuid: HashMap::new(),
            by_wa_id: HashMap::new(),
            released: HashSet::new(),
            merged: vec![],
            phones_taken: vec![],
        };
        for user in loaded {
            directory.add(user, true);
        }
        directory
    }

    fn add(&mut self, user: UserRecord, loaded: bool) -> usize {
        let slot = self.users.len();
        let number = &user.phone_number_id;
        if let Some(bsuid) = &user.bsuid {
            self.by_bsuid.insert((number.clone(), bsuid.clone()), slot);
        }
        if let Some(wa_id) = &user.wa_id {
            self.by_wa_id.insert((number.clone(), wa_id.clone()), slot);
        }
        self.loaded.push(loaded.then(|| user.clone()));
        self.users.push(user);
        slot
    }

    /// The sender's record: by BSUID, else by phone, unless the phone's
    /// record has another BSUID (the number was given to someone else).
    fn find(&self, number: &str, bsuid: Option<&str>, wa_id: Option<&str>) -> Option<usize> {
        let key = |id: &str| (number.to_owned(), id.to_owned());
        if let Some(&slot) = bsuid.and_then(|b| self.by_bsuid.get(&key(b))) {
            return Some(slot);
        }
        let slot = *wa_id.and_then(|w| self.by_wa_id.get(&key(w)))?;
        match (bsuid, self.users[slot].bsuid.as_deref()) {
            (Some(theirs), Some(holder)) if theirs != holder => None,
            _ => Some(slot),
        }
    }

    fn index(&mut self, kind: IdKind) -> &mut HashMap<Key, usize> {
        match kind {
            IdKind::Bsuid => &mut self.by_bsuid,
            IdKind::WaId => &mut self.by_wa_id,
        }
    }

    /// Gives the record an id of `kind`, as `take` says when, unless
    /// another record holds it; a phone held by a record with no BSUID is
    /// merged in.
    fn set_id(&mut self, kind: IdKind, slot: usize, id: &str, take: Take) {
        let key = (self.users[slot].phone_number_id.clone(), id.to_owned());
        let current = kind.of(&mut self.users[slot]).clone();
        if current.as_deref() == Some(id) || (current.is_some() && take == Take::IfMissing) {
            return;
        }
        if let Some(&holder) = self.index(kind).get(&key) {
            if holder == slot {
                return;
            }
            let phone_only = matches!(kind, IdKind::WaId) && self.users[holder].bsuid.is_none();
            // A phone-only record is the same person first seen by phone.
            // PostgreSQL makes the records of a group's senders before the
            // group: one no message reached yet is no one's, and a number
            // change onto it moves in as onto a free number.
            let same_person = match take {
                Take::NumberChange => phone_only && self.users[holder].last_message_at.is_none(),
                Take::IfMissing | Take::Latest => phone_only,
            };
            if same_person {
                self.release(kind, slot, current);
                self.merge(holder, slot, key);
                return;
            }
            match (take, kind) {
                (Take::IfMissing, _) => return,
                // A new BSUID with a record of its own is the same person:
                // both records stay, and the person's choices go along.
                (Take::NumberChange, IdKind::Bsuid) => return self.carry_choices(slot, holder),
                // A new number held by a record without a BSUID, maybe the
                // person seen by phone before: both stay, the choices go
                // along, and the number the person left is not theirs now.
                (Take::NumberChange, IdKind::WaId) if phone_only => {
                    self.carry_choices(slot, holder);
                    self.release(kind, slot, current);
                    *kind.of(&mut self.users[slot]) = None;
                    return;
                }
                // WhatsApp gave the number to this sender, whose BSUID is
                // not the holder's: the holder no longer has it.
                (Take::NumberChange | Take::Latest, _) => {
                    *kind.of(&mut self.users[holder]) = None;
                    self.phones_taken.push(holder);
                }
            }
        } else if self.released.contains(&key) {
            return;
        }
        self.release(kind, slot, current);
        self.index(kind).insert(key, slot);
        *kind.of(&mut self.users[slot]) = Some(id.to_owned());
    }

    /// Takes the record's id of `kind` out of the index, kept from every
    /// other record until the group is written.
    fn release(&mut self, kind: IdKind, slot: usize, current: Option<String>) {
        if let Some(old) = current {
            let old = (self.users[slot].phone_number_id.clone(), old);
            self.index(kind).remove(&old);
            self.released.insert(old);
        }
    }

    /// A record known only by a phone that now arrives beside a BSUID with
    /// a record of its own: one person, first seen before WhatsApp gave
    /// them a BSUID (or with the phone hidden). The BSUID's record takes
    /// the phone, the person's choices and their latest notice and
    /// message; the phone's record goes.
    fn merge(&mut self, from: usize, into: usize, phone: Key) {
        self.carry_choices(from, into);
        let gone = &mut self.users[from];
        let (last_message_at, last_notice) = (gone.last_message_at, gone.last_notice.take());
        gone.wa_id = None;
        let kept = &mut self.users[into];
        kept.last_message_at = kept.last_message_at.max(last_message_at);
        if last_notice.as_ref().map(|n| n.at) > kept.last_notice.as_ref().map(|n| n.at) {
            kept.last_notice = last_notice;
        }
        kept.wa_id = Some(phone.1.clone());
        self.by_wa_id.insert(phone, into);
        self.merged.push((from, into));
    }

    /// A number change onto a number with a record of its own keeps both
    /// records, but the person's opt-out and language choice go with them.
    fn carry_choices(&mut self, from: usize, to: usize) {
        let opted_out = self.users[from].opted_out;
        let chosen = self.users[from].chosen_locale.clone();
        let target = &mut self.users[to];
        target.opted_out |= opted_out;
        if target.chosen_locale.is_none() {
            target.chosen_locale = chosen;
        }
    }
}

/// When a record takes an id it is seen with.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Take {
    /// Only when it has none of that kind.
    IfMissing,
    /// In place of its own: the phone a message comes from is the
    /// sender's phone now, whoever had it before.
    Latest,
    /// A `system` message moved the person to it.
    NumberChange,
}

/// The two ids a record is found by.
#[derive(Clone, Copy)]
enum IdKind {
    Bsuid,
    WaId,
}

impl IdKind {
    fn of(self, user: &mut UserRecord) -> &mut Option<String> {
        match self {
            IdKind::Bsuid => &mut user.bsuid,
            IdKind::WaId => &mut user.wa_id,
        }
    }
}

/// Decides every message of the group in order. `seen` holds the message
/// ids already stored; `loaded` the users any sender key matches.
pub(crate) fn plan(
    jobs: &[&Job],
    seen: &HashSet<String>,
    loaded: Vec<UserRecord>,
    mut ids: FreeIds,
) -> Result<Plan, StoreError> {
    let mut directory = Directory::new(loaded);
    let mut fresh: HashSet<&str> = HashSet::new();
    let mut plan = Plan::default();
    for job in jobs {
        let now = millis(job.now);
        let mut outcomes = Vec::with_capacity(job.messages.len());
        for prepared in &job.messages {
            let message = &prepared.message;
            let seen_before = seen.contains(&message.id) || !fresh.insert(&message.id);
            // A retry changes no record, and makes none for a person forgotten.
            if seen_before {
                outcomes.push(Ingested {
                    message_id: message.id.clone(),
                    decision: Decision::Duplicate,
                    notice_id: None,
                    pseudonym: prepared.pseudonym.clone(),
                });
                continue;
            }
            let slot = resolve_user(&mut directory, prepared, now, &mut ids)?;
            let user = &mut directory.users[slot];
            let flood = FloodWindow::record(user.flood, job.now);
            if flood.count == FLOOD_LIMIT + 1 {
                tracing::warn!(
                    user = %user.pseudonym,
                    "flood breaker tripped: further messages this minute are suppressed"
                );
            }
            user.flood = Some(flood);
            // A language keyword counts only from a user who has not opted out.
            let (locale, source) = match &prepared.keyword {
                Some(Keyword::Language(locale)) if !user.opted_out => {
                    (locale.clone(), LocaleSource::Keyword)
                }
                _ => job
                    .chooser
                    .choose_detected(user.chosen_locale.as_deref(), || prepared.detected.clone()),
            };
            let state = UserState {
                opted_out: user.opted_out,
                last_notice: user.last_notice.clone(),
                flood: user.flood,
            };
            let verdict = job.policy.decide(&Situation {
                message,
                seen_before,
                keyword: prepared.keyword.as_ref(),
                user: &state,
                phase: job.phase,
                locale: &locale,
                now: job.now,
            });
            let inbound_id = take(&mut ids.inbound)?;
            match &verdict.change {
                Some(UserChange::OptOut) => user.opted_out = true,
                Some(UserChange::OptIn) => user.opted_out = false,
                Some(UserChange::ChooseLocale(chosen)) => user.chosen_locale = Some(chosen.clone()),
                None => {}
            }
            let mut notice_id = None;
            if let Some(kind) = verdict.reply {
                notice_id = Some(inbound_id);
                plan.notices.push(NoticeRow {
                    id: inbound_id,
                    inbound_id,
                    user_id: user.id,
                    phone_number_id: message.phone_number_id.clone(),
                    kind: kind.as_str(),
                    locale: locale.clone(),
                    created_at: now,
                });
                if kind == NoticeKind::Notice {
                    user.last_notice = Some(LastNotice {
                        at: job.now,
                        phase: job.phase,
                        locale: locale.clone(),
                    });
                }
            }
            if message.kind != MessageKind::System {
                let sent_at = millis(message.sent_at);
                user.last_message_at =
                    Some(user.last_message_at.map_or(sent_at, |at| at.max(sent_at)));
            }
            plan.inbound.push(InboundRow {
                id: inbound_id,
                message_id: message.id.clone(),
                received_at: now,
                message_sent_at: millis(message.sent_at),
                phone_number_id: message.phone_number_id.clone(),
                user_id: user.id,
                inbound_type: message.wire_type.clone(),
                country: message.from.country().map(|c| c.to_string()),
                locale,
                locale_source: source.as_str(),
                decision: verdict.decision.as_str(),
            });
            outcomes.push(Ingested {
                message_id: message.id.clone(),
                decision: verdict.decision,
                notice_id,
                pseudonym: user.pseudonym.clone(),
            });
        }
        plan.outcomes.push(outcomes);
    }
    let mut gone = HashSet::new();
    for &(from, into) in &directory.merged {
        let (from_id, into_id) = (directory.users[from].id, directory.users[into].id);
        for row in plan.inbound.iter_mut().filter(|r| r.user_id == from_id) {
            row.user_id = into_id;
        }
        for row in plan.notices.iter_mut().filter(|r| r.user_id == from_id) {
            row.user_id = into_id;
        }
        if directory.loaded[from].is_some() {
            plan.merges.push(Merge {
                from: from_id,
                into: into_id,
            });
        }
        gone.insert(from);
    }
    plan.phones_freed = plan.merges.iter().map(|m| m.from).collect();
    plan.phones_freed.extend(
        directory
            .phones_taken
            .iter()
            .filter(|slot| directory.loaded[**slot].is_some() && !gone.contains(*slot))
            .map(|slot| directory.users[*slot].id),
    );
    let users = directory.users.into_iter().zip(directory.loaded);
    for (slot, (user, loaded)) in users.enumerate() {
        match loaded {
            _ if gone.contains(&slot) => {}
            None => plan.new_users.push(user),
            Some(before) if before != user => plan.changed_users.push(user),
            Some(_) => {}
        }
    }
    Ok(plan)
}

/// One record per person per business number: found by BSUID first, then
/// by phone; the other id is added as an alias when it first shows up, and
/// a `system` message moves the record to the new id.
fn resolve_user(
    directory: &mut Directory,
    prepared: &Prepared,
    now: i64,
    ids: &mut FreeIds,
) -> Result<usize, StoreError> {
    let message = &prepared.message;
    let number = message.phone_number_id.as_str();
    let bsuid = message.from.bsuid.as_ref().map(|b| b.as_str());
    let wa_id = message.from.wa_id.as_ref().map(|w| w.as_str());
    let slot = match directory.find(number, bsuid, wa_id) {
        Some(slot) => slot,
        None => directory.add(
            UserRecord {
                id: take(&mut ids.users)?,
                phone_number_id: number.to_owned(),
                bsuid: bsuid.map(str::to_owned),
                // Below, as another record may hold it.
                wa_id: None,
                pseudonym: prepared.pseudonym.clone(),
                country: message.from.country().map(|c| c.to_string()),
                profile_name: message.profile_name.clone(),
                chosen_locale: None,
                opted_out: false,
                last_message_at: None,
                last_notice: None,
                flood: None,
                created_at: now,
            },
            false,
        ),
    };
    if let Some(bsuid) = bsuid {
        directory.set_id(IdKind::Bsuid, slot, bsuid, Take::IfMissing);
    }
    if let Some(wa_id) = wa_id {
        directory.set_id(IdKind::WaId, slot, wa_id, Take::Latest);
    }
    if let Some(name) = &message.profile_name {
        directory.users[slot].profile_name = Some(name.clone());
    }
    if let Some(change) = &message.identity_change {
        if let Some(new) = &change.new_wa_id {
            directory.set_id(IdKind::WaId, slot, new.as_str(), Take::NumberChange);
        }
        if let Some(new) = &change.new_bsuid {
            directory.set_id(IdKind::Bsuid, slot, new.as_str(), Take::NumberChange);
        }
    }
    Ok(slot)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::{Bsuid, UserRef, WaId};
    use crate::domain::message::IdentityChange;
    use jiff::SignedDuration;

    const NOW: i64 = 1_790_000_000_000;

    fn now() -> Timestamp {
        Timestamp::from_millisecond(NOW).unwrap()
    }

    fn text(id: &str, wa_id: &str, bsuid: Option<&str>) -> InboundMessage {
        InboundMessage {
            id: id.into(),
            phone_number_id: "100".into(),
            from: UserRef::new(WaId::parse(wa_id), bsuid.and_then(Bsuid::parse)).unwrap(),
            profile_name: Some("Amal".into()),
            wire_type: "text".into(),
            kind: MessageKind::Conversational,
            text: Some("hello".into()),
            sent_at: now(),
            in_group: false,
            identity_change: None,
        }
    }

    fn job(messages: Vec<InboundMessage>) -> Job {
        Job {
            policy: Arc::new(ReplyPolicy {
                min_reply_interval: SignedDuration::from_hours(1),
                answered_numbers: vec![],
            }),
            chooser: Arc::new(LocaleChooser::new(vec!["en".into()], "en".into())),
            phase: Phase::Countdown,
            now: now(),
            messages: messages
                .into_iter()
                .map(|message| Prepared {
                    keyword: None,
                    detected: ("en".into(), LocaleSource::Default),
                    pseudonym: format!("u_{}", message.from.key()),
                    message,
                })
                .collect(),
        }
    }

    /// 201001234567 tells that their number is now 201009999999.
    fn number_change() -> InboundMessage {
        let mut change = text("wamid.sys", "201001234567", None);
        change.kind = MessageKind::System;
        change.wire_type = "system".into();
        change.identity_change = Some(IdentityChange {
            new_wa_id: WaId::parse("201009999999"),
            new_bsuid: None,
        });
        change
    }

    /// A stored record of 201001234567, who opted out.
    fn opted_out_user() -> UserRecord {
        UserRecord {
            id: 7,
            phone_number_id: "100".into(),
            bsuid: None,
            wa_id: Some("201001234567".into()),
            pseudonym: "u_stored".into(),
            country: Some("EG".into()),
            profile_name: None,
            chosen_locale: None,
            opted_out: true,
            last_message_at: None,
            last_notice: None,
            flood: None,
            created_at: NOW - 1,
        }
    }

    fn ids() -> FreeIds {
        (1..=10).map(|id| (id, id)).collect()
    }

    fn decisions(plan: &Plan) -> Vec<Decision> {
        plan.outcomes.iter().flatten().map(|o| o.decision).collect()
    }

    #[test]
    fn a_group_decides_as_one_message_at_a_time_would() {
        let first = job(vec![text("wamid.1", "201001234567", None)]);
        let second = job(vec![
            text("wamid.2", "201001234567", None),
            text("wamid.1", "201001234567", None),
        ]);
        let plan = plan(&[&first, &second], &HashSet::new(), vec![], ids()).unwrap();
        assert_eq!(
            decisions(&plan),
            [Decision::Notified, Decision::Coalesced, Decision::Duplicate]
        );
        assert_eq!(plan.new_users.len(), 1, "one record for one sender");
        assert_eq!(plan.inbound.len(), 2, "a duplicate writes no row");
        assert_eq!(plan.notices.len(), 1);
        assert_eq!(plan.notices[0].inbound_id, plan.inbound[0].id);
        assert_eq!(plan.outcomes.len(), 2, "outcomes per job");
    }

    #[test]
    fn the_phone_of_the_latest_message_is_the_senders_and_a_recycled_number_is_someone_else() {
        // GB.OWNER1 opted out from 447700000001; the number now belongs to
        // GB.OWNER2, and GB.OWNER1 writes from a new one.
        let stored = UserRecord {
            bsuid: Some("GB.OWNER1".into()),
            wa_id: Some("447700000001".into()),
            ..opted_out_user()
        };
        let group = job(vec![
            text("wamid.new", "447700000001", Some("GB.OWNER2")),
            text("wamid.moved", "447700000002", Some("GB.OWNER1")),
        ]);
        let plan = plan(&[&group], &HashSet::new(), vec![stored], ids()).unwrap();
        assert_eq!(decisions(&plan), [Decision::Notified, Decision::OptedOut]);
        assert_eq!(plan.new_users.len(), 1);
        let newcomer = &plan.new_users[0];
        assert_eq!(
            (
                newcomer.bsuid.as_deref(),
                newcomer.wa_id.as_deref(),
                newcomer.opted_out
            ),
            (Some("GB.OWNER2"), Some("447700000001"), false)
        );
        let owner = &plan.changed_users[0];
        assert_eq!(
            (owner.id, owner.wa_id.as_deref()),
            (7, Some("447700000002"))
        );
        assert_eq!(plan.phones_freed, [7], "freed before the newcomer takes it");
        assert!(plan.merges.is_empty());
    }

    #[test]
    fn stored_ids_are_duplicates_and_stored_users_are_updated_not_created() {
        let stored = opted_out_user();
        let bsuid = "EG.1234567890abcdef";
        let messages = job(vec![
            text("wamid.old", "201001234567", None),
            text("wamid.new", "201001234567", Some(bsuid)),
        ]);
        let seen = HashSet::from(["wamid.old".to_owned()]);
        let plan = plan(&[&messages], &seen, vec![stored], ids()).unwrap();
        assert_eq!(decisions(&plan), [Decision::Duplicate, Decision::OptedOut]);
        assert!(plan.new_users.is_empty());
        let updated = &plan.changed_users[0];
        assert_eq!(updated.id, 7);
        assert_eq!(
            updated.bsuid.as_deref(),
            Some(bsuid),
            "the BSUID joins as an alias"
        );
        assert_eq!(updated.pseudonym, "u_stored");
        assert_eq!(plan.inbound[0].user_id, 7);
    }

    #[test]
    fn a_number_change_moves_the_record_unless_the_new_number_is_taken() {
        let change = number_change();
        let then = text("wamid.next", "201009999999", None);
        let moved = plan(
            &[&job(vec![change.clone(), then])],
            &HashSet::new(),
            vec![],
            ids(),
        )
        .unwrap();
        assert_eq!(
            moved.new_users.len(),
            1,
            "the new number finds the moved record"
        );
        assert_eq!(moved.new_users[0].wa_id.as_deref(), Some("201009999999"));

        let other = text("wamid.other", "201009999999", None);
        let kept = plan(&[&job(vec![other, change])], &HashSet::new(), vec![], ids()).unwrap();
        let numbers: Vec<_> = kept.new_users.iter().map(|u| u.wa_id.as_deref()).collect();
        assert_eq!(
            numbers,
            [Some("201009999999"), None],
            "a number held by a record of its own is not taken, and the one left goes"
        );
    }

    #[test]
    fn a_number_change_onto_a_number_another_bsuid_held_takes_it() {
        let holder = UserRecord {
            id: 8,
            bsuid: Some("EG.PREVIOUS".into()),
            wa_id: Some("201009999999".into()),
            pseudonym: "u_previous".into(),
            last_message_at: Some(NOW - 1_000),
            ..opted_out_user()
        };
        let mover = UserRecord {
            bsuid: Some("EG.MOVER".into()),
            opted_out: false,
            ..opted_out_user()
        };
        let mut change = number_change();
        change.from = UserRef::new(WaId::parse("201001234567"), Bsuid::parse("EG.MOVER")).unwrap();
        let plan = plan(
            &[&job(vec![change])],
            &HashSet::new(),
            vec![mover, holder],
            ids(),
        )
        .unwrap();
        assert_eq!(plan.phones_freed, [8], "the previous holder loses it");
        let moved = plan.changed_users.iter().find(|u| u.id == 7).unwrap();
        assert_eq!(moved.wa_id.as_deref(), Some("201009999999"));
    }

    #[test]
    fn a_language_keyword_from_an_opted_out_user_changes_nothing() {
        let stored = opted_out_user();
        let mut arabic = job(vec![text("wamid.ar", "201001234567", None)]);
        arabic.messages[0].keyword = Some(Keyword::Language("ar".into()));
        let plan = plan(&[&arabic], &HashSet::new(), vec![stored], ids()).unwrap();
        assert_eq!(decisions(&plan), [Decision::OptedOut]);
        assert_eq!(
            (
                plan.inbound[0].locale.as_str(),
                plan.inbound[0].locale_source
            ),
            ("en", "default"),
            "the log shows the locale the user still has"
        );
        assert_eq!(plan.changed_users[0].chosen_locale, None);
    }

    #[test]
    fn a_phone_only_record_is_merged_into_the_bsuid_record_it_turns_out_to_be() {
        let phone_only = UserRecord {
            chosen_locale: Some("fr".into()),
            ..opted_out_user()
        };
        let bsuid = "EG.1234567890abcdef";
        let bsuid_only = UserRecord {
            id: 8,
            bsuid: Some(bsuid.into()),
            wa_id: None,
            pseudonym: "u_bsuid".into(),
            opted_out: false,
            chosen_locale: None,
            ..opted_out_user()
        };
        let both = text("wamid.both", "201001234567", Some(bsuid));
        let phone_again = text("wamid.phone", "201001234567", None);
        let plan = plan(
            &[&job(vec![both, phone_again])],
            &HashSet::new(),
            vec![phone_only, bsuid_only],
            ids(),
        )
        .unwrap();
        assert_eq!(decisions(&plan), [Decision::OptedOut, Decision::OptedOut]);
        assert_eq!(plan.merges, [Merge { from: 7, into: 8 }]);
        assert_eq!(
            plan.changed_users.len(),
            1,
            "the merged record is not written"
        );
        let kept = &plan.changed_users[0];
        assert_eq!(
            (kept.id, kept.wa_id.as_deref(), kept.bsuid.as_deref()),
            (8, Some("201001234567"), Some(bsuid))
        );
        assert!(kept.opted_out);
        assert_eq!(kept.chosen_locale.as_deref(), Some("fr"));
        assert!(plan.inbound.iter().all(|row| row.user_id == 8));
    }

    #[test]
    fn records_made_and_merged_in_one_group_are_written_as_one() {
        let bsuid = "EG.1234567890abcdef";
        let messages = job(vec![
            text("wamid.phone", "201001234567", None),
            UserRef::new(None, Bsuid::parse(bsuid))
                .map(|from| InboundMessage {
                    from,
                    ..text("wamid.bsuid", "201001234567", None)
                })
                .unwrap(),
            text("wamid.both", "201001234567", Some(bsuid)),
        ]);
        let plan = plan(&[&messages], &HashSet::new(), vec![], ids()).unwrap();
        assert!(plan.merges.is_empty(), "nothing stored to merge");
        assert_eq!(plan.new_users.len(), 1);
        let kept = &plan.new_users[0];
        assert_eq!(
            (kept.wa_id.as_deref(), kept.bsuid.as_deref()),
            (Some("201001234567"), Some(bsuid))
        );
        assert!(plan.inbound.iter().all(|row| row.user_id == kept.id));
        assert!(plan.notices.iter().all(|row| row.user_id == kept.id));
    }

    #[test]
    fn a_number_change_onto_a_record_made_for_the_group_moves_in() {
        // On PostgreSQL the new number's record exists, empty, before the
        // group is decided: the move goes as on SQLite, where it does not.
        let moved = UserRecord {
            id: 8,
            wa_id: Some("201009999999".into()),
            pseudonym: "u_blank".into(),
            opted_out: false,
            created_at: NOW,
            ..opted_out_user()
        };
        let stored = UserRecord {
            last_message_at: Some(NOW - 1_000),
            ..opted_out_user()
        };
        let then = text("wamid.next", "201009999999", None);
        let plan = plan(
            &[&job(vec![number_change(), then])],
            &HashSet::new(),
            vec![stored, moved],
            ids(),
        )
        .unwrap();
        assert_eq!(decisions(&plan), [Decision::Ignored, Decision::OptedOut]);
        assert_eq!(plan.merges, [Merge { from: 8, into: 7 }]);
        assert!(plan.inbound.iter().all(|row| row.user_id == 7));
        let record = &plan.changed_users[0];
        assert_eq!(record.wa_id.as_deref(), Some("201009999999"));
        assert_eq!(record.pseudonym, "u_stored");
    }

    #[test]
    fn a_number_change_onto_a_known_number_carries_the_opt_out() {
        let stored = UserRecord {
            chosen_locale: Some("fr".into()),
            ..opted_out_user()
        };
        let change = number_change();
        let first = text("wamid.first", "201009999999", None);
        let after = text("wamid.after", "201009999999", None);
        let plan = plan(
            &[&job(vec![first, change, after])],
            &HashSet::new(),
            vec![stored],
            ids(),
        )
        .unwrap();
        assert_eq!(
            decisions(&plan),
            [Decision::Notified, Decision::Ignored, Decision::OptedOut]
        );
        let new_number = &plan.new_users[0];
        assert_eq!(new_number.wa_id.as_deref(), Some("201009999999"));
        assert!(new_number.opted_out);
        assert_eq!(new_number.chosen_locale.as_deref(), Some("fr"));
        let left = plan.changed_users.iter().find(|u| u.id == 7).unwrap();
        assert_eq!(left.wa_id, None, "the number left behind is not theirs");
    }
}
