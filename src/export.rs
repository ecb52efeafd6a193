//! The notification log written out: JSON objects for the API and JSONL,
//! and CSV that spreadsheets open safely (BOM for Arabic, formulas defused).

use crate::store::LogRow;
use csv::ByteRecord;
use jiff::Timestamp;
use serde::ser::{Serialize, SerializeMap, Serializer};
use std::borrow::Cow;
use std::fmt::Write as _;

/// The columns of the log, in order: the API's fields and the CSV header.
pub const COLUMNS: [&str; 25] = [
    "id",
    "received_at",
    "phone_number_id",
    "recipient",
    "country",
    "locale",
    "locale_source",
    "inbound_message_id",
    "inbound_type",
    "decision",
    "notice_kind",
    "phase",
    "days_left",
    "template_version",
    "status",
    "outbound_message_id",
    "attempts",
    "error_code",
    "error_title",
    "sent_at",
    "delivered_at",
    "read_at",
    "clicks",
    "linked_at",
    "profile_name",
];

/// Log rows per database read while exporting: one page is in memory at
/// a time, so memory stays flat however long the log.
pub const PAGE_ROWS: u32 = 10_000;

/// Excel and LibreOffice read Arabic CSV as UTF-8 only with this mark.
pub const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// The columns shown: the profile name only to the admin who reveals.
fn columns(reveal: bool) -> &'static [&'static str] {
    if reveal {
        &COLUMNS[..]
    } else {
        &COLUMNS[..COLUMNS.len() - 1]
    }
}

/// One value of a log row, borrowed from it.
#[derive(Clone, Copy, Debug)]
enum Cell<'a> {
    Empty,
    Text(&'a str),
    Int(i64),
    /// Written with milliseconds, as stored: `2026-11-29T23:39:25.120Z`.
    Time(Timestamp),
}

impl<'a> From<&'a str> for Cell<'a> {
    fn from(text: &'a str) -> Self {
        Cell::Text(text)
    }
}

impl<'a> From<&'a Option<Cow<'_, str>>> for Cell<'a> {
    fn from(text: &'a Option<Cow<'_, str>>) -> Self {
        text.as_deref().map_or(Cell::Empty, Cell::Text)
    }
}

impl From<i64> for Cell<'_> {
    fn from(number: i64) -> Self {
        Cell::Int(number)
    }
}

impl From<Option<i64>> for Cell<'_> {
    fn from(number: Option<i64>) -> Self {
        number.map_or(Cell::Empty, Cell::Int)
    }
}

impl From<Option<Timestamp>> for Cell<'_> {
    fn from(instant: Option<Timestamp>) -> Self {
        instant.map_or(Cell::Empty, Cell::Time)
    }
}

impl Serialize for Cell<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Cell::Empty => serializer.serialize_none(),
            Cell::Text(text) => serializer.serialize_str(text),
            Cell::Int(number) => serializer.serialize_i64(*number),
            Cell::Time(instant) => serializer.collect_str(&format_args!("{instant:.3}")),
        }
    }
}

/// A row's cells in [`COLUMNS`] order. `reveal` (the admin's choice) shows
/// the clear phone or BSUID and the profile name; otherwise the pseudonym
/// stands for the user.
fn cells<'a>(e: &'a LogRow<'_>, reveal: bool) -> [Cell<'a>; COLUMNS.len()] {
    let recipient = match (reveal, &e.wa_id, &e.bsuid) {
        (true, Some(phone), _) => phone,
        (true, None, Some(bsuid)) => bsuid,
        _ => &e.pseudonym,
    };
    [
        e.id.into(),
        e.received_at.into(),
        e.phone_number_id.as_ref().into(),
        recipient.as_ref().into(),
        (&e.country).into(),
        e.locale.as_ref().into(),
        e.locale_source.as_ref().into(),
        e.inbound_message_id.as_ref().into(),
        e.inbound_type.as_ref().into(),
        e.decision.as_ref().into(),
        (&e.notice_kind).into(),
        (&e.phase).into(),
        e.days_left.into(),
        (&e.template_version).into(),
        (&e.status).into(),
        (&e.outbound_message_id).into(),
        e.attempts.into(),
        e.error_code.into(),
        (&e.error_title).into(),
        e.sent_at.into(),
        e.delivered_at.into(),
        e.read_at.into(),
        e.clicks.into(),
        e.linked_at.into(),
        if reveal {
            (&e.profile_name).into()
        } else {
            Cell::Empty
        },
    ]
}

