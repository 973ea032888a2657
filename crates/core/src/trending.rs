//! The trending score: one pure function, shown on the About page and
//! pinned by tests.
//!
//! ```text
//!          (votes + w·Δstars + k·cites + 1) · s(c)
//! score = ─────────────────────────────────────────
//!                    (age_h + 2) ^ G
//! ```
//!
//! * `votes`: upvotes; `Δstars`: GitHub stars gained over the last week,
//!   weighted by `w` = 0.1 (ten new stars count as one upvote);
//! * `cites`: papers here that cite it and were first submitted in the
//!   last week (read from their full text), weighted by `k` = 1 (a new
//!   citing paper counts as an upvote);
//! * the `+ 1` is the paper's own appearance, so new papers without votes
//!   still rise by recency (Hacker News counts the submitter's vote the
//!   same way);
//! * `age_h`: hours since the paper's first version; `G` = 1.8 is Hacker
//!   News' published gravity;
//! * `s(c)`: the per-category scale, `(n_max / n_c)^(1/4)` clamped to
//!   [1, 3], where `n_c` is the number of papers in the paper's primary
//!   category in the trending window and `n_max` that of the busiest
//!   category, so a small field needs fewer votes to reach the list.

pub const GRAVITY: f64 = 1.8;
pub const STAR_WEIGHT: f64 = 0.1;
pub const CITATION_WEIGHT: f64 = 1.0;
pub const MAX_CATEGORY_SCALE: f64 = 3.0;
/// Papers older than this (by first version) are out of the running.
pub const WINDOW_DAYS: i64 = 30;
/// `Δstars` counts the stars gained over this many days.
pub const STAR_GROWTH_DAYS: i64 = 7;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrendingInput {
    pub upvotes: i64,
    pub star_growth: f64,
    /// Citing papers first submitted over the last week.
    pub new_citations: i64,
    pub age_hours: f64,
    pub category_scale: f64,
}

pub fn trending_score(i: TrendingInput) -> f64 {
    let points = i.upvotes.max(0) as f64
        + STAR_WEIGHT * i.star_growth.max(0.0)
        + CITATION_WEIGHT * i.new_citations.max(0) as f64
        + 1.0;
    points * i.category_scale / (i.age_hours.max(0.0) + 2.0).powf(GRAVITY)
}

/// `(n_max / n_c)^(1/4)` clamped to [1, 3].
pub fn category_scale(papers_in_category: u64, papers_in_busiest: u64) -> f64 {
    if papers_in_category == 0 || papers_in_busiest <= papers_in_category {
        return 1.0;
    }
    (papers_in_busiest as f64 / papers_in_category as f64)
        .powf(0.25)
        .clamp(1.0, MAX_CATEGORY_SCALE)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn score(upvotes: i64, star_growth: f64, age_hours: f64, category_scale: f64) -> f64 {
        trending_score(TrendingInput {
            upvotes,
            star_growth,
            new_citations: 0,
            age_hours,
            category_scale,
        })
    }

    #[test]
    fn pinned_values() {
        // (0 + 0 + 1) / 2^1.8
        assert!((score(0, 0.0, 0.0, 1.0) - 0.287_174_588_749_258_8).abs() < 1e-15);
        // (10 + 1) / 12^1.8
        assert!((score(10, 0.0, 10.0, 1.0) - 0.125_564_375_865_899_2).abs() < 1e-15);
        // (10 + 0.1·50 + 1) / 24^1.8
        assert!((score(10, 50.0, 22.0, 1.0) - 0.052_449_306_183_050_104).abs() < 1e-15);
        // (10 + 0 + 1·3 + 1) / 12^1.8: three new citing papers, three votes
        let cited = trending_score(TrendingInput {
            upvotes: 10,
            star_growth: 0.0,
            new_citations: 3,
            age_hours: 10.0,
            category_scale: 1.0,
        });
        assert!((cited - score(13, 0.0, 10.0, 1.0)).abs() < 1e-15);
        // scale 2 doubles
        assert!((score(10, 0.0, 10.0, 2.0) - 2.0 * 0.125_564_375_865_899_2).abs() < 1e-15);
    }

    #[test]
    fn shape() {
        assert!(
            score(5, 0.0, 1.0, 1.0) > score(4, 0.0, 1.0, 1.0),
            "votes lift"
        );
        assert!(
            score(5, 0.0, 1.0, 1.0) > score(5, 0.0, 2.0, 1.0),
            "age sinks"
        );
        assert!(
            score(-3, -10.0, -5.0, 1.0) == score(0, 0.0, 0.0, 1.0),
            "no negative inputs"
        );
        assert_eq!(category_scale(100, 100), 1.0);
        assert_eq!(category_scale(0, 100), 1.0);
        assert!((category_scale(1, 16) - 2.0).abs() < 1e-12);
        assert_eq!(category_scale(1, 1_000_000), 3.0);
    }
}
