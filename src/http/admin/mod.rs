//! `/admin`: the dashboard and the wording preview, for people in a browser.

mod charts;

use super::api::days;
use super::auth::{Access, SESSION_COOKIE, SESSION_SECONDS, new_session, role_of_token};
use super::{ApiError, AppState};
use crate::domain::countdown::{Countdown, Phase};
use crate::domain::locale::direction;
use crate::domain::notice::NoticeKind;
use crate::store::{Count, PausedNumber, SlowedNumber};
use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::http::header;
use actix_web::{HttpResponse, Responder, web};
use askama::Template;
use askama_web::WebTemplate;
use charts::{DailyChart, Row};
use jiff::Timestamp;
use serde::Deserialize;

#[derive(Template, WebTemplate)]
#[template(path = "login.html")]
struct LoginPage {
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct LoginForm {
    token: String,
}

fn to_login() -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/admin/login"))
        .finish()
}

pub async fn login_form() -> impl Responder {
    LoginPage { error: None }
}

/// Takes a token once and sets an HttpOnly, SameSite=Strict session cookie.
pub async fn login(form: web::Form<LoginForm>, state: web::Data<AppState>) -> HttpResponse {
    let token = form.token.trim();
    let Some(role) = role_of_token(&state, token) else {
        let page = LoginPage {
            error: Some("That token is not valid.".into()),
        };
        let body = page.render().unwrap_or_default();
        return HttpResponse::Unauthorized()
            .content_type("text/html; charset=utf-8")
            .body(body);
    };
    let cookie = Cookie::build(SESSION_COOKIE, new_session(token, role))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(state.campaign.public_url_is_https())
        .max_age(CookieDuration::seconds(SESSION_SECONDS))
        .finish();
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/admin"))
        .cookie(cookie)
        .finish()
}

pub async fn logout() -> HttpResponse {
    let mut cookie = Cookie::build(SESSION_COOKIE, "").path("/").finish();
    cookie.make_removal();
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/admin/login"))
        .cookie(cookie)
        .finish()
}

struct Failure {
    when: String,
    user: String,
    kind: String,
    locale: String,
    code: String,
    title: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    service: String,
    deadline: String,
    time_zone: String,
    phase: &'static str,
    days_left: i64,
    hours_left: i64,
    mode: &'static str,
    paused: Vec<PausedNumber>,
    /// Numbers at half their rate after a 131048.
    slowed: Vec<SlowedNumber>,
    queue_depth: i64,
    locale_version: String,
    refusal: Option<String>,
    funnel: Vec<Row>,
    daily: DailyChart,
    languages: Vec<Row>,
    countries: Vec<Row>,
    statuses: Vec<Row>,
    failures: Vec<Failure>,
}

fn pairs(counts: &[Count]) -> Vec<(String, i64)> {
    counts.iter().map(|c| (c.key.clone(), c.count)).collect()
}

/// The dashboard. Profile names and clear ids never appear on it.
pub async fn dashboard(
    access: Option<Access>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    if access.is_none() {
        return Ok(to_login());
    }
    let now = Timestamp::now();
    let stats = state.store.stats(None, None).await?;
    let countdown = state.campaign.countdown_at(now);
    let zone = &state.campaign.deadline.time_zone;
    let by_day: Vec<(String, Vec<(String, i64)>)> = days(&state, &stats.quarter_hour_decisions)
        .into_iter()
        .map(|(date, decisions)| (date, decisions.into_iter().collect()))
        .collect();
    let f = &stats.funnel;
    let funnel = [
        ("inbound", f.inbound),
        ("notified", f.notified),
        ("sent", f.sent),
        ("delivered", f.delivered),
        ("read", f.read),
        ("clicked", f.clicked),
        ("linked", f.linked),
    ]
    .map(|(label, count)| (label.to_owned(), count));
    let catalog = state.catalog.current();
    let page = DashboardPage {
        service: state.campaign.service.clone(),
        deadline: state
            .campaign
            .deadline
            .instant
            .to_zoned_datetime(zone.clone())
            .strftime("%Y-%m-%d %H:%M")
            .to_string(),
        time_zone: zone.iana_name().unwrap_or("UTC").to_owned(),
        phase: countdown.phase.as_str(),
        days_left: countdown.days_left,
        hours_left: countdown.hours_left,
        mode: if state.live { "live" } else { "dry-run" },
        paused: state.store.paused_numbers().await?,
        slowed: state.store.slowed_numbers(now).await?,
        queue_depth: state.store.queue_stats(now).await?.depth,
        locale_version: catalog.localizer.version().to_owned(),
        refusal: state.catalog.refusal().map(|r| r.problems.join("; ")),
        funnel: charts::rows(&funnel),
        daily: charts::daily(&by_day),
        languages: charts::rows(&pairs(&stats.by_locale)),
        countries: charts::rows(&pairs(&stats.by_country)),
        statuses: charts::rows(&pairs(&stats.by_status)),
        failures: stats
            .latest_failures
            .iter()
            .map(|e| Failure {
                when: e
                    .received_at
                    .map(|t| t.strftime("%Y-%m-%d %H:%M").to_string())
                    .unwrap_or_default(),
                user: e.pseudonym.clone(),
                kind: e.inbound_type.clone(),
                locale: e.locale.clone(),
                code: e.error_code.map(|c| c.to_string()).unwrap_or_default(),
                title: e.error_title.clone().unwrap_or_default(),
            })
            .collect(),
    };
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(
            page.render()
                .map_err(|e| ApiError::BadRequest(e.to_string()))?,
        ))
}

struct PreviewRow {
    locale: String,
    direction: &'static str,
    cells: Vec<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "preview.html")]
struct PreviewPage {
    days: i64,
    version: String,
    phases: Vec<&'static str>,
    rows: Vec<PreviewRow>,
}

/// Every locale × every phase, each in its own direction.
pub async fn preview(
    access: Option<Access>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    if access.is_none() {
        return Ok(to_login());
    }
    let now = state.campaign.countdown_at(Timestamp::now());
    let days = if now.phase == Phase::Countdown {
        now.days_left
    } else {
        3
    };
    let columns = [
        (
            "countdown",
            NoticeKind::Notice,
            Countdown {
                phase: Phase::Countdown,
                days_left: days,
                hours_left: days * 24,
            },
        ),
        (
            "final_day",
            NoticeKind::Notice,
            Countdown {
                phase: Phase::FinalDay,
                days_left: 0,
                hours_left: 5,
            },
        ),
        (
            "ended",
            NoticeKind::Notice,
            Countdown {
                phase: Phase::Ended,
                days_left: 0,
                hours_left: 0,
            },
        ),
        ("stop_confirmation", NoticeKind::StopConfirmation, now),
        ("start_confirmation", NoticeKind::StartConfirmation, now),
    ];
    let catalog = state.catalog.current();
    let rows = catalog
        .localizer
        .locales()
        .into_iter()
        .map(|locale| PreviewRow {
            direction: direction(&locale),
            cells: columns
                .iter()
                .map(|(_, kind, countdown)| {
                    let args = state.campaign.preview_args(*countdown);
                    catalog
                        .localizer
                        .render(&locale, *kind, &args)
                        .unwrap_or_else(|e| format!("⚠ {e}"))
                })
                .collect(),
            locale,
        })
        .collect();
    let page = PreviewPage {
        days,
        version: catalog.localizer.version().to_owned(),
        phases: columns.iter().map(|(name, _, _)| *name).collect(),
        rows,
    };
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(
            page.render()
                .map_err(|e| ApiError::BadRequest(e.to_string()))?,
        ))
}
