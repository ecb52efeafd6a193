//! The sender against a fake Graph API: what it sends and how it copes.

use crate::helpers::*;
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use sunset::store::LogEntry;
use wiremock::matchers::{header, method, path, path_regex};
use wiremock::{Mock, ResponseTemplate};

#[tokio::test]
async fn a_notice_is_posted_with_the_bearer_token_and_our_notice_id() {
    let app = spawn_app().await;
    Mock::given(method("POST"))
        .and(path("/v27.0/100000000000001/messages"))
        .and(header(
            "Authorization",
            format!("Bearer {ACCESS_TOKEN}").as_str(),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "messaging_product": "whatsapp",
            "contacts": [{ "input": "201001234567", "wa_id": "201001234567" }],
            "messages": [{ "id": "wamid.SENT1" }],
        })))
        .expect(1)
        .mount(&app.graph)
        .await;
    // A message answered with nothing first, so the log's rows outnumber
    // the notices.
    app.post_webhook(&fixture("reaction")).await;
    app.post_webhook(&fixture("text_ar")).await;
    app.drain_outbox().await;
    let sent = app.sent_messages().await;
    let notice_id = sent[0]["biz_opaque_callback_data"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        notice_id,
        app.log("wamid.FAKE_IN_TEXT_AR_0001").await.id.to_string(),
        "the callback data is the log row's id"
    );
    assert_eq!(sent[0]["to"], "201001234567");
    let body = sent[0]["text"]["body"].as_str().unwrap();
    assert!(
        body.contains(&format!("{PUBLIC_URL}/l/{notice_id}-")),
        "{body}"
    );
    assert!(body.contains(&format!("{PUBLIC_URL}/link/")), "{body}");
    let entry = app.log("wamid.FAKE_IN_TEXT_AR_0001").await;
    assert_eq!(entry.status.as_deref(), Some("sent"));
    assert_eq!(entry.outbound_message_id.as_deref(), Some("wamid.SENT1"));
    // The text sent is stored, but the account link's token is not.
    let token: String = body
        .split(&format!("{PUBLIC_URL}/link/"))
        .nth(1)
        .unwrap()
        .chars()
        .take_while(|c| c.is_ascii_hexdigit() || *c == '.')
        .collect();
    assert!(token.len() > 40, "{body}");
    assert_eq!(
        entry.body.as_deref(),
        Some(body.replace(&token, "{token}").as_str())
    );
    assert_eq!(entry.days_left, Some(100));
    assert_eq!(entry.phase.as_deref(), Some("countdown"));
}

#[tokio::test]
async fn the_arabic_notice_uses_the_right_plural_form_for_each_day_count() {
    let cases = [
        (0, "اليوم هو آخر يوم لخدمة Acme Assistant"),
        (1, "بقي يوم واحد فقط"),
        (2, "بقي يومان فقط"),
        (3, "بقيت ٣ أيام"),
        (11, "بقي ١١ يومًا"),
        (100, "بقي ١٠٠ يوم،"),
    ];
    for (days_left, expected) in cases {
        let app = spawn_app_with(TestOptions {
            days_left,
            ..TestOptions::default()
        })
        .await;
        graph_accepts_messages(&app.graph).await;
        app.post_webhook(&fixture("text_ar")).await;
        app.drain_outbox().await;
        let sent = app.sent_messages().await;
        let body = sent[0]["text"]["body"].as_str().unwrap();
        assert!(body.contains(expected), "{days_left} days: {body}");
    }
}

/// A report on the first notice sent (to 15551234567), with `extra` fields.
fn first_notice_report(state: &str, extra: Value) -> Value {
    let mut report = status_report("wamid.OUT0000", state);
    let status = &mut report["entry"][0]["changes"][0]["value"]["statuses"][0];
    status["recipient_id"] = json!("15551234567");
    status["biz_opaque_callback_data"] = json!("1");
    for (key, value) in extra.as_object().into_iter().flatten() {
        status[key] = value.clone();
    }
    report
}

