//! `/u/{username}`: a member's papers (approved authorships), submissions
//! and upvotes.

use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use maud::html;

use super::{marks, paper_item, Ctx, PageError};
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/u/{username}", get(get_user))
}

async fn get_user(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(username): Path<String>,
) -> Result<Response, PageError> {
    let profile = state.app.profile(&username).await?;
    let (user, submitted, upvoted, authored) = (
        profile.user,
        profile.submitted,
        profile.upvoted,
        profile.authored,
    );
    let mut all = submitted.clone();
    all.extend(upvoted.iter().cloned());
    all.extend(authored.iter().cloned());
    let marks = marks(&state, &ctx, &all).await;
    let body = html! {
        section.intro {
            h1 { (user.username) }
            p.lede { (user.role) " since " (user.created_at.format("%B %Y").to_string()) }
        }
        @if !authored.is_empty() {
            section aria-labelledby="authored-h" {
                h2 #authored-h { "Author of (" (authored.len()) ")" }
                ol.papers { @for lp in &authored { li { (paper_item(&ctx, lp, &marks, None)) } } }
            }
        }
        section aria-labelledby="subs-h" {
            h2 #subs-h { "Submitted (" (submitted.len()) ")" }
            @if submitted.is_empty() { p { "Nothing yet." } }
            ol.papers { @for lp in &submitted { li { (paper_item(&ctx, lp, &marks, None)) } } }
        }
        section aria-labelledby="votes-h" {
            h2 #votes-h { "Upvoted (" (upvoted.len()) ")" }
            @if upvoted.is_empty() { p { "Nothing yet." } }
            ol.papers { @for lp in &upvoted { li { (paper_item(&ctx, lp, &marks, None)) } } }
        }
    };
    Ok(ctx.page(&user.username, body))
}
