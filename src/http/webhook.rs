//! `GET /webhook` (Meta's subscription handshake) and `POST /webhook`.

use super::body::read_limited;
use super::payload::read_body;
use super::{ApiError, AppState, MAX_WEBHOOK_BYTES};
use crate::signing::{same_secret, verify_webhook};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

#[derive(Deserialize)]
pub struct SubscriptionQuery {
    #[serde(rename = "hub.mode")]
    mode: Option<String>,
    #[serde(rename = "hub.verify_token")]
    verify_token: Option<String>,
    #[serde(rename = "hub.challenge")]
    challenge: Option<String>,
}

/// Echoes the challenge when the mode is `subscribe` and the token matches.
pub async fn verify_subscription(
    query: web::Query<SubscriptionQuery>,
    state: web::Data<AppState>,
) -> HttpResponse {
    let token_matches = match (&state.verify_token, &query.verify_token) {
        (Some(expected), Some(given)) => same_secret(given, expected.expose()),
        _ => false,
    };
    match (query.mode.as_deref(), token_matches) {
        (Some("subscribe"), true) => HttpResponse::Ok()
            .content_type("text/plain; charset=utf-8")
            .body(query.challenge.clone().unwrap_or_default()),
        _ => HttpResponse::Forbidden().finish(),
    }
}

/// Checks the signature on the raw bytes, reads every part of the batch and
/// answers 200 only once all of it is durably stored.
pub async fn receive_webhook(
    request: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let result = accept(&request, body, &state).await;
    state.metrics.webhook(match &result {
        Ok(_) => "ok",
        Err(error) => error.code(),
    });
    result
}

async fn accept(
    request: &HttpRequest,
    body: web::Payload,
    state: &AppState,
) -> Result<HttpResponse, ApiError> {
    let bytes = read_limited(request, body, MAX_WEBHOOK_BYTES, "webhook bodies").await?;
    let signature = request
        .headers()
        .get("X-Hub-Signature-256")
        .and_then(|v| v.to_str().ok());
    verify_webhook(state.app_secret.expose(), signature, &bytes)
        .map_err(|e| ApiError::Unauthorized(e.to_string()))?;
    let batch = read_body(&bytes)
        .map_err(|e| ApiError::BadRequest(format!("the body is not JSON: {e}")))?;
    state.intake.accept(batch, &bytes).await?;
    Ok(HttpResponse::Ok().finish())
}
