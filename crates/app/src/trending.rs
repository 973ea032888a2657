//! Refreshing the stored trending keys from the formula in `core`: every
//! key on a schedule (the scheduler's trending job), one paper's after a
//! vote.

use std::collections::HashMap;
use std::sync::RwLock;

use chrono::{DateTime, Utc};
use paperboy_core::trending::{
    category_scale, trending_score, TrendingInput, STAR_GROWTH_DAYS, WINDOW_DAYS,
};
use paperboy_core::PaperId;
use paperboy_store::{CommunityStore, StoreError, StoredPaper};

/// Category scales from the last full refresh, for single-paper updates.
#[derive(Default)]
pub struct Scales(RwLock<HashMap<String, f64>>);

impl Scales {
    pub fn get(&self, category: &str) -> f64 {
        self.0
            .read()
            .map(|m| m.get(category).copied().unwrap_or(1.0))
            .unwrap_or(1.0)
    }
}

/// `Δstars` counts from here.
fn stars_since(now: DateTime<Utc>) -> i64 {
    (now - chrono::Duration::days(STAR_GROWTH_DAYS)).timestamp()
}

fn age_hours(now: DateTime<Utc>, published_at: i64) -> f64 {
    (now.timestamp() - published_at) as f64 / 3600.0
}

/// Recomputes every key in the window and zeroes those that left it.
pub async fn refresh_all(
    store: &dyn CommunityStore,
    scales: &Scales,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    let since = (now - chrono::Duration::days(WINDOW_DAYS)).timestamp();
    let rows = store.trending_rows(since, stars_since(now)).await?;
    let mut counts: HashMap<&str, u64> = HashMap::new();
    for r in &rows {
        *counts.entry(r.primary_category.as_str()).or_default() += 1;
    }
    let busiest = counts.values().copied().max().unwrap_or(0);
    let table: HashMap<String, f64> = counts
        .iter()
        .map(|(c, n)| (c.to_string(), category_scale(*n, busiest)))
        .collect();
    let scores: Vec<(PaperId, f64)> = rows
        .iter()
        .map(|r| {
            let input = TrendingInput {
                upvotes: r.upvotes,
                star_growth: r.star_growth as f64,
                new_citations: r.new_citations,
                age_hours: age_hours(now, r.published_at),
                category_scale: table.get(&r.primary_category).copied().unwrap_or(1.0),
            };
            (r.paper_id, trending_score(input))
        })
        .collect();
    let n = scores.len();
    store.set_trending_scores(scores, since).await?;
    if let Ok(mut t) = scales.0.write() {
        *t = table;
    }
    Ok(n)
}

/// Recomputes one paper's key after a vote.
pub async fn refresh_one(
    store: &dyn CommunityStore,
    scales: &Scales,
    paper: &StoredPaper,
    upvotes: i64,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let published = paper.paper.published_at().timestamp();
    if published < (now - chrono::Duration::days(WINDOW_DAYS)).timestamp() {
        return Ok(());
    }
    let category = paper
        .paper
        .primary_category()
        .map(|c| c.as_str())
        .unwrap_or("");
    let row = store.trending_row(paper.paper_id, stars_since(now)).await?;
    let input = TrendingInput {
        upvotes,
        star_growth: row.star_growth as f64,
        new_citations: row.new_citations,
        age_hours: age_hours(now, published),
        category_scale: scales.get(category),
    };
    store
        .set_trending_scores(vec![(paper.paper_id, trending_score(input))], i64::MIN)
        .await
}
