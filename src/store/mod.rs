//! Storage behind one trait: the inbound log, users, the notice outbox.
//! Implementations store text and never render it.

mod batch;
mod log;
mod log_page;
mod postgres;
mod progress;
mod rows;
mod shared;
mod sqlite;
mod stats;
mod stored;
mod writer;

pub use log::{Count, Funnel, LogEntry, LogQuery, Stats};
pub use log_page::{LogPage, LogRow};

pub use postgres::PgStore;
pub use sqlite::SqliteStore;

use crate::domain::countdown::Phase;
use crate::domain::decision::{Decision, FloodWindow, ReplyPolicy};
use crate::domain::keywords::KeywordBook;
use crate::domain::locale::LocaleChooser;
use crate::domain::message::InboundMessage;
use crate::domain::notice::{NoticeKind, NoticeStatus};
use async_trait::async_trait;
use jiff::{SignedDuration, Timestamp};
use std::sync::Arc;

/// A storage failure. Webhooks answer 500 on it, so Meta retries.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
    #[error("the database writer has stopped")]
    WriterStopped,
}

/// What the decision for a batch of messages depends on.
pub struct IngestContext<'a> {
    pub policy: &'a Arc<ReplyPolicy>,
    pub chooser: &'a Arc<LocaleChooser>,
    pub keywords: &'a KeywordBook,
    /// The phase a notice sent now would have.
    pub phase: Phase,
    pub now: Timestamp,
    /// Key of the pseudonyms given to new users.
    pub signing_key: &'a str,
}

/// The outcome of one stored inbound message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ingested {
    pub message_id: String,
    pub decision: Decision,
    pub notice_id: Option<i64>,
    pub pseudonym: String,
}

/// A delivery report from a status webhook.
#[derive(Clone, Debug)]
pub struct StatusUpdate {
    pub outbound_message_id: String,
    /// Our notice id, echoed back in `biz_opaque_callback_data`.
    pub notice_id: Option<i64>,
    pub status: NoticeStatus,
    pub at: Timestamp,
    pub error: Option<ErrorInfo>,
}

/// A Graph API error as logged: code and title.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ErrorInfo {
    /// Meta's code; none when the Graph API could not be reached or read.
    pub code: Option<i64>,
    pub title: String,
}

/// A notice claimed for sending, leased to this box.
#[derive(Clone, Debug)]
pub struct DueNotice {
    pub id: i64,
    pub phone_number_id: String,
    pub kind: NoticeKind,
    pub locale: String,
    pub wa_id: Option<String>,
    pub bsuid: Option<String>,
    pub pseudonym: String,
    pub country: Option<String>,
    /// Whether the user has opted out since the notice was queued.
    pub opted_out: bool,
    /// The user's latest message: the 24-hour window runs from it.
    pub last_message_at: Timestamp,
    /// Attempts including this one.
    pub attempts: i64,
}

/// A claimed notice as the store sees it now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeldNotice {
    /// Whether its number, or all sending, is paused.
    pub paused: bool,
    /// Whether its user has opted out.
    pub opted_out: bool,
}

impl DueNotice {
    /// Whether the user opted out after it was queued, so that it must
    /// not go out at all.
    pub fn overtaken_by_opt_out(&self) -> bool {
        self.opted_out && !self.kind.goes_to_opted_out()
    }

    /// A claimed notice as either store's claim query returns it.
    pub(crate) fn from_row(row: &impl log::StoredRow) -> Result<Self, StoreError> {
        let id = row.int("id")?;
        let kind = row.text("kind")?;
        Ok(Self {
            id,
            phone_number_id: row.text("phone_number_id")?,
            kind: NoticeKind::parse(&kind)
                .ok_or_else(|| StoreError::Corrupt(format!("notice {id}: kind {kind}")))?,
            locale: row.text("locale")?,
            wa_id: row.maybe_text("wa_id")?,
            bsuid: row.maybe_text("bsuid")?,
            pseudonym: row.text("pseudonym")?,
            country: row.maybe_text("country")?,
            opted_out: row.flag("opted_out")?,
            last_message_at: from_millis(row.int("last_message_at")?)?,
            attempts: row.int("attempts")? + 1,
        })
    }
}

/// The text that was (or would have been) sent, as stored (the account
/// link's token replaced by `{token}`), and what it said.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rendered {
    pub text: String,
    pub phase: Phase,
    pub days_left: i64,
    pub template_version: String,
}

