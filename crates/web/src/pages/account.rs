//! `/signup`, `/login`, `/logout`.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::header::{LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use maud::{html, Markup};
use paperboy_app::accounts::{Session, SignUp};
use paperboy_app::AppError;
use paperboy_core::Role;
use serde::Deserialize;

use super::{csrf_form, CheckedForm, Ctx, PageError};
use crate::{auth, AppState};

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

/// Sets the session cookie and redirects.
fn start_session(ctx: &Ctx, session: &Session, next: &str) -> Response {
    let cookie = auth::set_cookie(
        auth::SESSION_COOKIE,
        &session.token,
        session.max_age_secs,
        true,
        ctx.secure,
    );
    (
        StatusCode::SEE_OTHER,
        [(SET_COOKIE, cookie), (LOCATION, next.to_string())],
    )
        .into_response()
}

async fn post_signup(
    State(state): State<AppState>,
    ctx: Ctx,
    auth::ClientIp(ip): auth::ClientIp,
    CheckedForm(f): CheckedForm<AccountForm>,
) -> Result<Response, PageError> {
    let sign_up = SignUp {
        username: f.username.clone().unwrap_or_default(),
        email: f.email.clone().unwrap_or_default(),
        password: f.password.clone().unwrap_or_default(),
        role: Role::Member,
    };
    let (status, errors) = match state.app.sign_up(&ip, sign_up).await {
        Ok((_, session)) => return Ok(start_session(&ctx, &session, "/")),
        Err(AppError::Fields(errors)) => (StatusCode::UNPROCESSABLE_ENTITY, errors),
        Err(AppError::Conflict(msg)) => (StatusCode::CONFLICT, vec![msg]),
        Err(e) => return Err(e.into()),
    };
    let body = signup_form(&ctx, &f, &errors);
    Ok(ctx.render(status, "Sign up", body))
}

async fn post_login(
    State(state): State<AppState>,
    ctx: Ctx,
    auth::ClientIp(ip): auth::ClientIp,
    CheckedForm(f): CheckedForm<AccountForm>,
) -> Result<Response, PageError> {
    let name = f.username.as_deref().unwrap_or("");
    let password = f.password.as_deref().unwrap_or("");
    match state.app.log_in(&ip, name, password).await {
        Ok((_, session)) => Ok(start_session(&ctx, &session, &safe_next(f.next.as_deref()))),
        Err(AppError::Unauthorized(msg)) => {
            let body = login_form(&ctx, &f, Some(&msg));
            Ok(ctx.render(StatusCode::UNAUTHORIZED, "Log in", body))
        }
        Err(e) => Err(e.into()),
    }
}

async fn post_logout(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    CheckedForm(_): CheckedForm<AccountForm>,
) -> Result<Response, PageError> {
    if let Some(token) = auth::cookie(&headers, auth::SESSION_COOKIE) {
        state.app.log_out(&token).await?;
    }
    let cookie = auth::set_cookie(auth::SESSION_COOKIE, "", 0, true, ctx.secure);
    Ok((
        StatusCode::SEE_OTHER,
        [(SET_COOKIE, cookie), (LOCATION, "/".to_string())],
    )
        .into_response())
}
