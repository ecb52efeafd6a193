//! The analysts' API: the log (JSON and CSV), counts, the countdown, and
//! the linking backend's call.

use super::auth::Access;
use super::body::read_limited;
use super::{ApiError, AppState, MAX_LINKED_BYTES};
use crate::domain::decision::Decision;
use crate::domain::notice::NoticeStatus;
use crate::export::{LogRecord, PAGE_ROWS, csv_chunk};
use crate::signing::{verify_link_token, verify_webhook};
use crate::store::{Count, LogQuery, Store};
use actix_web::{HttpRequest, HttpResponse, web};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The filter value of a row without a notice or a country, as the stats
/// name it.
const NONE: &str = "none";
const DEFAULT_LIMIT: u32 = 100;
const MAX_LIMIT: u32 = 1000;

#[derive(Deserialize)]
pub struct LogParams {
    limit: Option<u32>,
    cursor: Option<String>,
    since: Option<String>,
    until: Option<String>,
    locale: Option<String>,
    country: Option<String>,
    decision: Option<String>,
    status: Option<String>,
    #[serde(default)]
    reveal: bool,
}

fn instant(name: &str, raw: Option<&str>) -> Result<Option<Timestamp>, ApiError> {
    raw.map(|r| {
        r.parse()
            .ok()
            .or_else(|| at_the_end_of_time(r))
            .ok_or_else(|| {
                ApiError::BadRequest(format!("{name}: `{r}` is not an RFC 3339 instant"))
            })
    })
    .transpose()
}

/// An instant late in the year 9999 that lies past what a timestamp holds
/// (`9999-12-31T23:59:59Z`, written to mean "no bound"), as the last one
/// it does.
fn at_the_end_of_time(raw: &str) -> Option<Timestamp> {
    let pieces = jiff::fmt::temporal::Pieces::parse(raw).ok()?;
    pieces.offset()?;
    (pieces.date().year() == 9999).then_some(Timestamp::MAX)
}

/// `since` and `until`, each optional; `since` may not come after `until`.
type Range = (Option<Timestamp>, Option<Timestamp>);

fn range(since: Option<&str>, until: Option<&str>) -> Result<Range, ApiError> {
    let (since, until) = (instant("since", since)?, instant("until", until)?);
    match (since, until) {
        (Some(start), Some(end)) if start > end => Err(ApiError::BadRequest(format!(
            "since: {start} comes after until: {end}"
        ))),
        _ => Ok((since, until)),
    }
}

impl LogParams {
    /// The query, with `limit` between 1 and `max_limit`.
    fn query(&self, max_limit: u32) -> Result<LogQuery, ApiError> {
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=max_limit).contains(&limit) {
            return Err(ApiError::BadRequest(format!(
                "limit: must be between 1 and {max_limit}"
            )));
        }
        let after_id = match &self.cursor {
            Some(cursor) => i64::from_str_radix(cursor, 16)
                .ok()
                .filter(|id| *id >= 0)
                .ok_or_else(|| {
                    ApiError::BadRequest("cursor: not a cursor from next_cursor".into())
                })?,
            None => 0,
        };
        if let Some(decision) = self
            .decision
            .as_deref()
            .filter(|d| Decision::parse(d).is_none())
        {
            return Err(ApiError::BadRequest(format!(
                "decision: unknown `{decision}`"
            )));
        }
        if let Some(status) = self
            .status
            .as_deref()
            .filter(|s| *s != NONE && NoticeStatus::parse(s).is_none())
        {
            return Err(ApiError::BadRequest(format!("status: unknown `{status}`")));
        }
        let (since, until) = range(self.since.as_deref(), self.until.as_deref())?;
        Ok(LogQuery {
            after_id,
            limit,
            since,
            until,
            locale: self.locale.clone(),
            country: self.country.as_ref().map(|c| match c.as_str() {
                NONE => c.clone(),
                _ => c.to_ascii_uppercase(),
            }),
            decision: self.decision.clone(),
            status: self.status.clone(),
        })
    }
}

#[derive(Serialize)]
struct NotificationsPage<'a> {
    items: Vec<LogRecord<'a>>,
    next_cursor: Option<String>,
}

/// `{"items": [...], "next_cursor": "…" or null}`, oldest first.
pub async fn notifications(
    access: Access,
    params: web::Query<LogParams>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let reveal = access.may_reveal(params.reveal)?;
    let mut query = params.query(MAX_LIMIT)?;
    let limit = query.limit as usize;
    // One row more than asked for tells whether there is a next page.
    query.limit += 1;
    let page = state.store.log_page(&query).await?;
    let mut rows = page.rows()?;
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next_cursor = more
        .then(|| rows.last().map(|row| format!("{:x}", row.id)))
        .flatten();
    let items = rows.iter().map(|row| LogRecord::new(row, reveal)).collect();
    Ok(HttpResponse::Ok().json(NotificationsPage { items, next_cursor }))
}

