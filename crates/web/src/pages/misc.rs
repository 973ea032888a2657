//! `/about`, `/u/{username}`, `/search`.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use maud::{html, PreEscaped};
use paperboy_core::trending::{GRAVITY, MAX_CATEGORY_SCALE, STAR_WEIGHT, WINDOW_DAYS};
use paperboy_core::ArxivId;
use paperboy_store::StoreError;

use super::{paper_item, voted_ids, Ctx, PageError};
use crate::fetch::{SearchMode, SearchRequest};
use crate::{ApiError, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/about", get(get_about))
        .route("/u/{username}", get(get_user))
        .route("/search", get(get_search))
}

async fn get_about(ctx: Ctx) -> Response {
    let body = html! {
        article.prose {
            h1 { "About " (ctx.instance) }
            p { (ctx.instance) " is a hub for research papers: it harvests new papers from arXiv, lets its community submit and upvote them, finds papers by keyword and by meaning, and ranks what is trending with the formula below. It runs Paperboy, which is open source." }
            h2 #trending { "How trending works" }
            p { "Every paper gets a score; the trending page lists papers by score. In words: a paper's points are its upvotes, plus a tenth of a point for every GitHub star its code gained in the last week, plus one for simply being there. Points are divided by the paper's age in hours plus two, raised to the power " (GRAVITY) ", so papers sink as they age unless readers keep voting for them. Papers from small fields get a boost of up to " (MAX_CATEGORY_SCALE) "× so they can reach the list too." }
            pre.formula aria-label="The trending formula" {
                "score = (votes + " (STAR_WEIGHT) " · Δstars + 1) · s(c) / (age_h + 2)^" (GRAVITY) "\n\n"
                "s(c)  = clamp((n_max / n_c)^(1/4), 1, " (MAX_CATEGORY_SCALE) ")"
            }
            ul {
                li { code { "votes" } ": upvotes on this instance" }
                li { code { "Δstars" } ": GitHub stars the paper's repository gained over the last week (0 when unknown)" }
                li { code { "age_h" } ": hours since the paper's first arXiv version" }
                li { code { "n_c" } ": papers in the paper's primary category over the last " (WINDOW_DAYS) " days; " code { "n_max" } ": the same for the busiest category" }
            }
            p { "The gravity of " (GRAVITY) " follows Hacker News' published formula. Papers older than " (WINDOW_DAYS) " days leave the running. Scores are stored and refreshed on every vote and every ten minutes, so the list is a plain index scan." }
        }
    };
    ctx.page("About", body)
}

async fn get_user(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(username): Path<String>,
) -> Result<Response, PageError> {
    let name = username.to_ascii_lowercase();
    let (user, _) = match state.store.user_by_name(&name).await {
        Ok(found) => found,
        Err(StoreError::NotFound) => {
            return Err(ApiError::NotFound(format!("There is no user {username}.")).into())
        }
        Err(e) => return Err(e.into()),
    };
    let submitted = state.store.user_submissions(user.user_id, 50).await?;
    let upvoted = state.store.user_upvoted(user.user_id, 50).await?;
    let mut all = submitted.clone();
    all.extend(upvoted.iter().cloned());
    let voted = voted_ids(&state, &ctx, &all).await;
    let body = html! {
        section.intro {
            h1 { (user.username) }
            p.lede { (user.role) " since " (user.created_at.format("%B %Y").to_string()) }
        }
        section aria-labelledby="subs-h" {
            h2 #subs-h { "Submitted (" (submitted.len()) ")" }
            @if submitted.is_empty() { p { "Nothing yet." } }
            ol.papers { @for lp in &submitted { li { (paper_item(&ctx, lp, voted.contains(&lp.stored.paper_id), None)) } } }
        }
        section aria-labelledby="votes-h" {
            h2 #votes-h { "Upvoted (" (upvoted.len()) ")" }
            @if upvoted.is_empty() { p { "Nothing yet." } }
            ol.papers { @for lp in &upvoted { li { (paper_item(&ctx, lp, voted.contains(&lp.stored.paper_id), None)) } } }
        }
    };
    Ok(ctx.page(&user.username, body))
}

async fn get_search(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let query = q.get("q").map(|s| s.trim().to_string()).unwrap_or_default();
    let mode = match q.get("mode").map(String::as_str) {
        None | Some("") => SearchMode::Hybrid,
        Some(m) => m.parse().map_err(ApiError::BadRequest)?,
    };
    let page: usize = match q.get("p") {
        None => 0,
        Some(p) => p
            .parse()
            .ok()
            .filter(|p| *p < 1000)
            .ok_or_else(|| ApiError::BadRequest(format!("`{p}` is not a page number")))?,
    };
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
    let Some(search) = &state.search else {
        let body = html! {
            section.intro { h1 { "Search" } (form) }
            section.notice { p role="status" { "Search is not set up on this instance yet." } }
        };
        return Ok(ctx.page("Search", body));
    };
    let outcome = search
        .search(SearchRequest {
            query: query.clone(),
            mode,
            limit: 20,
            offset: page * 20,
        })
        .await
        .map_err(ApiError::Internal)?;
    let ids: Vec<ArxivId> = outcome.hits.iter().map(|h| h.arxiv_id.clone()).collect();
    let mut found = state.store.get_papers(&ids).await?;
    found.sort_by_key(|l| ids.iter().position(|i| *i == l.stored.paper.id));
    let voted = voted_ids(&state, &ctx, &found).await;
    let body = html! {
        section.intro {
            h1 { "Papers about “" (query) "”" }
            (form)
            p.lede role="status" {
                @if outcome.total > page * 20 + found.len() { "Papers " (page * 20 + 1) "–" (page * 20 + found.len()) " of many" } @else { (outcome.total) " papers found" }
                @if let Some(note) = &outcome.note { " · " (note) }
            }
        }
        ol.papers {
            @for lp in &found {
                @let hit = outcome.hits.iter().find(|h| h.arxiv_id == lp.stored.paper.id);
                @let hl = hit.and_then(|h| match (&h.highlighted_title, &h.highlighted_summary) {
                    (Some(t), Some(s)) => Some((t.as_str(), s.as_str())),
                    _ => None,
                });
                li { (paper_item(&ctx, lp, voted.contains(&lp.stored.paper_id), hl)) }
            }
        }
        nav.pager aria-label="Pages" {
            @if page > 0 { a rel="prev" href={ "/search?q=" (super::paper::urlencode(&query)) "&p=" (page - 1) } { "← Previous" } }
            @if (page + 1) * 20 < outcome.total { a rel="next" href={ "/search?q=" (super::paper::urlencode(&query)) "&p=" (page + 1) } { "Next →" } }
        }
        (PreEscaped(""))
    };
    let feeds = super::feed_links(
        &format!("Papers about {query}"),
        &format!("/feeds/search?q={}", super::paper::urlencode(&query)),
    );
    Ok(ctx.render_with_head(
        axum::http::StatusCode::OK,
        &format!("Search: {query}"),
        feeds,
        body,
    ))
}
