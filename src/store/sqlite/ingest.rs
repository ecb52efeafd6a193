//! Deciding and storing one inbound message inside the batch transaction.

use crate::domain::countdown::Phase;
use crate::domain::decision::{
    Decision, FLOOD_LIMIT, FloodWindow, LastNotice, Situation, UserChange, UserState,
};
use crate::domain::keywords::Keyword;
use crate::domain::locale::LocaleSource;
use crate::domain::message::{InboundMessage, MessageKind};
use crate::domain::notice::NoticeKind;
use crate::signing::pseudonym;
use crate::store::{IngestContext, Ingested, StoreError, flood_window, from_millis, millis};
use sqlx::{Row, Sqlite, Transaction};

struct UserRow {
    id: i64,
    pseudonym: String,
    chosen_locale: Option<String>,
    state: UserState,
}

pub(super) async fn ingest_one(
    tx: &mut Transaction<'static, Sqlite>,
    message: &InboundMessage,
    ctx: &IngestContext<'_>,
) -> Result<Ingested, StoreError> {
    let seen_before = sqlx::query("SELECT 1 FROM inbound WHERE message_id = $1")
        .bind(&message.id)
        .fetch_optional(&mut **tx)
        .await?
        .is_some();
    let mut user = find_or_create_user(tx, message, ctx).await?;
    if seen_before {
        return Ok(Ingested {
            message_id: message.id.clone(),
            decision: Decision::Duplicate,
            notice_id: None,
            pseudonym: user.pseudonym,
        });
    }
    user.state.flood = Some(FloodWindow::record(user.state.flood, ctx.now));
    record_flood(tx, user.id, user.state.flood).await?;
    let country = message.from.country();
    let keyword = message
        .text
        .as_deref()
        .and_then(|text| ctx.keywords.classify(text));
    let (locale, source) = match keyword {
        Some(Keyword::Language(locale)) => (locale.clone(), LocaleSource::Keyword),
        _ => ctx.chooser.choose(
            user.chosen_locale.as_deref(),
            message.text.as_deref(),
            country,
        ),
    };
    let verdict = ctx.policy.decide(&Situation {
        message,
        seen_before,
        keyword,
        user: &user.state,
        phase: ctx.phase,
        locale: &locale,
        now: ctx.now,
    });
    let inbound_id: i64 = sqlx::query_scalar(
        "INSERT INTO inbound (message_id, received_at, message_sent_at, phone_number_id, user_id, inbound_type,
                              country, locale, locale_source, decision)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
    )
    .bind(&message.id)
    .bind(millis(ctx.now))
    .bind(millis(message.sent_at))
    .bind(&message.phone_number_id)
    .bind(user.id)
    .bind(&message.wire_type)
    .bind(country.map(|c| c.to_string()))
    .bind(&locale)
    .bind(source.as_str())
    .bind(verdict.decision.as_str())
    .fetch_one(&mut **tx)
    .await?;
    if let Some(change) = &verdict.change {
        apply_change(tx, user.id, change).await?;
    }
    let notice_id = match verdict.reply {
        Some(kind) => {
            Some(queue_notice(tx, inbound_id, user.id, message, kind, &locale, ctx).await?)
        }
        None => None,
    };
    if message.kind != MessageKind::System {
        sqlx::query("UPDATE users SET last_message_at = MAX(COALESCE(last_message_at, 0), $1) WHERE id = $2")
            .bind(millis(message.sent_at))
            .bind(user.id)
            .execute(&mut **tx)
            .await?;
    }
    Ok(Ingested {
        message_id: message.id.clone(),
        decision: verdict.decision,
        notice_id,
        pseudonym: user.pseudonym,
    })
}

