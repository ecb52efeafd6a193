//! The HTTP surface: one route table and thin handlers.

mod admin;
mod api;
pub mod auth;
mod error;
mod health;
mod links;
pub mod payload;
mod webhook;

pub use error::ApiError;

use crate::campaign::Campaign;
use crate::config::Secret;
use crate::i18n::LiveCatalog;
use crate::intake::Intake;
use crate::store::Store;
use actix_web::{guard, web};
use std::sync::Arc;

/// Meta sends webhook bodies of up to 3 MB.
pub const MAX_WEBHOOK_BYTES: usize = 3 * 1024 * 1024;

/// What the handlers share.
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub intake: Intake,
    pub campaign: Arc<Campaign>,
    pub catalog: Arc<LiveCatalog>,
    pub app_secret: Secret,
    pub verify_token: Option<Secret>,
    pub admin_token: Option<Secret>,
    pub analyst_token: Option<Secret>,
    pub signing_key: Secret,
    pub live: bool,
    pub metrics: Arc<crate::metrics::Metrics>,
}

/// Every route of the service.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/webhook", web::get().to(webhook::verify_subscription))
        .route("/webhook", web::post().to(webhook::receive_webhook))
        .route(
            "/l/{code}",
            web::route()
                .guard(guard::Any(guard::Get()).or(guard::Head()))
                .to(links::smart_link),
        )
        .route("/link/{token}", web::get().to(links::account_link))
        .route("/api/notifications", web::get().to(api::notifications))
        .route(
            "/api/notifications.csv",
            web::get().to(api::notifications_csv),
        )
        .route("/api/stats", web::get().to(api::stats))
        .route("/api/countdown", web::get().to(api::countdown))
        .route("/api/linked", web::post().to(api::linked))
        .route("/admin", web::get().to(admin::dashboard))
        .route("/admin/preview", web::get().to(admin::preview))
        .route("/admin/login", web::get().to(admin::login_form))
        .route("/admin/login", web::post().to(admin::login))
        .route("/admin/logout", web::get().to(admin::logout))
        .route("/healthz", web::get().to(health::healthz))
        .route("/readyz", web::get().to(health::readyz))
        .route("/metrics", web::get().to(health::metrics));
}
