//! arxiv-sanity-lite's recipe, as the floor Paperboy's picks must beat: per
//! reader, a linear SVM on tf·idf words and word pairs of every paper, the
//! library the positives and every other paper a negative (classes
//! balanced, cost 0.01), papers ranked by its score. Written here from the
//! description of that project's method, with Paperboy's own analysis of
//! the text (stems, stop words out); it reads every paper of the index, so
//! it serves evaluations (`paperboy eval --profiles`), not readers.

use std::collections::HashSet;
use std::sync::Arc;

use paperboy_core::ArxivId;

use super::learn::{self, Blocks};
use super::meaning::PaperVectors;
use super::terms::pick_by_terms;
use super::{Pick, Pool, Taste};
use crate::engine::Engine;
use crate::keyword::DocTerms;
use crate::SearchError;

/// The recipe's SVM cost.
const COST: f32 = 0.01;

impl Engine {
    pub(super) fn recommend_sanity(
        &self,
        taste: &Taste,
        pool: &Pool,
        exclude: &HashSet<ArxivId>,
        limit: usize,
    ) -> Result<Vec<Pick>, SearchError> {
        let corpus = self.corpus()?;
        let liked: HashSet<&ArxivId> = taste.liked.iter().collect();
        let empty = PaperVectors::default();
        let examples: Vec<learn::Example<'_>> = corpus
            .iter()
            .map(|t| learn::Example {
                terms: Some(t),
                features: None,
                vecs: &empty,
                label: if liked.contains(&t.id) { 1.0 } else { -1.0 },
                weight: 1.0,
            })
            .collect();
        // Words and pairs in one vector of unit length, as one tf·idf
        // matrix of 1- and 2-grams would be.
        let blocks = Blocks {
            words: std::f32::consts::FRAC_1_SQRT_2,
            pairs: std::f32::consts::FRAC_1_SQRT_2,
            fine: 0.0,
            base: 0.0,
        };
        let model = learn::train(&examples, Arc::default(), COST, blocks, 1);
        let in_pool: Option<HashSet<&ArxivId>> = match pool {
            Pool::Since { ids, .. } => Some(ids.iter().collect()),
            Pool::All => None,
        };
        let mut scored: Vec<(f32, &DocTerms)> = corpus
            .iter()
            .map(|t| &**t)
            .filter(|t| !exclude.contains(&t.id) && !liked.contains(&t.id))
            .filter(|t| in_pool.as_ref().is_none_or(|p| p.contains(&t.id)))
            .map(|t| (model.score(Some(t), &empty), t))
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.id.cmp(&b.1.id)));
        scored.truncate(limit);
        let liked_terms: Vec<&DocTerms> = corpus
            .iter()
            .map(|t| &**t)
            .filter(|t| liked.contains(&t.id))
            .collect();
        Ok(scored
            .into_iter()
            .map(|(score, t)| pick_by_terms(t, liked_terms.iter().copied(), score))
            .collect())
    }

    /// Every paper's terms, read once per index size.
    fn corpus(&self) -> Result<Arc<Vec<Arc<DocTerms>>>, SearchError> {
        let docs = self.keyword.num_docs();
        if let Some((n, c)) = self.learning.corpus.lock().ok().and_then(|c| c.clone()) {
            if n == docs {
                return Ok(c);
            }
        }
        let ids = self.keyword.sample_ids(usize::MAX, 0)?;
        let terms: Vec<Arc<DocTerms>> = ids
            .chunks(512)
            .map(|c| self.terms_of(c))
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .flatten()
            .collect();
        let terms = Arc::new(terms);
        if let Ok(mut slot) = self.learning.corpus.lock() {
            *slot = Some((docs, terms.clone()));
        }
        Ok(terms)
    }
}
