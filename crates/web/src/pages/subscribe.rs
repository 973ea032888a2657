//! `/subscribe` (double opt-in), `/subscribe/confirm`, `/unsubscribe`
//! (a page, and RFC 8058 one-click POST). Answers never reveal whether an
//! address was subscribed already.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use maud::{html, Markup};
use paperboy_app::subscribe::{SettingsOutcome, SubscribeError};
use paperboy_app::AppError;
use paperboy_core::Category;
use paperboy_store::{Frequency, Preferences};
use serde::Deserialize;

use super::{csrf_form, CheckedForm, Ctx, PageError};
use crate::{auth, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/subscribe", get(get_subscribe).post(post_subscribe))
        .route("/subscribe/confirm", get(get_confirm))
        .route("/unsubscribe", get(get_unsubscribe).post(post_unsubscribe))
        .route("/settings", get(get_settings).post(post_settings))
}

fn form_of(s: &paperboy_store::Subscriber) -> SubscribeForm {
    SubscribeForm {
        csrf: None,
        email: Some(s.email.clone()),
        frequency: Some(s.prefs.frequency.as_str().into()),
        trending_top: Some(s.prefs.trending_top.to_string()),
        daily_list: s.prefs.daily_list.then(|| "on".into()),
        categories: Some(s.prefs.categories.join(", ")),
        queries: Some(s.prefs.queries.join("\n")),
    }
}

/// A logged-in reader manages the subscription of their account's address.
async fn get_settings(State(state): State<AppState>, ctx: Ctx) -> Result<Response, PageError> {
    let Some(user) = ctx.user.clone() else {
        return Ok(axum::response::Redirect::to("/login?next=/settings").into_response());
    };
    if !state.app.sends_mail() {
        return Ok(no_mail(&ctx));
    }
    let sub = state.app.subscription_of(&user).await?;
    let status = match &sub {
        Some(s) if s.is_active() => format!(
            "{} is subscribed ({}).",
            user.email,
            s.prefs.frequency.as_str()
        ),
        Some(s) if s.confirmed_at.is_none() && s.unsubscribed_at.is_none() => {
            format!("{} is waiting for its confirmation link.", user.email)
        }
        _ => format!("{} is not subscribed.", user.email),
    };
    let f = sub.as_ref().map(form_of).unwrap_or(SubscribeForm {
        daily_list: Some("on".into()),
        ..Default::default()
    });
    let unsubscribe = sub.as_ref().and_then(|s| state.app.unsubscribe_token(s));
    let body = html! {
        p.lede role="status" { (status) }
        (form_to(&ctx, &f, &[], "/settings", "Email settings"))
        @if let Some(token) = unsubscribe {
            form method="post" action={ "/unsubscribe?token=" (token) } { button type="submit" { "Unsubscribe" } }
        }
    };
    Ok(ctx.page("Settings", body))
}

async fn post_settings(
    State(state): State<AppState>,
    ctx: Ctx,
    auth::ClientIp(ip): auth::ClientIp,
    CheckedForm(mut f): CheckedForm<SubscribeForm>,
) -> Result<Response, PageError> {
    let Some(user) = ctx.user.clone() else {
        return Ok(axum::response::Redirect::to("/login?next=/settings").into_response());
    };
    if !state.app.sends_mail() {
        return Ok(no_mail(&ctx));
    }
    f.email = Some(user.email.clone());
    let refuse = |errors: Vec<String>| {
        ctx.render(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Settings",
            form_to(&ctx, &f, &errors, "/settings", "Email settings"),
        )
    };
    let prefs = match parse_prefs(&f) {
        Ok(p) => p,
        Err(errors) => return Ok(refuse(errors)),
    };
    match state.app.update_subscription(&ip, &user, &prefs).await {
        Ok(SettingsOutcome::Saved) => {
            let body = html! { section.notice role="status" { h1 { "Saved" } p { "Your next digest follows the new settings. " a href="/settings" { "Back to settings" } } } };
            Ok(ctx.page("Saved", body))
        }
        Ok(SettingsOutcome::ConfirmationSent) => Ok(check_inbox(&ctx, &user.email)),
        Err(SubscribeError::App(AppError::Fields(errors))) => Ok(refuse(errors)),
        Err(e) => Err(subscribe_error(e)),
    }
}

