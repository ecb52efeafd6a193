//! `sunset simulate`: a real, signed webhook posted to a running service,
//! then the decision and the stored notice read back from the database.

use crate::config::Config;
use crate::signing::sign_webhook;
use crate::store::{LogEntry, Store};
use anyhow::{Context, bail};
use jiff::Timestamp;
use serde_json::{Value, json};
use std::time::Duration;

/// One simulated inbound message.
#[derive(Clone, Debug)]
pub struct SimulatedMessage {
    /// A phone number (digits) or a BSUID (`EG.…`).
    pub from: String,
    pub text: Option<String>,
    /// The WhatsApp message type: text, image, audio, reaction, …
    pub kind: String,
    pub phone_number_id: String,
}

/// The Cloud API webhook that WhatsApp would send for this message.
pub fn webhook_body(message: &SimulatedMessage, message_id: &str, at: Timestamp) -> Value {
    let is_bsuid = message.from.contains('.');
    let mut inbound =
        json!({ "id": message_id, "timestamp": at.as_second().to_string(), "type": message.kind });
    let mut contact = json!({ "profile": { "name": "Simulated user" } });
    let (id_field, contact_field) = if is_bsuid {
        ("from_user_id", "user_id")
    } else {
        ("from", "wa_id")
    };
    inbound[id_field] = json!(message.from);
    contact[contact_field] = json!(message.from);
    let text = message.text.clone().unwrap_or_default();
    inbound[&message.kind] = match message.kind.as_str() {
        "text" => json!({ "body": text }),
        "image" | "video" | "document" => {
            json!({ "id": "0", "mime_type": "application/octet-stream", "caption": text })
        }
        "audio" => json!({ "id": "0", "mime_type": "audio/ogg; codecs=opus", "voice": true }),
        // A quick-reply button of a template, such as the usual "Stop".
        "button" => json!({ "text": text, "payload": text }),
        "interactive" => {
            json!({ "type": "button_reply", "button_reply": { "id": "simulated", "title": text } })
        }
        "reaction" => {
            json!({ "message_id": "wamid.SIMULATED", "emoji": if text.is_empty() { "👍".into() } else { text } })
        }
        _ => json!({}),
    };
    json!({
        "object": "whatsapp_business_account",
        "entry": [{ "id": "0", "changes": [{ "field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": { "display_phone_number": "15550000000", "phone_number_id": message.phone_number_id },
            "contacts": [contact],
            "messages": [inbound],
        }}]}],
    })
}

/// Posts the message to `url`/webhook and returns its log row once the
/// sender has dealt with it (or after a few seconds, as it stands then).
pub async fn run(
    config: &Config,
    store: &dyn Store,
    url: &str,
    message: &SimulatedMessage,
) -> anyhow::Result<LogEntry> {
    let message_id = format!("wamid.SIM{}", Timestamp::now().as_nanosecond());
    let body = serde_json::to_vec(&webhook_body(message, &message_id, Timestamp::now()))?;
    let endpoint = format!("{}/webhook", url.trim_end_matches('/'));
    let response = reqwest::Client::new()
        .post(&endpoint)
        .header("Content-Type", "application/json")
        .header(
            "X-Hub-Signature-256",
            sign_webhook(config.secrets.app_secret.expose(), &body),
        )
        .body(body)
        .send()
        .await
        .with_context(|| format!("cannot reach {endpoint}: is `sunset serve` running?"))?;
    let status = response.status();
    if !status.is_success() {
        let detail = response.text().await.unwrap_or_default();
        bail!("POST {endpoint} answered {status}: {detail}");
    }
    println!("POST {endpoint} → {status}");
    // A second notice to one user waits out Meta's pair spacing first.
    let patience = config.pair_spacing.unsigned_abs() + Duration::from_secs(5);
    let give_up = tokio::time::Instant::now() + patience;
    while tokio::time::Instant::now() < give_up {
        if let Some(entry) = store.log_entry(&message_id).await? {
            let settled = !matches!(entry.status.as_deref(), Some("queued" | "sending"));
            if settled {
                return Ok(entry);
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    store.log_entry(&message_id).await?.with_context(|| {
        format!("the service answered 200 but {message_id} is not in the database it uses")
    })
}
