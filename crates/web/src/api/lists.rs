//! `GET /api/daily_papers` and `GET /api/trending`.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use paperboy_store::{DailySort, ListedPaper};
use serde::Serialize;

use super::views::{rfc3339, PaperView};
use crate::daily::{self, DayRange};
use crate::{ApiError, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/daily_papers", get(get_daily_papers))
        .route("/api/trending", get(get_trending))
}

#[derive(Debug, Serialize)]
pub struct SubmitterView {
    pub name: String,
    pub fullname: String,
}

/// One row of a list, in the Hugging Face daily papers shape.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RowView {
    pub paper: PaperView,
    pub title: String,
    pub summary: String,
    pub published_at: String,
    pub submitted_by: Option<SubmitterView>,
    pub submitted_on_daily_at: Option<String>,
    pub num_comments: i64,
}

impl From<&ListedPaper> for RowView {
    fn from(l: &ListedPaper) -> Self {
        let paper = PaperView::from(&l.stored);
        RowView {
            title: paper.title.clone(),
            summary: paper.summary.clone(),
            published_at: paper.published_at.clone(),
            num_comments: paper.num_comments,
            submitted_by: l.daily.as_ref().map(|d| SubmitterView {
                name: d.submitted_by.clone(),
                fullname: d.submitted_by.clone(),
            }),
            submitted_on_daily_at: l.daily.as_ref().map(|d| rfc3339(d.submitted_at)),
            paper,
        }
    }
}

pub fn parse_limit(q: &HashMap<String, String>, default: u32, max: u32) -> Result<u32, ApiError> {
    match q.get("limit") {
        None => Ok(default),
        Some(l) => l
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=max).contains(n))
            .ok_or_else(|| {
                ApiError::BadRequest(format!("limit must be a number from 1 to {max}, not `{l}`"))
            }),
    }
}

fn parse_page(q: &HashMap<String, String>) -> Result<u32, ApiError> {
    match q.get("p") {
        None => Ok(0),
        Some(p) => p
            .parse::<u32>()
            .ok()
            .filter(|n| *n <= 100_000)
            .ok_or_else(|| {
                ApiError::BadRequest(format!("p must be a page number (0, 1, …), not `{p}`"))
            }),
    }
}

async fn get_daily_papers(
    State(state): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Vec<RowView>>, ApiError> {
    let given: Vec<&str> = ["date", "week", "month"]
        .into_iter()
        .filter(|k| q.contains_key(*k))
        .collect();
    if given.len() > 1 {
        return Err(ApiError::BadRequest(format!(
            "give one of date, week, month (got {})",
            given.join(", ")
        )));
    }
    let range = if let Some(d) = q.get("date") {
        let d = daily::parse_date(d)?;
        DayRange { from: d, to: d }
    } else if let Some(w) = q.get("week") {
        daily::parse_week(w)?
    } else if let Some(m) = q.get("month") {
        daily::parse_month(m)?
    } else {
        let t = daily::today(state.settings.timezone);
        DayRange { from: t, to: t }
    };
    let sort = match q.get("sort").map(String::as_str) {
        None | Some("trending") => DailySort::Trending,
        Some("publishedAt") => DailySort::PublishedAt,
        Some(other) => {
            return Err(ApiError::BadRequest(format!(
                "sort must be trending or publishedAt, not `{other}`"
            )))
        }
    };
    let limit = parse_limit(&q, 50, 100)?;
    let page = parse_page(&q)?;
    let rows = state
        .store
        .daily_papers(range.from, range.to, sort, page * limit, limit)
        .await?;
    Ok(Json(rows.iter().map(RowView::from).collect()))
}

async fn get_trending(
    State(state): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Vec<RowView>>, ApiError> {
    let limit = parse_limit(&q, 50, 100)?;
    let page = parse_page(&q)?;
    let rows = state.store.trending_papers(page * limit, limit).await?;
    Ok(Json(rows.iter().map(RowView::from).collect()))
}
