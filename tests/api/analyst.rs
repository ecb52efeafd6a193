//! What analysts read: the log, the CSV, the counts, the links.

use crate::helpers::*;
use serde_json::{Value, json};
use sunset::signing::{link_token, sign_webhook};

/// A GET of `url` as the given browser or fetcher.
pub(crate) async fn open_as(
    client: &reqwest::Client,
    url: &str,
    user_agent: &str,
) -> reqwest::Response {
    client
        .get(url)
        .header("User-Agent", user_agent)
        .send()
        .await
        .unwrap()
}

/// `POST /api/linked` with `body`, signed with `key`.
pub(crate) async fn post_linked(app: &TestApp, body: &[u8], key: &str) -> reqwest::Response {
    app.http
        .post(format!("{}/api/linked", app.address))
        .header("X-Sunset-Signature", sign_webhook(key, body))
        .body(body.to_vec())
        .send()
        .await
        .unwrap()
}

/// Five messages of the fixtures, answered and sent.
pub(crate) async fn seeded() -> TestApp {
    let app = spawn_app().await;
    graph_accepts_messages(&app.graph).await;
    for name in [
        "text_en",
        "text_ar",
        "voice_note",
        "reaction",
        "username_user",
    ] {
        assert_eq!(app.post_webhook(&fixture(name)).await.status(), 200);
    }
    app.drain_outbox().await;
    app
}

const PERSONAL: [&str; 8] = [
    "15551234567",
    "201001234567",
    "966501234567",
    "US.FAKEBSUID",
    "EG.FAKEBSUID",
    "Jane Doe",
    "أحمد علي",
    "Mona",
];

#[tokio::test]
async fn the_api_needs_a_token() {
    let app = seeded().await;
    for path in [
        "/api/notifications",
        "/api/notifications.csv",
        "/api/stats",
        "/api/countdown",
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status(), 401, "{path}");
        let error: Value = response.json().await.unwrap();
        assert_eq!(error["error"], "unauthorized");
        assert_eq!(app.get_as("wrong", path).await.status(), 401, "{path}");
    }
}

#[tokio::test]
async fn the_analyst_never_sees_a_clear_number_bsuid_or_name() {
    let app = seeded().await;
    let json = app
        .get_as(ANALYST_TOKEN, "/api/notifications")
        .await
        .text()
        .await
        .unwrap();
    let csv = app
        .get_as(ANALYST_TOKEN, "/api/notifications.csv")
        .await
        .text()
        .await
        .unwrap();
    for text in [&json, &csv] {
        for personal in PERSONAL {
            assert!(!text.contains(personal), "{personal} leaked: {text}");
        }
    }
    let page: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(page["items"].as_array().unwrap().len(), 5);
    assert_eq!(csv.lines().count(), 6, "the header and every row");
    for (limit, lines) in [(2, 3), (5000, 6)] {
        let first = app
            .get_as(
                ANALYST_TOKEN,
                &format!("/api/notifications.csv?limit={limit}"),
            )
            .await
            .text()
            .await
            .unwrap();
        assert_eq!(first.lines().count(), lines, "limit={limit}");
    }
    assert!(
        page["items"][0]["recipient"]
            .as_str()
            .unwrap()
            .starts_with("u_")
    );
    assert_eq!(
        app.get_as(ANALYST_TOKEN, "/api/notifications?reveal=true")
            .await
            .status(),
        403
    );
    let revealed: Value = app
        .get_as(ADMIN_TOKEN, "/api/notifications?reveal=true")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(revealed["items"][0]["recipient"], "15551234567");
    assert_eq!(revealed["items"][0]["profile_name"], "Jane Doe");
}