/// One row as a JSON object, fields in [`COLUMNS`] order.
pub struct LogRecord<'a> {
    row: &'a LogRow<'a>,
    reveal: bool,
}

impl<'a> LogRecord<'a> {
    pub fn new(row: &'a LogRow<'a>, reveal: bool) -> Self {
        Self { row, reveal }
    }
}

impl Serialize for LogRecord<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let columns = columns(self.reveal);
        let mut map = serializer.serialize_map(Some(columns.len()))?;
        for (column, cell) in columns.iter().zip(cells(self.row, self.reveal)) {
            map.serialize_entry(column, &cell)?;
        }
        map.end()
    }
}

/// A cell a spreadsheet would run as a formula gets a leading apostrophe.
pub fn neutralize(cell: &str) -> Cow<'_, str> {
    match cell.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') => Cow::Owned(format!("'{cell}")),
        _ => Cow::Borrowed(cell),
    }
}

/// Appends one row to `record`; `scratch` holds numbers and instants while
/// they are written, so a row allocates nothing.
fn push_row(record: &mut ByteRecord, scratch: &mut String, row: &LogRow<'_>, reveal: bool) {
    record.clear();
    for cell in cells(row, reveal).iter().take(columns(reveal).len()) {
        scratch.clear();
        // Writing to a String cannot fail.
        let text = match cell {
            Cell::Empty => "",
            Cell::Text(text) => text,
            Cell::Time(instant) => {
                let _ = write!(scratch, "{instant:.3}");
                scratch.as_str()
            }
            Cell::Int(number) => {
                let _ = write!(scratch, "{number}");
                record.push_field(scratch.as_bytes());
                continue;
            }
        };
        record.push_field(neutralize(text).as_bytes());
    }
}

