//! The webhook wire format (`*Payload`) and its translation into domain
//! messages and delivery reports. Every entry, change, message and status
//! of a batch is read; unknown fields and message types are not errors.

use crate::domain::ids::{Bsuid, UserRef, WaId};
use crate::domain::message::{IdentityChange, InboundMessage, MessageKind};
use crate::domain::notice::NoticeStatus;
use crate::intake::WebhookBatch;
use crate::store::{ErrorInfo, StatusUpdate};
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::Value;

/// Entries and changes stay raw until each is read on its own, so that a
/// malformed one does not keep the others from being read.
#[derive(Deserialize)]
struct WebhookPayload {
    object: String,
    entry: Vec<Value>,
}

#[derive(Deserialize)]
struct EntryPayload {
    #[serde(default)]
    changes: Vec<Value>,
}

#[derive(Deserialize)]
struct ChangePayload {
    field: String,
    value: Value,
}

#[derive(Deserialize)]
struct MessagesValuePayload {
    metadata: MetadataPayload,
    #[serde(default)]
    contacts: Vec<ContactPayload>,
    #[serde(default)]
    messages: Vec<Value>,
    #[serde(default)]
    statuses: Vec<Value>,
    /// Errors Meta reports for the number itself, outside any message.
    #[serde(default)]
    errors: Vec<Value>,
}

#[derive(Deserialize)]
struct MetadataPayload {
    phone_number_id: String,
}

#[derive(Deserialize)]
struct ContactPayload {
    #[serde(default)]
    wa_id: Option<String>,
    #[serde(default)]
    user_id: Option<String>,
    #[serde(default)]
    profile: Option<ProfilePayload>,
}

#[derive(Deserialize)]
struct ProfilePayload {
    #[serde(default)]
    name: Option<String>,
}

#[derive(Deserialize)]
struct MessagePayload {
    id: String,
    timestamp: Seconds,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    from_user_id: Option<String>,
    #[serde(default)]
    group_id: Option<String>,
    #[serde(default)]
    text: Option<TextPayload>,
    #[serde(default)]
    system: Option<SystemPayload>,
    #[serde(flatten)]
    rest: serde_json::Map<String, Value>,
}

/// Seconds since 1970: a string of digits as Meta writes them, or the
/// same number unquoted, which says no less.
#[derive(Deserialize)]
#[serde(untagged)]
enum Seconds {
    Text(String),
    Number(i64),
}

#[derive(Deserialize)]
struct TextPayload {
    body: String,
}

#[derive(Deserialize)]
struct SystemPayload {
    #[serde(default)]
    wa_id: Option<String>,
    /// The new number's name in older versions of the API.
    #[serde(default)]
    new_wa_id: Option<String>,
    #[serde(default)]
    user_id: Option<String>,
    /// The BSUID the person had: both system message types carry it
    /// (August 2026), since a number change makes a new BSUID too.
    #[serde(default)]
    previous_user_id: Option<String>,
}

#[derive(Deserialize)]
struct StatusPayload {
    id: String,
    status: String,
    timestamp: Seconds,
    #[serde(default)]
    biz_opaque_callback_data: Option<String>,
    #[serde(default)]
    errors: Vec<StatusErrorPayload>,
}

#[derive(Deserialize)]
struct StatusErrorPayload {
    code: i64,
    #[serde(default)]
    title: String,
}

/// Reads a signed body as it arrived; only a body that is not JSON at all
/// is an error.
pub fn read_body(body: &[u8]) -> Result<WebhookBatch, serde_json::Error> {
    match serde_json::from_slice(body) {
        Ok(value) => Ok(read_batch(value)),
        Err(error) => match replace_lone_surrogates(body) {
            Some(repaired) => serde_json::from_slice(&repaired).map(read_batch),
            None => Err(error),
        },
    }
}

