//! The HTTP surface: one route table and thin handlers.

mod admin;
mod api;
pub mod auth;
mod body;
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
use actix_web::{FromRequest, Handler, Resource, Responder, guard, web};
use std::sync::Arc;

/// Meta sends webhook bodies of up to 3 MB.
pub const MAX_WEBHOOK_BYTES: usize = 3 * 1024 * 1024;
/// A `POST /api/linked` body holds one link token.
pub const MAX_LINKED_BYTES: usize = 16 * 1024;

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

/// Every route of the service. A path no route serves, a method a path
/// does not take and a query string that does not parse are answered in
/// the API's JSON error shape too.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::QueryConfig::default().error_handler(error::bad_query))
        .app_data(web::FormConfig::default().error_handler(body::bad_form))
        .service(
            resource("/webhook", "GET, POST")
                .route(web::get().to(webhook::verify_subscription))
                .route(web::post().to(webhook::receive_webhook)),
        )
        .service(get_or_head("/l/{code}", links::smart_link))
        .service(get_or_head("/link/{token}", links::account_link))
        .service(get("/api/notifications", api::notifications))
        .service(get("/api/notifications.csv", api::notifications_csv))
        .service(get("/api/stats", api::stats))
        .service(get("/api/countdown", api::countdown))
        .service(resource("/api/linked", "POST").route(web::post().to(api::linked)))
        .service(get("/admin", admin::dashboard))
        .service(get("/admin/preview", admin::preview))
        .service(
            resource("/admin/login", "GET, POST")
                .route(web::get().to(admin::login_form))
                .route(web::post().to(admin::login)),
        )
        .service(get("/admin/logout", admin::logout))
        // Load balancers and monitors may probe with HEAD.
        .service(get_or_head("/healthz", health::healthz))
        .service(get_or_head("/readyz", health::readyz))
        .service(get_or_head("/metrics", health::metrics))
        .default_service(web::to(error::no_route));
}

/// A path whose other methods are answered 405 with the ones it takes.
fn resource(path: &str, allow: &'static str) -> Resource {
    web::resource(path).default_service(web::to(move || error::not_allowed(allow)))
}

/// A path that takes GET only.
fn get<F, Args>(path: &str, handler: F) -> Resource
where
    F: Handler<Args>,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    resource(path, "GET").route(web::get().to(handler))
}

/// A path that takes GET, and HEAD answered the same without the body.
fn get_or_head<F, Args>(path: &str, handler: F) -> Resource
where
    F: Handler<Args>,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    let get_or_head = guard::Any(guard::Get()).or(guard::Head());
    resource(path, "GET, HEAD").route(web::route().guard(get_or_head).to(handler))
}