#[tokio::test]
async fn delivery_reports_move_a_notice_forward_only() {
    let app = spawn_app().await;
    graph_accepts_messages(&app.graph).await;
    app.post_webhook(&fixture("text_en")).await;
    app.drain_outbox().await;
    let status = |state: &str| first_notice_report(state, json!({}));
    let status_now = || async { app.log("wamid.FAKE_IN_TEXT_EN_0001").await.status.unwrap() };
    app.post_webhook(&status("read")).await;
    assert_eq!(status_now().await, "read");
    app.post_webhook(&status("delivered")).await;
    assert_eq!(
        status_now().await,
        "read",
        "a late delivered must not undo read"
    );
    let entry = app.log("wamid.FAKE_IN_TEXT_EN_0001").await;
    assert!(
        entry.delivered_at.is_some() && entry.read_at.is_some(),
        "but its time is kept"
    );
}

#[tokio::test]
async fn a_failure_report_quoting_the_recipient_is_logged_without_the_number() {
    let app = spawn_app().await;
    graph_accepts_messages(&app.graph).await;
    app.post_webhook(&fixture("text_en")).await;
    app.drain_outbox().await;
    let failed = first_notice_report(
        "failed",
        json!({ "errors": [{ "code": 131026, "title": "Message undeliverable to +1 555 123 4567" }] }),
    );
    assert_eq!(app.post_webhook(&failed).await.status(), 200);
    let entry = app.log("wamid.FAKE_IN_TEXT_EN_0001").await;
    assert_eq!(entry.status.as_deref(), Some("failed"));
    assert_eq!(entry.error_code, Some(131026));
    assert_eq!(
        entry.error_title.as_deref(),
        Some("Message undeliverable to …")
    );
}

/// Posts one message while the Graph API answers the first send with
/// `answer` and accepts the others; the log entry after one round.
async fn first_send_answered(app: &TestApp, answer: ResponseTemplate) -> LogEntry {
    Mock::given(method("POST"))
        .and(path_regex("/messages$"))
        .respond_with(answer)
        .up_to_n_times(1)
        .mount(&app.graph)
        .await;
    graph_accepts_messages(&app.graph).await;
    app.post_webhook(&fixture("text_en")).await;
    app.drain_outbox().await;
    app.log("wamid.FAKE_IN_TEXT_EN_0001").await
}

#[tokio::test]
async fn a_rate_limit_error_is_retried_then_sent() {
    let app = spawn_app().await;
    let waiting = first_send_answered(&app, graph_error(400, 130429, "Rate limit hit")).await;
    assert_eq!(
        (waiting.status.as_deref(), waiting.error_code),
        (Some("queued"), Some(130429))
    );
    // The backoff after a first failure is at most two seconds.
    app.drain_outbox_at(Timestamp::now() + SignedDuration::from_secs(3))
        .await;
    let sent = app.log("wamid.FAKE_IN_TEXT_EN_0001").await;
    assert_eq!(
        (sent.status.as_deref(), sent.attempts),
        (Some("sent"), Some(2))
    );
    assert_eq!(app.sent_messages().await.len(), 2);
}

#[tokio::test]
async fn a_spam_rate_limit_fails_the_notice_and_halves_the_numbers_rate_on_every_box() {
    let app = spawn_app_with(TestOptions {
        messages_per_second: 10,
        ..TestOptions::default()
    })
    .await;
    let failed = first_send_answered(&app, graph_error(400, 131048, "Spam rate limit hit")).await;
    assert_eq!(
        (failed.status.as_deref(), failed.error_code),
        (Some("failed"), Some(131048))
    );
    let health: Value = app.get("/healthz").await.json().await.unwrap();
    let slowed = &health["sender"]["slowed_numbers"];
    assert_eq!(slowed[0]["phone_number_id"], "100000000000001", "{health}");
    let until: Timestamp = slowed[0]["until"].as_str().unwrap().parse().unwrap();
    assert!(until > Timestamp::now() + SignedDuration::from_mins(10));
    let dashboard = app
        .get_as(ADMIN_TOKEN, "/admin")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        dashboard.contains("(131048)") && dashboard.contains("100000000000001 until"),
        "/admin shows it too"
    );
    // The budget every box draws from spaces this number's sends twice as
    // far apart, and no other number's.
    let tenth = SignedDuration::from_millis(100);
    let now = Timestamp::now();
    let slowed = app
        .store
        .reserve_sends("100000000000001", 2, tenth, now)
        .await
        .unwrap();
    assert_eq!(slowed.interval, tenth * 2);
    let other = app
        .store
        .reserve_sends("100000000000002", 2, tenth, now)
        .await
        .unwrap();
    assert_eq!(other.interval, tenth);
    // Past the slowdown the number is back to its rate.
    let later = app
        .store
        .reserve_sends(
            "100000000000001",
            1,
            tenth,
            until + SignedDuration::from_secs(1),
        )
        .await
        .unwrap();
    assert_eq!(later.interval, tenth);
}

