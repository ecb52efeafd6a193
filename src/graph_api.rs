//! The WhatsApp Cloud API client and the classification of its errors.

use crate::config::Secret;
use reqwest::{StatusCode, Url};
use serde::Deserialize;
use serde_json::json;
use std::time::Duration;

/// Who a message goes to: the phone when known, else the BSUID.
#[derive(Clone, PartialEq, Eq)]
pub enum Recipient {
    Phone(String),
    Bsuid(String),
}

impl std::fmt::Debug for Recipient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Recipient::Phone(_) => "Phone(<redacted>)",
            Recipient::Bsuid(_) => "Bsuid(<redacted>)",
        })
    }
}

/// What a failed call means for the notice, per the Graph API error code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorAction {
    /// Transient: back off and try again within the window.
    Retry,
    /// 131056, the pair rate limit: wait for this user only.
    DelayUser,
    /// Permanent for this notice.
    Fail,
    /// 131062: BSUID sends are not possible here; use the phone if known.
    /// The sender always uses a known phone, so for it this ends as `Fail`.
    RetryWithPhone,
    /// 131048, spam rate limit: fail, and slow the whole number down.
    FailAndSlowDown,
    /// Token, permission or account trouble: stop the number until fixed.
    PauseNumber,
}

/// A call that did not return a message id.
#[derive(Debug, Clone, thiserror::Error)]
pub enum GraphError {
    #[error("Graph API error {code} (HTTP {http_status}): {title}")]
    Api {
        http_status: u16,
        code: i64,
        title: String,
    },
    #[error("Graph API answered HTTP {http_status} with a body we cannot read")]
    Garbled { http_status: u16 },
    #[error("Graph API unreachable: {0}")]
    Transport(String),
}

impl GraphError {
    pub fn code(&self) -> Option<i64> {
        match self {
            GraphError::Api { code, .. } => Some(*code),
            _ => None,
        }
    }

    pub fn title(&self) -> String {
        match self {
            GraphError::Api { title, .. } => title.clone(),
            other => other.to_string(),
        }
    }

    /// The contract's error table.
    pub fn action(&self) -> ErrorAction {
        match self {
            GraphError::Api { code, .. } => match code {
                131056 => ErrorAction::DelayUser,
                131062 => ErrorAction::RetryWithPhone,
                131048 => ErrorAction::FailAndSlowDown,
                131047 | 131026 | 131049 | 131050 | 131051 | 130403 | 130497 | 131021 | 100
                | 131008 | 131009 => ErrorAction::Fail,
                0 | 10 | 190 | 200..=299 | 33 | 368 | 131031 | 133010 => ErrorAction::PauseNumber,
                // 130429, 131000, 131016, 131057, 1, 2, 4, 80007, 5xx and
                // codes we do not know yet: transient until proven otherwise.
                _ => ErrorAction::Retry,
            },
            GraphError::Garbled { .. } | GraphError::Transport(_) => ErrorAction::Retry,
        }
    }
}

#[derive(Deserialize)]
struct ErrorEnvelope {
    error: ErrorBody,
}

#[derive(Deserialize)]
struct ErrorBody {
    code: i64,
    #[serde(default)]
    message: String,
    #[serde(default)]
    error_user_title: Option<String>,
}

#[derive(Deserialize)]
struct SendAnswer {
    messages: Vec<SentMessage>,
}

#[derive(Deserialize)]
struct SentMessage {
    id: String,
}

/// A Cloud API client sharing one connection pool.
#[derive(Clone, Debug)]
pub struct GraphClient {
    http: reqwest::Client,
    base: Url,
    api_version: String,
    token: Secret,
}

