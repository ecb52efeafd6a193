//! Hostile and odd input: each answered clearly, nothing lost, nothing leaked.

use crate::helpers::*;
use serde_json::{Value, json};
use sunset::signing::sign_webhook;

fn batch_of(count: usize) -> Value {
    let now = jiff::Timestamp::now().as_second().to_string();
    let messages: Vec<Value> = (0..count)
        .map(|i| {
            json!({ "from": format!("1555{i:07}"), "id": format!("wamid.BULK{i}"), "timestamp": now,
                    "type": "text", "text": { "body": "hello" } })
        })
        .collect();
    json!({ "object": "whatsapp_business_account", "entry": [{ "id": "1", "changes": [{ "field": "messages", "value": {
        "messaging_product": "whatsapp",
        "metadata": { "display_phone_number": "15550001111", "phone_number_id": "100000000000001" },
        "messages": messages,
    }}]}]})
}

#[tokio::test]
async fn a_thousand_messages_in_one_batch_are_all_decided() {
    let app = spawn_app().await;
    assert_eq!(app.post_webhook(&batch_of(1000)).await.status(), 200);
    for i in [0, 499, 999] {
        assert_eq!(
            app.log(&format!("wamid.BULK{i}")).await.decision,
            "notified"
        );
    }
    let stats = analyst_stats(&app).await;
    assert_eq!(stats["funnel"]["inbound"], 1000);
}

#[tokio::test]
async fn invalid_utf8_and_deep_nesting_are_400_and_store_nothing() {
    let app = spawn_app().await;
    let invalid = b"{\"object\": \"\xff\xfe\"}";
    assert_eq!(
        app.post_raw(invalid, Some(&sign_webhook(APP_SECRET, invalid)))
            .await
            .status(),
        400
    );
    let deep = format!("{}1{}", "[".repeat(10_000), "]".repeat(10_000));
    assert_eq!(
        app.post_raw(
            deep.as_bytes(),
            Some(&sign_webhook(APP_SECRET, deep.as_bytes()))
        )
        .await
        .status(),
        400
    );
    assert_eq!(app.store.quarantined().await.unwrap(), 0);
}

#[tokio::test]
async fn a_text_cut_inside_an_emoji_is_answered() {
    let app = spawn_app().await;
    let body = serde_json::to_string(&text_message("15551234567", "wamid.HALF", "bye CUT"))
        .unwrap()
        .replace("CUT\"", "\\ud83d\"");
    assert!(serde_json::from_str::<Value>(&body).is_err(), "{body}");
    let bytes = body.as_bytes();
    let answer = app
        .post_raw(bytes, Some(&sign_webhook(APP_SECRET, bytes)))
        .await;
    assert_eq!(answer.status(), 200);
    assert_eq!(app.log("wamid.HALF").await.decision, "notified");
    assert_eq!(app.store.quarantined().await.unwrap(), 0);
}

#[tokio::test]
async fn absurd_timestamps_and_missing_senders_are_quarantined_not_answered() {
    let app = spawn_app().await;
    let mut body = text_message("15551234567", "wamid.FUTURE", "hello");
    body["entry"][0]["changes"][0]["value"]["messages"][0]["timestamp"] =
        json!("99999999999999999");
    assert_eq!(app.post_webhook(&body).await.status(), 200);
    let next_year =
        (jiff::Timestamp::now() + jiff::SignedDuration::from_hours(24 * 365)).as_second();
    for (id, timestamp) in [
        ("wamid.NEXT_YEAR", next_year.to_string()),
        ("wamid.EPOCH", "0".into()),
    ] {
        let mut body = text_message("15551234567", id, "hello");
        body["entry"][0]["changes"][0]["value"]["messages"][0]["timestamp"] = json!(timestamp);
        assert_eq!(app.post_webhook(&body).await.status(), 200);
        assert!(app.store.log_entry(id).await.unwrap().is_none(), "{id}");
    }
    let mut anonymous = text_message("15551234567", "wamid.NOBODY", "hello");
    anonymous["entry"][0]["changes"][0]["value"]["messages"][0]
        .as_object_mut()
        .unwrap()
        .remove("from");
    anonymous["entry"][0]["changes"][0]["value"]["contacts"] = json!([]);
    assert_eq!(app.post_webhook(&anonymous).await.status(), 200);
    assert_eq!(app.store.quarantined().await.unwrap(), 4);
    assert!(app.store.log_entry("wamid.FUTURE").await.unwrap().is_none());
}