/// A text cut between the two halves of a UTF-16 surrogate pair keeps
/// one half, escaped (`"\ud83d"`): JSON's grammar allows it, but it is no
/// character, and serde_json refuses the whole body. Each lone half
/// becomes U+FFFD, as a browser shows it. `None` when there is none.
///
/// Outside strings JSON has no backslash, so every `\` starts an escape.
fn replace_lone_surrogates(body: &[u8]) -> Option<Vec<u8>> {
    const SURROGATE: std::ops::RangeInclusive<u16> = 0xD800..=0xDFFF;
    const HIGH: std::ops::RangeInclusive<u16> = 0xD800..=0xDBFF;
    const LOW: std::ops::RangeInclusive<u16> = 0xDC00..=0xDFFF;
    // The UTF-16 unit of a `\uXXXX` escape starting at `at`.
    let unit_at = |at: usize| -> Option<u16> {
        let hex = body.get(at..at + 6)?.strip_prefix(b"\\u")?;
        u16::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()
    };
    let mut out = Vec::with_capacity(body.len());
    let mut replaced = false;
    let mut at = 0;
    while at < body.len() {
        let kept = match unit_at(at) {
            Some(high)
                if HIGH.contains(&high)
                    && unit_at(at + 6).is_some_and(|low| LOW.contains(&low)) =>
            {
                12
            }
            Some(half) if SURROGATE.contains(&half) => {
                out.extend_from_slice(b"\\ufffd");
                replaced = true;
                at += 6;
                continue;
            }
            _ if body[at] == b'\\' => 2,
            _ => 1,
        };
        let end = (at + kept).min(body.len());
        out.extend_from_slice(&body[at..end]);
        at = end;
    }
    replaced.then_some(out)
}

/// Reads a signed JSON body. Whatever cannot be understood is named in
/// `problems`, and the rest is still processed.
pub fn read_batch(body: Value) -> WebhookBatch {
    let mut batch = WebhookBatch::default();
    let payload: WebhookPayload = match serde_json::from_value(body) {
        Ok(p) => p,
        Err(e) => {
            batch
                .problems
                .push(unreadable("not a webhook envelope", &e));
            return batch;
        }
    };
    if payload.object != "whatsapp_business_account" {
        batch.problems.push(format!(
            "object `{}` is not whatsapp_business_account",
            payload.object
        ));
        return batch;
    }
    let mut changes = vec![];
    for entry in payload.entry {
        match serde_json::from_value::<EntryPayload>(entry) {
            Ok(entry) => changes.extend(entry.changes),
            Err(e) => batch.problems.push(unreadable("entry", &e)),
        }
    }
    for change in changes {
        let change = match serde_json::from_value::<ChangePayload>(change) {
            Ok(change) => change,
            Err(e) => {
                batch.problems.push(unreadable("change", &e));
                continue;
            }
        };
        if change.field != "messages" {
            batch
                .problems
                .push(format!("change field `{}` is not handled", change.field));
            continue;
        }
        match serde_json::from_value::<MessagesValuePayload>(change.value) {
            Ok(value) => read_value(value, &mut batch),
            Err(e) => batch.problems.push(unreadable("messages change", &e)),
        }
    }
    batch
}

/// What could not be read, and why, without the value itself: the reason
/// is logged, and a value in the wrong place may be a phone number or a
/// name ("invalid type: integer `15557123456`" reads "invalid type:
/// integer"). The body keeps it, in quarantine.
fn unreadable(part: &str, error: &serde_json::Error) -> String {
    let message = error.to_string();
    let unexpected = ["invalid type: ", "invalid value: "]
        .into_iter()
        .find_map(|prefix| message.find(prefix).map(|at| at + prefix.len()));
    let Some(start) = unexpected else {
        return format!("{part}: {message}");
    };
    let end = message[start..]
        .find(", expected")
        .map_or(message.len(), |at| start + at);
    let kind = message[start..end]
        .split(['`', '"'])
        .next()
        .unwrap_or_default()
        .trim_end();
    format!("{part}: {}{kind}{}", &message[..start], &message[end..])
}

fn read_value(value: MessagesValuePayload, batch: &mut WebhookBatch) {
    let number = value.metadata.phone_number_id;
    if !value.errors.is_empty() {
        // Nothing here to act on, but an operator must be able to read it.
        batch.problems.push(format!(
            "errors reported for number {number}: {}",
            Value::Array(value.errors)
        ));
    }
    for raw in value.messages {
        match serde_json::from_value::<MessagePayload>(raw) {
            Ok(message) => match to_message(message, &number, &value.contacts) {
                Ok(message) => batch.messages.push(message),
                Err(problem) => batch.problems.push(problem),
            },
            Err(e) => batch.problems.push(unreadable("message", &e)),
        }
    }
    for raw in value.statuses {
        match serde_json::from_value::<StatusPayload>(raw)
            .map_err(|e| unreadable("status", &e))
            .and_then(|status| to_status(status).map_err(|problem| format!("status: {problem}")))
        {
            Ok(Some(status)) => batch.statuses.push(status),
            // `deleted`, `warning`…: nothing to move, but counted.
            Ok(None) => batch.other_statuses += 1,
            Err(problem) => batch.problems.push(problem),
        }
    }
}

