//! HMAC-SHA256 everywhere we sign or check: Meta's webhook signature and the
//! pseudonyms analysts see instead of phone numbers and BSUIDs.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Why a webhook signature was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SignatureError {
    #[error("the X-Hub-Signature-256 header is missing")]
    Missing,
    #[error("the X-Hub-Signature-256 header is not `sha256=<hex>`")]
    Malformed,
    #[error("the X-Hub-Signature-256 signature does not match the body")]
    Mismatch,
}

fn mac(key: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length, so this cannot fail.
    <HmacSha256 as KeyInit>::new_from_slice(key).unwrap_or_else(|_| unreachable!())
}

/// `sha256=<lowercase hex>` of the body, as Meta sends it.
pub fn sign_webhook(app_secret: &str, body: &[u8]) -> String {
    let mut m = mac(app_secret.as_bytes());
    m.update(body);
    format!("sha256={}", hex::encode(m.finalize().into_bytes()))
}

/// Checks the header against the raw body in constant time.
pub fn verify_webhook(
    app_secret: &str,
    header: Option<&str>,
    body: &[u8],
) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?;
    let hex_digest = header
        .trim()
        .strip_prefix("sha256=")
        .ok_or(SignatureError::Malformed)?;
    let expected = hex::decode(hex_digest).map_err(|_| SignatureError::Malformed)?;
    let mut m = mac(app_secret.as_bytes());
    m.update(body);
    m.verify_slice(&expected)
        .map_err(|_| SignatureError::Mismatch)
}

/// `u_` + 16 hex of HMAC(signing key, user key): stable per person and
/// business number, meaningless without the key.
pub fn pseudonym(signing_key: &str, phone_number_id: &str, user_key: &str) -> String {
    let mut m = mac(signing_key.as_bytes());
    m.update(phone_number_id.as_bytes());
    m.update(b"\0");
    m.update(user_key.as_bytes());
    let digest = m.finalize().into_bytes();
    format!("u_{}", hex::encode(&digest[..8]))
}

/// The code of a notice's smart link, `/l/{code}`: the notice id and a tag
/// that stops anyone from counting clicks on notices they never got.
pub fn smart_link_code(signing_key: &str, notice_id: i64) -> String {
    format!(
        "{notice_id}-{}",
        tag(signing_key, &format!("smart-link|{notice_id}"), 6)
    )
}

/// The notice id behind a smart link code, if the code is genuine.
pub fn verify_smart_link_code(signing_key: &str, code: &str) -> Option<i64> {
    let (id, _) = code.split_once('-')?;
    let id: i64 = id.parse().ok()?;
    same_secret(code, &smart_link_code(signing_key, id)).then_some(id)
}

/// An account-linking token: the business number, the user's id (BSUID or
/// phone) and an expiry, signed. Format: `hex(v1|number|user|expiry_unix).tag`.
pub fn link_token(
    signing_key: &str,
    phone_number_id: &str,
    user_key: &str,
    expires_at: i64,
) -> String {
    let payload = format!("v1|{phone_number_id}|{user_key}|{expires_at}");
    format!(
        "{}.{}",
        hex::encode(&payload),
        tag(signing_key, &payload, 16)
    )
}

/// What a genuine link token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkClaim {
    pub phone_number_id: String,
    pub user_key: String,
    pub expires_at: i64,
}

/// Checks a link token's signature (not its expiry).
pub fn verify_link_token(signing_key: &str, token: &str) -> Option<LinkClaim> {
    let (payload_hex, given_tag) = token.split_once('.')?;
    let payload = String::from_utf8(hex::decode(payload_hex).ok()?).ok()?;
    if !same_secret(given_tag, &tag(signing_key, &payload, 16)) {
        return None;
    }
    let mut parts = payload.split('|');
    let (Some("v1"), Some(number), Some(user), Some(expiry), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    Some(LinkClaim {
        phone_number_id: number.into(),
        user_key: user.into(),
        expires_at: expiry.parse().ok()?,
    })
}

/// A login session: `role.expiry.tag`, the tag keyed with the role's own
/// token, so that only a holder of the token can make one and a new token
/// ends every session of the old.
pub fn session_cookie_value(role_token: &str, role: &str, expires_at: i64) -> String {
    let payload = format!("{role}.{expires_at}");
    format!(
        "{payload}.{}",
        tag(role_token, &format!("session|{payload}"), 16)
    )
}

/// The role of a genuine session cookie: tagged with the token
/// `token_of` gives for the role it names, unexpired, and ending no later
/// than `max_seconds` from now.
pub fn verify_session_cookie<'t>(
    value: &str,
    now: i64,
    max_seconds: i64,
    token_of: impl Fn(&str) -> Option<&'t str>,
) -> Option<String> {
    let (payload, given) = value.rsplit_once('.')?;
    let (role, expires) = payload.split_once('.')?;
    let expires: i64 = expires.parse().ok()?;
    let genuine = same_secret(
        given,
        &tag(token_of(role)?, &format!("session|{payload}"), 16),
    );
    (genuine && expires > now && expires <= now + max_seconds).then(|| role.to_owned())
}

fn tag(signing_key: &str, message: &str, bytes: usize) -> String {
    let mut m = mac(signing_key.as_bytes());
    m.update(message.as_bytes());
    hex::encode(&m.finalize().into_bytes()[..bytes])
}

/// Constant-time equality for tokens.
pub fn same_secret(given: &str, expected: &str) -> bool {
    use subtle::ConstantTimeEq;
    given.as_bytes().ct_eq(expected.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_made_with_the_secret_verifies_and_any_change_fails() {
        let body = br#"{"object":"whatsapp_business_account"}"#;
        let header = sign_webhook("s3cret", body);
        assert_eq!(verify_webhook("s3cret", Some(&header), body), Ok(()));
        assert_eq!(
            verify_webhook("other", Some(&header), body),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_webhook("s3cret", Some(&header), b"{}"),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_webhook("s3cret", None, body),
            Err(SignatureError::Missing)
        );
        assert_eq!(
            verify_webhook("s3cret", Some("sha1=00"), body),
            Err(SignatureError::Malformed)
        );
    }

    #[test]
    fn smart_link_codes_and_link_tokens_resist_tampering() {
        let code = smart_link_code("k", 42);
        assert_eq!(verify_smart_link_code("k", &code), Some(42));
        assert_eq!(
            verify_smart_link_code("k", &code.replace("42-", "43-")),
            None
        );
        assert_eq!(verify_smart_link_code("other", &code), None);
        let token = link_token("k", "100", "EG.ABC", 1_900_000_000);
        let claim = verify_link_token("k", &token).unwrap();
        assert_eq!(
            (claim.user_key.as_str(), claim.expires_at),
            ("EG.ABC", 1_900_000_000)
        );
        let forged = link_token("other", "100", "EG.ABC", 1_900_000_000);
        assert_eq!(verify_link_token("k", &forged), None);
        let (payload, tag) = token.split_once('.').unwrap();
        assert_eq!(verify_link_token("k", &format!("{payload}00.{tag}")), None);
    }

    #[test]
    fn pseudonyms_are_stable_and_hide_the_number() {
        let a = pseudonym("k", "100", "201001234567");
        assert_eq!(a, pseudonym("k", "100", "201001234567"));
        assert_ne!(a, pseudonym("k", "200", "201001234567"));
        assert!(a.starts_with("u_") && a.len() == 18 && !a.contains("2010"));
    }
}