/// How one send attempt ended.
#[derive(Clone, Debug)]
pub enum AttemptOutcome {
    Sent {
        outbound_message_id: String,
        rendered: Rendered,
    },
    DryRun {
        rendered: Rendered,
    },
    Retry {
        at: Timestamp,
        error: Option<ErrorInfo>,
    },
    Failed {
        error: ErrorInfo,
        rendered: Option<Rendered>,
    },
    /// Not attempted: the user opted out while it waited. `failed`.
    Withdrawn {
        error: ErrorInfo,
    },
    /// The 24-hour window closes before the retry would go out.
    Expired,
    /// The window had closed when the notice came up: not attempted.
    ExpiredUnsent,
    /// Not attempted (the number is paused): back in the queue as it was.
    Requeue,
}

/// Send slots taken from a business number's budget.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SendSlots {
    /// When the first of them is.
    pub first: Timestamp,
    /// How far apart they are: twice the usual while the number is slowed.
    pub interval: SignedDuration,
}

/// A business number sending at half its rate after a 131048.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlowedNumber {
    pub phone_number_id: String,
    pub until: Timestamp,
}

/// A business number whose sending is paused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PausedNumber {
    pub phone_number_id: String,
    pub error_code: Option<i64>,
    pub reason: String,
    pub paused_at: Timestamp,
    pub next_probe_at: Timestamp,
}

/// How long Meta retries a webhook: message ids stay known this long.
pub const META_RETRIES: SignedDuration = SignedDuration::from_hours(7 * 24);

/// The `phone_number_id` of the operator's pause, which stops every number.
pub const ALL_NUMBERS: &str = "*";

impl PausedNumber {
    /// `sunset pause`: every number, until `sunset resume`; never probed away.
    pub fn operator_pause(at: Timestamp) -> Self {
        Self {
            phone_number_id: ALL_NUMBERS.into(),
            error_code: None,
            reason: "paused by the operator (sunset pause)".into(),
            paused_at: at,
            // Never due (and still within what the store can hold).
            next_probe_at: Timestamp::MAX - SignedDuration::from_hours(48),
        }
    }

    /// Whether a probe can lift the pause: only the operator lifts theirs.
    pub fn is_probed(&self) -> bool {
        self.phone_number_id != ALL_NUMBERS
    }
}

/// A locale set published to the database for every box.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublishedLocales {
    pub id: i64,
    pub version: String,
    pub published_at: Timestamp,
    /// `[{"tag", "path", "source"}, …]`, as `i18n::LocaleFile` serializes.
    pub files_json: String,
}

