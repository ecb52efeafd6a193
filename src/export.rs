//! The notification log written out: JSON objects for the API and JSONL,
//! and CSV that spreadsheets open safely (BOM for Arabic, formulas defused).

use crate::store::LogEntry;
use jiff::Timestamp;
use serde_json::{Value, json};

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

/// Excel and LibreOffice read Arabic CSV as UTF-8 only with this mark.
pub const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

fn time(t: Option<Timestamp>) -> Value {
    t.map_or(Value::Null, |t| Value::String(t.to_string()))
}

/// One row as JSON. `reveal` (the admin's choice) shows the clear phone or
/// BSUID and the profile name; otherwise the pseudonym stands for the user.
pub fn entry_json(e: &LogEntry, reveal: bool) -> Value {
    let recipient = match (reveal, &e.wa_id, &e.bsuid) {
        (true, Some(phone), _) => phone.clone(),
        (true, None, Some(bsuid)) => bsuid.clone(),
        _ => e.pseudonym.clone(),
    };
    let mut row = json!({
        "id": e.id,
        "received_at": time(e.received_at),
        "phone_number_id": e.phone_number_id,
        "recipient": recipient,
        "country": e.country,
        "locale": e.locale,
        "locale_source": e.locale_source,
        "inbound_message_id": e.inbound_message_id,
        "inbound_type": e.inbound_type,
        "decision": e.decision,
        "notice_kind": e.notice_kind,
        "phase": e.phase,
        "days_left": e.days_left,
        "template_version": e.template_version,
        "status": e.status,
        "outbound_message_id": e.outbound_message_id,
        "attempts": e.attempts,
        "error_code": e.error_code,
        "error_title": e.error_title,
        "sent_at": time(e.sent_at),
        "delivered_at": time(e.delivered_at),
        "read_at": time(e.read_at),
        "clicks": e.clicks,
        "linked_at": time(e.linked_at),
    });
    if reveal {
        row["profile_name"] = json!(e.profile_name);
    }
    row
}

/// A cell a spreadsheet would run as a formula gets a leading apostrophe.
pub fn neutralize(cell: &str) -> String {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}"),
        _ => cell.to_owned(),
    }
}

fn cell(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => neutralize(s),
        other => other.to_string(),
    }
}

/// CSV lines for a page of rows, with the BOM and header when `first`.
pub fn csv_chunk(entries: &[LogEntry], reveal: bool, first: bool) -> Result<Vec<u8>, csv::Error> {
    let mut out = Vec::with_capacity(entries.len() * 256 + 512);
    if first {
        out.extend_from_slice(UTF8_BOM);
    }
    let columns = if reveal {
        &COLUMNS[..]
    } else {
        &COLUMNS[..COLUMNS.len() - 1]
    };
    {
        let mut writer = csv::Writer::from_writer(&mut out);
        if first {
            writer.write_record(columns)?;
        }
        for entry in entries {
            let row = entry_json(entry, reveal);
            writer.write_record(columns.iter().map(|c| cell(&row[*c])))?;
        }
        writer.flush()?;
    }
    Ok(out)
}

/// JSON Lines for a page of rows.
pub fn jsonl_chunk(entries: &[LogEntry], reveal: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(entries.len() * 512);
    for entry in entries {
        out.extend_from_slice(entry_json(entry, reveal).to_string().as_bytes());
        out.push(b'\n');
    }
    out
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
        let entry = LogEntry {
            id: 7,
            pseudonym: "u_1".into(),
            decision: "notified".into(),
            ..LogEntry::default()
        };
        let csv = csv_chunk(&[entry], false, true).unwrap();
        assert!(csv.starts_with(UTF8_BOM));
        let text = String::from_utf8(csv[3..].to_vec()).unwrap();
        assert!(text.starts_with("id,received_at,phone_number_id,recipient,"));
        assert!(text.lines().nth(1).unwrap().starts_with("7,,,u_1,"));
        assert!(!text.contains("profile_name"));
    }
}
