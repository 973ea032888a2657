//! `/authors/{name}`: the papers of an author, by normalised name.

use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use maud::html;

use super::{paper_item, voted_ids, Ctx, PageError};
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
    let voted = voted_ids(&state, &ctx, &page.papers).await;
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
        }
        ol.papers { @for lp in &page.papers { li { (paper_item(&ctx, lp, voted.contains(&lp.stored.paper_id), None)) } } }
    };
    Ok(ctx.page(&page.name, body))
}
