//! The dashboard and the wording preview in a browser's shoes.

use crate::helpers::*;
use serde_json::json;
use wiremock::Mock;
use wiremock::matchers::{method, path_regex};

fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .unwrap()
}

async fn log_in(app: &TestApp, client: &reqwest::Client, token: &str) -> reqwest::Response {
    client
        .post(format!("{}/admin/login", app.address))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_dashboard_asks_for_a_login_and_then_shows_the_campaign() {
    let app = spawn_app().await;
    graph_accepts_messages(&app.graph).await;
    app.post_webhook(&fixture("text_ar")).await;
    app.drain_outbox().await;
    let client = browser();
    let anonymous = client
        .get(format!("{}/admin", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 303);
    assert_eq!(anonymous.headers()["location"], "/admin/login");
    let wrong = log_in(&app, &client, "nope").await;
    assert_eq!(wrong.status(), 401);
    let ok = log_in(&app, &client, ANALYST_TOKEN).await;
    assert_eq!(ok.status(), 303);
    let cookie = ok.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Strict")
            && cookie.contains("Secure"),
        "{cookie}"
    );
    let page = client
        .get(format!("{}/admin", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("100 days"), "countdown");
    assert!(html.contains("<svg"), "daily chart");
    assert!(html.contains("Running"));
    for personal in ["201001234567", "EG.FAKEBSUID", "أحمد علي"] {
        assert!(!html.contains(personal), "{personal} on the dashboard");
    }
    // The same session reads the API.
    let api = client
        .get(format!("{}/api/countdown", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), 200);
    let out = client
        .get(format!("{}/admin/logout", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 303);
    assert_eq!(
        client
            .get(format!("{}/admin", app.address))
            .send()
            .await
            .unwrap()
            .status(),
        303
    );
}

#[tokio::test]
async fn only_a_holder_of_the_role_token_can_make_a_session_and_it_lasts_12_hours() {
    use sunset::signing::session_cookie_value;
    let app = spawn_app().await;
    let now = jiff::Timestamp::now().as_second();
    let read_as = |cookie: String| {
        let app = &app;
        async move {
            reqwest::Client::new()
                .get(format!("{}/api/notifications?reveal=true", app.address))
                .header("Cookie", format!("sunset_session={cookie}"))
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    let in_an_hour = now + 3600;
    assert_eq!(
        read_as(session_cookie_value(ADMIN_TOKEN, "admin", in_an_hour)).await,
        200
    );
    // The signing key is shared with the linking backend: it makes no session.
    assert_eq!(
        read_as(session_cookie_value(SIGNING_KEY, "admin", in_an_hour)).await,
        401
    );
    assert_eq!(
        read_as(session_cookie_value(ANALYST_TOKEN, "admin", in_an_hour)).await,
        401
    );
    let next_year = now + 365 * 24 * 3600;
    assert_eq!(
        read_as(session_cookie_value(ADMIN_TOKEN, "admin", next_year)).await,
        401
    );
    assert_eq!(
        read_as(session_cookie_value(ADMIN_TOKEN, "admin", now - 1)).await,
        401
    );
}

#[tokio::test]
async fn user_controlled_text_is_escaped_on_the_dashboard() {
    let app = spawn_app().await;
    Mock::given(method("POST"))
        .and(path_regex("/messages$"))
        .respond_with(graph_error(400, 131047, "Re-engagement message"))
        .mount(&app.graph)
        .await;
    let mut body = text_message("15551230000", "wamid.XSS", "hello");
    body["entry"][0]["changes"][0]["value"]["messages"][0]["type"] =
        json!("<script>alert(1)</script>");
    app.post_webhook(&body).await;
    app.drain_outbox().await;
    let html = app
        .get_as(ADMIN_TOKEN, "/admin")
        .await
        .text()
        .await
        .unwrap();
    assert!(!html.contains("<script>alert(1)</script>"));
    assert!(
        html.contains("&#60;script&#62;") || html.contains("&lt;script&gt;"),
        "{html}"
    );
    assert!(html.contains("131047"));
}

#[tokio::test]
async fn the_preview_shows_every_locale_in_every_phase_in_its_direction() {
    let app = spawn_app().await;
    let response = app.get_as(ANALYST_TOKEN, "/admin/preview").await;
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    for locale in ["ar", "en", "fa", "ur", "ru", "pt-BR"] {
        assert!(html.contains(&format!("lang=\"{locale}\"")), "{locale}");
    }
    assert_eq!(
        html.matches("dir=\"rtl\"").count(),
        3 * 5,
        "ar, fa and ur in five columns"
    );
    assert!(html.contains("final_day") && html.contains("stop_confirmation"));
    assert!(!html.contains("⚠"));
}
