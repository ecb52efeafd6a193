//! POST /webhook and GET /webhook as Meta uses them.

use crate::helpers::*;
use jiff::{SignedDuration, Timestamp};
use serde_json::json;

#[tokio::test]
async fn handshake_echoes_the_challenge_only_for_the_right_token() {
    let app = spawn_app().await;
    let ok = app
        .get(&format!(
            "/webhook?hub.mode=subscribe&hub.verify_token={VERIFY_TOKEN}&hub.challenge=1158201444"
        ))
        .await;
    assert_eq!(ok.status(), 200);
    assert!(
        ok.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    assert_eq!(ok.text().await.unwrap(), "1158201444");
    let wrong = app
        .get("/webhook?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1")
        .await;
    assert_eq!(wrong.status(), 403);
    let no_mode = app
        .get(&format!(
            "/webhook?hub.verify_token={VERIFY_TOKEN}&hub.challenge=1"
        ))
        .await;
    assert_eq!(no_mode.status(), 403);
}

#[tokio::test]
async fn webhook_with_bad_or_missing_signature_is_rejected_and_nothing_stored() {
    let app = spawn_app().await;
    let body = serde_json::to_vec(&fixture("text_en")).unwrap();
    let missing = app.post_raw(&body, None).await;
    assert_eq!(missing.status(), 401);
    let error: serde_json::Value = missing.json().await.unwrap();
    assert_eq!(error["error"], "unauthorized");
    let forged = sunset::signing::sign_webhook("not-the-app-secret", &body);
    assert_eq!(app.post_raw(&body, Some(&forged)).await.status(), 401);
    assert_eq!(app.post_raw(&body, Some("sha256=zz")).await.status(), 401);
    assert!(
        app.store
            .log_entry("wamid.FAKE_IN_TEXT_EN_0001")
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(app.store.quarantined().await.unwrap(), 0);
}

#[tokio::test]
async fn the_signature_is_checked_on_the_raw_bytes_not_on_reparsed_json() {
    let app = spawn_app().await;
    // Meta may escape non-ASCII text: the same JSON, other bytes.
    let escaped = serde_json::to_string(&text_message("201001234567", "wamid.ESCAPED", "مرحبا"))
        .unwrap()
        .replace("مرحبا", r"\u0645\u0631\u062d\u0628\u0627");
    let signature = sunset::signing::sign_webhook(APP_SECRET, escaped.as_bytes());
    assert_eq!(
        app.post_raw(escaped.as_bytes(), Some(&signature))
            .await
            .status(),
        200
    );
    let entry = app.log("wamid.ESCAPED").await;
    assert_eq!(
        (entry.locale.as_str(), entry.locale_source.as_str()),
        ("ar", "text")
    );
}

#[tokio::test]
async fn a_body_that_is_not_json_is_a_400_and_an_oversized_one_a_413() {
    let app = spawn_app().await;
    let garbage = b"this is not json";
    let response = app
        .post_raw(
            garbage,
            Some(&sunset::signing::sign_webhook(APP_SECRET, garbage)),
        )
        .await;
    assert_eq!(response.status(), 400);
    let huge = vec![b' '; 3 * 1024 * 1024 + 1];
    let response = app
        .post_raw(
            &huge,
            Some(&sunset::signing::sign_webhook(APP_SECRET, &huge)),
        )
        .await;
    assert_eq!(response.status(), 413);
}

#[tokio::test]
async fn signed_json_we_do_not_understand_is_quarantined_and_answered_200() {
    let app = spawn_app().await;
    let template_update = json!({
        "object": "whatsapp_business_account",
        "entry": [{ "id": "1", "changes": [{ "field": "message_template_status_update", "value": { "event": "APPROVED" } }] }],
    });
    assert_eq!(app.post_webhook(&template_update).await.status(), 200);
    assert_eq!(
        app.post_webhook(&json!({ "hello": "world" }))
            .await
            .status(),
        200
    );
    assert_eq!(app.store.quarantined().await.unwrap(), 2);
    let errors_only = json!({
        "object": "whatsapp_business_account",
        "entry": [{ "id": "1", "changes": [{ "field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": { "display_phone_number": "15550001111", "phone_number_id": "100000000000001" },
            "errors": [{ "code": 131000, "title": "Something went wrong" }],
        } }] }],
    });
    assert_eq!(app.post_webhook(&errors_only).await.status(), 200);
    assert_eq!(app.store.quarantined().await.unwrap(), 3);
}

#[tokio::test]
async fn a_stop_button_or_reply_is_a_keyword_like_the_typed_word() {
    let app = spawn_app().await;
    let replies = [
        ("button", json!({ "payload": "STOP", "text": "Stop" })),
        (
            "interactive",
            json!({ "type": "button_reply", "button_reply": { "id": "b1", "title": "STOP" } }),
        ),
        (
            "interactive",
            json!({ "type": "list_reply", "list_reply": { "id": "l1", "title": "Stop", "description": "" } }),
        ),
    ];
    for (i, (kind, part)) in replies.into_iter().enumerate() {
        let id = format!("wamid.BUTTON{i}");
        let mut webhook = text_message(&format!("20100123450{i}"), &id, "");
        let message = &mut webhook["entry"][0]["changes"][0]["value"]["messages"][0];
        message.as_object_mut().unwrap().remove("text");
        message["type"] = json!(kind);
        message[kind] = part;
        assert_eq!(app.post_webhook(&webhook).await.status(), 200);
        let logged = app.log(&id).await;
        assert_eq!(
            (logged.decision.as_str(), logged.notice_kind.as_deref()),
            ("keyword", Some("stop_confirmation")),
            "{kind} {i}"
        );
    }
}

#[tokio::test]
async fn every_fixture_gets_the_right_decision_and_locale() {
    let app = spawn_app().await;
    graph_accepts_messages(&app.graph).await;
    let cases = [
        (
            "text_en",
            "wamid.FAKE_IN_TEXT_EN_0001",
            "notified",
            "en",
            "text",
        ),
        (
            "text_ar",
            "wamid.FAKE_IN_TEXT_AR_0001",
            "notified",
            "ar",
            "text",
        ),
        (
            "voice_note",
            "wamid.FAKE_IN_VOICE_0001",
            "notified",
            "ar",
            "country",
        ),
        (
            "image_with_caption",
            "wamid.FAKE_IN_IMAGE_0001",
            "notified",
            "en",
            "text",
        ),
        (
            "reaction",
            "wamid.FAKE_IN_REACTION_0001",
            "ignored",
            "ar",
            "country",
        ),
        (
            "unsupported",
            "wamid.FAKE_IN_UNSUPPORTED_0001",
            "ignored",
            "ar",
            "country",
        ),
    ];
    for (fixture_name, message_id, decision, locale, source) in cases {
        assert_eq!(
            app.post_webhook(&fixture(fixture_name)).await.status(),
            200,
            "{fixture_name}"
        );
        let entry = app.log(message_id).await;
        assert_eq!(
            (
                entry.decision.as_str(),
                entry.locale.as_str(),
                entry.locale_source.as_str()
            ),
            (decision, locale, source),
            "{fixture_name}"
        );
    }
    app.drain_outbox().await;
    let sent = app.sent_messages().await;
    let body_to = |to: &str| {
        let message = sent
            .iter()
            .find(|m| m["to"] == to)
            .unwrap_or_else(|| panic!("nothing sent to {to}"));
        message["text"]["body"].as_str().unwrap().to_owned()
    };
    assert_eq!(sent.len(), 4);
    assert!(
        body_to("15551234567").starts_with("Acme Assistant is leaving WhatsApp. 100 days left")
    );
    assert!(body_to("15557654321").starts_with("Acme Assistant is leaving WhatsApp."));
    assert!(body_to("201001234567").starts_with("ستتوقف خدمة Acme Assistant على واتساب."));
    assert!(body_to("966501234567").starts_with("ستتوقف خدمة Acme Assistant على واتساب."));
    for message in &sent {
        assert_eq!(message["messaging_product"], "whatsapp");
        assert_eq!(message["type"], "text");
    }
}

#[tokio::test]
async fn status_webhooks_for_messages_we_never_sent_are_dropped_with_a_200() {
    let app = spawn_app().await;
    assert_eq!(
        app.post_webhook(&fixture("status_delivered"))
            .await
            .status(),
        200
    );
    assert_eq!(
        app.post_webhook(&fixture("status_failed_131047"))
            .await
            .status(),
        200
    );
    let mut deleted = fixture("status_delivered");
    deleted["entry"][0]["changes"][0]["value"]["statuses"][0]["status"] = json!("deleted");
    assert_eq!(app.post_webhook(&deleted).await.status(), 200);
    assert_eq!(app.store.quarantined().await.unwrap(), 0);
    let health: serde_json::Value = app.get("/healthz").await.json().await.unwrap();
    assert_eq!(health["webhooks"]["unknown_statuses"], 2);
    assert_eq!(
        health["webhooks"]["other_statuses"], 1,
        "a kind of status that moves no notice is counted too"
    );
}

#[tokio::test]
async fn the_same_webhook_posted_twice_sends_one_notice() {
    let app = spawn_app().await;
    graph_accepts_messages(&app.graph).await;
    let body = fixture("text_ar");
    assert_eq!(app.post_webhook(&body).await.status(), 200);
    assert_eq!(app.post_webhook(&body).await.status(), 200);
    app.drain_outbox().await;
    assert_eq!(app.sent_messages().await.len(), 1);
    assert_eq!(
        app.log("wamid.FAKE_IN_TEXT_AR_0001").await.decision,
        "notified"
    );
    let health: serde_json::Value = app.get("/healthz").await.json().await.unwrap();
    assert_eq!(health["webhooks"]["duplicates"], 1);
}

#[tokio::test]
async fn a_batch_of_three_messages_from_two_users_is_answered_once_per_user() {
    let app = spawn_app().await;
    graph_accepts_messages(&app.graph).await;
    assert_eq!(
        app.post_webhook(&fixture("batch_three_messages"))
            .await
            .status(),
        200
    );
    assert_eq!(
        app.log("wamid.FAKE_IN_BATCH_0001").await.decision,
        "notified"
    );
    assert_eq!(
        app.log("wamid.FAKE_IN_BATCH_0002").await.decision,
        "coalesced"
    );
    let saudi = app.log("wamid.FAKE_IN_BATCH_0003").await;
    assert_eq!(
        (saudi.decision.as_str(), saudi.locale.as_str()),
        ("notified", "ar")
    );
    app.drain_outbox().await;
    let sent = app.sent_messages().await;
    let mut recipients: Vec<_> = sent
        .iter()
        .map(|m| m["to"].as_str().unwrap().to_owned())
        .collect();
    recipients.sort();
    assert_eq!(recipients, ["15551234567", "966501234567"]);
}

#[tokio::test]
async fn a_two_day_old_message_is_expired_and_not_answered() {
    let app = spawn_app().await;
    graph_accepts_messages(&app.graph).await;
    let old = fixture_aged("text_en", SignedDuration::from_hours(48));
    assert_eq!(app.post_webhook(&old).await.status(), 200);
    assert_eq!(
        app.log("wamid.FAKE_IN_TEXT_EN_0001").await.decision,
        "expired"
    );
    app.drain_outbox().await;
    assert!(app.sent_messages().await.is_empty());
}

#[tokio::test]
async fn a_user_known_only_by_bsuid_is_answered_through_recipient() {
    let app = spawn_app().await;
    graph_accepts_messages(&app.graph).await;
    assert_eq!(
        app.post_webhook(&fixture("username_user")).await.status(),
        200
    );
    app.drain_outbox().await;
    let sent = app.sent_messages().await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["recipient"], "EG.FAKEBSUID0000000004");
    assert!(sent[0].get("to").is_none());
}