/// How much waits in the outbox.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QueueStats {
    pub depth: i64,
    pub oldest_age: SignedDuration,
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Decides and stores a batch of inbound messages in one transaction:
    /// the inbound rows, the users and the queued notices. When it returns
    /// `Ok`, everything is durable.
    async fn ingest(
        &self,
        messages: Vec<InboundMessage>,
        ctx: &IngestContext<'_>,
    ) -> Result<Vec<Ingested>, StoreError>;

    /// Keeps a signed body we could not fully understand.
    async fn quarantine(&self, body: &[u8], reason: &str, at: Timestamp) -> Result<(), StoreError>;

    /// Moves notices forward; returns how many reports matched no notice of ours.
    async fn apply_statuses(&self, updates: &[StatusUpdate]) -> Result<usize, StoreError>;

    /// Leases up to `limit` due notices of numbers that are not paused, at
    /// most one per user and none to a user sent one within `pair_spacing`.
    async fn claim_due_notices(
        &self,
        now: Timestamp,
        lease: SignedDuration,
        pair_spacing: SignedDuration,
        limit: u32,
    ) -> Result<Vec<DueNotice>, StoreError>;

    /// The file only one `serve` may work on at a time (SQLite's), which
    /// start-up locks before [`Store::release_stale_leases`]; `None` where
    /// many boxes share the database.
    fn single_box_file(&self) -> Option<&std::path::Path> {
        None
    }

    /// At start-up: frees the leases this box cannot still hold. On SQLite
    /// (one box per file) every lease, and every send slot reserved ahead,
    /// belonged to the process that died; on PostgreSQL other boxes may be
    /// alive, so leases expire and slots pass on their own.
    async fn release_stale_leases(&self) -> Result<u64, StoreError>;

    /// Records how a claimed notice's attempt ended.
    async fn finish_attempt(
        &self,
        notice_id: i64,
        outcome: &AttemptOutcome,
        now: Timestamp,
    ) -> Result<(), StoreError>;

    /// Takes `count` send slots, `interval` apart (twice that while the
    /// number is slowed), from a business number's budget, which every box
    /// shares.
    async fn reserve_sends(
        &self,
        phone_number_id: &str,
        count: u32,
        interval: SignedDuration,
        now: Timestamp,
    ) -> Result<SendSlots, StoreError>;

    /// Halves a number's rate on every box until `until` (a 131048).
    async fn slow_down(&self, phone_number_id: &str, until: Timestamp) -> Result<(), StoreError>;
    /// The numbers sending at half their rate at `now`.
    async fn slowed_numbers(&self, now: Timestamp) -> Result<Vec<SlowedNumber>, StoreError>;

    async fn pause_number(&self, paused: &PausedNumber) -> Result<(), StoreError>;
    /// Resumes one number, or every number with `None`; returns how many.
    async fn resume_numbers(&self, phone_number_id: Option<&str>) -> Result<u64, StoreError>;
    async fn paused_numbers(&self) -> Result<Vec<PausedNumber>, StoreError>;
    /// What became of a claimed notice's number and user since its claim;
    /// `None` once the notice is gone (its person forgotten).
    async fn held_notice(&self, notice_id: i64) -> Result<Option<HeldNotice>, StoreError>;

    /// Counts a click on a notice's smart link.
    async fn count_click(&self, notice_id: i64) -> Result<(), StoreError>;

    /// The log row of one inbound message.
    async fn log_entry(&self, inbound_message_id: &str) -> Result<Option<LogEntry>, StoreError>;
    /// A page of the log in id order, after `query.after_id`.
    async fn log_page(&self, query: &LogQuery) -> Result<LogPage, StoreError>;
    /// Brings the rollups that [`Store::stats`] reads up to date with the
    /// changes written since the last fold; returns how many it moved.
    /// `stats` folds first; the service also folds every minute so that
    /// pending changes stay few.
    async fn fold_rollups(&self) -> Result<u64, StoreError>;
    /// Counts for the dashboard and /api/stats.
    async fn stats(
        &self,
        since: Option<Timestamp>,
        until: Option<Timestamp>,
    ) -> Result<Stats, StoreError>;
    /// Marks the user a link token names as linked; false if unknown.
    async fn mark_linked(
        &self,
        phone_number_id: &str,
        user_key: &str,
        at: Timestamp,
    ) -> Result<bool, StoreError>;
    /// Pseudonymizes log rows received before `before` (opt-outs are kept);
    /// returns how many users were scrubbed.
    async fn purge(&self, before: Timestamp) -> Result<u64, StoreError>;
    /// Erases one person (phone or BSUID) on every number, the records
    /// `purge` left with a pseudonym (of `signing_key`) included, keeping
    /// only the message ids Meta may still retry; returns rows removed.
    async fn forget(
        &self,
        user_key: &str,
        signing_key: &str,
        now: Timestamp,
    ) -> Result<u64, StoreError>;
    async fn queue_stats(&self, now: Timestamp) -> Result<QueueStats, StoreError>;
    /// How many bodies sit in quarantine.
    async fn quarantined(&self) -> Result<i64, StoreError>;
    /// Stores a checked locale set (its files as JSON) as the newest version.
    async fn publish_locales(
        &self,
        version: &str,
        files_json: &str,
        at: Timestamp,
    ) -> Result<i64, StoreError>;
    /// The newest published locale set, if any.
    async fn latest_locales(&self) -> Result<Option<PublishedLocales>, StoreError>;

    /// Whether the database answers.
    async fn ping(&self) -> Result<(), StoreError>;
}

pub(crate) fn millis(t: Timestamp) -> i64 {
    t.as_millisecond()
}

/// A `since` or `until` bound in the stored milliseconds: the first whole
/// millisecond at or after it, so that a row counts exactly when its
/// instant is in [since, until), whatever the bounds' precision.
pub(crate) fn bound_millis(t: Timestamp) -> i64 {
    let up = jiff::TimestampRound::new()
        .smallest(jiff::Unit::Millisecond)
        .mode(jiff::RoundMode::Ceil);
    t.round(up).unwrap_or(t).as_millisecond()
}

/// The flood window as both stores keep it: start and count columns.
pub(crate) fn flood_window(
    start: Option<i64>,
    count: i64,
) -> Result<Option<FloodWindow>, StoreError> {
    start
        .map(|start| {
            Ok(FloodWindow {
                start: from_millis(start)?,
                count: u32::try_from(count).unwrap_or(u32::MAX),
            })
        })
        .transpose()
}

pub(crate) fn from_millis(ms: i64) -> Result<Timestamp, StoreError> {
    Timestamp::from_millisecond(ms).map_err(|e| StoreError::Corrupt(e.to_string()))
}
