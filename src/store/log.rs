//! The notification log as analysts read it: rows, filters, counts.

use jiff::Timestamp;
use sqlx::Row as _;

/// One row of the notification log: an inbound message, its decision and
/// what happened to its notice.
#[derive(Clone, Debug, Default)]
pub struct LogEntry {
    pub id: i64,
    pub received_at: Option<Timestamp>,
    pub phone_number_id: String,
    pub pseudonym: String,
    /// Personal data: only for the admin who asks to reveal.
    pub wa_id: Option<String>,
    pub bsuid: Option<String>,
    pub profile_name: Option<String>,
    pub country: Option<String>,
    pub locale: String,
    pub locale_source: String,
    pub inbound_message_id: String,
    pub inbound_type: String,
    pub decision: String,
    pub notice_kind: Option<String>,
    pub phase: Option<String>,
    pub days_left: Option<i64>,
    pub template_version: Option<String>,
    pub status: Option<String>,
    pub body: Option<String>,
    pub outbound_message_id: Option<String>,
    pub attempts: Option<i64>,
    pub error_code: Option<i64>,
    pub error_title: Option<String>,
    pub sent_at: Option<Timestamp>,
    pub delivered_at: Option<Timestamp>,
    pub read_at: Option<Timestamp>,
    pub clicks: i64,
    pub linked_at: Option<Timestamp>,
}

/// Which log rows to read; every filter is optional.
#[derive(Clone, Debug, Default)]
pub struct LogQuery {
    /// Keyset cursor: rows with a larger id only. Rows are only ever
    /// appended, so paging never skips or repeats one.
    pub after_id: i64,
    pub limit: u32,
    pub since: Option<Timestamp>,
    pub until: Option<Timestamp>,
    pub locale: Option<String>,
    pub country: Option<String>,
    pub decision: Option<String>,
    pub status: Option<String>,
}

/// One count under a label.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Count {
    pub key: String,
    pub count: i64,
}

/// inbound → notified → sent → delivered → read → clicked → linked.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Funnel {
    pub inbound: i64,
    pub notified: i64,
    pub sent: i64,
    pub delivered: i64,
    pub read: i64,
    pub clicked: i64,
    pub linked: i64,
}

/// Counts over the log.
#[derive(Clone, Debug, Default)]
pub struct Stats {
    /// Inbound messages per quarter hour (ms of its start) and decision:
    /// the caller folds them into days of the campaign's time zone.
    pub quarter_hour_decisions: Vec<(i64, String, i64)>,
    pub by_locale: Vec<Count>,
    pub by_country: Vec<Count>,
    pub by_phase: Vec<Count>,
    pub by_decision: Vec<Count>,
    pub by_status: Vec<Count>,
    pub funnel: Funnel,
    /// The latest failed notices, newest first.
    pub latest_failures: Vec<LogEntry>,
}

/// The typed reads the stores need, for SQLite's and PostgreSQL's rows alike.
pub(crate) trait StoredRow {
    fn int(&self, column: &str) -> Result<i64, sqlx::Error>;
    fn maybe_int(&self, column: &str) -> Result<Option<i64>, sqlx::Error>;
    fn text(&self, column: &str) -> Result<String, sqlx::Error>;
    fn maybe_text(&self, column: &str) -> Result<Option<String>, sqlx::Error>;
    fn flag(&self, column: &str) -> Result<bool, sqlx::Error>;
}

macro_rules! stored_row {
    ($row:ty) => {
        impl StoredRow for $row {
            fn int(&self, column: &str) -> Result<i64, sqlx::Error> {
                self.try_get(column)
            }
            fn maybe_int(&self, column: &str) -> Result<Option<i64>, sqlx::Error> {
                self.try_get(column)
            }
            fn text(&self, column: &str) -> Result<String, sqlx::Error> {
                self.try_get(column)
            }
            fn maybe_text(&self, column: &str) -> Result<Option<String>, sqlx::Error> {
                self.try_get(column)
            }
            fn flag(&self, column: &str) -> Result<bool, sqlx::Error> {
                self.try_get(column)
            }
        }
    };
}

stored_row!(sqlx::sqlite::SqliteRow);
stored_row!(sqlx::postgres::PgRow);
