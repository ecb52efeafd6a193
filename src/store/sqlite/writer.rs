//! Group commit: one task owns the write connection, takes every webhook's
//! writes that arrived while it was busy, and stores them in one
//! transaction with a few multi-row statements. A caller hears back only
//! after the commit, so "200 means stored" holds for each of them.

use crate::domain::countdown::Phase;
use crate::domain::decision::LastNotice;
use crate::domain::notice::NoticeStatus;
use crate::store::batch::{self, Job, NextIds, NoticeProgress, Plan, UserRecord};
use crate::store::{Ingested, StatusUpdate, StoreError, flood_window, from_millis, millis};
use sqlx::sqlite::{SqliteConnectOptions, SqliteRow};
use sqlx::{Connection, Row, SqliteConnection};
use std::collections::HashSet;
use tokio::sync::{mpsc, oneshot};

/// Messages and reports one transaction takes at most.
const GROUP_LIMIT: usize = 2_000;

enum Request {
    Ingest {
        job: Job,
        reply: oneshot::Sender<Result<Vec<Ingested>, StoreError>>,
    },
    Statuses {
        updates: Vec<StatusUpdate>,
        reply: oneshot::Sender<Result<usize, StoreError>>,
    },
}

impl Request {
    fn size(&self) -> usize {
        match self {
            Request::Ingest { job, .. } => job.messages.len(),
            Request::Statuses { updates, .. } => updates.len(),
        }
    }
}

/// What one transaction produced, per request in order.
enum Written {
    Ingested(Vec<Ingested>),
    Unknown(usize),
}

/// The handle callers send their writes through.
#[derive(Clone, Debug)]
pub(super) struct Writer {
    requests: mpsc::UnboundedSender<Request>,
}

impl Writer {
    /// Opens the write connection and starts the task; it ends when the
    /// last handle is dropped, after finishing what was sent.
    pub async fn start(options: &SqliteConnectOptions) -> Result<Self, StoreError> {
        let connection = SqliteConnection::connect_with(options).await?;
        let (requests, queue) = mpsc::unbounded_channel();
        tokio::spawn(run(connection, queue));
        Ok(Self { requests })
    }

    pub async fn ingest(&self, job: Job) -> Result<Vec<Ingested>, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.send(Request::Ingest { job, reply })?;
        answer.await.map_err(|_| StoreError::WriterStopped)?
    }

    pub async fn apply_statuses(&self, updates: Vec<StatusUpdate>) -> Result<usize, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.send(Request::Statuses { updates, reply })?;
        answer.await.map_err(|_| StoreError::WriterStopped)?
    }

    fn send(&self, request: Request) -> Result<(), StoreError> {
        self.requests
            .send(request)
            .map_err(|_| StoreError::WriterStopped)
    }
}

async fn run(mut connection: SqliteConnection, mut queue: mpsc::UnboundedReceiver<Request>) {
    while let Some(first) = queue.recv().await {
        let mut size = first.size();
        let mut group = vec![first];
        while size < GROUP_LIMIT {
            match queue.try_recv() {
                Ok(request) => {
                    size += request.size();
                    group.push(request);
                }
                Err(_) => break,
            }
        }
        match write(&mut connection, &group).await {
            Ok(written) => group.into_iter().zip(written).for_each(answer),
            // One bad request must not fail the others: each alone.
            Err(_) if group.len() > 1 => {
                for request in group {
                    let written = write(&mut connection, std::slice::from_ref(&request)).await;
                    match written {
                        Ok(mut written) => answer((request, written.remove(0))),
                        Err(error) => fail(request, error),
                    }
                }
            }
            Err(error) => {
                if let Some(request) = group.pop() {
                    fail(request, error);
                }
            }
        }
    }
}

fn answer((request, written): (Request, Written)) {
    // A caller that went away (its client hung up) needs no answer.
    match (request, written) {
        (Request::Ingest { reply, .. }, Written::Ingested(outcomes)) => {
            let _ = reply.send(Ok(outcomes));
        }
        (Request::Statuses { reply, .. }, Written::Unknown(unknown)) => {
            let _ = reply.send(Ok(unknown));
        }
        (request, _) => fail(
            request,
            StoreError::Corrupt("writer answered out of order".into()),
        ),
    }
}

fn fail(request: Request, error: StoreError) {
    match request {
        Request::Ingest { reply, .. } => {
            let _ = reply.send(Err(error));
        }
        Request::Statuses { reply, .. } => {
            let _ = reply.send(Err(error));
        }
    }
}

