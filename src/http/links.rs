//! `/l/{code}`, the smart link to the apps, and `/link/{token}`, the way to
//! account linking.

use super::{ApiError, AppState};
use crate::signing::{verify_link_token, verify_smart_link_code};
use actix_web::http::{Method, header};
use actix_web::{HttpRequest, HttpResponse, web};
use jiff::Timestamp;

/// Link-preview fetchers open every link in a chat: not clicks.
fn is_preview_fetcher(user_agent: &str) -> bool {
    let ua = user_agent.to_ascii_lowercase();
    [
        "whatsapp/",
        "facebookexternalhit",
        "facebot",
        "bot",
        "crawler",
        "spider",
        "preview",
    ]
    .iter()
    .any(|marker| ua.contains(marker))
}

/// 302 to the App Store for iPhone/iPad, Play for Android, else the web app.
pub async fn smart_link(
    request: HttpRequest,
    code: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let notice_id = verify_smart_link_code(state.signing_key.expose(), &code)
        .ok_or_else(|| ApiError::NotFound("no such link".into()))?;
    let user_agent = request
        .headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if request.method() != Method::HEAD && !is_preview_fetcher(user_agent) {
        state.store.count_click(notice_id).await?;
    }
    let target = state.campaign.app_link_for(user_agent);
    Ok(HttpResponse::Found()
        .insert_header((header::LOCATION, target))
        .finish())
}

/// A valid token goes on to the business's linking page; an expired or
/// forged one gets a page that says so.
pub async fn account_link(token: web::Path<String>, state: web::Data<AppState>) -> HttpResponse {
    let valid = state.campaign.linking_enabled()
        && verify_link_token(state.signing_key.expose(), &token)
            .is_some_and(|claim| claim.expires_at > Timestamp::now().as_second());
    if valid {
        let target = state.campaign.link_account_target(&token);
        return HttpResponse::Found()
            .insert_header((header::LOCATION, target))
            .finish();
    }
    HttpResponse::Gone()
        .content_type("text/html; charset=utf-8")
        .body(GONE_PAGE)
}

const GONE_PAGE: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Link expired</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;line-height:1.5}</style>
</head><body><h1>This link has expired</h1>
<p>This account-linking link is no longer valid. Send any message to the same WhatsApp number to receive a new one while the service is still running.</p>
</body></html>"#;
