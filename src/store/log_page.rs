//! A page of the log as the database builds it: one JSON array of rows.
//! The database driver then moves one value per page instead of dozens per
//! row, and the rows are read in place, their text borrowed from the page.

use super::{LogEntry, StoreError};
use jiff::Timestamp;
use serde::{Deserialize, Deserializer};
use std::borrow::Cow;

/// The log's columns as its SELECT names them, in [`LogRow`]'s field order:
/// each JSON row lists them in this order.
pub(crate) const LOG_ROW_FIELDS: &str = "id, received_at, phone_number_id, pseudonym, wa_id, bsuid, \
    profile_name, country, locale, locale_source, message_id, inbound_type, decision, kind, phase, \
    days_left, template_version, status, body, outbound_message_id, attempts, error_code, error_title, \
    sent_at, delivered_at, read_at, clicks, linked_at";

/// Log rows in one JSON text: `[[id, received_at, …], …]`.
#[derive(Clone, Debug)]
pub struct LogPage {
    json: String,
}

impl LogPage {
    pub(crate) fn new(json: String) -> Self {
        Self { json }
    }

    /// The rows, borrowing their text from the page.
    pub fn rows(&self) -> Result<Vec<LogRow<'_>>, StoreError> {
        serde_json::from_str(&self.json).map_err(|e| StoreError::Corrupt(format!("log page: {e}")))
    }

    /// The rows, owning their text.
    pub fn entries(&self) -> Result<Vec<LogEntry>, StoreError> {
        Ok(self.rows()?.into_iter().map(LogRow::into_entry).collect())
    }
}

/// One row of the notification log, read from a [`LogPage`]; see
/// [`LogEntry`] for its owned form and what each field holds.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct LogRow<'a> {
    pub id: i64,
    #[serde(deserialize_with = "instant")]
    pub received_at: Option<Timestamp>,
    #[serde(borrow)]
    pub phone_number_id: Cow<'a, str>,
    #[serde(borrow)]
    pub pseudonym: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "maybe_text")]
    pub wa_id: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "maybe_text")]
    pub bsuid: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "maybe_text")]
    pub profile_name: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "maybe_text")]
    pub country: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub locale: Cow<'a, str>,
    #[serde(borrow)]
    pub locale_source: Cow<'a, str>,
    #[serde(borrow)]
    pub inbound_message_id: Cow<'a, str>,
    #[serde(borrow)]
    pub inbound_type: Cow<'a, str>,
    #[serde(borrow)]
    pub decision: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "maybe_text")]
    pub notice_kind: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "maybe_text")]
    pub phase: Option<Cow<'a, str>>,
    pub days_left: Option<i64>,
    #[serde(borrow, deserialize_with = "maybe_text")]
    pub template_version: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "maybe_text")]
    pub status: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "maybe_text")]
    pub body: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "maybe_text")]
    pub outbound_message_id: Option<Cow<'a, str>>,
    pub attempts: Option<i64>,
    pub error_code: Option<i64>,
    #[serde(borrow, deserialize_with = "maybe_text")]
    pub error_title: Option<Cow<'a, str>>,
    #[serde(deserialize_with = "instant")]
    pub sent_at: Option<Timestamp>,
    #[serde(deserialize_with = "instant")]
    pub delivered_at: Option<Timestamp>,
    #[serde(deserialize_with = "instant")]
    pub read_at: Option<Timestamp>,
    pub clicks: i64,
    #[serde(deserialize_with = "instant")]
    pub linked_at: Option<Timestamp>,
}

impl LogRow<'_> {
    /// The row with its own copy of the text.
    pub fn into_entry(self) -> LogEntry {
        let owned = |text: Option<Cow<'_, str>>| text.map(Cow::into_owned);
        LogEntry {
            id: self.id,
            received_at: self.received_at,
            phone_number_id: self.phone_number_id.into_owned(),
            pseudonym: self.pseudonym.into_owned(),
            wa_id: owned(self.wa_id),
            bsuid: owned(self.bsuid),
            profile_name: owned(self.profile_name),
            country: owned(self.country),
            locale: self.locale.into_owned(),
            locale_source: self.locale_source.into_owned(),
            inbound_message_id: self.inbound_message_id.into_owned(),
            inbound_type: self.inbound_type.into_owned(),
            decision: self.decision.into_owned(),
            notice_kind: owned(self.notice_kind),
            phase: owned(self.phase),
            days_left: self.days_left,
            template_version: owned(self.template_version),
            status: owned(self.status),
            body: owned(self.body),
            outbound_message_id: owned(self.outbound_message_id),
            attempts: self.attempts,
            error_code: self.error_code,
            error_title: owned(self.error_title),
            sent_at: self.sent_at,
            delivered_at: self.delivered_at,
            read_at: self.read_at,
            clicks: self.clicks,
            linked_at: self.linked_at,
        }
    }
}

/// Instants are stored as Unix milliseconds.
fn instant<'de, D: Deserializer<'de>>(cell: D) -> Result<Option<Timestamp>, D::Error> {
    Option::<i64>::deserialize(cell)?
        .map(Timestamp::from_millisecond)
        .transpose()
        .map_err(serde::de::Error::custom)
}

/// Serde borrows a `Cow` only when it is the field's whole type, not
/// inside an `Option`: this keeps nullable text borrowed too.
fn maybe_text<'de: 'a, 'a, D: Deserializer<'de>>(
    cell: D,
) -> Result<Option<Cow<'a, str>>, D::Error> {
    #[derive(Deserialize)]
    #[serde(transparent)]
    struct Text<'a>(#[serde(borrow)] Cow<'a, str>);
    Ok(Option::<Text<'de>>::deserialize(cell)?.map(|text| text.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_borrow_plain_text_and_unescape_the_rest() {
        let page = LogPage::new(
            r#"[[7,1780000002000,"100","u_1",null,null,null,"EG","ar","country","wamid.1","text",
                 "notified","notice","countdown",-1,"v1, \"beta\"","read",null,"wamid.OUT",2,null,
                 "مرحبا",1780000003000,null,null,0,null]]"#
                .into(),
        );
        let rows = page.rows().unwrap();
        let row = &rows[0];
        assert_eq!(row.id, 7);
        assert_eq!(row.received_at.unwrap().to_string(), "2026-05-28T20:26:42Z");
        assert!(matches!(row.pseudonym, Cow::Borrowed("u_1")));
        assert!(matches!(row.country, Some(Cow::Borrowed("EG"))));
        assert!(matches!(row.error_title, Some(Cow::Borrowed("مرحبا"))));
        assert_eq!(row.template_version.as_deref(), Some("v1, \"beta\""));
        assert_eq!(row.days_left, Some(-1));
        assert_eq!(row.wa_id, None);
        assert_eq!(page.entries().unwrap()[0].inbound_message_id, "wamid.1");
    }

    #[test]
    fn an_empty_page_has_no_rows_and_a_broken_one_is_an_error() {
        assert!(LogPage::new("[]".into()).rows().unwrap().is_empty());
        assert!(LogPage::new("[[1]]".into()).rows().is_err());
    }
}