#[tokio::test]
async fn an_answer_that_is_not_the_graph_api_is_retried_and_logged_without_a_code() {
    let app = spawn_app().await;
    let bad_gateway = ResponseTemplate::new(502).set_body_string("Bad Gateway");
    let waiting = first_send_answered(&app, bad_gateway).await;
    assert_eq!(
        (waiting.status.as_deref(), waiting.error_code),
        (Some("queued"), None),
        "0 is a real Graph API code"
    );
    assert_eq!(
        waiting.error_title.as_deref(),
        Some("Graph API answered HTTP 502 with a body we cannot read")
    );
    app.drain_outbox_at(Timestamp::now() + SignedDuration::from_secs(3))
        .await;
    let sent = app.log("wamid.FAKE_IN_TEXT_EN_0001").await;
    assert_eq!(
        (sent.status.as_deref(), sent.error_code, sent.error_title),
        (Some("sent"), None, None)
    );
}

#[tokio::test]
async fn a_closed_window_error_fails_the_notice_with_its_code() {
    let app = spawn_app().await;
    Mock::given(method("POST"))
        .and(path_regex("/messages$"))
        .respond_with(graph_error(400, 131047, "Re-engagement message"))
        .mount(&app.graph)
        .await;
    app.post_webhook(&fixture("text_en")).await;
    app.drain_outbox_at(Timestamp::now() + SignedDuration::from_mins(30))
        .await;
    let entry = app.log("wamid.FAKE_IN_TEXT_EN_0001").await;
    assert_eq!(entry.status.as_deref(), Some("failed"));
    assert_eq!(entry.error_code, Some(131047));
    assert_eq!(entry.error_title.as_deref(), Some("Re-engagement message"));
    assert_eq!(app.sent_messages().await.len(), 1, "never retried");
}

#[tokio::test]
async fn a_notice_that_failed_does_not_coalesce_the_next_message() {
    // The default reply interval, an hour: a notice that reached the user
    // would coalesce the next message.
    let app = spawn_app().await;
    let undeliverable = graph_error(400, 131026, "Message undeliverable");
    let failed = first_send_answered(&app, undeliverable).await;
    assert_eq!(failed.status.as_deref(), Some("failed"));
    app.post_webhook(&text_message("15551234567", "wamid.AGAIN", "hello?"))
        .await;
    app.drain_outbox().await;
    let again = app.log("wamid.AGAIN").await;
    assert_eq!(
        (again.decision.as_str(), again.status.as_deref()),
        ("notified", Some("sent"))
    );
    assert_eq!(app.sent_messages().await.len(), 2);
}

#[tokio::test]
async fn a_no_bsuid_error_on_a_send_to_the_phone_fails_without_retrying() {
    let app = spawn_app().await;
    Mock::given(method("POST"))
        .and(path_regex("/messages$"))
        .respond_with(graph_error(
            400,
            131062,
            "Business-scoped user ID not supported",
        ))
        .mount(&app.graph)
        .await;
    app.post_webhook(&fixture("text_en")).await;
    for _ in 0..3 {
        app.outbox.step(Timestamp::now()).await.unwrap();
    }
    let entry = app.log("wamid.FAKE_IN_TEXT_EN_0001").await;
    assert_eq!(
        (entry.status.as_deref(), entry.error_code),
        (Some("failed"), Some(131062))
    );
    let sent = app.sent_messages().await;
    assert_eq!(sent.len(), 1, "the phone was all there was to try");
    assert_eq!(sent[0]["to"], "15551234567");
}