fn subscribe_error(e: SubscribeError) -> PageError {
    match e {
        SubscribeError::App(e) => e.into(),
        other => PageError(crate::ApiError::unprocessable(other.to_string())),
    }
}

fn check_inbox(ctx: &Ctx, email: &str) -> Response {
    let body = html! {
        section.notice role="status" {
            h1 { "Check your inbox" }
            p { "If " strong { (email) } " can receive our mail, a confirmation link is on its way. Nothing else is sent until you click it." }
        }
    };
    ctx.page("Check your inbox", body)
}

#[derive(Deserialize, Default)]
struct SubscribeForm {
    csrf: Option<String>,
    email: Option<String>,
    frequency: Option<String>,
    trending_top: Option<String>,
    daily_list: Option<String>,
    categories: Option<String>,
    queries: Option<String>,
}

csrf_form!(SubscribeForm);

fn form(ctx: &Ctx, f: &SubscribeForm, errors: &[String]) -> Markup {
    form_to(
        ctx,
        f,
        errors,
        "/subscribe",
        "Get trending papers in your email inbox",
    )
}

fn form_to(ctx: &Ctx, f: &SubscribeForm, errors: &[String], action: &str, heading: &str) -> Markup {
    let freq = f.frequency.as_deref().unwrap_or("daily");
    let top = f.trending_top.as_deref().unwrap_or("10");
    html! {
        section.form-page {
            h1 { (heading) }
            p { "Choose what to receive and how often. We send a confirmation link first; nothing else arrives until you click it." }
            @if !errors.is_empty() { div.error role="alert" { ul { @for e in errors { li { (e) } } } } }
            form method="post" action=(action) {
                (ctx.csrf_field())
                label for="email" { "Email" }
                input #email type="email" name="email" required autocomplete="email" value=[f.email.as_deref().or(ctx.user.as_ref().map(|u| u.email.as_str()))];
                fieldset {
                    legend { "How often" }
                    label { input type="radio" name="frequency" value="daily" checked[freq == "daily"]; " Daily" }
                    label { input type="radio" name="frequency" value="weekly" checked[freq == "weekly"]; " Weekly" }
                }
                label for="trending_top" { "Trending papers" }
                select #trending_top name="trending_top" {
                    @for (v, label) in [("0", "none"), ("5", "top 5"), ("10", "top 10"), ("20", "top 20")] {
                        option value=(v) selected[top == v] { (label) }
                    }
                }
                label { input type="checkbox" name="daily_list" value="on" checked[f.daily_list.is_some()]; " The daily list" }
                label for="categories" { "New papers in arXiv categories (e.g. cs.LG, stat.ML)" }
                input #categories name="categories" value=[f.categories.as_deref()] placeholder="cs.LG, cs.CL";
                label for="queries" { "New papers matching saved searches (one per line)" }
                textarea #queries name="queries" rows="3" placeholder="generalization of fine-tuned models" { (f.queries.as_deref().unwrap_or("")) }
                button type="submit" { "Subscribe" }
            }
        }
    }
}

/// What `/subscribe` and `/settings` say on an instance that cannot send
/// mail, instead of a form that would promise it.
fn no_mail(ctx: &Ctx) -> Response {
    let body = html! {
        section.notice role="status" {
            h1 { "This instance sends no email" }
            p { "Its operator has not set up a mail server, so there are no email digests here. The same papers come by feed, in any feed reader: "
                a href="/feeds/trending.atom" { "trending" } ", "
                a href="/feeds/daily.atom" { "the daily list" } ", "
                a href="/feeds/category/cs.LG.atom" { "a category" } " (any arXiv category in the address), or a search (the feed link on every search page)." }
        }
    };
    ctx.page("No email here", body)
}

async fn get_subscribe(State(state): State<AppState>, ctx: Ctx) -> Response {
    if !state.app.sends_mail() {
        return no_mail(&ctx);
    }
    let body = form(
        &ctx,
        &SubscribeForm {
            daily_list: Some("on".into()),
            ..Default::default()
        },
        &[],
    );
    ctx.page("Subscribe", body)
}

