//! `/submit`: put an arXiv paper on today's daily list.

use axum::extract::State;
use axum::http::header::LOCATION;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use maud::{html, Markup};
use paperboy_core::ArxivId;
use paperboy_store::StoreError;
use serde::Deserialize;

use super::{csrf_form, CheckedForm, Ctx, PageError};
use crate::{daily, AppState};

pub fn router() -> Router<AppState> {
    Router::new().route("/submit", get(get_submit).post(post_submit))
}

#[derive(Deserialize)]
struct SubmitForm {
    csrf: Option<String>,
    arxiv_id: Option<String>,
}

csrf_form!(SubmitForm);

fn form(ctx: &Ctx, value: &str, message: Option<Markup>) -> Markup {
    html! {
        section.form-page {
            h1 { "Submit a paper" }
            p { "Put a recent arXiv paper on today's daily list. Paste its id (2203.05482, hep-th/9901001) or its arXiv URL." }
            @if let Some(m) = message { div.error role="alert" { (m) } }
            form method="post" action="/submit" {
                (ctx.csrf_field())
                label for="arxiv_id" { "arXiv id or URL" }
                input #arxiv_id name="arxiv_id" required value=(value) placeholder="2203.05482";
                button type="submit" { "Submit" }
            }
        }
    }
}

async fn get_submit(ctx: Ctx) -> Response {
    if ctx.user.is_none() {
        return Redirect::to("/login?next=/submit").into_response();
    }
    let body = form(&ctx, "", None);
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
    state
        .limiter
        .check("submission", &user.username, state.settings.limits.submit)?;
    let raw = f.arxiv_id.unwrap_or_default();
    let refuse = |status: StatusCode, msg: Markup| {
        ctx.render(status, "Submit a paper", form(&ctx, &raw, Some(msg)))
    };
    let id = match ArxivId::parse_loose(&raw) {
        Ok(v) => v.id,
        Err(e) => return Ok(refuse(StatusCode::BAD_REQUEST, html! { (e.to_string()) })),
    };
    let stored = match state.store.get_paper(&id).await {
        Ok(s) => s,
        Err(StoreError::NotFound) => {
            let Some(fetcher) = &state.fetcher else {
                return Ok(refuse(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    html! { "This instance does not have " (id) " and cannot fetch papers from arXiv; an operator can harvest or import it." },
                ));
            };
            match fetcher.fetch(&id).await {
                Ok(true) => state.store.get_paper(&id).await?,
                Ok(false) => {
                    return Ok(refuse(
                        StatusCode::NOT_FOUND,
                        html! { "arXiv does not know a paper " (id) "." },
                    ))
                }
                Err(e) => {
                    tracing::warn!(%id, error = %e, "fetching a submitted paper failed");
                    return Ok(refuse(
                        StatusCode::BAD_GATEWAY,
                        html! { "arXiv could not be reached to fetch " (id) "; try again in a few minutes." },
                    ));
                }
            }
        }
        Err(e) => return Err(e.into()),
    };
    let max_age = chrono::Duration::days(state.settings.max_submission_age_days);
    let published = stored.paper.published_at();
    if chrono::Utc::now() - published > max_age {
        return Ok(refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            html! {
                (id) " was first submitted to arXiv on " (published.format("%B %-d, %Y").to_string())
                "; the daily list takes papers from the last " (state.settings.max_submission_age_days) " days. "
                a href={ "/papers/" (id) } { "Its page is here." }
            },
        ));
    }
    let today = daily::today(state.settings.timezone);
    match state
        .store
        .submit_daily(stored.paper_id, today, user.user_id)
        .await
    {
        Ok(_) => Ok((
            StatusCode::SEE_OTHER,
            [(LOCATION, format!("/daily/{today}"))],
        )
            .into_response()),
        Err(StoreError::Conflict { .. }) => {
            let existing = state.store.daily_entry(stored.paper_id).await?;
            let msg = match existing {
                Some(e) => html! {
                    (id) " is already on the " a href={ "/daily/" (e.day) } { "daily list of " (e.day.format("%B %-d, %Y").to_string()) }
                    ", submitted by " (e.submitted_by) "."
                },
                None => html! { (id) " is already on a daily list." },
            };
            Ok(refuse(StatusCode::CONFLICT, msg))
        }
        Err(e) => Err(e.into()),
    }
}