#[tokio::test]
async fn an_invalid_token_pauses_sending_but_webhooks_are_still_taken() {
    let app = spawn_app().await;
    Mock::given(method("POST"))
        .and(path_regex("/messages$"))
        .respond_with(graph_error(401, 190, "Invalid OAuth access token."))
        .mount(&app.graph)
        .await;
    app.post_webhook(&fixture("text_en")).await;
    app.drain_outbox().await;
    let health: serde_json::Value = app.get("/healthz").await.json().await.unwrap();
    assert_eq!(health["sender"]["state"], "paused");
    assert_eq!(health["sender"]["paused_numbers"][0]["error_code"], 190);
    assert_eq!(
        app.get("/readyz").await.status(),
        200,
        "a paused sender keeps the box in rotation"
    );
    // Still taking webhooks and queuing, sending nothing.
    assert_eq!(app.post_webhook(&fixture("text_ar")).await.status(), 200);
    app.drain_outbox().await;
    assert_eq!(app.sent_messages().await.len(), 1);
    assert_eq!(
        app.log("wamid.FAKE_IN_TEXT_AR_0001")
            .await
            .status
            .as_deref(),
        Some("queued")
    );
    let tried = app.log("wamid.FAKE_IN_TEXT_EN_0001").await;
    assert_eq!(
        (tried.status.as_deref(), tried.attempts, tried.error_code),
        (Some("queued"), Some(1), Some(190)),
        "the call that paused the number was an attempt"
    );
    assert_eq!(
        app.log("wamid.FAKE_IN_TEXT_AR_0001").await.attempts,
        Some(0)
    );
}

#[tokio::test]
async fn a_paused_number_resumes_when_the_probe_succeeds() {
    let app = spawn_app().await;
    Mock::given(method("POST"))
        .and(path_regex("/messages$"))
        .respond_with(graph_error(401, 190, "Invalid OAuth access token."))
        .up_to_n_times(1)
        .mount(&app.graph)
        .await;
    graph_accepts_messages(&app.graph).await;
    Mock::given(method("GET"))
        .and(path("/v27.0/100000000000001"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({ "id": "100000000000001" })),
        )
        .mount(&app.graph)
        .await;
    app.post_webhook(&fixture("text_en")).await;
    app.drain_outbox().await;
    assert_eq!(
        app.log("wamid.FAKE_IN_TEXT_EN_0001")
            .await
            .status
            .as_deref(),
        Some("queued")
    );
    app.drain_outbox_at(Timestamp::now() + SignedDuration::from_mins(6))
        .await;
    assert_eq!(
        app.log("wamid.FAKE_IN_TEXT_EN_0001")
            .await
            .status
            .as_deref(),
        Some("sent")
    );
}

#[tokio::test]
async fn a_notice_whose_window_closes_while_it_waits_expires() {
    let app = spawn_app().await;
    graph_accepts_messages(&app.graph).await;
    app.post_webhook(&fixture("text_en")).await;
    app.drain_outbox_at(Timestamp::now() + SignedDuration::from_hours(25))
        .await;
    let expired = app.log("wamid.FAKE_IN_TEXT_EN_0001").await;
    assert_eq!(
        (expired.status.as_deref(), expired.attempts),
        (Some("expired"), Some(0)),
        "no call was made: no attempt"
    );
    assert!(app.sent_messages().await.is_empty());
}

#[tokio::test]
async fn without_an_access_token_notices_are_logged_as_dry_run() {
    let app = spawn_app_with(TestOptions {
        live: false,
        ..TestOptions::default()
    })
    .await;
    app.post_webhook(&fixture("text_en")).await;
    app.drain_outbox().await;
    let entry = app.log("wamid.FAKE_IN_TEXT_EN_0001").await;
    assert_eq!(entry.status.as_deref(), Some("dry_run"));
    assert!(
        entry
            .body
            .unwrap()
            .starts_with("Acme Assistant is leaving WhatsApp.")
    );
    assert!(app.sent_messages().await.is_empty());
}

#[tokio::test]
async fn notices_queued_when_the_server_stops_are_sent_by_the_next_start() {
    let first = spawn_app().await;
    first.post_webhook(&fixture("text_en")).await;
    first.stop().await;
    let dir = first.dir_for_restart();
    let graph = first.graph;
    graph_accepts_messages(&graph).await;
    let second = spawn_app_with(TestOptions {
        reuse_dir: Some(dir),
        graph: Some(graph),
        ..TestOptions::default()
    })
    .await;
    second.drain_outbox().await;
    assert_eq!(second.sent_messages().await.len(), 1);
    assert_eq!(
        second
            .log("wamid.FAKE_IN_TEXT_EN_0001")
            .await
            .status
            .as_deref(),
        Some("sent")
    );
}

