//! `/search?q=`: search by keyword and by meaning.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use maud::{html, Markup, PreEscaped};
use paperboy_app::search::{parse_mode, Hit, Mode, Results, SearchRequest};
use paperboy_store::ListedPaper;

use super::{marks, page_param, paper_item, urlencode, Ctx, Marks, PageError};
use crate::AppState;

/// The search modes a reader can pick, with a word on each.
const MODES: &[(Mode, &str, &str)] = &[
    (
        Mode::Hybrid,
        "Both",
        "words and meaning together (the default)",
    ),
    (Mode::Keyword, "Words", "papers containing your words"),
    (
        Mode::Semantic,
        "Meaning",
        "papers about what you wrote, in any words",
    ),
];

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
    let form = search_form(&query, mode);
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
    // A search too long to follow (a pasted abstract) is still a search.
    let target =
        paperboy_app::follows::follow_target(paperboy_store::FollowKind::Search, &query).ok();
    let following = match (&ctx.user, &target) {
        (Some(u), Some(t)) => {
            state
                .app
                .is_following(u, paperboy_store::FollowKind::Search, t)
                .await?
        }
        _ => false,
    };
    let count = count_line(&outcome, mode, page, found.len());
    let mode_param = if mode == Mode::Hybrid {
        String::new()
    } else {
        format!("&mode={}", mode.as_str())
    };
    let body = html! {
    section.intro {
        h1 { "Papers about “" (super::trim_text(&query, 90)) "”" }
        (form)
        (super::view_switch(&ctx))
        p.lede role="status" {
            (count)
            @if let Some(note) = &outcome.note { " · " (note) }
        }
        @if let Some(target) = &target {
            (super::library::follow_form(&ctx, paperboy_store::FollowKind::Search, target, following, "this search", &marks.here))
        }
    }
    ol.papers {
        @for (lp, hit) in &outcome.rows {
            li { (result_item(&ctx, lp, hit, &marks)) }
        }
    }
    nav.pager aria-label="Pages" {
        @if page > 0 { a rel="prev" href={ "/search?q=" (urlencode(&query)) (mode_param) "&p=" (page - 1) } { "← Previous" } }
        @if (page + 1) * 20 < outcome.total { a rel="next" href={ "/search?q=" (urlencode(&query)) (mode_param) "&p=" (page + 1) } { "Next →" } }
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

/// The search box with its modes.
fn search_form(query: &str, mode: Mode) -> Markup {
    html! {
        form.search-big role="search" aria-label="Search papers and choose how" action="/search" method="get" {
            label for="q2" { "Search papers" }
            input #q2 type="search" name="q" value=(query) placeholder="generalization of fine-tuned models, or paste an abstract";
            button type="submit" { "Search" }
            fieldset.modes {
                legend { "Match" }
                @for (m, label, hint) in MODES {
                    label title=(hint) {
                        input type="radio" name="mode" value=(m.as_str()) checked[*m == mode];
                        " " (label)
                    }
                }
            }
        }
    }
}

/// What the results are: matches counted, or papers near by meaning.
fn count_line(outcome: &Results, mode: Mode, page: usize, found: usize) -> String {
    let shown = page * 20 + found;
    // Meaning finds something near any query: say when no paper holds the
    // words, rather than counting arbitrary neighbours as matches.
    if mode != Mode::Keyword && outcome.word_matches == Some(0) && found > 0 {
        "No paper contains these words; the nearest by meaning:".to_string()
    } else if mode == Mode::Semantic {
        format!(
            "The {} nearest by meaning",
            super::plural(found as u64, "paper", "papers")
        )
    } else if outcome.total > shown {
        format!(
            "Papers {}–{shown} of {}",
            page * 20 + 1,
            super::plural(outcome.total as u64, "match", "matches")
        )
    } else if outcome.total == 0 {
        "No papers found".to_string()
    } else {
        super::plural(outcome.total as u64, "paper found", "papers found")
    }
}

/// A result: the paper, with the query's words marked, and the passage
/// of its full text that matched.
fn result_item(ctx: &Ctx, lp: &ListedPaper, hit: &Hit, marks: &Marks) -> Markup {
    let hl = match (&hit.highlighted_title, &hit.highlighted_summary) {
        (Some(t), Some(s)) => Some((t.as_str(), s.as_str())),
        _ => None,
    };
    html! {
        (paper_item(ctx, lp, marks, hl))
        @if let Some(m) = &hit.passage {
            p.passage {
                span.muted { "In the full text" @if !m.section.is_empty() { ", " (m.section) } ": " }
                "…" (PreEscaped(&m.snippet)) "…"
            }
        }
    }
}