#[tokio::test]
async fn a_phone_only_message_finds_the_user_first_seen_with_a_bsuid() {
    let app = spawn_app().await;
    graph_accepts_messages(&app.graph).await;
    app.post_webhook(&fixture("text_ar")).await;
    // The same person, now without the BSUID: same record, so coalesced.
    app.post_webhook(&text_message("201001234567", "wamid.PHONE_ONLY", "مرحبا"))
        .await;
    let first = app.log("wamid.FAKE_IN_TEXT_AR_0001").await;
    let second = app.log("wamid.PHONE_ONLY").await;
    assert_eq!(second.decision, "coalesced");
    assert_eq!(first.pseudonym, second.pseudonym);
}

#[tokio::test]
async fn messages_to_a_number_outside_the_campaign_are_ignored() {
    let app = spawn_app_with(TestOptions {
        phone_number_ids: vec!["999".into()],
        ..TestOptions::default()
    })
    .await;
    app.post_webhook(&fixture("text_en")).await;
    assert_eq!(
        app.log("wamid.FAKE_IN_TEXT_EN_0001").await.decision,
        "ignored"
    );
}

/// A `user_changed_number` system message, in the current shape
/// (`system.wa_id`) or the older one (`system.new_wa_id`).
fn number_change(
    from: &str,
    id: &str,
    new_number_key: &str,
    new_number: &str,
) -> serde_json::Value {
    let mut webhook = text_message(from, id, "");
    let message = &mut webhook["entry"][0]["changes"][0]["value"]["messages"][0];
    message["type"] = json!("system");
    message["system"] = json!({
        "body": format!("User A changed from {from} to {new_number}"),
        "type": "user_changed_number",
        new_number_key: new_number,
    });
    message.as_object_mut().unwrap().remove("text");
    webhook
}

