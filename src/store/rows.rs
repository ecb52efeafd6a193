//! A group's rows as JSON arrays, one bound parameter per table: SQLite
//! unpacks them with `json_each`, PostgreSQL with `jsonb_array_elements`,
//! so one statement writes any number of rows. Each array's element order
//! is the column order the statements in `sqlite/group.rs` and
//! `postgres/group.rs` read.

use crate::store::batch::{InboundRow, Job, NoticeRow, UserRecord};
use crate::store::millis;
use crate::store::progress::NoticeProgress;
use serde::Serialize;
use serde::ser::{SerializeTuple, Serializer};

pub(crate) fn json(rows: &impl Serialize) -> String {
    // Strings, numbers and nulls always serialize.
    serde_json::to_string(rows).unwrap_or_else(|_| "[]".into())
}

/// id, phone_number_id, bsuid, wa_id, pseudonym, country, profile_name,
/// chosen_locale, opted_out (0/1), last_message_at, last_notice_at,
/// last_notice_phase, last_notice_locale, flood_window_start, flood_count,
/// created_at.
pub(crate) fn users(users: &[UserRecord]) -> String {
    json(&users.iter().map(UserColumns).collect::<Vec<_>>())
}

struct UserColumns<'a>(&'a UserRecord);

impl Serialize for UserColumns<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let u = self.0;
        let notice = u.last_notice.as_ref();
        let mut row = serializer.serialize_tuple(16)?;
        row.serialize_element(&u.id)?;
        row.serialize_element(&u.phone_number_id)?;
        row.serialize_element(&u.bsuid)?;
        row.serialize_element(&u.wa_id)?;
        row.serialize_element(&u.pseudonym)?;
        row.serialize_element(&u.country)?;
        row.serialize_element(&u.profile_name)?;
        row.serialize_element(&u.chosen_locale)?;
        row.serialize_element(&i64::from(u.opted_out))?;
        row.serialize_element(&u.last_message_at)?;
        row.serialize_element(&notice.map(|n| millis(n.at)))?;
        row.serialize_element(&notice.map(|n| n.phase.as_str()))?;
        row.serialize_element(&notice.map(|n| &n.locale))?;
        row.serialize_element(&u.flood.map(|f| millis(f.start)))?;
        row.serialize_element(&u.flood.map_or(0, |f| i64::from(f.count)))?;
        row.serialize_element(&u.created_at)?;
        row.end()
    }
}

/// id, message_id, received_at, message_sent_at, phone_number_id, user_id,
/// inbound_type, country, locale, locale_source, decision.
pub(crate) fn inbound(rows: &[InboundRow]) -> String {
    let rows: Vec<_> = rows
        .iter()
        .map(|r| {
            (
                r.id,
                &r.message_id,
                r.received_at,
                r.message_sent_at,
                &r.phone_number_id,
                r.user_id,
                &r.inbound_type,
                &r.country,
                &r.locale,
                r.locale_source,
                r.decision,
            )
        })
        .collect();
    json(&rows)
}

/// id, inbound_id, user_id, phone_number_id, kind, locale, created_at.
pub(crate) fn notices(rows: &[NoticeRow]) -> String {
    let rows: Vec<_> = rows
        .iter()
        .map(|n| {
            (
                n.id,
                n.inbound_id,
                n.user_id,
                &n.phone_number_id,
                n.kind,
                &n.locale,
                n.created_at,
            )
        })
        .collect();
    json(&rows)
}

/// id, status, due_at, lease_until, attempts, outbound_message_id,
/// sent_at, delivered_at, read_at, error_code, error_title, then the
/// rendering or nulls: body, phase, days_left, template_version.
pub(crate) fn progress(rows: &[NoticeProgress]) -> String {
    json(&rows.iter().map(ProgressColumns).collect::<Vec<_>>())
}

struct ProgressColumns<'a>(&'a NoticeProgress);

impl Serialize for ProgressColumns<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let n = self.0;
        let rendered = n.rendered.as_ref();
        let mut row = serializer.serialize_tuple(15)?;
        row.serialize_element(&n.id)?;
        row.serialize_element(n.status.as_str())?;
        row.serialize_element(&n.due_at)?;
        row.serialize_element(&n.lease_until)?;
        row.serialize_element(&n.attempts)?;
        row.serialize_element(&n.outbound_message_id)?;
        row.serialize_element(&n.sent_at)?;
        row.serialize_element(&n.delivered_at)?;
        row.serialize_element(&n.read_at)?;
        row.serialize_element(&n.error_code)?;
        row.serialize_element(&n.error_title)?;
        row.serialize_element(&rendered.map(|r| &r.text))?;
        row.serialize_element(&rendered.map(|r| r.phase.as_str()))?;
        row.serialize_element(&rendered.map(|r| r.days_left))?;
        row.serialize_element(&rendered.map(|r| &r.template_version))?;
        row.end()
    }
}

/// The senders of a group as new user records would hold them:
/// phone_number_id, bsuid, wa_id, pseudonym, country, profile_name,
/// created_at. Sorted, so that writers inserting the same new senders at
/// once take their locks in one order.
pub(crate) fn senders(jobs: &[&Job]) -> String {
    let mut rows: Vec<_> = jobs
        .iter()
        .flat_map(|job| job.messages.iter().map(move |p| (job, p)))
        .map(|(job, p)| {
            let m = &p.message;
            (
                &m.phone_number_id,
                m.from.bsuid.as_ref().map(|b| b.as_str()),
                m.from.wa_id.as_ref().map(|w| w.as_str()),
                &p.pseudonym,
                m.from.country().map(|c| c.to_string()),
                &m.profile_name,
                millis(job.now),
                &m.id,
            )
        })
        .collect();
    // In one order on every box; the insert keeps the first of a person.
    rows.sort();
    json(&rows)
}
