//! `/api/stats` reads rollups kept at write time: whatever changed the log
//! (statuses, clicks, linking, forget, purge), its counts are a recount of
//! the log's rows, over any range.

use crate::analyst::{open_as, post_linked, seeded};
use crate::helpers::*;
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use sunset::signing::link_token;
use sunset::store::{LogEntry, LogQuery};

/// The log rows received in `[since, until)`.
async fn rows(app: &TestApp, since: Option<Timestamp>, until: Option<Timestamp>) -> Vec<LogEntry> {
    let query = LogQuery {
        limit: 1000,
        since,
        until,
        ..LogQuery::default()
    };
    app.store.log_page(&query).await.unwrap().entries().unwrap()
}

fn tally<'a>(keys: impl Iterator<Item = Option<&'a str>>) -> Value {
    let mut counts = BTreeMap::<&str, i64>::new();
    for key in keys {
        *counts.entry(key.unwrap_or("none")).or_default() += 1;
    }
    json!(counts)
}

/// What `/api/stats` must say about `rows`, counted one by one.
fn recount(rows: &[LogEntry]) -> Value {
    let notices = || {
        rows.iter()
            .filter(|r| r.notice_kind.as_deref() == Some("notice"))
    };
    let status_in =
        |r: &LogEntry, wanted: &[&str]| wanted.contains(&r.status.as_deref().unwrap_or("none"));
    let linked: BTreeSet<&str> = rows
        .iter()
        .filter(|r| r.linked_at.is_some())
        .map(|r| r.pseudonym.as_str())
        .collect();
    json!({
        "by_locale": tally(rows.iter().map(|r| Some(r.locale.as_str()))),
        "by_country": tally(rows.iter().map(|r| r.country.as_deref())),
        "by_phase": tally(rows.iter().map(|r| r.phase.as_deref())),
        "by_decision": tally(rows.iter().map(|r| Some(r.decision.as_str()))),
        "by_status": tally(rows.iter().map(|r| r.status.as_deref())),
        "funnel": {
            "inbound": rows.len(),
            "notified": notices().count(),
            "sent": notices().filter(|r| status_in(r, &["sent", "delivered", "read"])).count(),
            "delivered": notices()
                .filter(|r| status_in(r, &["delivered", "read"]) || r.delivered_at.is_some())
                .count(),
            "read": notices().filter(|r| status_in(r, &["read"])).count(),
            "clicked": notices().filter(|r| r.clicks > 0).count(),
            "linked": linked.len(),
        },
    })
}

/// Compares `/api/stats` with a recount over the whole log and over ranges
/// that cut hours at rows' exact instants, that span whole hours, and both.
async fn assert_stats_are_a_recount(app: &TestApp, step: &str) {
    let all = rows(app, None, None).await;
    let first = all.first().and_then(|r| r.received_at).unwrap();
    let last = all.last().and_then(|r| r.received_at).unwrap();
    let middle = all[all.len() / 2].received_at.unwrap();
    let hours = SignedDuration::from_hours(3);
    let ranges = [
        (None, None),
        (Some(first), Some(last)),
        (Some(middle), None),
        (None, Some(middle)),
        (Some(first - hours), Some(last + hours)),
        (Some(first - hours), Some(middle)),
        (Some(middle), Some(last + hours)),
    ];
    for (since, until) in ranges {
        let mut path = "/api/stats?".to_owned();
        for (name, at) in [("since", since), ("until", until)] {
            if let Some(at) = at {
                path.push_str(&format!("{name}={at}&"));
            }
        }
        let stats: Value = app.get_as(ANALYST_TOKEN, &path).await.json().await.unwrap();
        let expected = recount(&rows(app, since, until).await);
        for field in [
            "by_locale",
            "by_country",
            "by_phase",
            "by_decision",
            "by_status",
            "funnel",
        ] {
            assert_eq!(stats[field], expected[field], "{step}: {field} of {path}");
        }
        let by_day = stats["by_day"].as_array().unwrap();
        let total: i64 = by_day.iter().map(|d| d["total"].as_i64().unwrap()).sum();
        assert_eq!(
            json!(total),
            expected["funnel"]["inbound"],
            "{step}: by_day of {path}"
        );
    }
}

