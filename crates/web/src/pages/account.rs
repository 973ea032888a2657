//! `/signup`, `/login`, `/logout`, `/account` (password, deleting the
//! account), `/password/forgot` and `/password/reset` (by email).

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

use super::{csrf_form, CheckedForm, Ctx, Member, PageError};
use crate::{auth, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/signup", get(get_signup).post(post_signup))
        .route("/login", get(get_login).post(post_login))
        .route("/logout", axum::routing::post(post_logout))
        .route("/account", get(get_account))
        .route("/account/password", axum::routing::post(post_password))
        .route("/account/delete", axum::routing::post(post_delete))
        .route("/password/forgot", get(get_forgot).post(post_forgot))
        .route("/password/reset", get(get_reset).post(post_reset))
}

#[derive(Deserialize, Default)]
struct PasswordForm {
    csrf: Option<String>,
    current: Option<String>,
    password: Option<String>,
    confirm: Option<String>,
    email: Option<String>,
    token: Option<String>,
}

csrf_form!(PasswordForm);

fn account_page(ctx: &Ctx, sends_mail: bool, errors: &[String], done: Option<&str>) -> Markup {
    html! {
        section.form-page {
            h1 { "Your account" }
            @if let Some(d) = done { p.notice role="status" { (d) } }
            @if !errors.is_empty() { div.error role="alert" { ul { @for e in errors { li { (e) } } } } }
            p {
                a href="/following" { "What you follow" } " · "
                a href="/notifications" { "Notifications" } " · "
                a href="/library" { "Your library" }
                @if sends_mail { " · " a href="/settings" { "Email digests" } }
            }
            form method="post" action="/logout" {
                (ctx.csrf_field())
                button.link type="submit" { "Log out of this browser" }
            }
            h2 { "Change your password" }
            form method="post" action="/account/password" {
                (ctx.csrf_field())
                label for="current" { "Current password" }
                input #current type="password" name="current" required autocomplete="current-password";
                label for="password" { "New password (8 characters or more)" }
                input #password type="password" name="password" required autocomplete="new-password" minlength="8";
                button type="submit" { "Change password" }
            }
            p.hint { "Your other sessions (other browsers, other devices) end; this one stays." }
            h2 { "Delete your account" }
            p { "Your email address, password, sessions, API tokens, library, tags, follows, feedback, notifications and email subscription are deleted. Your comments stay, shown as by a deleted account; your votes stay in the counts, with no name on them. This cannot be undone." }
            form method="post" action="/account/delete" {
                (ctx.csrf_field())
                label for="delete-password" { "Your password" }
                input #delete-password type="password" name="current" required autocomplete="current-password";
                label { input type="checkbox" name="confirm" value="yes" required; " Yes, delete my account" }
                button.danger type="submit" { "Delete my account" }
            }
        }
    }
}

async fn get_account(State(state): State<AppState>, Member(ctx, _): Member) -> Response {
    let body = account_page(&ctx, state.app.sends_mail(), &[], None);
    ctx.page("Your account", body)
}

async fn post_password(
    State(state): State<AppState>,
    Member(ctx, user): Member,
    headers: HeaderMap,
    CheckedForm(f): CheckedForm<PasswordForm>,
) -> Result<Response, PageError> {
    let session = auth::cookie(&headers, auth::SESSION_COOKIE);
    let (current, new) = (
        f.current.as_deref().unwrap_or(""),
        f.password.as_deref().unwrap_or(""),
    );
    let sends = state.app.sends_mail();
    match state
        .app
        .change_password(&user, session.as_deref(), current, new)
        .await
    {
        Ok(()) => Ok(ctx.page(
            "Your account",
            account_page(
                &ctx,
                sends,
                &[],
                Some("Your password is changed; your other sessions have ended."),
            ),
        )),
        Err(AppError::Fields(errors)) => Ok(ctx.render(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Your account",
            account_page(&ctx, sends, &errors, None),
        )),
        Err(e) => Err(e.into()),
    }
}

