//! `GET /api/daily_papers` and `GET /api/trending`.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use paperboy_app::views::RowView;
use paperboy_core::days::{parse_date, parse_month, parse_week};
use paperboy_core::DayRange;
use paperboy_store::DailySort;

use super::{parse_limit, parse_page};
use crate::{ApiError, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/daily_papers", get(get_daily_papers))
        .route("/api/trending", get(get_trending))
}

fn bad(e: impl std::fmt::Display) -> ApiError {
    ApiError::bad_request(e.to_string())
}

async fn get_daily_papers(
    State(state): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Vec<RowView>>, ApiError> {
    // One of date, week, month: the first given of these wins.
    // Each one given is checked, then the first wins.
    let date = q
        .get("date")
        .map(|d| parse_date(d).map(DayRange::day))
        .transpose()
        .map_err(bad)?;
    let week = q
        .get("week")
        .map(|w| parse_week(w))
        .transpose()
        .map_err(bad)?;
    let month = q
        .get("month")
        .map(|m| parse_month(m))
        .transpose()
        .map_err(bad)?;
    let range = if let Some(r) = date.or(week).or(month) {
        r
    } else if q.contains_key("submitter") {
        // A member's submissions, every day.
        DayRange {
            from: chrono::NaiveDate::from_ymd_opt(1991, 1, 1).unwrap_or_default(),
            to: chrono::NaiveDate::from_ymd_opt(9999, 12, 31).unwrap_or_default(),
        }
    } else {
        DayRange::day(state.app.today())
    };
    let sort = match q.get("sort").map(String::as_str) {
        None | Some("trending") => DailySort::Trending,
        Some("publishedAt") => DailySort::PublishedAt,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "sort must be trending or publishedAt, not `{other}`"
            )))
        }
    };
    let limit = parse_limit(&q, 50, 100)?;
    let page = parse_page(&q)?;
    let submitter = match q.get("submitter").map(String::as_str) {
        Some("") => return Err(ApiError::bad_request("submitter must be a username")),
        // No username holds a NUL (and PostgreSQL text cannot).
        Some(s) if s.contains('\0') => return Ok(Json(Vec::new())),
        other => other,
    };
    let rows = state
        .app
        .daily(range, sort, submitter, page * limit, limit)
        .await?;
    Ok(Json(state.app.row_views(&rows).await?))
}

async fn get_trending(
    State(state): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Vec<RowView>>, ApiError> {
    let limit = parse_limit(&q, 50, 100)?;
    let page = parse_page(&q)?;
    let rows = state.app.trending(page * limit, limit).await?;
    Ok(Json(state.app.row_views(&rows).await?))
}
