//! Cookies, CSRF and the user extractors (sessions and API tokens are the
//! application's: `paperboy_app::accounts`).
//!
//! CSRF uses a double-submit cookie: every form carries
//! the `pb_csrf` cookie's value, and JSON calls authenticated by the session
//! cookie send it as `X-CSRF-Token`. Bearer-token calls need no CSRF token.

use axum::extract::FromRequestParts;
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use paperboy_core::User;

use crate::{ApiError, AppState};

pub const SESSION_COOKIE: &str = "pb_session";
pub const CSRF_COOKIE: &str = "pb_csrf";

pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// A `Set-Cookie` value with the attributes every cookie of ours carries.
pub fn set_cookie(
    name: &str,
    value: &str,
    max_age_secs: i64,
    http_only: bool,
    secure: bool,
) -> String {
    let mut c = format!("{name}={value}; Path=/; Max-Age={max_age_secs}; SameSite=Lax");
    if http_only {
        c.push_str("; HttpOnly");
    }
    if secure {
        c.push_str("; Secure");
    }
    c
}

/// How the request proved who it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthVia {
    Session,
    Token,
}

/// The logged-in user, if any. Never fails: a bad or expired session is
/// simply no user.
pub struct MaybeUser(pub Option<(User, AuthVia)>);

impl MaybeUser {
    pub fn user(&self) -> Option<&User> {
        self.0.as_ref().map(|(u, _)| u)
    }
}

impl FromRequestParts<AppState> for MaybeUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(token) = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
        {
            let user = state.app.token_user(token).await?;
            return Ok(MaybeUser(Some((user, AuthVia::Token))));
        }
        let Some(session) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Ok(MaybeUser(None));
        };
        let user = state.app.session_user(&session).await?;
        Ok(MaybeUser(user.map(|u| (u, AuthVia::Session))))
    }
}

/// The logged-in user of an API call that needs one: 401 without a
/// session or token, 403 when a session cookie comes without the CSRF
/// header (`X-CSRF-Token`) on a call that changes something (reads, GET
/// and HEAD, change nothing, and another site cannot read their answers:
/// a library page links its export for download).
pub struct CurrentUser(pub User);

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let MaybeUser(found) = MaybeUser::from_request_parts(parts, state).await?;
        let Some((user, via)) = found else {
            return Err(ApiError::unauthorized(
                "log in or send an API token (Authorization: Bearer …)",
            ));
        };
        let safe =
            parts.method == axum::http::Method::GET || parts.method == axum::http::Method::HEAD;
        if via == AuthVia::Session && !safe {
            let sent = parts
                .headers
                .get("x-csrf-token")
                .and_then(|v| v.to_str().ok());
            if !csrf_ok(&parts.headers, sent) {
                return Err(ApiError::forbidden("missing or wrong X-CSRF-Token header"));
            }
        }
        Ok(CurrentUser(user))
    }
}

/// The request's CSRF cookie, if it has one.
pub fn csrf_cookie(headers: &HeaderMap) -> Option<String> {
    cookie(headers, CSRF_COOKIE).filter(|v| v.len() >= 32)
}

/// True when `sent` matches the CSRF cookie.
pub fn csrf_ok(headers: &HeaderMap, sent: Option<&str>) -> bool {
    match (csrf_cookie(headers), sent) {
        (Some(c), Some(s)) => constant_time_eq(c.as_bytes(), s.as_bytes()),
        _ => false,
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The client's address as the connection shows it ("unknown" in tests
/// that call the router without a socket).
pub struct ClientIp(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let ip = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip().to_string())
            .unwrap_or_else(|| "unknown".into());
        Ok(ClientIp(ip))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_read_from_any_header() {
        let mut h = HeaderMap::new();
        h.append(COOKIE, "a=1; pb_csrf=xyz".parse().unwrap());
        h.append(COOKIE, "pb_session=s".parse().unwrap());
        assert_eq!(cookie(&h, "pb_csrf").as_deref(), Some("xyz"));
        assert_eq!(cookie(&h, "pb_session").as_deref(), Some("s"));
        assert_eq!(cookie(&h, "nope"), None);
    }
}
