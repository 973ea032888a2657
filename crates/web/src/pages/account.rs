//! `/signup`, `/login`, `/logout`.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::header::{LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use maud::{html, Markup};
use paperboy_core::user::{validate_email, validate_password, validate_username};
use paperboy_core::Role;
use paperboy_store::{NewUser, StoreError};
use serde::Deserialize;

use super::{csrf_form, CheckedForm, Ctx, PageError};
use crate::{auth, ApiError, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/signup", get(get_signup).post(post_signup))
        .route("/login", get(get_login).post(post_login))
        .route("/logout", axum::routing::post(post_logout))
}

#[derive(Deserialize, Default)]
struct AccountForm {
    csrf: Option<String>,
    username: Option<String>,
    email: Option<String>,
    password: Option<String>,
    next: Option<String>,
}

csrf_form!(AccountForm);

/// Only local paths are followed after logging in.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_string(),
        _ => "/".to_string(),
    }
}

fn signup_form(ctx: &Ctx, f: &AccountForm, errors: &[String]) -> Markup {
    html! {
        section.form-page {
            h1 { "Create an account" }
            @if !errors.is_empty() { div.error role="alert" { ul { @for e in errors { li { (e) } } } } }
            form method="post" action="/signup" {
                (ctx.csrf_field())
                label for="username" { "Username" }
                input #username name="username" required autocomplete="username" minlength="3" maxlength="32" value=[f.username.as_deref()];
                label for="email" { "Email" }
                input #email type="email" name="email" required autocomplete="email" value=[f.email.as_deref()];
                label for="password" { "Password (8 characters or more)" }
                input #password type="password" name="password" required autocomplete="new-password" minlength="8";
                button type="submit" { "Sign up" }
            }
            p { "Have an account? " a href="/login" { "Log in" } }
        }
    }
}

fn login_form(ctx: &Ctx, f: &AccountForm, error: Option<&str>) -> Markup {
    html! {
        section.form-page {
            h1 { "Log in" }
            @if let Some(e) = error { p.error role="alert" { (e) } }
            form method="post" action="/login" {
                (ctx.csrf_field())
                input type="hidden" name="next" value=(safe_next(f.next.as_deref()));
                label for="username" { "Username" }
                input #username name="username" required autocomplete="username" value=[f.username.as_deref()];
                label for="password" { "Password" }
                input #password type="password" name="password" required autocomplete="current-password";
                button type="submit" { "Log in" }
            }
            p { "New here? " a href="/signup" { "Create an account" } }
        }
    }
}

async fn get_signup(ctx: Ctx) -> Response {
    let body = signup_form(&ctx, &AccountForm::default(), &[]);
    ctx.page("Sign up", body)
}

async fn get_login(ctx: Ctx, Query(q): Query<HashMap<String, String>>) -> Response {
    let form = AccountForm {
        next: q.get("next").cloned(),
        ..Default::default()
    };
    let body = login_form(&ctx, &form, None);
    ctx.page("Log in", body)
}

/// Starts a session and redirects.
async fn start_session(
    state: &AppState,
    ctx: &Ctx,
    user: &paperboy_core::User,
    next: &str,
) -> Result<Response, PageError> {
    let token = auth::new_token();
    let expires = chrono::Utc::now().timestamp() + auth::SESSION_DAYS * 86_400;
    state
        .store
        .create_session(&auth::token_digest(&token), user.user_id, expires)
        .await?;
    let cookie = auth::set_cookie(
        auth::SESSION_COOKIE,
        &token,
        auth::SESSION_DAYS * 86_400,
        true,
        ctx.secure,
    );
    Ok((
        StatusCode::SEE_OTHER,
        [(SET_COOKIE, cookie), (LOCATION, next.to_string())],
    )
        .into_response())
}

async fn post_signup(
    State(state): State<AppState>,
    ctx: Ctx,
    auth::ClientIp(ip): auth::ClientIp,
    CheckedForm(f): CheckedForm<AccountForm>,
) -> Result<Response, PageError> {
    state
        .limiter
        .check("sign-up", &ip, state.settings.limits.signup)?;
    let mut errors = Vec::new();
    let username = validate_username(f.username.as_deref().unwrap_or(""))
        .map_err(|e| errors.push(e))
        .ok();
    let email = validate_email(f.email.as_deref().unwrap_or(""))
        .map_err(|e| errors.push(e))
        .ok();
    let password = f.password.clone().unwrap_or_default();
    if let Err(e) = validate_password(&password) {
        errors.push(e);
    }
    let (Some(username), Some(email), true) = (username, email, errors.is_empty()) else {
        let body = signup_form(&ctx, &f, &errors);
        return Ok(ctx.render(StatusCode::UNPROCESSABLE_ENTITY, "Sign up", body));
    };
    let password_hash = tokio::task::spawn_blocking(move || auth::hash_password(&password))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))??;
    let new = NewUser {
        username,
        email,
        password_hash,
        role: Role::Member,
    };
    match state.store.create_user(new).await {
        Ok(user) => start_session(&state, &ctx, &user, "/").await,
        Err(StoreError::Conflict { constraint }) => {
            let msg = if constraint.contains("email") {
                "An account with that email address exists; log in instead."
            } else {
                "That username is taken; choose another."
            };
            let body = signup_form(&ctx, &f, &[msg.to_string()]);
            Ok(ctx.render(StatusCode::CONFLICT, "Sign up", body))
        }
        Err(e) => Err(e.into()),
    }
}

async fn post_login(
    State(state): State<AppState>,
    ctx: Ctx,
    auth::ClientIp(ip): auth::ClientIp,
    CheckedForm(f): CheckedForm<AccountForm>,
) -> Result<Response, PageError> {
    state
        .limiter
        .check("log-in", &ip, state.settings.limits.login)?;
    let name = f
        .username
        .as_deref()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let password = f.password.clone().unwrap_or_default();
    let found = match state.store.user_by_name(&name).await {
        Ok(found) => Some(found),
        Err(StoreError::NotFound) => None,
        Err(e) => return Err(e.into()),
    };
    let ok_user = match found {
        Some((user, hash)) => {
            let ok = tokio::task::spawn_blocking(move || auth::verify_password(&password, &hash))
                .await
                .map_err(|e| ApiError::Internal(e.to_string()))?;
            ok.then_some(user)
        }
        None => None,
    };
    match ok_user {
        Some(user) => start_session(&state, &ctx, &user, &safe_next(f.next.as_deref())).await,
        None => {
            let body = login_form(&ctx, &f, Some("Wrong username or password."));
            Ok(ctx.render(StatusCode::UNAUTHORIZED, "Log in", body))
        }
    }
}

async fn post_logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    CheckedForm(_): CheckedForm<AccountForm>,
) -> Result<Response, PageError> {
    if let Some(token) = auth::cookie(&headers, auth::SESSION_COOKIE) {
        state
            .store
            .delete_session(&auth::token_digest(&token))
            .await?;
    }
    let cookie = auth::set_cookie(
        auth::SESSION_COOKIE,
        "",
        0,
        true,
        state.settings.base_url.starts_with("https://"),
    );
    Ok((
        StatusCode::SEE_OTHER,
        [(SET_COOKIE, cookie), (LOCATION, "/".to_string())],
    )
        .into_response())
}
