//! Request bodies read up to a limit, with a too-large body answered in the
//! API's JSON error shape rather than actix-web's plain text.

use super::ApiError;
use actix_web::error::UrlencodedError;
use actix_web::{HttpRequest, web};
use futures_util::StreamExt;

/// The whole body, refused with a 413 as soon as it is known to pass
/// `limit` bytes: from its `Content-Length`, or while it streams in.
pub async fn read_limited(
    request: &HttpRequest,
    mut body: web::Payload,
    limit: usize,
    what: &str,
) -> Result<web::Bytes, ApiError> {
    let too_large = || ApiError::TooLarge(format!("{what} are limited to {limit} bytes"));
    let declared = request
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|len| len > limit) {
        return Err(too_large());
    }
    let mut bytes = web::BytesMut::with_capacity(declared.unwrap_or(4096).min(limit));
    while let Some(chunk) = body.next().await {
        let chunk =
            chunk.map_err(|e| ApiError::BadRequest(format!("the body could not be read: {e}")))?;
        if bytes.len() + chunk.len() > limit {
            return Err(too_large());
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes.freeze())
}

/// A form that does not parse: too large, not a form, or malformed.
pub fn bad_form(error: UrlencodedError, _: &HttpRequest) -> actix_web::Error {
    match error {
        UrlencodedError::Overflow { limit, .. } => {
            ApiError::TooLarge(format!("forms are limited to {limit} bytes"))
        }
        UrlencodedError::ContentType => ApiError::UnsupportedMediaType(
            "expected Content-Type: application/x-www-form-urlencoded".into(),
        ),
        other => ApiError::BadRequest(format!("form: {other}")),
    }
    .into()
}