#[tokio::test]
async fn log_rows_carry_the_contract_fields_and_filters_apply() {
    let app = seeded().await;
    let page: Value = app
        .get_as(
            ANALYST_TOKEN,
            "/api/notifications?locale=ar&decision=notified",
        )
        .await
        .json()
        .await
        .unwrap();
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    let row = &items[0];
    for field in sunset::export::COLUMNS
        .iter()
        .filter(|c| **c != "profile_name")
    {
        assert!(row.get(*field).is_some(), "missing {field}");
    }
    assert_eq!(
        (row["status"].as_str(), row["notice_kind"].as_str()),
        (Some("sent"), Some("notice"))
    );
    assert_eq!(row["days_left"], 100);
    // A locale tag matches whatever its case, as a country code does.
    let shouted: Value = app
        .get_as(
            ANALYST_TOKEN,
            "/api/notifications?locale=AR&decision=notified",
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(shouted["items"].as_array().unwrap().len(), 2);
    // The last instant anyone writes is no bound at all.
    let open_ended: Value = app
        .get_as(
            ANALYST_TOKEN,
            "/api/notifications?since=1970-01-01T00:00:00Z&until=9999-12-31T23:59:59Z",
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(open_ended["items"].as_array().unwrap().len(), 5);
    let bad = app
        .get_as(ANALYST_TOKEN, "/api/notifications?since=yesterday")
        .await;
    assert_eq!(bad.status(), 400);
    assert_eq!(
        app.get_as(ANALYST_TOKEN, "/api/notifications?limit=1001")
            .await
            .status(),
        400
    );
    // Rows without a notice (the reaction) are `status=none`, as in the stats.
    let none: Value = app
        .get_as(ANALYST_TOKEN, "/api/notifications?status=none")
        .await
        .json()
        .await
        .unwrap();
    let decisions: Vec<_> = none["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| (row["decision"].as_str(), row["status"].as_str()))
        .collect();
    assert_eq!(decisions, [(Some("ignored"), None)]);
}

#[tokio::test]
async fn every_api_error_is_json_with_its_status() {
    let app = seeded().await;
    let cases = [
        ("/api/notifications?limit=abc", 400, "bad_request"),
        ("/api/notifications?limit=-1", 400, "bad_request"),
        ("/api/notifications?cursor=-5", 400, "bad_request"),
        ("/api/notifications.csv?reveal=maybe", 400, "bad_request"),
        ("/api/stats?since=yesterday", 400, "bad_request"),
        (
            "/api/stats?since=2026-11-30T00:00:00Z&until=2026-11-29T00:00:00Z",
            400,
            "bad_request",
        ),
        (
            "/api/notifications?since=2026-11-30T00:00:00Z&until=2026-11-29T00:00:00Z",
            400,
            "bad_request",
        ),
        ("/api/nope", 404, "not_found"),
    ];
    for (path, status, code) in cases {
        let response = app.get_as(ANALYST_TOKEN, path).await;
        assert_eq!(response.status(), status, "{path}");
        let error: Value = response.json().await.unwrap();
        assert_eq!(error["error"], code, "{path}");
        assert!(error["detail"].as_str().is_some_and(|d| !d.is_empty()));
    }
    let wrong_method = app
        .http
        .post(format!("{}/api/notifications", app.address))
        .bearer_auth(ANALYST_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_method.status(), 405);
    assert_eq!(wrong_method.headers()["allow"], "GET");
    let error: Value = wrong_method.json().await.unwrap();
    assert_eq!(error["error"], "method_not_allowed");
    let probe = app
        .http
        .head(format!("{}/readyz", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(probe.status(), 200);
    // The scheme's name is case-insensitive.
    let lower = app
        .http
        .get(format!("{}/api/countdown", app.address))
        .header("Authorization", format!("bearer {ANALYST_TOKEN}"))
        .send()
        .await
        .unwrap();
    assert_eq!(lower.status(), 200);
}

#[tokio::test]
async fn pagination_returns_every_row_exactly_once_while_new_rows_arrive() {
    let app = spawn_app().await;
    for i in 0..7 {
        app.post_webhook(&text_message(
            &format!("1555000{i:04}"),
            &format!("wamid.P{i}"),
            "hello",
        ))
        .await;
    }
    let mut seen = vec![];
    let mut cursor: Option<String> = None;
    let mut extra = 100;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/notifications?limit=3&cursor={c}"),
            None => "/api/notifications?limit=3".into(),
        };
        let page: Value = app.get_as(ANALYST_TOKEN, &path).await.json().await.unwrap();
        seen.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["inbound_message_id"].as_str().unwrap().to_owned()),
        );
        let Some(next) = page["next_cursor"].as_str() else {
            break;
        };
        cursor = Some(next.to_owned());
        // More messages land between pages.
        if extra < 103 {
            app.post_webhook(&text_message(
                &format!("1555100{extra:04}"),
                &format!("wamid.P{extra}"),
                "hi",
            ))
            .await;
            extra += 1;
        }
    }
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), seen.len(), "a row came twice: {seen:?}");
    assert_eq!(seen.len(), 7 + (extra - 100), "{seen:?}");
    assert!(extra > 101, "rows landed while the pages were read");
}

