//! One source of vectors: recommendations and digest picks use the
//! transformer's vectors as soon as they are filled in (not only the
//! static index), and the reader's model reacts to feedback. The models
//! are the ones built into the binary, on the seed corpus.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use std::collections::HashSet;
use std::sync::Arc;

use paperboy_core::{ArxivId, Paper};
use paperboy_embed::{paper_text, Builtin, Embedder, PackedTransformer};
use paperboy_search::{
    abstract_words, text_hash, Engine, KeywordIndex, Pick, Pool, Semantic, Taste, VectorEntry,
    VectorIndex,
};
use paperboy_testkit::seed_papers;

fn id(s: &str) -> ArxivId {
    ArxivId::parse(s).unwrap()
}

fn embed_into(index: &VectorIndex, embedder: &dyn Embedder, papers: &[Paper]) {
    let texts: Vec<String> = papers
        .iter()
        .map(|p| paper_text(&p.title, &p.abstract_text))
        .collect();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let vectors = embedder.embed(&refs).unwrap();
    let entries: Vec<VectorEntry> = papers
        .iter()
        .zip(vectors)
        .zip(&texts)
        .map(|((p, vector), t)| VectorEntry {
            arxiv_id: p.id.clone(),
            content_hash: text_hash(t),
            words: abstract_words(p),
            vector,
        })
        .collect();
    index.apply(&entries, &[], 1).unwrap();
}

struct Fixture {
    engine: Engine,
    papers: Vec<Paper>,
    transformer: Arc<dyn Embedder>,
    _dir: tempfile::TempDir,
}

/// The seed corpus with every paper's static vector, and an empty
/// transformer index behind them (a fresh instance, before fill-in).
fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let papers = seed_papers();
    let keyword = Arc::new(KeywordIndex::open(&dir.path().join("keyword"), true).unwrap());
    keyword.apply(&papers, &[], 1).unwrap();
    keyword.reload().unwrap();
    let base_model: Arc<dyn Embedder> = Arc::new(Builtin::new());
    let base = VectorIndex::open(
        &dir.path().join("static"),
        base_model.name(),
        base_model.dim(),
        true,
    )
    .unwrap();
    embed_into(&base, &*base_model, &papers);
    let transformer: Arc<dyn Embedder> = Arc::new(PackedTransformer::builtin());
    let refined = VectorIndex::open(
        &dir.path().join("refined"),
        transformer.name(),
        transformer.dim(),
        true,
    )
    .unwrap();
    let mut engine = Engine::new(
        keyword,
        Some(Semantic {
            embedder: base_model,
            index: Arc::new(base),
        }),
    );
    engine.refined = Some(Semantic {
        embedder: transformer.clone(),
        index: Arc::new(refined),
    });
    Fixture {
        engine,
        papers,
        transformer,
        _dir: dir,
    }
}

impl Fixture {
    fn fill_in(&self) {
        let refined = self.engine.refined.as_ref().unwrap();
        embed_into(&refined.index, &*self.transformer, &self.papers);
    }

    fn picks(&self, taste: &Taste) -> Vec<ArxivId> {
        let exclude: HashSet<ArxivId> =
            taste.liked.iter().chain(&taste.disliked).cloned().collect();
        self.engine
            .recommend(taste, &Pool::All, &exclude, 15)
            .unwrap()
            .into_iter()
            .map(|p: Pick| p.arxiv_id)
            .collect()
    }
}

/// Positions of `wanted` in `ranked` summed (absent counts as the length).
fn rank_sum(ranked: &[ArxivId], wanted: &[ArxivId]) -> usize {
    wanted
        .iter()
        .map(|w| ranked.iter().position(|r| r == w).unwrap_or(ranked.len()))
        .sum()
}

#[test]
fn recommendations_and_digest_picks_use_the_transformer_once_filled_in() {
    let f = fixture();
    // A reader of papers on combining fine-tuned models.
    let taste = Taste {
        liked: vec![id("2203.05482"), id("2407.02880")],
        ..Default::default()
    };
    let held_out = [id("2402.05859"), id("2402.04644"), id("2406.15480")];
    assert!(f.engine.meaning().fine.is_none(), "nothing filled in yet");
    let before = f.picks(&taste);
    let window_ids: Vec<ArxivId> = f.papers.iter().map(|p| p.id.clone()).collect();
    let exclude: HashSet<ArxivId> = taste.liked.iter().cloned().collect();
    let digest_before: Vec<ArxivId> = f
        .engine
        .recommend_in(&f.engine.window(&window_ids), &taste, &exclude, 10)
        .unwrap()
        .into_iter()
        .map(|p| p.arxiv_id)
        .collect();

    f.fill_in();
    let soups = f.engine.meaning().of(&id("2203.05482"));
    assert!(soups.fine.is_some() && soups.base.is_some());
    let after = f.picks(&taste);
    assert_ne!(after, before, "the transformer's vectors change the picks");
    assert!(
        rank_sum(&after, &held_out) <= rank_sum(&before, &held_out),
        "and find the reader's other papers no later: before {before:?}, after {after:?}"
    );
    let digest_after: Vec<ArxivId> = f
        .engine
        .recommend_in(&f.engine.window(&window_ids), &taste, &exclude, 10)
        .unwrap()
        .into_iter()
        .map(|p| p.arxiv_id)
        .collect();
    assert_ne!(
        digest_after, digest_before,
        "the digest's picks read the same source"
    );
}

#[test]
fn the_readers_model_reacts_to_feedback() {
    let f = fixture();
    f.fill_in();
    // A reader of instruction tuning.
    let liked = vec![id("2104.08773"), id("2212.12017"), id("2211.01786")];
    let taste = Taste {
        liked: liked.clone(),
        ..Default::default()
    };
    let first = f.picks(&taste);
    // They turn down the first four picks: what the model learns from
    // that moves the papers most like them down (the turned-down papers
    // themselves are never shown again).
    let down: Vec<ArxivId> = first.iter().take(4).cloned().collect();
    let rated = Taste {
        liked,
        disliked: down.clone(),
        rated: down.len(),
    };
    let second = f.picks(&rated);
    assert!(second.iter().all(|p| !down.contains(p)));
    assert_ne!(second, first[4..].to_vec());
    // The same feedback, with the model left out: the model's part is what
    // differs.
    let mut neighbours_only = fixture();
    neighbours_only.engine.tuning.recipe = paperboy_search::Recipe::Neighbours;
    neighbours_only.fill_in();
    let without = neighbours_only.picks(&rated);
    assert_ne!(second, without, "the reader's model changed the list");
}