/// A live app that answers every message, keeping notices to one user
/// six seconds apart as WhatsApp's pair rate limit asks.
async fn pair_spaced_app() -> TestApp {
    let app = spawn_app_with(TestOptions {
        min_reply_interval: "0s",
        pair_spacing: "6s",
        ..TestOptions::default()
    })
    .await;
    graph_accepts_messages(&app.graph).await;
    app
}

#[tokio::test]
async fn notices_to_one_user_keep_to_the_pair_spacing() {
    let app = pair_spaced_app().await;
    for i in 0..3 {
        app.post_webhook(&text_message(
            "15557770001",
            &format!("wamid.PAIR{i}"),
            "hello",
        ))
        .await;
    }
    app.post_webhook(&text_message("15557770002", "wamid.OTHER", "hello"))
        .await;
    let now = Timestamp::now();
    app.drain_outbox_at(now).await;
    assert_eq!(
        app.sent_messages().await.len(),
        2,
        "one notice to each user, the others wait"
    );
    assert_eq!(app.log("wamid.PAIR0").await.status.as_deref(), Some("sent"));
    assert_eq!(
        app.log("wamid.PAIR1").await.status.as_deref(),
        Some("queued")
    );
    app.drain_outbox_at(now + SignedDuration::from_secs(5))
        .await;
    assert_eq!(app.sent_messages().await.len(), 2, "not before 6 s");
    app.drain_outbox_at(now + SignedDuration::from_secs(7))
        .await;
    assert_eq!(app.log("wamid.PAIR1").await.status.as_deref(), Some("sent"));
    assert_eq!(
        app.log("wamid.PAIR2").await.status.as_deref(),
        Some("queued")
    );
    app.drain_outbox_at(now + SignedDuration::from_secs(14))
        .await;
    assert_eq!(app.sent_messages().await.len(), 4);
}

#[tokio::test]
async fn a_notice_still_waiting_when_its_user_sends_stop_is_never_sent() {
    let app = pair_spaced_app().await;
    let user = "15557770003";
    app.post_webhook(&text_message(user, "wamid.FIRST", "hello"))
        .await;
    app.post_webhook(&text_message(user, "wamid.SECOND", "hello again"))
        .await;
    let now = Timestamp::now();
    app.drain_outbox_at(now).await;
    assert_eq!(
        app.log("wamid.SECOND").await.status.as_deref(),
        Some("queued"),
        "waits out the pair spacing"
    );
    app.post_webhook(&text_message(user, "wamid.STOP", "STOP"))
        .await;
    app.drain_outbox_at(now + SignedDuration::from_secs(7))
        .await;
    app.drain_outbox_at(now + SignedDuration::from_secs(14))
        .await;

    assert_withdrawn(&app.log("wamid.SECOND").await);
    assert_eq!(app.log("wamid.STOP").await.status.as_deref(), Some("sent"));
    let sent = app.sent_messages().await;
    assert_eq!(sent.len(), 2, "the first notice and the confirmation");
    let confirmation = sent[1]["text"]["body"].as_str().unwrap();
    assert!(
        confirmation.contains("START"),
        "the stop confirmation tells how to come back: {confirmation}"
    );
}

#[tokio::test]
async fn sent_at_is_when_the_graph_api_took_the_notice_not_when_it_was_claimed() {
    let app = spawn_app_with(TestOptions {
        messages_per_second: 1,
        ..TestOptions::default()
    })
    .await;
    graph_accepts_messages(&app.graph).await;
    for i in 0..3 {
        let from = format!("1555123450{i}");
        app.post_webhook(&text_message(&from, &format!("wamid.PACED{i}"), "hello"))
            .await;
    }
    app.drain_outbox().await;
    let mut sent_at = vec![];
    for i in 0..3 {
        sent_at.push(app.log(&format!("wamid.PACED{i}")).await.sent_at.unwrap());
    }
    sent_at.sort();
    // One a second: the three went out over two seconds, not at one instant.
    let spread = sent_at[2].duration_since(sent_at[0]);
    assert!(spread >= SignedDuration::from_millis(1_900), "{spread:?}");
}

