//! `/submit`: put an arXiv paper on today's daily list.

use axum::extract::State;
use axum::http::header::LOCATION;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use maud::{html, Markup};
use paperboy_app::submit::SubmitError;
use serde::Deserialize;

use super::{csrf_form, CheckedForm, Ctx, PageError};
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/submit", get(get_submit).post(post_submit))
}

#[derive(Deserialize)]
struct SubmitForm {
    csrf: Option<String>,
    arxiv_id: Option<String>,
}

csrf_form!(SubmitForm);

fn form(ctx: &Ctx, value: &str, message: Option<Markup>, max_days: i64) -> Markup {
    // An id of this month (yymm.nnnnn), as a recent paper has: the old
    // example (2203.05482) is refused as too old.
    let example = format!("{}.01234", chrono::Utc::now().format("%y%m"));
    html! {
        section.form-page {
            h1 { "Submit a paper" }
            p { "Put a recent arXiv paper on today's daily list: one first submitted to arXiv in the last " (max_days) " days (older papers are on their own pages and in search). Paste its id (" (example) ") or its arXiv URL." }
            @if let Some(m) = message { div.error role="alert" { (m) } }
            form method="post" action="/submit" {
                (ctx.csrf_field())
                label for="arxiv_id" { "arXiv id or URL" }
                input #arxiv_id name="arxiv_id" required value=(value) placeholder=(example) aria-describedby="submit-rule";
                p.hint #submit-rule { "Papers from the last " (max_days) " days; this store fetches ones it lacks from arXiv." }
                button type="submit" { "Submit" }
            }
        }
    }
}

async fn get_submit(State(state): State<AppState>, ctx: Ctx) -> Response {
    if ctx.user.is_none() {
        return Redirect::to("/login?next=/submit").into_response();
    }
    let body = form(&ctx, "", None, state.app.settings.max_submission_age_days);
    ctx.page("Submit a paper", body)
}

async fn post_submit(
    State(state): State<AppState>,
    ctx: Ctx,
    CheckedForm(f): CheckedForm<SubmitForm>,
) -> Result<Response, PageError> {
    let Some(user) = ctx.user.clone() else {
        return Ok(Redirect::to("/login?next=/submit").into_response());
    };
    let raw = f.arxiv_id.unwrap_or_default();
    let refuse = |status: StatusCode, msg: Markup| {
        ctx.render(
            status,
            "Submit a paper",
            form(
                &ctx,
                &raw,
                Some(msg),
                state.app.settings.max_submission_age_days,
            ),
        )
    };
    let e = match state.app.submit_daily(&user, &raw).await {
        Ok(entry) => {
            let to = format!("/daily/{}", entry.day);
            return Ok((StatusCode::SEE_OTHER, [(LOCATION, to)]).into_response());
        }
        Err(e) => e,
    };
    let text = e.to_string();
    let (status, msg) = match e {
        SubmitError::App(e) => return Err(e.into()),
        SubmitError::BadId(_) => (StatusCode::BAD_REQUEST, html! { (text) }),
        SubmitError::NotHere(_) => (StatusCode::UNPROCESSABLE_ENTITY, html! { (text) }),
        SubmitError::UnknownToArxiv(_) => (StatusCode::NOT_FOUND, html! { (text) }),
        SubmitError::ArxivUnreachable(_) => (StatusCode::BAD_GATEWAY, html! { (text) }),
        SubmitError::Fetching(_) => (
            StatusCode::ACCEPTED,
            html! { (text) " " a href="/notifications" { "Notifications" } },
        ),
        SubmitError::TooOld { id, .. } => (
            StatusCode::UNPROCESSABLE_ENTITY,
            html! { (text) " " a href={ "/papers/" (id) } { "Its page is here." } },
        ),
        SubmitError::AlreadyListed {
            id,
            entry: Some(entry),
        } => (
            StatusCode::CONFLICT,
            html! {
                (id) " is already on the " a href={ "/daily/" (entry.day) } { "daily list of " (entry.day.format("%B %-d, %Y").to_string()) }
                ", submitted by " (entry.submitted_by) "."
            },
        ),
        SubmitError::AlreadyListed { .. } => (StatusCode::CONFLICT, html! { (text) }),
    };
    Ok(refuse(status, msg))
}