/// CSV lines for a page of rows, with the BOM and header when `first`.
pub fn csv_chunk(rows: &[LogRow<'_>], reveal: bool, first: bool) -> Result<Vec<u8>, csv::Error> {
    let mut out = Vec::with_capacity(rows.len() * 256 + 512);
    if first {
        out.extend_from_slice(UTF8_BOM);
    }
    {
        let mut writer = csv::Writer::from_writer(&mut out);
        if first {
            writer.write_record(columns(reveal))?;
        }
        let mut record = ByteRecord::with_capacity(512, COLUMNS.len());
        let mut scratch = String::with_capacity(64);
        for row in rows {
            push_row(&mut record, &mut scratch, row, reveal);
            writer.write_byte_record(&record)?;
        }
        writer.flush()?;
    }
    Ok(out)
}

/// JSON Lines for a page of rows.
pub fn jsonl_chunk(rows: &[LogRow<'_>], reveal: bool) -> Result<Vec<u8>, serde_json::Error> {
    let mut out = Vec::with_capacity(rows.len() * 512);
    for row in rows {
        serde_json::to_writer(&mut out, &LogRecord::new(row, reveal))?;
        out.push(b'\n');
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_defused() {
        assert_eq!(
            neutralize("=HYPERLINK(\"http://x\")"),
            "'=HYPERLINK(\"http://x\")"
        );
        for risky in ["+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
            assert!(neutralize(risky).starts_with('\''), "{risky}");
        }
        assert_eq!(neutralize("hello"), "hello");
    }

    #[test]
    fn the_csv_starts_with_a_bom_and_the_header() {
        let row = LogRow {
            id: 7,
            pseudonym: "u_1".into(),
            decision: "notified".into(),
            ..LogRow::default()
        };
        let csv = csv_chunk(&[row], false, true).unwrap();
        assert!(csv.starts_with(UTF8_BOM));
        let text = String::from_utf8(csv[3..].to_vec()).unwrap();
        assert!(text.starts_with("id,received_at,phone_number_id,recipient,"));
        assert!(text.lines().nth(1).unwrap().starts_with("7,,,u_1,"));
        assert!(!text.contains("profile_name"));
    }

    fn full_row() -> LogRow<'static> {
        let at = |s: &str| Some(s.parse::<Timestamp>().unwrap());
        LogRow {
            id: 42,
            received_at: at("2026-11-26T14:00:00.123Z"),
            phone_number_id: "100000000000001".into(),
            pseudonym: "u_0123456789abcdef".into(),
            wa_id: Some("15551234567".into()),
            bsuid: Some("US.X".into()),
            profile_name: Some("@Mona".into()),
            country: Some("US".into()),
            locale: "en".into(),
            locale_source: "text".into(),
            inbound_message_id: "wamid.X".into(),
            inbound_type: "-text".into(),
            decision: "notified".into(),
            notice_kind: Some("notice".into()),
            phase: Some("countdown".into()),
            days_left: Some(-1),
            template_version: Some("v1, \"beta\"".into()),
            status: Some("read".into()),
            body: Some("never exported".into()),
            outbound_message_id: Some("wamid.OUT".into()),
            attempts: Some(2),
            error_code: None,
            error_title: Some("=1+1".into()),
            sent_at: at("2026-11-26T14:00:01Z"),
            delivered_at: None,
            read_at: at("2026-11-26T14:00:02Z"),
            clicks: 3,
            linked_at: None,
        }
    }

    #[test]
    fn csv_cells_are_written_as_spreadsheets_expect() {
        let csv = csv_chunk(&[full_row()], true, false).unwrap();
        assert_eq!(
            String::from_utf8(csv).unwrap(),
            "42,2026-11-26T14:00:00.123Z,100000000000001,15551234567,US,en,text,wamid.X,'-text,notified,\
             notice,countdown,-1,\"v1, \"\"beta\"\"\",read,wamid.OUT,2,,'=1+1,2026-11-26T14:00:01.000Z,,\
             2026-11-26T14:00:02.000Z,3,,'@Mona\n"
        );
        let hidden = csv_chunk(&[full_row()], false, false).unwrap();
        let hidden = String::from_utf8(hidden).unwrap();
        assert!(
            hidden
                .starts_with("42,2026-11-26T14:00:00.123Z,100000000000001,u_0123456789abcdef,US,")
        );
        assert!(
            hidden.ends_with(",2026-11-26T14:00:02.000Z,3,\n"),
            "{hidden}"
        );
    }

    #[test]
    fn json_rows_keep_the_column_order_and_nulls() {
        let json = serde_json::to_string(&LogRecord::new(&full_row(), false)).unwrap();
        assert!(
            json.starts_with(r#"{"id":42,"received_at":"2026-11-26T14:00:00.123Z","#),
            "{json}"
        );
        assert!(json.contains(r#""error_code":null,"#), "{json}");
        assert!(
            json.contains(r#""sent_at":"2026-11-26T14:00:01.000Z","#),
            "{json}"
        );
        assert!(json.ends_with(r#""clicks":3,"linked_at":null}"#), "{json}");
        let revealed = serde_json::to_value(LogRecord::new(&full_row(), true)).unwrap();
        assert_eq!(revealed["recipient"], "15551234567");
        assert_eq!(revealed["profile_name"], "@Mona");
        let keys: Vec<&str> = COLUMNS.to_vec();
        assert_eq!(revealed.as_object().unwrap().len(), keys.len());
    }
}