async fn write(
    connection: &mut SqliteConnection,
    group: &[Request],
) -> Result<Vec<Written>, StoreError> {
    // IMMEDIATE takes the write lock up front: a read-then-write
    // transaction that upgrades later fails with "database is locked".
    let mut tx = connection.begin_with("BEGIN IMMEDIATE").await?;
    let jobs: Vec<&Job> = group
        .iter()
        .filter_map(|r| match r {
            Request::Ingest { job, .. } => Some(job),
            Request::Statuses { .. } => None,
        })
        .collect();
    let mut ingested = if jobs.is_empty() {
        vec![]
    } else {
        ingest(&mut tx, &jobs).await?
    }
    .into_iter();
    let mut written = Vec::with_capacity(group.len());
    for request in group {
        written.push(match request {
            Request::Ingest { .. } => Written::Ingested(ingested.next().unwrap_or_default()),
            Request::Statuses { updates, .. } => {
                Written::Unknown(statuses(&mut tx, updates).await?)
            }
        });
    }
    tx.commit().await?;
    Ok(written)
}

async fn ingest(
    tx: &mut SqliteConnection,
    jobs: &[&Job],
) -> Result<Vec<Vec<Ingested>>, StoreError> {
    let seen: HashSet<String> = sqlx::query_scalar(
        "SELECT message_id FROM inbound WHERE message_id IN (SELECT value FROM json_each($1))",
    )
    .bind(json(&batch::message_ids(jobs)))
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .collect();
    let (bsuids, wa_ids) = batch::sender_keys(jobs);
    let users = sqlx::query(
        "SELECT id, phone_number_id, bsuid, wa_id, pseudonym, country, profile_name, chosen_locale, opted_out,
                last_message_at, last_notice_at, last_notice_phase, last_notice_locale, flood_window_start,
                flood_count, created_at
         FROM users WHERE id IN (
             SELECT u.id FROM json_each($1) k JOIN users u
                 ON u.phone_number_id = k.value->>0 AND u.bsuid = k.value->>1
             UNION
             SELECT u.id FROM json_each($2) k JOIN users u
                 ON u.phone_number_id = k.value->>0 AND u.wa_id = k.value->>1)",
    )
    .bind(json(&bsuids))
    .bind(json(&wa_ids))
    .fetch_all(&mut *tx)
    .await?
    .iter()
    .map(user_record)
    .collect::<Result<Vec<_>, _>>()?;
    // One writer holds the write lock: the next ids are ours to take.
    let next: (i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT COALESCE(MAX(id), 0) + 1 FROM users), (SELECT COALESCE(MAX(id), 0) + 1 FROM inbound),
                (SELECT COALESCE(MAX(id), 0) + 1 FROM notices)",
    )
    .fetch_one(&mut *tx)
    .await?;
    let ids = NextIds {
        user: next.0,
        inbound: next.1,
        notice: next.2,
    };
    let Plan {
        new_users,
        changed_users,
        inbound,
        notices,
        outcomes,
    } = batch::plan(jobs, &seen, users, ids);
    if !new_users.is_empty() {
        sqlx::query(
            "INSERT INTO users (id, phone_number_id, bsuid, wa_id, pseudonym, country, profile_name, chosen_locale,
                                opted_out, last_message_at, last_notice_at, last_notice_phase, last_notice_locale,
                                flood_window_start, flood_count, created_at)
             SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, value->>6, value->>7,
                    value->>8, value->>9, value->>10, value->>11, value->>12, value->>13, value->>14, value->>15
             FROM json_each($1)",
        )
        .bind(users_json(&new_users))
        .execute(&mut *tx)
        .await?;
    }
    if !changed_users.is_empty() {
        sqlx::query(
            "UPDATE users SET bsuid = j.value->>2, wa_id = j.value->>3, profile_name = j.value->>6,
                    chosen_locale = j.value->>7, opted_out = j.value->>8, last_message_at = j.value->>9,
                    last_notice_at = j.value->>10, last_notice_phase = j.value->>11,
                    last_notice_locale = j.value->>12, flood_window_start = j.value->>13,
                    flood_count = j.value->>14
             FROM json_each($1) AS j WHERE users.id = j.value->>0",
        )
        .bind(users_json(&changed_users))
        .execute(&mut *tx)
        .await?;
    }
    if !inbound.is_empty() {
        let rows: Vec<_> = inbound
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
        sqlx::query(
            "INSERT INTO inbound (id, message_id, received_at, message_sent_at, phone_number_id, user_id,
                                  inbound_type, country, locale, locale_source, decision)
             SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, value->>6, value->>7,
                    value->>8, value->>9, value->>10
             FROM json_each($1)",
        )
        .bind(json(&rows))
        .execute(&mut *tx)
        .await?;
    }
    if !notices.is_empty() {
        let rows: Vec<_> = notices
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
        sqlx::query(
            "INSERT INTO notices (id, inbound_id, user_id, phone_number_id, kind, locale, status, due_at, created_at)
             SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, 'queued', value->>6,
                    value->>6
             FROM json_each($1)",
        )
        .bind(json(&rows))
        .execute(&mut *tx)
        .await?;
    }
    Ok(outcomes)
}

