//! `/l/{code}`, the smart link to the apps, and `/link/{token}`, the way to
//! account linking.

use super::{ApiError, AppState};
use crate::domain::locale::direction;
use crate::i18n::Catalog;
use crate::signing::{verify_link_token, verify_smart_link_code};
use actix_web::http::{Method, header};
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder, web};
use askama::Template;
use fluent_langneg::{
    NegotiationStrategy, convert_vec_str_to_langids_lossy, negotiate_languages,
    parse_accepted_languages,
};
use jiff::Timestamp;

/// The served locale that comes first in the browser's `Accept-Language`,
/// else the campaign's default.
fn page_locale(request: &HttpRequest, catalog: &Catalog) -> String {
    let accepted = request
        .headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let requested = parse_accepted_languages(accepted);
    let available = convert_vec_str_to_langids_lossy(catalog.localizer.locales());
    negotiate_languages(&requested, &available, None, NegotiationStrategy::Lookup)
        .first()
        .map_or_else(
            || catalog.chooser.default_locale().to_owned(),
            ToString::to_string,
        )
}

/// Link-preview fetchers open every link in a chat: not clicks.
fn is_preview_fetcher(user_agent: &str) -> bool {
    let ua = user_agent.to_ascii_lowercase();
    let named = [
        "whatsapp/",
        "facebookexternalhit",
        "facebot",
        "crawler",
        "spider",
        "preview",
    ]
    .iter()
    .any(|marker| ua.contains(marker));
    named
        || ua
            .match_indices("bot")
            .any(|(at, _)| ends_a_name(&ua[at + 3..]))
}

/// Whether a product name ends where `rest` begins: "Googlebot/2.1",
/// "Slackbot-LinkExpanding", "TelegramBot (like TwitterBot)", but not the
/// "CUBOT X30" phone.
fn ends_a_name(rest: &str) -> bool {
    rest.is_empty() || rest.starts_with(['/', '-', ';', ')', ',']) || rest.starts_with(" (")
}

/// 302 to the App Store for iPhone/iPad, Play for Android, else the web app.
pub async fn smart_link(
    request: HttpRequest,
    code: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let user_agent = request
        .headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let Some(notice_id) = verify_smart_link_code(state.signing_key.expose(), &code) else {
        // Opened on a phone: a page, with the way to the app all the same.
        let page = LinkPage::new(&request, &state, "link-unknown")
            .with_app_link(state.campaign.app_link_for(user_agent));
        return Ok(page.respond(HttpResponse::NotFound()));
    };
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
pub async fn account_link(
    request: HttpRequest,
    token: web::Path<String>,
    state: web::Data<AppState>,
) -> HttpResponse {
    let valid = state.campaign.linking_enabled()
        && verify_link_token(state.signing_key.expose(), &token)
            .is_some_and(|claim| claim.expires_at > Timestamp::now().as_second());
    if valid {
        let target = state.campaign.link_account_target(&token);
        return HttpResponse::Found()
            .insert_header((header::LOCATION, target))
            .finish();
    }
    LinkPage::new(&request, &state, "link-expired").respond(HttpResponse::Gone())
}

/// The page texts for a locale set whose English lacks them (they are
/// optional): the shipped English, without the service's name.
fn built_in(id: &str) -> &'static str {
    match id {
        "link-expired-title" => "This link has expired",
        "link-expired-text" => {
            "This account-linking link is no longer valid: it expired, or it was not copied \
             whole. Send any message to the same WhatsApp number to receive a new one."
        }
        "link-unknown-title" => "Link not found",
        _ => "This link is not complete, or not one of ours. The app is here:",
    }
}

/// A page for a person who opened one of our links on their phone, in the
/// language their browser asks for.
#[derive(Template)]
#[template(path = "link_page.html")]
struct LinkPage<'a> {
    lang: String,
    dir: &'static str,
    title: String,
    text: String,
    /// The way to the app, after the text.
    app_link: Option<&'a str>,
}

impl<'a> LinkPage<'a> {
    /// The page whose title and text are the messages `{page}-title` and
    /// `{page}-text` of the locale files.
    fn new(request: &HttpRequest, state: &AppState, page: &str) -> Self {
        let catalog = state.catalog.current();
        let lang = page_locale(request, &catalog);
        let service = &state.campaign.service;
        let text = |part: &str| {
            let id = format!("{page}-{part}");
            catalog
                .localizer
                .page_text(&lang, &id, service)
                .unwrap_or_else(|| built_in(&id).to_owned())
        };
        Self {
            dir: direction(&lang),
            title: text("title"),
            text: text("text"),
            lang,
            app_link: None,
        }
    }

    fn with_app_link(self, app_link: &'a str) -> Self {
        Self {
            app_link: Some(app_link),
            ..self
        }
    }

    fn respond(&self, mut response: HttpResponseBuilder) -> HttpResponse {
        match self.render() {
            Ok(page) => response.content_type("text/html; charset=utf-8").body(page),
            Err(error) => {
                tracing::error!(%error, "link page not rendered");
                response.finish()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::is_preview_fetcher;

    #[test]
    fn bots_are_told_from_phones_whose_names_end_in_bot() {
        for fetcher in [
            "WhatsApp/2.24.10.77 A",
            "facebookexternalhit/1.1",
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
            "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
            "TelegramBot (like TwitterBot)",
            "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
        ] {
            assert!(is_preview_fetcher(fetcher), "{fetcher}");
        }
        for person in [
            "Mozilla/5.0 (Linux; Android 10; CUBOT X30 Build/QP1A.190711.020) Mobile Safari/537.36",
            "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) Mobile/15E148",
        ] {
            assert!(!is_preview_fetcher(person), "{person}");
        }
    }
}