/// The same rows as CSV, streamed page by page with flat memory.
pub async fn notifications_csv(
    access: Access,
    params: web::Query<LogParams>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let reveal = access.may_reveal(params.reveal)?;
    let query = params.query(u32::MAX)?;
    // The CSV is the whole selection, or its first `limit` rows (any number).
    let wanted = params.limit.unwrap_or(u32::MAX);
    let store = Arc::clone(&state.store);
    let stream = futures_util::stream::unfold(
        Some((store, query, true, wanted)),
        move |cursor| async move {
            let (store, mut query, first, wanted) = cursor?;
            query.limit = wanted.min(PAGE_ROWS);
            match csv_page(store.as_ref(), &query, reveal, first).await {
                Ok((bytes, _)) if bytes.is_empty() => None,
                Ok((bytes, next)) => {
                    let left = wanted - query.limit;
                    let more = next.filter(|_| left > 0).map(|after_id| {
                        query.after_id = after_id;
                        (store, query, false, left)
                    });
                    Some((Ok(bytes), more))
                }
                Err(error) => Some((Err(error), None)),
            }
        },
    );
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "Content-Disposition",
            "attachment; filename=\"sunset-notifications.csv\"",
        ))
        .streaming(stream))
}

/// One page of the CSV, and the cursor after it when more rows may follow.
async fn csv_page(
    store: &dyn Store,
    query: &LogQuery,
    reveal: bool,
    first: bool,
) -> Result<(web::Bytes, Option<i64>), ApiError> {
    let page = store.log_page(query).await?;
    let rows = page.rows()?;
    let bytes = csv_chunk(&rows, reveal, first).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let full = rows.len() == query.limit as usize;
    Ok((bytes.into(), rows.last().filter(|_| full).map(|row| row.id)))
}

#[derive(Deserialize)]
pub struct RangeParams {
    since: Option<String>,
    until: Option<String>,
}

fn as_object(counts: &[Count]) -> Value {
    Value::Object(
        counts
            .iter()
            .map(|c| (c.key.clone(), json!(c.count)))
            .collect::<Map<_, _>>(),
    )
}

/// Counts by day (campaign time zone), locale, country, phase, decision and
/// status, and the funnel.
pub async fn stats(
    _: Access,
    params: web::Query<RangeParams>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (since, until) = range(params.since.as_deref(), params.until.as_deref())?;
    let stats = state.store.stats(since, until).await?;
    Ok(HttpResponse::Ok().json(json!({
        "time_zone": state.campaign.deadline.time_zone.iana_name().unwrap_or("UTC"),
        "by_day": days(&state, &stats.quarter_hour_decisions)
            .into_iter()
            .map(|(date, decisions)| json!({ "date": date, "total": decisions.values().sum::<i64>(), "decisions": decisions }))
            .collect::<Vec<_>>(),
        "by_locale": as_object(&stats.by_locale),
        "by_country": as_object(&stats.by_country),
        "by_phase": as_object(&stats.by_phase),
        "by_decision": as_object(&stats.by_decision),
        "by_status": as_object(&stats.by_status),
        "funnel": stats.funnel,
    })))
}

/// Folds hourly counts into the campaign time zone's days, oldest first.
pub fn days(
    state: &AppState,
    hourly: &[(i64, String, i64)],
) -> Vec<(String, BTreeMap<String, i64>)> {
    let zone = &state.campaign.deadline.time_zone;
    let mut days: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
    for (hour, decision, count) in hourly {
        let Ok(at) = Timestamp::from_millisecond(*hour) else {
            continue;
        };
        let date = at.to_zoned_datetime(zone.clone()).date().to_string();
        *days
            .entry(date)
            .or_default()
            .entry(decision.clone())
            .or_default() += count;
    }
    days.into_iter().collect()
}

/// Where the campaign stands now.
pub async fn countdown(_: Access, state: web::Data<AppState>) -> HttpResponse {
    let now = Timestamp::now();
    let countdown = state.campaign.countdown_at(now);
    HttpResponse::Ok().json(json!({
        "deadline": state.campaign.deadline.instant.to_string(),
        "now": now.to_string(),
        "phase": countdown.phase.as_str(),
        "days_left": countdown.days_left,
        "hours_left": countdown.hours_left,
    }))
}

#[derive(Deserialize)]
struct LinkedPayload {
    token: String,
}

/// The business's linking backend reports a linked account. The body is
/// signed like Meta's webhooks, with SUNSET_SIGNING_KEY:
/// `X-Sunset-Signature: sha256=<hex HMAC-SHA256 of the body>`.
pub async fn linked(
    request: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let body = read_limited(&request, body, MAX_LINKED_BYTES, "link reports").await?;
    let signature = request
        .headers()
        .get("X-Sunset-Signature")
        .and_then(|v| v.to_str().ok());
    let key = state.signing_key.expose();
    verify_webhook(key, signature, &body).map_err(|e| {
        ApiError::Unauthorized(
            e.to_string()
                .replace("X-Hub-Signature-256", "X-Sunset-Signature"),
        )
    })?;
    let payload: LinkedPayload = serde_json::from_slice(&body)
        .map_err(|e| ApiError::BadRequest(format!("expected {{\"token\": \"…\"}}: {e}")))?;
    let claim = verify_link_token(key, &payload.token)
        .ok_or_else(|| ApiError::BadRequest("token: not a genuine link token".into()))?;
    if !state
        .store
        .mark_linked(&claim.phone_number_id, &claim.user_key, Timestamp::now())
        .await?
    {
        return Err(ApiError::NotFound(
            "no user for this token (forgotten?)".into(),
        ));
    }
    Ok(HttpResponse::Ok().json(json!({ "linked": true })))
}