async fn statuses(
    tx: &mut SqliteConnection,
    updates: &[StatusUpdate],
) -> Result<usize, StoreError> {
    let outbound: Vec<&str> = updates
        .iter()
        .map(|u| u.outbound_message_id.as_str())
        .collect();
    let ids: Vec<i64> = updates.iter().filter_map(|u| u.notice_id).collect();
    let loaded = sqlx::query(
        "SELECT id, status, outbound_message_id, sent_at, delivered_at, read_at, error_code, error_title
         FROM notices WHERE outbound_message_id IN (SELECT value FROM json_each($1))
         UNION
         SELECT id, status, outbound_message_id, sent_at, delivered_at, read_at, error_code, error_title
         FROM notices WHERE id IN (SELECT value FROM json_each($2)) AND outbound_message_id IS NULL",
    )
    .bind(json(&outbound))
    .bind(json(&ids))
    .fetch_all(&mut *tx)
    .await?
    .iter()
    .map(notice_progress)
    .collect::<Result<Vec<_>, _>>()?;
    let (changed, unknown) = batch::apply_reports(updates, loaded);
    if !changed.is_empty() {
        let rows: Vec<_> = changed
            .iter()
            .map(|n| {
                (
                    n.id,
                    n.status.as_str(),
                    &n.outbound_message_id,
                    n.sent_at,
                    n.delivered_at,
                    n.read_at,
                    n.error_code,
                    &n.error_title,
                )
            })
            .collect();
        sqlx::query(
            "UPDATE notices SET status = j.value->>1, outbound_message_id = j.value->>2, sent_at = j.value->>3,
                    delivered_at = j.value->>4, read_at = j.value->>5, error_code = j.value->>6,
                    error_title = j.value->>7
             FROM json_each($1) AS j WHERE notices.id = j.value->>0",
        )
        .bind(json(&rows))
        .execute(&mut *tx)
        .await?;
    }
    Ok(unknown)
}

/// Rows travel as one JSON array bound to one parameter, which SQLite
/// unpacks with `json_each`: one statement, whatever the number of rows.
fn json(rows: &impl serde::Serialize) -> String {
    // Plain strings and numbers always serialize.
    serde_json::to_string(rows).unwrap_or_else(|_| "[]".into())
}

fn users_json(users: &[UserRecord]) -> String {
    json(&users.iter().map(UserColumns).collect::<Vec<_>>())
}

/// A user as the array `users_json` binds, in the column order of the
/// INSERT and UPDATE above.
struct UserColumns<'a>(&'a UserRecord);

impl serde::Serialize for UserColumns<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeTuple;
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

fn user_record(row: &SqliteRow) -> Result<UserRecord, StoreError> {
    let id: i64 = row.try_get("id")?;
    let last_notice = match row.try_get::<Option<i64>, _>("last_notice_at")? {
        Some(at) => Some(LastNotice {
            at: from_millis(at)?,
            phase: row
                .try_get::<Option<String>, _>("last_notice_phase")?
                .as_deref()
                .and_then(Phase::parse)
                .ok_or_else(|| StoreError::Corrupt(format!("user {id}: last_notice_phase")))?,
            locale: row
                .try_get::<Option<String>, _>("last_notice_locale")?
                .unwrap_or_default(),
        }),
        None => None,
    };
    Ok(UserRecord {
        id,
        phone_number_id: row.try_get("phone_number_id")?,
        bsuid: row.try_get("bsuid")?,
        wa_id: row.try_get("wa_id")?,
        pseudonym: row.try_get("pseudonym")?,
        country: row.try_get("country")?,
        profile_name: row.try_get("profile_name")?,
        chosen_locale: row.try_get("chosen_locale")?,
        opted_out: row.try_get("opted_out")?,
        last_message_at: row.try_get("last_message_at")?,
        last_notice,
        flood: flood_window(
            row.try_get("flood_window_start")?,
            row.try_get("flood_count")?,
        )?,
        created_at: row.try_get("created_at")?,
    })
}

fn notice_progress(row: &SqliteRow) -> Result<NoticeProgress, StoreError> {
    let id: i64 = row.try_get("id")?;
    let status: String = row.try_get("status")?;
    Ok(NoticeProgress {
        id,
        status: NoticeStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("notice {id}: status {status}")))?,
        outbound_message_id: row.try_get("outbound_message_id")?,
        sent_at: row.try_get("sent_at")?,
        delivered_at: row.try_get("delivered_at")?,
        read_at: row.try_get("read_at")?,
        error_code: row.try_get("error_code")?,
        error_title: row.try_get("error_title")?,
    })
}
