//! `/authors/{name}`: the papers of an author, by normalised name.

use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use maud::html;

use super::{marks, paper_item, Ctx, PageError};
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/authors/{name}", get(get_author))
}

async fn get_author(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(name): Path<String>,
) -> Result<Response, PageError> {
    let page = state.app.author_page(&name).await?;
    let marks = marks(&state, &ctx, &page.papers).await;
    let key = paperboy_core::text::author_key(&page.name);
    let following = match &ctx.user {
        Some(u) => {
            state
                .app
                .is_following(u, paperboy_store::FollowKind::Author, &key)
                .await?
        }
        None => false,
    };
    let body = html! {
        section.intro {
            h1 { (page.name) }
            p.lede {
                (page.papers.len()) " " (if page.papers.len() == 1 { "paper" } else { "papers" }) " on this instance"
                @if !page.members.is_empty() {
                    " · member: "
                    @for (i, m) in page.members.iter().enumerate() { @if i > 0 { ", " } a href={ "/u/" (m) } { (m) } }
                }
            }
            (super::library::follow_form(&ctx, paperboy_store::FollowKind::Author, &page.name, following, &page.name, &marks.here))
        }
        ol.papers { @for lp in &page.papers { li { (paper_item(&ctx, lp, &marks, None)) } } }
    };
    Ok(ctx.page(&page.name, body))
}
