//! Recommendations for a member (or one of their tags) from their library
//! and feedback, with the reasons for each; 👍/👎 and "not interested".

use std::collections::HashSet;

use paperboy_core::search::{Pool, Taste};
use paperboy_core::{text::author_key, ArxivId, User};
use paperboy_store::{ListedPaper, MuteKind};

use crate::library::check_tag;
use crate::{App, AppError};

/// Most picks one request returns.
pub const MAX_LIMIT: usize = 100;
/// Longest window, in days (0 is the whole store).
pub const MAX_DAYS: u32 = 3650;
/// Most new papers a window considers.
const MAX_WINDOW: u32 = 100_000;

/// One recommendation and why it was made.
pub struct Recommendation {
    pub paper: ListedPaper,
    pub score: f32,
    /// Library papers it is closest to.
    pub similar_to: Vec<ArxivId>,
    /// Distinctive words it shares with them.
    pub terms: Vec<String>,
    /// Library papers it cites (from its full text's reference list).
    pub cites: Vec<ArxivId>,
}

/// What citing a library paper adds to a pick's score, per paper cited (up
/// to [`MAX_CITED_BONUS`] papers): a pick that builds on the reader's
/// papers moves up a little among picks of about the same closeness.
pub const CITE_BONUS: f32 = 0.02;
pub const MAX_CITED_BONUS: usize = 3;

/// What was asked: a tag (or the whole library), the last `days` days (0:
/// the whole store), how many.
#[derive(Debug, Clone)]
pub struct RecRequest {
    pub tag: Option<String>,
    pub days: u32,
    pub limit: usize,
}

impl RecRequest {
    pub fn new(tag: Option<&str>, days: u32, limit: usize) -> Result<RecRequest, AppError> {
        if days > MAX_DAYS {
            return Err(AppError::Invalid(format!(
                "days must be from 0 (the whole store) to {MAX_DAYS}, not {days}"
            )));
        }
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(AppError::Invalid(format!(
                "limit must be a number from 1 to {MAX_LIMIT}, not {limit}"
            )));
        }
        Ok(RecRequest {
            tag: tag.map(check_tag).transpose()?,
            days,
            limit,
        })
    }
}

/// Whether a muted category or author rules the paper out.
fn muted(p: &ListedPaper, mutes: &[(MuteKind, String)]) -> bool {
    let paper = &p.stored.paper;
    mutes.iter().any(|(kind, v)| match kind {
        MuteKind::Category => paper.categories.iter().any(|c| c.as_str() == v),
        MuteKind::Author => paper.authors.iter().any(|a| author_key(&a.name) == *v),
    })
}

impl App {
    /// Papers the member has not saved or rated, best first, each with
    /// the library papers it is closest to and the words they share.
    pub async fn recommendations(
        &self,
        user: &User,
        req: &RecRequest,
    ) -> Result<Vec<Recommendation>, AppError> {
        let search = self.search_port()?;
        let (taste, exclude) = self.taste_of(user.user_id, req.tag.as_deref()).await?;
        let mutes = self.store.mutes(user.user_id).await?;
        if taste.liked.is_empty() {
            return Ok(Vec::new());
        }
        let pool = if req.days == 0 {
            Pool::All
        } else {
            let since = chrono::Utc::now().timestamp() - i64::from(req.days) * 86_400;
            let ids = self.store.published_since(since, MAX_WINDOW).await?;
            Pool::Since { since, ids }
        };
        // Muted papers are dropped after the fact: ask for a few more.
        let want = if mutes.is_empty() {
            req.limit
        } else {
            req.limit * 2 + 10
        };
        let picks = search.recommend(&taste, &pool, &exclude, want).await?;
        let ids: Vec<ArxivId> = picks.iter().map(|p| p.arxiv_id.clone()).collect();
        let mut papers: std::collections::HashMap<ArxivId, ListedPaper> =
            self.papers_by_id(&ids).await?;
        let mut out = Vec::with_capacity(req.limit);
        for p in picks {
            let Some(paper) = papers.remove(&p.arxiv_id) else {
                continue; // deleted since it was indexed
            };
            if muted(&paper, &mutes) {
                continue;
            }
            out.push(Recommendation {
                paper,
                score: p.score,
                similar_to: p.similar_to,
                terms: p.terms,
                cites: Vec::new(),
            });
        }
        // Which library papers each pick cites: a reason, and a feature.
        let keys: Vec<paperboy_core::PaperId> =
            out.iter().map(|r| r.paper.stored.paper_id).collect();
        for (citing, cited) in self.store.library_cited_by(user.user_id, &keys).await? {
            if let Some(r) = out.iter_mut().find(|r| r.paper.stored.paper_id == citing) {
                r.cites.push(cited);
            }
        }
        for r in &mut out {
            r.score += CITE_BONUS * r.cites.len().min(MAX_CITED_BONUS) as f32;
        }
        out.sort_by(|a, b| b.score.total_cmp(&a.score));
        out.truncate(req.limit);
        Ok(out)
    }

