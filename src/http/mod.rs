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

/// Every route of the service. A path no route serves, a method a path
/// does not take and a query string that does not parse are answered in
/// the API's JSON error shape too.
pub fn routes(cfg: &mut web::ServiceConfig) {
    let get_or_head = || web::route().guard(guard::Any(guard::Get()).or(guard::Head()));
    cfg.app_data(web::QueryConfig::default().error_handler(error::bad_query))
        .service(
            resource("/webhook", "GET, POST")
                .route(web::get().to(webhook::verify_subscription))
                .route(web::post().to(webhook::receive_webhook)),
        )
        .service(resource("/l/{code}", "GET, HEAD").route(get_or_head().to(links::smart_link)))
        .service(
            resource("/link/{token}", "GET, HEAD").route(get_or_head().to(links::account_link)),
        )
        .service(resource("/api/notifications", "GET").route(web::get().to(api::notifications)))
        .service(
            resource("/api/notifications.csv", "GET").route(web::get().to(api::notifications_csv)),
        )
        .service(resource("/api/stats", "GET").route(web::get().to(api::stats)))
        .service(resource("/api/countdown", "GET").route(web::get().to(api::countdown)))
        .service(resource("/api/linked", "POST").route(web::post().to(api::linked)))
        .service(resource("/admin", "GET").route(web::get().to(admin::dashboard)))
        .service(resource("/admin/preview", "GET").route(web::get().to(admin::preview)))
        .service(
            resource("/admin/login", "GET, POST")
                .route(web::get().to(admin::login_form))
                .route(web::post().to(admin::login)),
        )
        .service(resource("/admin/logout", "GET").route(web::get().to(admin::logout)))
        // Load balancers and monitors may probe with HEAD.
        .service(resource("/healthz", "GET, HEAD").route(get_or_head().to(health::healthz)))
        .service(resource("/readyz", "GET, HEAD").route(get_or_head().to(health::readyz)))
        .service(resource("/metrics", "GET, HEAD").route(get_or_head().to(health::metrics)))
        .default_service(web::to(error::no_route));
}

/// A path whose other methods are answered 405 with the ones it takes.
fn resource(path: &str, allow: &'static str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(move || error::not_allowed(allow)))
}