#[tokio::test]
async fn stats_stay_a_recount_of_the_log_through_statuses_clicks_links_forget_and_purge() {
    let app = seeded().await;
    assert_stats_are_a_recount(&app, "sent").await;

    let sent: Vec<String> = rows(&app, None, None)
        .await
        .into_iter()
        .filter_map(|r| r.outbound_message_id)
        .collect();
    assert!(sent.len() >= 3, "{sent:?}");
    for (outbound_id, state) in [
        (&sent[0], "delivered"),
        (&sent[1], "read"),
        (&sent[2], "failed"),
    ] {
        assert_eq!(
            app.post_webhook(&status_report(outbound_id, state))
                .await
                .status(),
            200
        );
    }
    assert_stats_are_a_recount(&app, "statuses").await;

    let link = smart_link_sent_to(&app, "15551234567").await;
    let no_redirects = without_redirects();
    let phone = "Mozilla/5.0 (Linux; Android 15; Pixel 9)";
    for _ in 0..2 {
        assert_eq!(open_as(&no_redirects, &link, phone).await.status(), 302);
    }
    assert_stats_are_a_recount(&app, "clicks").await;

    let token = link_token(
        SIGNING_KEY,
        "100000000000001",
        "US.FAKEBSUID0000000001",
        4_000_000_000,
    );
    let body = serde_json::to_vec(&json!({ "token": token })).unwrap();
    assert_eq!(post_linked(&app, &body, SIGNING_KEY).await.status(), 200);
    assert_stats_are_a_recount(&app, "linking").await;

    assert!(app.forget("US.FAKEBSUID0000000001").await > 0);
    assert_stats_are_a_recount(&app, "forget").await;
    let stats = analyst_stats(&app).await;
    assert_eq!(
        stats["funnel"]["linked"], 0,
        "the linked user was forgotten"
    );

    app.store
        .purge(Timestamp::now() + SignedDuration::from_secs(1))
        .await
        .unwrap();
    assert_stats_are_a_recount(&app, "purge").await;
}

#[tokio::test]
async fn a_day_in_a_half_hour_time_zone_starts_at_its_own_midnight() {
    let app = spawn_app_with(TestOptions {
        timezone: "Asia/Kolkata",
        ..TestOptions::default()
    })
    .await;
    app.post_webhook(&fixture("text_en")).await;
    app.post_webhook(&fixture("text_ar")).await;
    // India is UTC+5:30: 18:20 UTC is 23:50 on the 29th, 18:40 UTC is
    // 00:10 on the 30th, within the same UTC hour.
    let before_midnight: Timestamp = "2026-11-29T18:20:00Z".parse().unwrap();
    let after_midnight: Timestamp = "2026-11-29T18:40:00Z".parse().unwrap();
    app.set_received_at("wamid.FAKE_IN_TEXT_AR_0001", before_midnight)
        .await;
    app.set_received_at("wamid.FAKE_IN_TEXT_EN_0001", after_midnight)
        .await;
    let stats = analyst_stats(&app).await;
    assert_eq!(stats["time_zone"], "Asia/Kolkata");
    let days: Vec<(String, i64)> = stats["by_day"]
        .as_array()
        .unwrap()
        .iter()
        .map(|day| {
            (
                day["date"].as_str().unwrap().to_owned(),
                day["total"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        days,
        [("2026-11-29".to_owned(), 1), ("2026-11-30".to_owned(), 1)]
    );
}

#[tokio::test]
async fn bounds_finer_than_a_millisecond_are_compared_exactly() {
    let app = spawn_app().await;
    app.post_webhook(&fixture("text_en")).await;
    let received: Timestamp = "2026-11-29T18:30:00Z".parse().unwrap();
    app.set_received_at("wamid.FAKE_IN_TEXT_EN_0001", received)
        .await;
    let count = |since: &str, until: &str| {
        let path = format!("/api/notifications?since={since}&until={until}");
        let app = &app;
        async move {
            let page: Value = app.get_as(ANALYST_TOKEN, &path).await.json().await.unwrap();
            page["items"].as_array().unwrap().len()
        }
    };
    // The row's instant, 18:30:00.000, is inside [since, until) exactly
    // when since ≤ 18:30:00.000 < until.
    assert_eq!(
        count("2026-11-29T18:29:00Z", "2026-11-29T18:30:00.0001Z").await,
        1
    );
    assert_eq!(
        count("2026-11-29T18:29:00Z", "2026-11-29T18:30:00Z").await,
        0
    );
    assert_eq!(
        count("2026-11-29T18:29:59.9999Z", "2026-11-29T18:31:00Z").await,
        1
    );
    assert_eq!(
        count("2026-11-29T18:30:00.0001Z", "2026-11-29T18:31:00Z").await,
        0
    );
    let stats: Value = app
        .get_as(
            ANALYST_TOKEN,
            "/api/stats?since=2026-11-29T18:29:00Z&until=2026-11-29T18:30:00.0001Z",
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(stats["funnel"]["inbound"], 1);
}
