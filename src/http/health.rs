//! `/healthz` for operators, `/readyz` for load balancers.

use super::AppState;
use crate::i18n::folders_without_file;
use actix_web::{HttpResponse, web};
use jiff::Timestamp;
use serde_json::json;
use std::sync::atomic::Ordering;

/// 200 while the process lives, with what an operator wants to know.
pub async fn healthz(state: web::Data<AppState>) -> HttpResponse {
    let now = Timestamp::now();
    let paused = state.store.paused_numbers().await.unwrap_or_default();
    let slowed = state.store.slowed_numbers(now).await.unwrap_or_default();
    let queue = state.store.queue_stats(now).await.ok();
    let counters = &state.intake.counters;
    let catalog = state.catalog.current();
    let refusal = state.catalog.refusal();
    HttpResponse::Ok().json(json!({
        "status": "ok",
        "mode": if state.live { "live" } else { "dry_run" },
        "sender": {
            "state": if paused.is_empty() { "running" } else { "paused" },
            "paused_numbers": paused.iter().map(|p| json!({
                "phone_number_id": p.phone_number_id,
                "error_code": p.error_code,
                "reason": p.reason,
                "since": p.paused_at.to_string(),
                "next_probe_at": p.is_probed().then(|| p.next_probe_at.to_string()),
            })).collect::<Vec<_>>(),
            // Half their rate after a 131048 (spam rate limit), on every box.
            "slowed_numbers": slowed.iter().map(|s| json!({
                "phone_number_id": s.phone_number_id,
                "until": s.until.to_string(),
            })).collect::<Vec<_>>(),
        },
        "locales": {
            "version": catalog.localizer.version(),
            "available": catalog.localizer.locales(),
            "refused": refusal.map(|r| json!({ "at": r.at.to_string(), "problems": r.problems })),
            // Begun but not served: `locales check` names them too.
            "folders_without_sunset_ftl": folders_without_file(state.catalog.dir())
                .iter()
                .filter_map(|folder| folder.file_name().map(|name| name.to_string_lossy().into_owned()))
                .collect::<Vec<_>>(),
        },
        "queue": queue.map(|q| json!({ "depth": q.depth, "oldest_age_seconds": q.oldest_age.as_secs() })),
        "webhooks": {
            "duplicates": counters.duplicates.load(Ordering::Relaxed),
            "quarantined": counters.quarantined.load(Ordering::Relaxed),
            "unknown_statuses": counters.unknown_statuses.load(Ordering::Relaxed),
            // Statuses of kinds that move no notice: `deleted`, `warning`…
            "other_statuses": counters.other_statuses.load(Ordering::Relaxed),
        },
    }))
}

/// Prometheus text format.
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    let queue = state
        .store
        .queue_stats(Timestamp::now())
        .await
        .unwrap_or_default();
    let paused = state
        .store
        .paused_numbers()
        .await
        .map(|p| p.len())
        .unwrap_or(0);
    let body = state
        .metrics
        .render(queue.depth, queue.oldest_age.as_secs(), paused as i64);
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(body)
}

/// 200 when webhooks can be accepted: the database answers. Nothing else
/// (a paused sender, a refused locale file) takes a box out of rotation.
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    match state.store.ping().await {
        Ok(()) => HttpResponse::Ok().json(json!({ "status": "ready" })),
        Err(error) => {
            tracing::error!(error = %error, "not ready: database unreachable");
            HttpResponse::ServiceUnavailable()
                .json(json!({ "status": "unavailable", "detail": "database unreachable" }))
        }
    }
}