#[tokio::test]
async fn a_last_page_that_is_exactly_full_has_no_next_cursor() {
    let app = spawn_app().await;
    for i in 0..4 {
        app.post_webhook(&text_message(
            &format!("1555200{i:04}"),
            &format!("wamid.F{i}"),
            "hello",
        ))
        .await;
    }
    let page = |path: &'static str| async {
        let page: Value = app.get_as(ANALYST_TOKEN, path).await.json().await.unwrap();
        (
            page["items"].as_array().unwrap().len(),
            page["next_cursor"].clone(),
        )
    };
    assert_eq!(page("/api/notifications?limit=4").await, (4, Value::Null));
    let (rows, next) = page("/api/notifications?limit=2").await;
    assert_eq!(rows, 2);
    let next = next.as_str().unwrap().to_owned();
    let last: Value = app
        .get_as(
            ANALYST_TOKEN,
            &format!("/api/notifications?limit=2&cursor={next}"),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(last["items"].as_array().unwrap().len(), 2);
    assert_eq!(last["next_cursor"], Value::Null);
}

#[tokio::test]
async fn user_text_comes_out_of_the_csv_neutralized_with_a_bom() {
    let app = spawn_app().await;
    let mut body = text_message("15551230000", "wamid.CSV", "hello");
    body["entry"][0]["changes"][0]["value"]["contacts"][0]["profile"]["name"] =
        json!("=HYPERLINK(\"http://x\")");
    body["entry"][0]["changes"][0]["value"]["messages"][0]["type"] = json!("=cmd|' /C calc'!A0");
    app.post_webhook(&body).await;
    let csv = app
        .get_as(ADMIN_TOKEN, "/api/notifications.csv?reveal=true")
        .await
        .bytes()
        .await
        .unwrap();
    assert!(csv.starts_with(b"\xEF\xBB\xBF"));
    let text = String::from_utf8(csv[3..].to_vec()).unwrap();
    assert!(text.contains("'=HYPERLINK"), "{text}");
    assert!(text.contains("'=cmd"), "{text}");
    assert!(
        !text.contains(",=HYPERLINK") && !text.contains(",\"=HYPERLINK"),
        "{text}"
    );
}

#[tokio::test]
async fn stats_count_by_day_and_the_funnel_reaches_clicks_and_links() {
    let app = seeded().await;
    let link = smart_link_sent_to(&app, "15551234567").await;
    let no_redirects = without_redirects();
    let iphone =
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148";
    let click = open_as(&no_redirects, &link, iphone).await;
    assert_eq!(click.status(), 302);
    assert_eq!(
        click.headers()["location"],
        "https://apps.apple.com/app/id000000000"
    );
    let android = open_as(
        &no_redirects,
        &link,
        // A phone whose maker's name ends in "bot" is a person.
        "Mozilla/5.0 (Linux; Android 10; CUBOT X30 Build/QP1A.190711.020) Mobile Safari/537.36",
    )
    .await;
    assert_eq!(
        android.headers()["location"],
        "https://play.google.com/store/apps/details?id=com.example"
    );
    let preview = open_as(&no_redirects, &link, "WhatsApp/2.24.10.77 A").await;
    assert_eq!(preview.status(), 302);
    assert_eq!(
        no_redirects
            .head(&link)
            .header("User-Agent", iphone)
            .send()
            .await
            .unwrap()
            .status(),
        302
    );
    assert_eq!(
        app.log("wamid.FAKE_IN_TEXT_EN_0001").await.clicks,
        2,
        "the preview fetch and the HEAD are not clicks"
    );
    let token = link_token(
        SIGNING_KEY,
        "100000000000001",
        "US.FAKEBSUID0000000001",
        4_000_000_000,
    );
    let linked_body = serde_json::to_vec(&json!({ "token": token })).unwrap();
    let linked = post_linked(&app, &linked_body, SIGNING_KEY).await;
    assert_eq!(linked.status(), 200);
    let forged = post_linked(&app, &linked_body, "x").await;
    assert_eq!(forged.status(), 401);
    let stats = analyst_stats(&app).await;
    assert_eq!(
        stats["funnel"],
        json!({ "inbound": 5, "notified": 4, "sent": 4, "delivered": 0, "read": 0, "clicked": 1, "linked": 1 })
    );
    assert_eq!(stats["by_decision"]["ignored"], 1);
    assert_eq!(stats["by_locale"]["ar"], 3);
    assert_eq!(stats["by_day"][0]["total"], 5);
    let countdown: Value = app
        .get_as(ANALYST_TOKEN, "/api/countdown")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (countdown["phase"].as_str(), countdown["days_left"].as_i64()),
        (Some("countdown"), Some(100))
    );
}