#[tokio::test]
async fn a_restarted_sqlite_box_does_not_wait_out_the_slots_of_the_one_that_died() {
    if std::env::var("SUNSET_TEST_DATABASE_URL").is_ok() {
        return; // On PostgreSQL other boxes may still hold those slots.
    }
    let app = spawn_app().await;
    let (number, second) = ("100000000000001", SignedDuration::from_secs(1));
    // The box that died had claimed a backlog of 300 at one a second.
    app.store
        .reserve_sends(number, 300, second, Timestamp::now())
        .await
        .unwrap();
    app.store.release_stale_leases().await.unwrap();
    let next = app
        .store
        .reserve_sends(number, 1, second, Timestamp::now())
        .await
        .unwrap();
    let wait = next.first.duration_since(Timestamp::now());
    assert!(wait <= SignedDuration::from_millis(1_100), "{wait:?}");
}

/// A notice that its user's STOP overtook: never attempted.
fn assert_withdrawn(entry: &LogEntry) {
    assert_eq!(
        (
            entry.status.as_deref(),
            entry.error_title.as_deref(),
            entry.attempts
        ),
        (
            Some("failed"),
            Some("the user opted out before it was sent"),
            Some(0)
        ),
        "withdrawn, never attempted"
    );
}

/// Three users' notices queued on a number that sends one a second.
async fn three_notices_at_one_a_second() -> TestApp {
    let app = spawn_app_with(TestOptions {
        messages_per_second: 1,
        ..TestOptions::default()
    })
    .await;
    graph_accepts_messages(&app.graph).await;
    for (from, id) in HELD {
        let answer = app.post_webhook(&text_message(from, id, "Hi")).await;
        assert_eq!(answer.status(), 200);
    }
    app
}

