//! `/` (trending) and `/daily[/YYYY-MM-DD]`.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use chrono::Duration;
use maud::html;
use paperboy_core::days::parse_date;
use paperboy_core::DayRange;
use paperboy_store::DailySort;

use super::{marks, page_param, paper_item, Ctx, PageError};
use crate::{ApiError, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(get_trending))
        .route("/daily", get(get_daily_today))
        .route("/daily/{date}", get(get_daily))
}

const PAGE_SIZE: u32 = 30;

async fn get_trending(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let page = page_param(&q, 10_000)?;
    let papers = state.app.trending(page * PAGE_SIZE, PAGE_SIZE).await?;
    let marks = marks(&state, &ctx, &papers).await;
    let harvest = state.app.harvest.notice();
    let body = html! {
        section.intro {
            h1 { "Trending papers" }
            p.lede { "by the research community · " a href="/about#trending" { "how the ranking works" } }
            (super::view_switch(&ctx))
        }
        (harvest_notice(harvest.as_deref()))
        @if page == 0 && !papers.is_empty() && papers.iter().all(|p| p.stored.upvotes == 0) {
            p.hint role="note" { "No votes yet, so this is newest first: every paper starts with one point that fades with its age. Upvotes (and stars on a paper's code) move papers up." }
        }
        @if papers.is_empty() && page == 0 && harvest.is_none() {
            section.notice {
                p { "No papers yet. An operator fills this instance with " code { "paperboy import FILE" } " (an arXiv metadata snapshot) or " code { "paperboy ingest --once" } " (harvest arXiv)." }
            }
        }
        ol.papers {
            @for lp in &papers { li { (paper_item(&ctx, lp, &marks, None)) } }
        }
        nav.pager aria-label="Pages" {
            @if page > 0 { a rel="prev" href={ "/?p=" (page - 1) } { "← Newer" } }
            @if papers.len() as u32 == PAGE_SIZE { a rel="next" href={ "/?p=" (page + 1) } { "More →" } }
        }
    };
    Ok(ctx.render_with_head(
        axum::http::StatusCode::OK,
        "Trending papers",
        super::feed_links("Trending papers", "/feeds/trending"),
        body,
    ))
}

/// A first harvest under way, or arXiv out of reach (this node's view).
fn harvest_notice(text: Option<&str>) -> maud::Markup {
    html! {
        @if let Some(t) = text {
            section.notice.harvest role="status" { p { (t) } }
        }
    }
}

async fn get_daily_today(
    State(state): State<AppState>,
    ctx: Ctx,
    q: Query<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let today = state.app.today();
    daily_page(state, ctx, today, q.0).await
}

async fn get_daily(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(date): Path<String>,
    q: Query<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let day = parse_date(&date).map_err(|e| ApiError::bad_request(e.to_string()))?;
    daily_page(state, ctx, day, q.0).await
}

async fn daily_page(
    state: AppState,
    ctx: Ctx,
    day: chrono::NaiveDate,
    q: HashMap<String, String>,
) -> Result<Response, PageError> {
    let view = q.get("view").map(String::as_str).unwrap_or("day");
    let (range, title, prev, next) = match view {
        "day" => (
            DayRange { from: day, to: day },
            format!("Daily papers, {}", day.format("%A, %B %-d, %Y")),
            day - Duration::days(1),
            day + Duration::days(1),
        ),
        "week" => {
            let r = DayRange::week_of(day);
            (
                r,
                format!("Papers of the week of {}", r.from.format("%B %-d, %Y")),
                r.from - Duration::days(7),
                r.from + Duration::days(7),
            )
        }
        "month" => {
            let r = DayRange::month_of(day);
            (
                r,
                format!("Papers of {}", r.from.format("%B %Y")),
                r.from - Duration::days(1),
                r.to + Duration::days(1),
            )
        }
        other => {
            return Err(ApiError::bad_request(format!(
                "`{other}` is not a view (day, week, month)"
            ))
            .into())
        }
    };
    let page = page_param(&q, 10_000)?;
    let papers = state
        .app
        .daily(
            range,
            DailySort::Trending,
            None,
            page * PAGE_SIZE,
            PAGE_SIZE,
        )
        .await?;
    let marks = marks(&state, &ctx, &papers).await;
    let q_view = if view == "day" {
        String::new()
    } else {
        format!("?view={view}")
    };
    let body = html! {
        section.intro {
            h1 { (title) }
            nav.days aria-label="Days" {
                a rel="prev" href={ "/daily/" (prev) (q_view) } { "← Previous" }
                a href={ "/daily/" (day) } aria-current=[(view == "day").then_some("page")] { "Day" }
                a href={ "/daily/" (day) "?view=week" } aria-current=[(view == "week").then_some("page")] { "Week" }
                a href={ "/daily/" (day) "?view=month" } aria-current=[(view == "month").then_some("page")] { "Month" }
                // The list of a day to come is empty: no link into the future.
                @if next <= state.app.today() {
                    a rel="next" href={ "/daily/" (next) (q_view) } { "Next →" }
                }
            }
            (super::view_switch(&ctx))
        }
        (harvest_notice(state.app.harvest.notice().as_deref()))
        @if papers.is_empty() {
            section.notice { p { "No papers were submitted for this " (view) " yet. " a href="/submit" { "Submit one" } "." } }
        }
        ol.papers {
            @for lp in &papers { li { (paper_item(&ctx, lp, &marks, None)) } }
        }
    };
    Ok(ctx.render_with_head(
        axum::http::StatusCode::OK,
        &title,
        super::feed_links("Daily papers", "/feeds/daily"),
        body,
    ))
}