#[tokio::test]
async fn a_changed_number_keeps_the_record_and_its_opt_out() {
    let app = spawn_app().await;
    for (i, key) in ["wa_id", "new_wa_id"].into_iter().enumerate() {
        let (old, new) = (format!("20100123456{i}"), format!("20100999999{i}"));
        app.post_webhook(&text_message(&old, &format!("wamid.STOP{i}"), "STOP"))
            .await;
        app.post_webhook(&number_change(&old, &format!("wamid.SYS{i}"), key, &new))
            .await;
        app.post_webhook(&text_message(&new, &format!("wamid.NEW{i}"), "hello"))
            .await;
        assert_eq!(app.log(&format!("wamid.SYS{i}")).await.decision, "ignored");
        let after = app.log(&format!("wamid.NEW{i}")).await;
        assert_eq!(after.decision, "opted_out", "system.{key}");
        assert_eq!(
            after.pseudonym,
            app.log(&format!("wamid.STOP{i}")).await.pseudonym,
            "system.{key}"
        );
    }
}

#[tokio::test]
async fn the_number_a_person_leaves_for_one_with_a_record_is_not_theirs_any_more() {
    let app = spawn_app().await;
    let (old, new) = ("201002270002", "201002270003");
    app.post_webhook(&text_message(old, "wamid.LEAVER", "STOP"))
        .await;
    app.post_webhook(&text_message(new, "wamid.HOLDER", "hello"))
        .await;
    app.post_webhook(&number_change(old, "wamid.MOVE", "wa_id", new))
        .await;
    // Whoever WhatsApp gives the old number to next is someone else.
    app.post_webhook(&text_message(old, "wamid.NEXT_OWNER", "hello"))
        .await;
    assert_eq!(app.log("wamid.NEXT_OWNER").await.decision, "notified");
    // The person's opt-out went with them to the new number.
    app.post_webhook(&text_message(new, "wamid.AFTER_MOVE", "hello again"))
        .await;
    assert_eq!(app.log("wamid.AFTER_MOVE").await.decision, "opted_out");
}

