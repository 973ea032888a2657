//! Passwords, sessions, API tokens, CSRF and the user extractors.
//!
//! Session and API tokens are random 256-bit values; only their SHA-256
//! digests are stored. CSRF uses a double-submit cookie: every form carries
//! the `pb_csrf` cookie's value, and JSON calls authenticated by the session
//! cookie send it as `X-CSRF-Token`. Bearer-token calls need no CSRF token.

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use axum::extract::FromRequestParts;
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use paperboy_core::User;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::{ApiError, AppState};

pub const SESSION_COOKIE: &str = "pb_session";
pub const CSRF_COOKIE: &str = "pb_csrf";
pub const SESSION_DAYS: i64 = 30;

pub fn hash_password(pw: &str) -> Result<String, ApiError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(pw.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ApiError::Internal(format!("hashing a password: {e}")))
}

pub fn verify_password(pw: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .is_ok_and(|h| Argon2::default().verify_password(pw.as_bytes(), &h).is_ok())
}

/// A fresh random token, hex encoded.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex(&bytes)
}

pub fn token_digest(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

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
            return match state
                .store
                .api_token_user(&token_digest(token.trim()))
                .await
            {
                Ok(u) => Ok(MaybeUser(Some((u, AuthVia::Token)))),
                Err(paperboy_store::StoreError::NotFound) => {
                    Err(ApiError::Unauthorized("that API token is not valid".into()))
                }
                Err(e) => Err(e.into()),
            };
        }
        let Some(session) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Ok(MaybeUser(None));
        };
        let now = chrono::Utc::now().timestamp();
        match state.store.session_user(&token_digest(&session), now).await {
            Ok(u) => Ok(MaybeUser(Some((u, AuthVia::Session)))),
            Err(paperboy_store::StoreError::NotFound) => Ok(MaybeUser(None)),
            Err(e) => Err(e.into()),
        }
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
    fn passwords_and_tokens() {
        let h = hash_password("correct horse").unwrap();
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("wrong horse", &h));
        assert!(!verify_password("x", "not a hash"));
        let t = new_token();
        assert_eq!(t.len(), 64);
        assert_ne!(t, new_token());
        assert_eq!(
            token_digest("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

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
