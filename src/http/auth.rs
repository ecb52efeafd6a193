//! Who is asking: the admin token, the analyst token, or a session cookie
//! that the login form set for one of them.

use super::{ApiError, AppState};
use crate::signing::{same_secret, session_cookie_value, verify_session_cookie};
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use std::future::{Ready, ready};

/// The session cookie set by `/admin/login`.
pub const SESSION_COOKIE: &str = "sunset_session";
/// How long a login lasts.
pub const SESSION_SECONDS: i64 = 12 * 3600;

/// What a caller may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Everything, including clear ids with `reveal=true`.
    Admin,
    /// Read-only, pseudonyms only.
    Analyst,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Analyst => "analyst",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Role::Admin, Role::Analyst]
            .into_iter()
            .find(|r| r.as_str() == raw)
    }
}

/// An authenticated caller.
#[derive(Clone, Copy, Debug)]
pub struct Access(pub Role);

impl Access {
    /// Personal data in clear is for the admin only.
    pub fn may_reveal(&self, asked: bool) -> Result<bool, ApiError> {
        match (asked, self.0) {
            (false, _) => Ok(false),
            (true, Role::Admin) => Ok(true),
            (true, Role::Analyst) => Err(ApiError::Forbidden(
                "reveal=true needs the admin token".into(),
            )),
        }
    }
}

/// The token of a role, if the service has one.
fn token_of(state: &AppState, role: Role) -> Option<&str> {
    match role {
        Role::Admin => state.admin_token.as_ref(),
        Role::Analyst => state.analyst_token.as_ref(),
    }
    .map(|secret| secret.expose())
}

/// The role a token grants, compared in constant time.
pub fn role_of_token(state: &AppState, token: &str) -> Option<Role> {
    let matches = |secret: &Option<crate::config::Secret>| {
        secret
            .as_ref()
            .is_some_and(|s| same_secret(token, s.expose()))
    };
    if matches(&state.admin_token) {
        Some(Role::Admin)
    } else if matches(&state.analyst_token) {
        Some(Role::Analyst)
    } else {
        None
    }
}

/// The cookie value for a fresh session, given the role's token.
pub fn new_session(token: &str, role: Role) -> String {
    let expires = jiff::Timestamp::now().as_second() + SESSION_SECONDS;
    session_cookie_value(token, role.as_str(), expires)
}

/// The role of a genuine session cookie: signed with that role's token,
/// not expired, and no longer than a login lasts.
fn session_role(state: &AppState, value: &str) -> Option<Role> {
    let now = jiff::Timestamp::now().as_second();
    let role = verify_session_cookie(value, now, SESSION_SECONDS, |role| {
        token_of(state, Role::parse(role)?)
    })?;
    Role::parse(&role)
}

fn authenticate(request: &HttpRequest) -> Result<Access, ApiError> {
    let state = request
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| ApiError::Unauthorized("no application state".into()))?;
    let bearer = request
        .headers()
        .get("Authorization")
        .and_then(|v| v.to_str().ok())
        // The scheme's name is case-insensitive (RFC 9110, 11.1).
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("Bearer"))
        .map(|(_, token)| token);
    if let Some(token) = bearer {
        return role_of_token(state, token.trim())
            .map(Access)
            .ok_or_else(|| ApiError::Unauthorized("the bearer token is not valid".into()));
    }
    request
        .cookie(SESSION_COOKIE)
        .and_then(|c| session_role(state, c.value()))
        .map(Access)
        .ok_or_else(|| {
            ApiError::Unauthorized(
                "send `Authorization: Bearer <token>` or log in at /admin/login".into(),
            )
        })
}

impl FromRequest for Access {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(authenticate(request))
    }
}