/// A BSUID-only message from `bsuid`, as a username user sends it.
fn from_bsuid(bsuid: &str, id: &str, text: &str) -> serde_json::Value {
    let mut webhook = text_message("15550000000", id, text);
    let value = &mut webhook["entry"][0]["changes"][0]["value"];
    value["contacts"][0] = json!({ "profile": { "name": "Test User" }, "user_id": bsuid });
    let message = value["messages"][0].as_object_mut().unwrap();
    message.remove("from");
    message.insert("from_user_id".into(), json!(bsuid));
    webhook
}

#[tokio::test]
async fn a_changed_bsuid_keeps_the_opt_out_whichever_id_names_the_sender() {
    let app = spawn_app().await;
    // The sender as the old id, as the new one, or only inside `system`.
    for (i, sender) in ["old", "new", "none"].into_iter().enumerate() {
        let (old, new) = (format!("EG.OLDBSUID000{i}"), format!("EG.NEWBSUID000{i}"));
        app.post_webhook(&from_bsuid(&old, &format!("wamid.BSTOP{i}"), "STOP"))
            .await;
        let mut change = from_bsuid(&old, &format!("wamid.BSYS{i}"), "");
        let value = &mut change["entry"][0]["changes"][0]["value"];
        value.as_object_mut().unwrap().remove("contacts");
        let message = value["messages"][0].as_object_mut().unwrap();
        message.remove("text");
        message.insert("type".into(), json!("system"));
        message.insert(
            "system".into(),
            json!({ "body": "User changed", "type": "user_changed_user_id",
                    "previous_user_id": old, "user_id": new }),
        );
        match sender {
            "new" => drop(message.insert("from_user_id".into(), json!(new))),
            "none" => drop(message.remove("from_user_id")),
            _ => {}
        }
        assert_eq!(app.post_webhook(&change).await.status(), 200, "{sender}");
        assert_eq!(app.log(&format!("wamid.BSYS{i}")).await.decision, "ignored");
        app.post_webhook(&from_bsuid(&new, &format!("wamid.BNEW{i}"), "hello"))
            .await;
        let after = app.log(&format!("wamid.BNEW{i}")).await;
        assert_eq!(after.decision, "opted_out", "sender named as {sender}");
        assert_eq!(
            after.pseudonym,
            app.log(&format!("wamid.BSTOP{i}")).await.pseudonym
        );
    }
}