async fn record_flood(
    tx: &mut Transaction<'static, Sqlite>,
    user_id: i64,
    flood: Option<FloodWindow>,
) -> Result<(), StoreError> {
    let Some(flood) = flood else { return Ok(()) };
    if flood.count == FLOOD_LIMIT + 1 {
        tracing::warn!(
            user_id,
            "flood breaker tripped: further messages this minute are suppressed"
        );
    }
    sqlx::query("UPDATE users SET flood_window_start = $1, flood_count = $2 WHERE id = $3")
        .bind(millis(flood.start))
        .bind(i64::from(flood.count))
        .bind(user_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

async fn apply_change(
    tx: &mut Transaction<'static, Sqlite>,
    user_id: i64,
    change: &UserChange,
) -> Result<(), StoreError> {
    let query = match change {
        UserChange::OptOut => {
            sqlx::query("UPDATE users SET opted_out = 1 WHERE id = $1").bind(user_id)
        }
        UserChange::OptIn => {
            sqlx::query("UPDATE users SET opted_out = 0 WHERE id = $1").bind(user_id)
        }
        UserChange::ChooseLocale(locale) => {
            sqlx::query("UPDATE users SET chosen_locale = $1 WHERE id = $2")
                .bind(locale.clone())
                .bind(user_id)
        }
    };
    query.execute(&mut **tx).await?;
    Ok(())
}

async fn queue_notice(
    tx: &mut Transaction<'static, Sqlite>,
    inbound_id: i64,
    user_id: i64,
    message: &InboundMessage,
    kind: NoticeKind,
    locale: &str,
    ctx: &IngestContext<'_>,
) -> Result<i64, StoreError> {
    let now = millis(ctx.now);
    let id = sqlx::query_scalar(
        "INSERT INTO notices (inbound_id, user_id, phone_number_id, kind, locale, status, due_at, created_at)
         VALUES ($1, $2, $3, $4, $5, 'queued', $6, $6) RETURNING id",
    )
    .bind(inbound_id)
    .bind(user_id)
    .bind(&message.phone_number_id)
    .bind(kind.as_str())
    .bind(locale)
    .bind(now)
    .fetch_one(&mut **tx)
    .await?;
    if kind != NoticeKind::Notice {
        return Ok(id);
    }
    sqlx::query("UPDATE users SET last_notice_at = $1, last_notice_phase = $2, last_notice_locale = $3 WHERE id = $4")
        .bind(now)
        .bind(ctx.phase.as_str())
        .bind(locale)
        .bind(user_id)
        .execute(&mut **tx)
        .await?;
    Ok(id)
}

/// One record per person per business number: found by BSUID first, then by
/// phone; the other id is added as an alias when it first shows up.
async fn find_or_create_user(
    tx: &mut Transaction<'static, Sqlite>,
    message: &InboundMessage,
    ctx: &IngestContext<'_>,
) -> Result<UserRow, StoreError> {
    let bsuid = message.from.bsuid.as_ref().map(|b| b.as_str());
    let wa_id = message.from.wa_id.as_ref().map(|w| w.as_str());
    let number = &message.phone_number_id;
    let found: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM users WHERE phone_number_id = $1 AND (bsuid = $2 OR wa_id = $3)
         ORDER BY bsuid = $2 DESC LIMIT 1",
    )
    .bind(number)
    .bind(bsuid)
    .bind(wa_id)
    .fetch_optional(&mut **tx)
    .await?;
    let id = match found {
        Some(id) => id,
        None => {
            let created: i64 = sqlx::query_scalar(
                "INSERT INTO users (phone_number_id, bsuid, wa_id, pseudonym, country, profile_name, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            )
            .bind(number)
            .bind(bsuid)
            .bind(wa_id)
            .bind(pseudonym(ctx.signing_key, number, message.from.key()))
            .bind(message.from.country().map(|c| c.to_string()))
            .bind(&message.profile_name)
            .bind(millis(ctx.now))
            .fetch_one(&mut **tx)
            .await?;
            return load_user(tx, created).await;
        }
    };
    // OR IGNORE: if another record already holds the alias, keep both apart
    // rather than fail the whole batch.
    sqlx::query(
        "UPDATE OR IGNORE users SET bsuid = COALESCE(bsuid, $1), wa_id = COALESCE(wa_id, $2),
                profile_name = COALESCE($3, profile_name) WHERE id = $4",
    )
    .bind(bsuid)
    .bind(wa_id)
    .bind(&message.profile_name)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    if let Some(change) = &message.identity_change {
        sqlx::query(
            "UPDATE OR IGNORE users SET wa_id = COALESCE($1, wa_id), bsuid = COALESCE($2, bsuid) WHERE id = $3",
        )
        .bind(change.new_wa_id.as_ref().map(|w| w.as_str()))
        .bind(change.new_bsuid.as_ref().map(|b| b.as_str()))
        .bind(id)
        .execute(&mut **tx)
        .await?;
    }
    load_user(tx, id).await
}

async fn load_user(tx: &mut Transaction<'static, Sqlite>, id: i64) -> Result<UserRow, StoreError> {
    let row = sqlx::query(
        "SELECT id, pseudonym, chosen_locale, opted_out, last_notice_at, last_notice_phase, last_notice_locale,
                flood_window_start, flood_count
         FROM users WHERE id = $1",
    )
    .bind(id)
    .fetch_one(&mut **tx)
    .await?;
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
    Ok(UserRow {
        id,
        pseudonym: row.try_get("pseudonym")?,
        chosen_locale: row.try_get("chosen_locale")?,
        state: UserState {
            opted_out: row.try_get("opted_out")?,
            flood: flood_window(
                row.try_get("flood_window_start")?,
                row.try_get("flood_count")?,
            )?,
            last_notice,
        },
    })
}