/// Waits until the first notice reaches the Graph API: the others then
/// wait for their slots.
async fn first_send(app: &TestApp) {
    let waited = std::time::Instant::now();
    while app.sent_messages().await.is_empty() {
        assert!(waited.elapsed().as_secs() < 10, "no notice was sent");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// The three notices, and a sender round under way that holds them, once
/// the first has gone.
async fn three_notices_held_at_one_a_second() -> (TestApp, tokio::task::JoinHandle<usize>) {
    let app = three_notices_at_one_a_second().await;
    let outbox = std::sync::Arc::clone(&app.outbox);
    let round = tokio::spawn(async move { outbox.step(Timestamp::now()).await.unwrap() });
    first_send(&app).await;
    (app, round)
}

const HELD: [(&str, &str); 3] = [
    ("15550000001", "wamid.HELD1"),
    ("15550000002", "wamid.HELD2"),
    ("15550000003", "wamid.HELD3"),
];

#[tokio::test]
async fn sunset_pause_stops_the_notices_a_sender_already_holds() {
    let (app, round) = three_notices_held_at_one_a_second().await;
    app.store
        .pause_number(&sunset::store::PausedNumber::operator_pause(
            Timestamp::now(),
        ))
        .await
        .unwrap();
    round.await.unwrap();
    assert_eq!(app.sent_messages().await.len(), 1);
    for (_, id) in &HELD[1..] {
        let held = app.log(id).await;
        assert_eq!(
            (held.status.as_deref(), held.attempts),
            (Some("queued"), Some(0)),
            "{id} goes back to the queue, unsent"
        );
    }
}

#[tokio::test]
async fn a_stop_that_arrives_while_its_notice_waits_for_a_slot_keeps_it_unsent() {
    let (app, round) = three_notices_held_at_one_a_second().await;
    let (last_user, last_id) = HELD[2];
    app.post_webhook(&text_message(last_user, "wamid.HELDSTOP", "STOP"))
        .await;
    round.await.unwrap();
    assert_withdrawn(&app.log(last_id).await);
    let sent = app.sent_messages().await;
    assert_eq!(sent.len(), 2, "the first two users still get theirs");
    assert!(sent.iter().all(|message| message["to"] != last_user));
}

#[tokio::test]
async fn a_stopping_sender_gives_back_the_notices_waiting_for_their_slot_at_once() {
    let app = three_notices_at_one_a_second().await;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let running = tokio::spawn(std::sync::Arc::clone(&app.outbox).run(stopped));
    first_send(&app).await;
    let stopping = std::time::Instant::now();
    stop.send_replace(true);
    running.await.unwrap();
    assert!(
        stopping.elapsed() < std::time::Duration::from_millis(500),
        "it stopped in {:?}, not after the slots",
        stopping.elapsed()
    );
    assert_eq!(app.sent_messages().await.len(), 1);
    for (_, id) in &HELD[1..] {
        assert_eq!(app.log(id).await.status.as_deref(), Some("queued"));
    }
}

#[tokio::test]
async fn a_retry_waits_its_backoff_from_the_end_of_a_slow_failed_call() {
    let app = spawn_app().await;
    Mock::given(method("POST"))
        .and(path_regex("/messages$"))
        .respond_with(
            graph_error(500, 2, "Service temporarily unavailable")
                .set_delay(std::time::Duration::from_millis(2_500)),
        )
        .mount(&app.graph)
        .await;
    app.post_webhook(&fixture("text_en")).await;
    // The first backoff is 1 to 2 s: counted from the claim, the retry
    // would be due before the slow answer came back, and go at once.
    app.drain_outbox().await;
    assert_eq!(app.sent_messages().await.len(), 1);
    let waiting = app.log("wamid.FAKE_IN_TEXT_EN_0001").await;
    assert_eq!(
        (waiting.status.as_deref(), waiting.attempts),
        (Some("queued"), Some(1))
    );
}

#[tokio::test]
async fn a_stopping_sender_starts_no_call_for_the_notices_waiting_for_one_to_end() {
    let app = spawn_app_with(TestOptions {
        sends_in_flight: 1,
        ..TestOptions::default()
    })
    .await;
    Mock::given(method("POST"))
        .and(path_regex("/messages$"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({
                    "messaging_product": "whatsapp",
                    "contacts": [{ "input": "15550000001", "wa_id": "15550000001" }],
                    "messages": [{ "id": "wamid.SLOW" }],
                }))
                .set_delay(std::time::Duration::from_millis(1_500)),
        )
        .mount(&app.graph)
        .await;
    for (from, id) in HELD {
        app.post_webhook(&text_message(from, id, "Hi")).await;
    }
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let running = tokio::spawn(std::sync::Arc::clone(&app.outbox).run(stopped));
    first_send(&app).await;
    stop.send_replace(true);
    running.await.unwrap();
    assert_eq!(app.sent_messages().await.len(), 1, "no call after the stop");
    let mut statuses = vec![];
    for (_, id) in HELD {
        let entry = app.log(id).await;
        statuses.push((entry.status, entry.attempts));
    }
    statuses.sort();
    assert_eq!(
        statuses,
        [
            (Some("queued".into()), Some(0)),
            (Some("queued".into()), Some(0)),
            (Some("sent".into()), Some(1)),
        ]
    );
}

#[tokio::test]
async fn a_running_sender_gives_back_its_held_notices_soon_after_a_pause() {
    let app = spawn_app_with(TestOptions {
        messages_per_second: 1,
        ..TestOptions::default()
    })
    .await;
    graph_accepts_messages(&app.graph).await;
    let users: Vec<(String, String)> = (0..6)
        .map(|n| (format!("1555000010{n}"), format!("wamid.LATER{n}")))
        .collect();
    for (from, id) in &users {
        app.post_webhook(&text_message(from, id, "Hi")).await;
    }
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let running = tokio::spawn(std::sync::Arc::clone(&app.outbox).run(stopped));
    first_send(&app).await;
    app.store
        .pause_number(&sunset::store::PausedNumber::operator_pause(
            Timestamp::now(),
        ))
        .await
        .unwrap();
    // The last slot is 5 s away; the sender looks at the pauses every
    // half second while it waits.
    tokio::time::sleep(std::time::Duration::from_millis(1_500)).await;
    let mut queued = 0;
    for (_, id) in &users {
        let entry = app.log(id).await;
        if entry.status.as_deref() == Some("queued") {
            assert_eq!(entry.attempts, Some(0), "{id}");
            queued += 1;
        }
    }
    assert!(queued >= 4, "{queued} of 6 back in the queue");
    stop.send_replace(true);
    running.await.unwrap();
    assert!(app.sent_messages().await.len() <= 2);
}