impl GraphClient {
    pub fn new(base: Url, api_version: &str, token: Secret) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            .connect_timeout(Duration::from_secs(5))
            .build()?;
        Ok(Self {
            http,
            base,
            api_version: api_version.to_owned(),
            token,
        })
    }

    fn url(&self, path: &str) -> String {
        format!(
            "{}/{}/{}",
            self.base.as_str().trim_end_matches('/'),
            self.api_version,
            path
        )
    }

    /// Sends a text message; `callback` comes back in every status webhook.
    pub async fn send_text(
        &self,
        phone_number_id: &str,
        to: &Recipient,
        body: &str,
        callback: &str,
    ) -> Result<String, GraphError> {
        let mut payload = json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "type": "text",
            "text": { "preview_url": false, "body": body },
            "biz_opaque_callback_data": callback,
        });
        match to {
            Recipient::Phone(phone) => payload["to"] = json!(phone),
            Recipient::Bsuid(bsuid) => payload["recipient"] = json!(bsuid),
        }
        let response = self
            .http
            .post(self.url(&format!("{phone_number_id}/messages")))
            .bearer_auth(self.token.expose())
            .json(&payload)
            .send()
            .await
            .map_err(|e| GraphError::Transport(transport_problem(&e)))?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| GraphError::Transport(transport_problem(&e)))?;
        if status.is_success() {
            let answer: SendAnswer =
                serde_json::from_slice(&bytes).map_err(|_| GraphError::Garbled {
                    http_status: status.as_u16(),
                })?;
            return answer
                .messages
                .into_iter()
                .next()
                .map(|m| m.id)
                .ok_or(GraphError::Garbled {
                    http_status: status.as_u16(),
                });
        }
        Err(api_error(status, &bytes))
    }

    /// A harmless read of the number: succeeds once the token works again.
    pub async fn probe(&self, phone_number_id: &str) -> Result<(), GraphError> {
        let response = self
            .http
            .get(self.url(phone_number_id))
            .bearer_auth(self.token.expose())
            .send()
            .await
            .map_err(|e| GraphError::Transport(transport_problem(&e)))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let bytes = response.bytes().await.unwrap_or_default();
        Err(api_error(status, &bytes))
    }
}

fn api_error(status: StatusCode, bytes: &[u8]) -> GraphError {
    match serde_json::from_slice::<ErrorEnvelope>(bytes) {
        Ok(envelope) => {
            let title = crate::domain::ids::without_ids(
                &envelope
                    .error
                    .error_user_title
                    .unwrap_or_else(|| strip_code(&envelope.error.message)),
            );
            GraphError::Api {
                http_status: status.as_u16(),
                code: envelope.error.code,
                title,
            }
        }
        Err(_) => GraphError::Garbled {
            http_status: status.as_u16(),
        },
    }
}

/// Graph messages read "(#131047) Re-engagement message": keep the words.
fn strip_code(message: &str) -> String {
    match message
        .strip_prefix("(#")
        .and_then(|rest| rest.split_once(") "))
    {
        Some((_, title)) => title.to_owned(),
        None => message.to_owned(),
    }
}

fn transport_problem(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        "timed out".into()
    } else if error.is_connect() {
        "connection failed".into()
    } else {
        "request failed".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(code: i64) -> GraphError {
        GraphError::Api {
            http_status: 400,
            code,
            title: String::new(),
        }
    }

    #[test]
    fn each_error_code_gets_the_action_of_the_table() {
        for code in [130429, 131000, 131016, 131057, 1, 2, 4, 80007, 999_999] {
            assert_eq!(api(code).action(), ErrorAction::Retry, "{code}");
        }
        for code in [
            131047, 131026, 131049, 131050, 131051, 130403, 130497, 131021, 100, 131008, 131009,
        ] {
            assert_eq!(api(code).action(), ErrorAction::Fail, "{code}");
        }
        for code in [0, 10, 190, 200, 299, 33, 368, 131031, 133010] {
            assert_eq!(api(code).action(), ErrorAction::PauseNumber, "{code}");
        }
        assert_eq!(api(131056).action(), ErrorAction::DelayUser);
        assert_eq!(api(131062).action(), ErrorAction::RetryWithPhone);
        assert_eq!(api(131048).action(), ErrorAction::FailAndSlowDown);
        assert_eq!(
            GraphError::Garbled { http_status: 200 }.action(),
            ErrorAction::Retry
        );
    }

    #[test]
    fn titles_leave_out_phone_numbers_and_bsuids() {
        let error = api_error(
            StatusCode::BAD_REQUEST,
            br#"{"error":{"code":100,"message":"(#100) Invalid parameter: recipient +15553200001 (US.13491208655302741918), error 131047."}}"#,
        );
        assert_eq!(
            error.title(),
            "Invalid parameter: recipient … (…), error 131047."
        );
    }

    #[test]
    fn titles_drop_the_code_prefix() {
        assert_eq!(
            strip_code("(#131047) Re-engagement message"),
            "Re-engagement message"
        );
        assert_eq!(
            strip_code("Invalid OAuth access token."),
            "Invalid OAuth access token."
        );
    }
}