#[tokio::test]
async fn huge_ids_and_bidi_overrides_in_names_are_stored_as_data() {
    let app = spawn_app().await;
    let long_id = format!("wamid.{}", "A".repeat(10 * 1024));
    let mut body = text_message("15551234567", &long_id, "hello");
    body["entry"][0]["changes"][0]["value"]["contacts"][0]["profile"]["name"] =
        json!("\u{202E}nimda<b>x</b>");
    assert_eq!(app.post_webhook(&body).await.status(), 200);
    assert_eq!(app.log(&long_id).await.decision, "notified");
    let revealed: Value = app
        .get_as(ADMIN_TOKEN, "/api/notifications?reveal=true")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        revealed["items"][0]["profile_name"],
        "\u{202E}nimda<b>x</b>"
    );
}

#[tokio::test]
async fn a_message_from_another_api_bot_never_triggers_a_reply() {
    let app = spawn_app().await;
    graph_accepts_messages(&app.graph).await;
    let mut body = fixture("unsupported");
    body["entry"][0]["changes"][0]["value"]["messages"][0]["unsupported"] =
        json!({ "type": "unknown" });
    app.post_webhook(&body).await;
    // Older webhook versions call the same message type `unknown`.
    let mut older = fixture("unsupported");
    let message = &mut older["entry"][0]["changes"][0]["value"]["messages"][0];
    message["id"] = json!("wamid.OLDER_UNKNOWN");
    message["type"] = json!("unknown");
    message.as_object_mut().unwrap().remove("unsupported");
    app.post_webhook(&older).await;
    assert_eq!(app.log("wamid.OLDER_UNKNOWN").await.decision, "ignored");
    app.drain_outbox().await;
    assert!(app.sent_messages().await.is_empty());
}

#[tokio::test]
async fn a_flooding_sender_is_suppressed_by_the_breaker() {
    let app = spawn_app_with(TestOptions {
        min_reply_interval: "0s",
        ..TestOptions::default()
    })
    .await;
    graph_accepts_messages(&app.graph).await;
    for i in 0..12 {
        app.post_webhook(&text_message(
            "15557770000",
            &format!("wamid.FLOOD{i}"),
            "ping",
        ))
        .await;
    }
    app.drain_outbox().await;
    assert_eq!(app.log("wamid.FLOOD9").await.decision, "notified");
    assert_eq!(app.log("wamid.FLOOD10").await.decision, "suppressed");
    assert_eq!(app.log("wamid.FLOOD11").await.decision, "suppressed");
    assert_eq!(app.sent_messages().await.len(), 10);
}

#[tokio::test]
async fn an_oversized_link_report_and_a_login_that_is_not_a_form_get_json_errors() {
    let app = spawn_app().await;
    let huge = vec![b' '; 64 * 1024];
    let linked = crate::analyst::post_linked(&app, &huge, SIGNING_KEY).await;
    assert_eq!(linked.status(), 413);
    let body: Value = linked.json().await.unwrap();
    assert_eq!(body["error"], "payload_too_large");

    let login = app
        .http
        .post(format!("{}/admin/login", app.address))
        .json(&json!({ "token": "x" }))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 415);
    let body: Value = login.json().await.unwrap();
    assert_eq!(body["error"], "unsupported_media_type");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("application/x-www-form-urlencoded"),
        "{body}"
    );
}