    /// What a member likes (their library, or one tag of it, and 👍) and
    /// dislikes (👎), and what is never recommended to them (the whole
    /// library and every paper they rated): what every channel of picks
    /// (the page, the API, the feed, the digest) learns from.
    pub(crate) async fn taste_of(
        &self,
        user: paperboy_core::UserId,
        tag: Option<&str>,
    ) -> Result<(Taste, HashSet<ArxivId>), AppError> {
        let library = self.store.library_ids(user, None).await?;
        let liked = match tag {
            Some(t) => self.store.library_ids(user, Some(t)).await?,
            None => library.clone(),
        };
        let mut exclude: HashSet<ArxivId> = library.into_iter().collect();
        let mut taste = Taste {
            liked,
            ..Default::default()
        };
        // Ratings come oldest first; a 👍 goes before the library (the
        // recommender reads the most recent liked papers most closely, and
        // a 👍 is the newest and plainest word a reader gave), 👎 newest
        // first.
        let mut thumbs_up = Vec::new();
        for (id, v) in self.store.feedback(user).await?.into_iter().rev() {
            if v > 0 {
                thumbs_up.push(id.clone());
            } else {
                taste.disliked.push(id.clone());
            }
            taste.rated += 1;
            exclude.insert(id);
        }
        if !thumbs_up.is_empty() {
            let up: HashSet<&ArxivId> = thumbs_up.iter().collect();
            taste.liked.retain(|id| !up.contains(id));
            thumbs_up.append(&mut taste.liked);
            taste.liked = thumbs_up;
        }
        Ok((taste, exclude))
    }

    /// 👍 (1) or 👎 (-1) on a paper (0 forgets it).
    pub async fn rec_feedback(
        &self,
        user: &User,
        id: &ArxivId,
        value: i64,
    ) -> Result<(), AppError> {
        if !(-1..=1).contains(&value) {
            return Err(AppError::Invalid(format!(
                "value must be 1 (more like this) or -1 (less like this), not {value}"
            )));
        }
        let key = self.paper_key(id).await?;
        self.store.set_feedback(user.user_id, key, value).await?;
        Ok(())
    }

    /// "Not interested" in a category or an author (or interested again).
    pub async fn mute(
        &self,
        user: &User,
        kind: MuteKind,
        value: &str,
        on: bool,
    ) -> Result<(), AppError> {
        let value = match kind {
            MuteKind::Category => {
                let v = value.trim();
                if v.is_empty()
                    || v.len() > 40
                    || !v
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-'))
                {
                    return Err(AppError::Invalid(format!("`{v}` is not an arXiv category")));
                }
                v.to_string()
            }
            MuteKind::Author => {
                let k = author_key(value);
                if k.is_empty() || k.len() > 200 {
                    return Err(AppError::Invalid("an author's name is needed".into()));
                }
                k
            }
        };
        self.store.mute(user.user_id, kind, &value, on).await?;
        Ok(())
    }

    pub async fn mutes(&self, user: &User) -> Result<Vec<(MuteKind, String)>, AppError> {
        Ok(self.store.mutes(user.user_id).await?)
    }
}

/// Why a paper was picked, as the API shows it.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WhyView {
    pub similar_to: Vec<String>,
    pub terms: Vec<String>,
    /// Library papers it cites.
    pub cites_library: Vec<String>,
}

/// A recommendation as the API (and `paperboy recommend --json`) shows it.
#[derive(Debug, serde::Serialize)]
pub struct RecommendationView {
    pub paper: crate::views::PaperView,
    pub score: f32,
    pub why: WhyView,
}

impl App {
    pub async fn recommendation_views(
        &self,
        recs: &[Recommendation],
    ) -> Result<Vec<RecommendationView>, AppError> {
        let ids: Vec<paperboy_core::PaperId> =
            recs.iter().map(|r| r.paper.stored.paper_id).collect();
        let claims = self.claimed_authors(&ids).await?;
        Ok(recs
            .iter()
            .map(|r| RecommendationView {
                paper: crate::views::PaperView::new(
                    &r.paper.stored,
                    claims.get(&r.paper.stored.paper_id),
                ),
                score: r.score,
                why: WhyView {
                    similar_to: r
                        .similar_to
                        .iter()
                        .map(|i| i.as_str().to_string())
                        .collect(),
                    terms: r.terms.clone(),
                    cites_library: r.cites.iter().map(|i| i.as_str().to_string()).collect(),
                },
            })
            .collect())
    }
}