fn to_message(
    m: MessagePayload,
    number: &str,
    contacts: &[ContactPayload],
) -> Result<InboundMessage, String> {
    let sent_at =
        parse_timestamp(&m.timestamp).ok_or_else(|| format!("message {}: bad timestamp", m.id))?;
    let wa_id = m.from.as_deref().and_then(WaId::parse);
    // A change of ids is filed under the BSUID the person had, whichever
    // of their ids the message names as its sender.
    let previous_bsuid = (m.system.as_ref())
        .and_then(|s| s.previous_user_id.as_deref())
        .and_then(Bsuid::parse);
    let bsuid = previous_bsuid.or_else(|| m.from_user_id.as_deref().and_then(Bsuid::parse));
    // The contacts block pairs the phone with the BSUID when the message
    // carries only one of them.
    let contact = contacts.iter().find(|c| {
        (m.from.is_some() && c.wa_id == m.from)
            || (m.from_user_id.is_some() && c.user_id == m.from_user_id)
    });
    let bsuid = bsuid.or_else(|| {
        contact
            .and_then(|c| c.user_id.as_deref())
            .and_then(Bsuid::parse)
    });
    let wa_id = wa_id.or_else(|| {
        contact
            .and_then(|c| c.wa_id.as_deref())
            .and_then(WaId::parse)
    });
    let from = UserRef::new(wa_id, bsuid)
        .ok_or_else(|| format!("message {}: no valid sender id", m.id))?;
    let identity_change = m.system.as_ref().map(|s| IdentityChange {
        new_wa_id: (s.wa_id.as_deref())
            .or(s.new_wa_id.as_deref())
            .and_then(WaId::parse),
        new_bsuid: s.user_id.as_deref().and_then(Bsuid::parse),
    });
    let text = m.text.map(|t| t.body).or_else(|| written(&m.kind, &m.rest));
    Ok(InboundMessage {
        id: m.id,
        phone_number_id: number.to_owned(),
        from,
        profile_name: contact
            .and_then(|c| c.profile.as_ref())
            .and_then(|p| p.name.clone()),
        kind: MessageKind::from_wire_type(&m.kind),
        wire_type: m.kind,
        text,
        sent_at,
        in_group: m.group_id.is_some(),
        identity_change,
    })
}

/// What a message that is not `text` says in words, read for keywords and
/// the language: a media caption, a quick-reply button's text (Meta's
/// usual "Stop" button), an interactive reply's title.
fn written(kind: &str, rest: &serde_json::Map<String, Value>) -> Option<String> {
    let part = rest.get(kind)?;
    let words = match kind {
        "button" => part.get("text"),
        "interactive" => ["button_reply", "list_reply"]
            .iter()
            .find_map(|reply| part.get(*reply)?.get("title")),
        _ => part.get("caption"),
    };
    words?.as_str().map(str::to_owned)
}

fn to_status(s: StatusPayload) -> Result<Option<StatusUpdate>, String> {
    let status = match s.status.as_str() {
        "sent" => NoticeStatus::Sent,
        "delivered" => NoticeStatus::Delivered,
        "read" => NoticeStatus::Read,
        "failed" => NoticeStatus::Failed,
        _ => return Ok(None),
    };
    let at = parse_timestamp(&s.timestamp).ok_or_else(|| format!("{}: bad timestamp", s.id))?;
    Ok(Some(StatusUpdate {
        outbound_message_id: s.id,
        notice_id: s.biz_opaque_callback_data.and_then(|d| d.parse().ok()),
        status,
        at,
        error: s.errors.into_iter().next().map(|e| ErrorInfo {
            code: Some(e.code),
            title: crate::domain::ids::without_ids(&e.title),
        }),
    }))
}