#[tokio::test]
async fn a_smart_link_that_is_not_ours_shows_a_page_with_the_way_to_the_app() {
    let app = spawn_app().await;
    let iphone =
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148";
    let page = open_as(
        &without_redirects(),
        &format!("{}/l/not-a-code", app.address),
        iphone,
    )
    .await;
    assert_eq!(page.status(), 404);
    assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
    let body = page.text().await.unwrap();
    assert!(
        body.contains(r#"<a href="https://apps.apple.com/app/id000000000">"#),
        "{body}"
    );
}

#[tokio::test]
async fn account_links_redirect_when_genuine_and_say_gone_when_not() {
    let app = seeded().await;
    let body = body_sent_to(&app, "201001234567").await;
    let link = body
        .lines()
        .find(|l| l.contains("/link/"))
        .unwrap()
        .replace(PUBLIC_URL, &app.address);
    let no_redirects = without_redirects();
    let ok = no_redirects.get(&link).send().await.unwrap();
    assert_eq!(ok.status(), 302);
    assert!(
        ok.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("https://example.com/link?token=")
    );
    let head = no_redirects.head(&link).send().await.unwrap();
    assert_eq!(head.status(), 302);
    let tampered = format!("{}0", link);
    let gone = no_redirects.get(&tampered).send().await.unwrap();
    assert_eq!(gone.status(), 410);
    assert!(gone.text().await.unwrap().contains("expired"));
    // In the language the phone's browser asks for, in its direction.
    let arabic = no_redirects
        .get(&tampered)
        .header("Accept-Language", "ar-EG,ar;q=0.9,en;q=0.8")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        arabic.contains(r#"lang="ar" dir="rtl""#) && arabic.contains("انتهت صلاحية هذا الرابط"),
        "{arabic}"
    );
    let expired = link_token(SIGNING_KEY, "100000000000001", "201001234567", 1_000);
    assert_eq!(
        no_redirects
            .get(format!("{}/link/{expired}", app.address))
            .send()
            .await
            .unwrap()
            .status(),
        410
    );
}

#[tokio::test]
async fn an_account_link_sent_long_after_the_deadline_still_opens() {
    // Forty days after the deadline: a token valid for 30 days after the
    // deadline alone would be dead on arrival.
    let app = spawn_app_with(TestOptions {
        days_left: -41,
        ..TestOptions::default()
    })
    .await;
    graph_accepts_messages(&app.graph).await;
    app.post_webhook(&fixture("text_ar")).await;
    app.drain_outbox().await;
    let body = body_sent_to(&app, "201001234567").await;
    let link = body
        .lines()
        .find(|l| l.contains("/link/"))
        .unwrap_or_else(|| panic!("no account link in {body}"))
        .trim()
        .replace(PUBLIC_URL, &app.address);
    let opened = without_redirects().get(&link).send().await.unwrap();
    assert_eq!(opened.status(), 302, "{link}");
}