async fn post_delete(
    State(state): State<AppState>,
    Member(ctx, user): Member,
    CheckedForm(f): CheckedForm<PasswordForm>,
) -> Result<Response, PageError> {
    let sends = state.app.sends_mail();
    if f.confirm.as_deref() != Some("yes") {
        return Ok(ctx.render(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Your account",
            account_page(
                &ctx,
                sends,
                &["Tick the box to confirm; the account stays.".into()],
                None,
            ),
        ));
    }
    match state
        .app
        .delete_account(&user, f.current.as_deref().unwrap_or(""))
        .await
    {
        Ok(()) => {
            let cookie = auth::set_cookie(auth::SESSION_COOKIE, "", 0, true, ctx.secure);
            let body = html! {
                section.notice role="status" {
                    h1 { "Your account is deleted" }
                    p { "Thank you for having been here. " a href="/" { "Back to trending papers" } }
                }
            };
            let mut r = ctx.page("Account deleted", body);
            if let Ok(v) = cookie.parse() {
                r.headers_mut().append(SET_COOKIE, v);
            }
            Ok(r)
        }
        Err(AppError::Fields(errors)) => Ok(ctx.render(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Your account",
            account_page(&ctx, sends, &errors, None),
        )),
        Err(e) => Err(e.into()),
    }
}

fn forgot_page(ctx: &Ctx, sent: bool) -> Markup {
    html! {
        section.form-page {
            h1 { "Forgot your password?" }
            @if sent {
                p.notice role="status" { "If an account has that address, a link to choose a new password is on its way; it works once, for an hour." }
            }
            form method="post" action="/password/forgot" {
                (ctx.csrf_field())
                label for="email" { "The email address of your account" }
                input #email type="email" name="email" required autocomplete="email";
                button type="submit" { "Send me a link" }
            }
        }
    }
}

fn no_mail_for_passwords(ctx: &Ctx) -> Response {
    let body = html! {
        section.notice role="status" {
            h1 { "This instance sends no email" }
            p { "So it cannot mail a reset link. Its operator can set a new password for you on the server: " code { "paperboy user add" } " with your username and a new " code { "PAPERBOY_PASSWORD" } " replaces it." }
        }
    };
    ctx.page("Forgot your password?", body)
}

async fn get_forgot(State(state): State<AppState>, ctx: Ctx) -> Response {
    if !state.app.sends_mail() {
        return no_mail_for_passwords(&ctx);
    }
    ctx.page("Forgot your password?", forgot_page(&ctx, false))
}

async fn post_forgot(
    State(state): State<AppState>,
    ctx: Ctx,
    auth::ClientIp(ip): auth::ClientIp,
    CheckedForm(f): CheckedForm<PasswordForm>,
) -> Result<Response, PageError> {
    if !state.app.sends_mail() {
        return Ok(no_mail_for_passwords(&ctx));
    }
    state
        .app
        .request_password_reset(&ip, f.email.as_deref().unwrap_or(""))
        .await?;
    Ok(ctx.page("Forgot your password?", forgot_page(&ctx, true)))
}

fn reset_page(ctx: &Ctx, token: &str, errors: &[String]) -> Markup {
    html! {
        section.form-page {
            h1 { "Choose a new password" }
            @if !errors.is_empty() { div.error role="alert" { ul { @for e in errors { li { (e) } } } } }
            form method="post" action="/password/reset" {
                (ctx.csrf_field())
                input type="hidden" name="token" value=(token);
                label for="password" { "New password (8 characters or more)" }
                input #password type="password" name="password" required autocomplete="new-password" minlength="8";
                button type="submit" { "Set the password" }
            }
        }
    }
}

async fn get_reset(ctx: Ctx, Query(q): Query<HashMap<String, String>>) -> Response {
    let token = q.get("token").cloned().unwrap_or_default();
    ctx.page("Choose a new password", reset_page(&ctx, &token, &[]))
}

async fn post_reset(
    State(state): State<AppState>,
    ctx: Ctx,
    CheckedForm(f): CheckedForm<PasswordForm>,
) -> Result<Response, PageError> {
    let token = f.token.clone().unwrap_or_default();
    match state
        .app
        .reset_password(&token, f.password.as_deref().unwrap_or(""))
        .await
    {
        Ok((_, session)) => Ok(start_session(&ctx, &session, "/account")),
        Err(AppError::Fields(errors)) => Ok(ctx.render(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Choose a new password",
            reset_page(&ctx, &token, &errors),
        )),
        Err(AppError::NotFound(msg)) => Ok(ctx.render(
            StatusCode::BAD_REQUEST,
            "Choose a new password",
            reset_page(&ctx, &token, &[msg]),
        )),
        Err(e) => Err(e.into()),
    }
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
                label for="username" { "Username or email" }
                input #username name="username" required autocomplete="username" value=[f.username.as_deref()];
                label for="password" { "Password" }
                input #password type="password" name="password" required autocomplete="current-password";
                button type="submit" { "Log in" }
            }
            p { "New here? " a href="/signup" { "Create an account" } " · " a href="/password/forgot" { "Forgot your password?" } }
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