#[tokio::test]
async fn a_changed_number_and_its_first_message_in_one_post_find_one_record() {
    let app = spawn_app().await;
    let (old, new) = ("201001234570", "201009999970");
    app.post_webhook(&text_message(old, "wamid.BEFORE", "hello"))
        .await;
    let mut both = number_change(old, "wamid.SYS", "wa_id", new);
    let next = text_message(new, "wamid.AFTER", "hello");
    let value = &mut both["entry"][0]["changes"][0]["value"];
    let message = next["entry"][0]["changes"][0]["value"]["messages"][0].clone();
    value["messages"].as_array_mut().unwrap().push(message);
    let contact = next["entry"][0]["changes"][0]["value"]["contacts"][0].clone();
    value["contacts"].as_array_mut().unwrap().push(contact);
    assert_eq!(app.post_webhook(&both).await.status(), 200);
    let after = app.log("wamid.AFTER").await;
    assert_eq!(
        after.decision, "coalesced",
        "the notice already went to them"
    );
    assert_eq!(after.pseudonym, app.log("wamid.BEFORE").await.pseudonym);
}

#[tokio::test]
async fn a_phone_only_record_and_a_bsuid_only_record_of_one_person_become_one() {
    let app = spawn_app().await;
    let (phone, bsuid) = ("201001234599", "EG.MERGEDUSER0000000001");
    app.post_webhook(&text_message(phone, "wamid.PHONE", "STOP"))
        .await;
    let mut bsuid_only = text_message(phone, "wamid.BSUID", "hello there");
    let value = &mut bsuid_only["entry"][0]["changes"][0]["value"];
    value["contacts"][0] = json!({ "profile": { "name": "Test User" }, "user_id": bsuid });
    let message = value["messages"][0].as_object_mut().unwrap();
    message.remove("from");
    message.insert("from_user_id".into(), json!(bsuid));
    app.post_webhook(&bsuid_only).await;
    assert_eq!(
        app.log("wamid.BSUID").await.decision,
        "notified",
        "not known yet"
    );
    let mut both = text_message(phone, "wamid.BOTH", "hello again");
    let value = &mut both["entry"][0]["changes"][0]["value"];
    value["contacts"][0]["user_id"] = json!(bsuid);
    value["messages"][0]["from_user_id"] = json!(bsuid);
    app.post_webhook(&both).await;
    app.post_webhook(&text_message(phone, "wamid.PHONE2", "hello"))
        .await;
    assert_eq!(app.log("wamid.BOTH").await.decision, "opted_out");
    assert_eq!(app.log("wamid.PHONE2").await.decision, "opted_out");
    let mut pseudonyms = vec![];
    for id in ["wamid.PHONE", "wamid.BSUID", "wamid.BOTH", "wamid.PHONE2"] {
        pseudonyms.push(app.log(id).await.pseudonym);
    }
    assert!(
        pseudonyms.iter().all(|p| *p == pseudonyms[1]),
        "one person, one pseudonym, their first message too: {pseudonyms:?}"
    );
    let entry = app.log("wamid.PHONE2").await;
    assert_eq!(
        (entry.wa_id.as_deref(), entry.bsuid.as_deref()),
        (Some(phone), Some(bsuid))
    );
}