/// The form's choices as preferences; what cannot be read, one sentence
/// each (the application checks the rest).
fn parse_prefs(f: &SubscribeForm) -> Result<Preferences, Vec<String>> {
    let mut errors = Vec::new();
    let frequency = match f.frequency.as_deref().unwrap_or("daily") {
        "weekly" => Frequency::Weekly,
        "daily" => Frequency::Daily,
        other => {
            errors.push(format!("`{other}` is not a frequency (daily or weekly)"));
            Frequency::Daily
        }
    };
    let trending_top = match f.trending_top.as_deref().unwrap_or("0").parse::<u32>() {
        Ok(n) => n,
        Err(_) => {
            errors.push("trending papers: choose none, 5, 10 or 20".into());
            0
        }
    };
    let mut categories = Vec::new();
    for c in f
        .categories
        .as_deref()
        .unwrap_or("")
        .split([',', ' '])
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        match Category::parse(c) {
            Ok(c) if !categories.contains(&c.to_string()) => categories.push(c.to_string()),
            Ok(_) => {}
            Err(e) => errors.push(e.to_string()),
        }
    }
    let queries: Vec<String> = f
        .queries
        .as_deref()
        .unwrap_or("")
        .lines()
        .map(str::trim)
        .filter(|q| !q.is_empty())
        .map(str::to_string)
        .collect();
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Preferences {
        frequency,
        trending_top,
        daily_list: f.daily_list.is_some(),
        categories,
        queries,
    })
}

async fn post_subscribe(
    State(state): State<AppState>,
    ctx: Ctx,
    auth::ClientIp(ip): auth::ClientIp,
    CheckedForm(f): CheckedForm<SubscribeForm>,
) -> Result<Response, PageError> {
    if !state.app.sends_mail() {
        return Ok(no_mail(&ctx));
    }
    let refuse = |errors: Vec<String>| {
        ctx.render(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Subscribe",
            form(&ctx, &f, &errors),
        )
    };
    let prefs = match parse_prefs(&f) {
        Ok(p) => p,
        Err(errors) => return Ok(refuse(errors)),
    };
    let email = f.email.as_deref().unwrap_or("");
    match state.app.subscribe(&ip, email, &prefs).await {
        Ok(()) => Ok(check_inbox(&ctx, email.trim())),
        Err(SubscribeError::App(AppError::Fields(errors))) => Ok(refuse(errors)),
        Err(e @ SubscribeError::Undeliverable(_)) => Ok(refuse(vec![e.to_string()])),
        Err(e) => Err(subscribe_error(e)),
    }
}

/// The signed `?token=` of a link in a mail.
#[derive(Deserialize)]
struct Link {
    #[serde(default)]
    token: String,
}

async fn get_confirm(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(Link { token }): Query<Link>,
) -> Result<Response, PageError> {
    state.app.confirm_subscription(&token).await?;
    let body = html! { section.notice role="status" { h1 { "You are subscribed" } p { "Your first digest arrives with the next " a href="/daily" { "daily list" } "." } } };
    Ok(ctx.page("Subscribed", body))
}

async fn get_unsubscribe(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(Link { token }): Query<Link>,
) -> Result<Response, PageError> {
    state.app.check_unsubscribe(&token).await?;
    let body = html! {
        section.form-page {
            h1 { "Unsubscribe" }
            form method="post" action={ "/unsubscribe?token=" (token) } {
                button type="submit" { "Stop sending me papers" }
            }
        }
    };
    Ok(ctx.page("Unsubscribe", body))
}

/// RFC 8058 one-click: mail clients POST `List-Unsubscribe=One-Click` here;
/// the signed token is the authority, so no session or CSRF token.
async fn post_unsubscribe(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(Link { token }): Query<Link>,
) -> Result<Response, PageError> {
    state.app.unsubscribe(&token).await?;
    let body = html! { section.notice role="status" { h1 { "You are unsubscribed" } p { "No more digests will be sent to this address." } } };
    Ok(ctx.page("Unsubscribed", body))
}
