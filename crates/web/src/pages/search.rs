//! `/search?q=`: search by keyword and by meaning.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use maud::html;
use paperboy_app::search::{parse_mode, Mode, SearchRequest};
use paperboy_store::ListedPaper;

use super::{marks, page_param, paper_item, urlencode, Ctx, PageError};
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/search", get(get_search))
}

async fn get_search(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let query = q.get("q").map(|s| s.trim().to_string()).unwrap_or_default();
    let mode = match q.get("mode").map(String::as_str) {
        None | Some("") => Mode::Hybrid,
        Some(m) => parse_mode(m)?,
    };
    let page = page_param(&q, 1000)? as usize;
    let form = html! {
        form.search-big role="search" action="/search" method="get" {
            label for="q2" { "Search papers" }
            input #q2 type="search" name="q" value=(query) placeholder="generalization of fine-tuned models";
            button type="submit" { "Search" }
        }
    };
    if query.is_empty() {
        let body = html! { section.intro { h1 { "Search" } (form) } };
        return Ok(ctx.page("Search", body));
    }
    if state.app.search.is_none() {
        let body = html! {
            section.intro { h1 { "Search" } (form) }
            section.notice { p role="status" { "Search is not set up on this instance yet." } }
        };
        return Ok(ctx.page("Search", body));
    }
    let req = SearchRequest::new(&query, mode, 20, page * 20)?;
    let outcome = state.app.search(&req).await?;
    let found: Vec<ListedPaper> = outcome.rows.iter().map(|(l, _)| l.clone()).collect();
    let marks = marks(&state, &ctx, &found).await;
    let target = paperboy_app::follows::follow_target(paperboy_store::FollowKind::Search, &query)?;
    let following = match &ctx.user {
        Some(u) => {
            state
                .app
                .is_following(u, paperboy_store::FollowKind::Search, &target)
                .await?
        }
        None => false,
    };
    let body = html! {
    section.intro {
        h1 { "Papers about “" (query) "”" }
        (form)
        p.lede role="status" {
            @if outcome.total > page * 20 + found.len() { "Papers " (page * 20 + 1) "–" (page * 20 + found.len()) " of many" } @else { (outcome.total) " papers found" }
            @if let Some(note) = &outcome.note { " · " (note) }
        }
        (super::library::follow_form(&ctx, paperboy_store::FollowKind::Search, &target, following, "this search", &marks.here))
    }
    ol.papers {
        @for (lp, hit) in &outcome.rows {
            @let hl = match (&hit.highlighted_title, &hit.highlighted_summary) {
                (Some(t), Some(s)) => Some((t.as_str(), s.as_str())),
                _ => None,
            };
            li { (paper_item(&ctx, lp, &marks, hl)) }
        }
    }
    nav.pager aria-label="Pages" {
        @if page > 0 { a rel="prev" href={ "/search?q=" (urlencode(&query)) "&p=" (page - 1) } { "← Previous" } }
        @if (page + 1) * 20 < outcome.total { a rel="next" href={ "/search?q=" (urlencode(&query)) "&p=" (page + 1) } { "Next →" } }
    }
        };
    let feeds = super::feed_links(
        &format!("Papers about {query}"),
        &format!("/feeds/search?q={}", urlencode(&query)),
    );
    Ok(ctx.render_with_head(
        axum::http::StatusCode::OK,
        &format!("Search: {query}"),
        feeds,
        body,
    ))
}