/// A message carrying both ids, as WhatsApp sends most of them.
fn from_both(phone: &str, bsuid: &str, id: &str, text: &str) -> serde_json::Value {
    let mut webhook = text_message(phone, id, text);
    let value = &mut webhook["entry"][0]["changes"][0]["value"];
    value["contacts"][0]["user_id"] = json!(bsuid);
    value["messages"][0]["from_user_id"] = json!(bsuid);
    webhook
}

/// Posts a webhook, then sends what it queued as the sender would within
/// half a minute: a starting box waits a second before its first send,
/// and one user's notices are spaced.
async fn post_and_send(app: &TestApp, webhook: &serde_json::Value) {
    app.post_webhook(webhook).await;
    app.drain_outbox_at(Timestamp::now() + SignedDuration::from_secs(30))
        .await;
}

#[tokio::test]
async fn replies_go_to_the_senders_phone_now_and_a_recycled_number_is_a_new_person() {
    let app = spawn_app().await;
    graph_accepts_messages(&app.graph).await;
    let (old_phone, new_phone) = ("447711000010", "447711000011");
    let (owner, newcomer) = ("GB.OWNER0000000001", "GB.OWNER0000000002");
    post_and_send(&app, &from_both(old_phone, owner, "wamid.R1", "STOP")).await;
    // The number went to someone else, who has never written.
    post_and_send(&app, &from_both(old_phone, newcomer, "wamid.R2", "hello")).await;
    let second = app.log("wamid.R2").await;
    assert_eq!(second.decision, "notified", "not the first owner's opt-out");
    assert_ne!(second.pseudonym, app.log("wamid.R1").await.pseudonym);
    // The first owner writes from a new number and opts in again.
    post_and_send(&app, &from_both(new_phone, owner, "wamid.R3", "START")).await;
    assert_eq!(app.log("wamid.R3").await.decision, "keyword");
    let recipients: Vec<String> = app
        .sent_messages()
        .await
        .iter()
        .map(|m| m["to"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        recipients,
        [old_phone, old_phone, new_phone],
        "stop confirmation, the newcomer's notice, the start confirmation"
    );
}