/// Seconds since 1970, as Meta writes them. An instant before WhatsApp
/// (2009) or more than a day ahead of our clock is no time a message was
/// sent at: taking it would stretch or shrink the 24-hour reply window.
fn parse_timestamp(raw: &Seconds) -> Option<Timestamp> {
    const WHATSAPP_BEGAN: i64 = 1_230_768_000; // 2009-01-01T00:00:00Z
    let seconds = match raw {
        Seconds::Text(text) => text.trim().parse().ok()?,
        Seconds::Number(seconds) => *seconds,
    };
    let at = Timestamp::from_second(seconds).ok()?;
    let latest = Timestamp::now() + jiff::SignedDuration::from_hours(24);
    (at.as_second() >= WHATSAPP_BEGAN && at <= latest).then_some(at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn value_with(messages: Value, statuses: Value) -> Value {
        json!({
            "object": "whatsapp_business_account",
            "entry": [{"id": "1", "changes": [{"field": "messages", "value": {
                "messaging_product": "whatsapp",
                "metadata": {"display_phone_number": "15550001111", "phone_number_id": "100"},
                "contacts": [{"profile": {"name": "Secret Name"}, "wa_id": "15557123456"}],
                "messages": messages,
                "statuses": statuses,
            }}]}],
        })
    }

    #[test]
    fn a_problem_names_what_was_wrong_but_not_the_value() {
        let batch = read_batch(value_with(
            json!([
                {"from": 15557123456_u64, "id": "wamid.A", "timestamp": "1700000000", "type": "text",
                 "text": {"body": "hi"}},
                {"from": "15557123456", "id": "wamid.B", "timestamp": "1700000000", "type": "text",
                 "text": "my number is 15557123473"},
            ]),
            json!([{"id": "wamid.C", "status": "delivered", "timestamp": "1700000000",
                    "biz_opaque_callback_data": 15557123456_u64}]),
        ));
        let problems = batch.problems.join("; ");
        assert_eq!(batch.problems.len(), 3, "{problems}");
        assert!(!problems.contains("1555712"), "{problems}");
        assert!(
            problems.contains("message: invalid type: integer, expected a string"),
            "{problems}"
        );
        assert!(
            problems.contains("message: invalid type: string, expected"),
            "{problems}"
        );
        assert!(
            problems.contains("status: invalid type: integer"),
            "{problems}"
        );
    }

    #[test]
    fn a_lone_surrogate_half_reads_as_a_replacement_character() {
        let body = |text: &str| {
            format!(
                r#"{{"object":"whatsapp_business_account","entry":[{{"id":"1","changes":[{{"field":"messages","value":{{"messaging_product":"whatsapp","metadata":{{"display_phone_number":"1","phone_number_id":"100"}},"messages":[{{"from":"15557123456","id":"wamid.A","timestamp":"1700000000","type":"text","text":{{"body":"{text}"}}}}]}}}}]}}]}}"#
            )
        };
        let text_of = |raw: &str| {
            let batch = read_body(body(raw).as_bytes()).expect("read");
            assert!(batch.problems.is_empty(), "{:?}", batch.problems);
            batch.messages[0].text.clone().expect("a text")
        };
        assert_eq!(text_of(r"bye \ud83d"), "bye \u{fffd}");
        assert_eq!(
            text_of(r"\udc4b\ud83d\udc4b\ud83d x"),
            "\u{fffd}👋\u{fffd} x"
        );
        assert_eq!(text_of(r"a \\ud83d"), r"a \ud83d");
        assert!(replace_lone_surrogates(body(r"\ud83d\udc4b \\ \n").as_bytes()).is_none());
        assert!(read_body(br#"{"a": "\ud83d"#).is_err());
    }

    #[test]
    fn a_timestamp_may_be_written_as_a_number() {
        let batch = read_batch(value_with(
            json!([{"from": "15557123456", "id": "wamid.A", "timestamp": 1_700_000_000,
                    "type": "text", "text": {"body": "hi"}}]),
            json!([{"id": "wamid.C", "status": "read", "timestamp": 1_700_000_001}]),
        ));
        assert!(batch.problems.is_empty(), "{:?}", batch.problems);
        assert_eq!(batch.messages[0].sent_at.as_second(), 1_700_000_000);
        assert_eq!(batch.statuses[0].at.as_second(), 1_700_000_001);
    }

    #[test]
    fn a_problem_without_a_value_reads_as_serde_wrote_it() {
        let batch = read_batch(value_with(
            json!([{"from": "15557123456", "timestamp": "1700000000", "type": "text"}]),
            json!([]),
        ));
        assert_eq!(batch.problems, ["message: missing field `id`"]);
    }

    #[test]
    fn a_malformed_entry_or_change_leaves_the_others_read() {
        let mut body = value_with(
            json!([{"from": "15557123456", "id": "wamid.A", "timestamp": "1700000000",
                    "type": "text", "text": {"body": "hi"}}]),
            json!([]),
        );
        let entries = body["entry"].as_array_mut().unwrap();
        let good_change = entries[0]["changes"][0].clone();
        entries[0]["changes"]
            .as_array_mut()
            .unwrap()
            .push(json!("garbage"));
        entries.push(json!({"id": "2", "changes": "garbage"}));
        entries.push(json!({"id": "3", "changes": [good_change]}));
        let batch = read_batch(body);
        assert_eq!(batch.messages.len(), 2, "{:?}", batch.problems);
        assert_eq!(batch.problems.len(), 2, "{:?}", batch.problems);
    }
}
