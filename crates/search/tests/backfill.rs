//! Filling in a second vector index behind the serving one: newest papers
//! first, resumable after a failure, following the change feed afterwards.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use paperboy_core::Paper;
use paperboy_embed::{paper_text, EmbedError, Embedder};
use paperboy_search::{backfill, embed_catch_up, is_filling, VectorIndex};
use paperboy_testkit::{seed_papers, sqlite_store};

/// Records what it embeds; fails once `fail_after` texts have been embedded.
struct Recording {
    seen: Mutex<Vec<String>>,
    fail_after: AtomicUsize,
}

impl Recording {
    fn new(fail_after: usize) -> Arc<Self> {
        Arc::new(Recording {
            seen: Mutex::new(Vec::new()),
            fail_after: AtomicUsize::new(fail_after),
        })
    }
}

impl Embedder for Recording {
    fn name(&self) -> &str {
        "recording"
    }
    fn dim(&self) -> usize {
        3
    }
    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let mut seen = self.seen.lock().unwrap();
        if seen.len() + texts.len() > self.fail_after.load(Ordering::SeqCst) {
            return Err(EmbedError::Model("out of memory (on purpose)".into()));
        }
        seen.extend(texts.iter().map(|t| t.to_string()));
        Ok(texts
            .iter()
            .map(|t| {
                let x = (t.len() % 7) as f32 + 1.0;
                let n = (x * x + 2.0).sqrt();
                vec![x / n, 1.0 / n, 1.0 / n]
            })
            .collect())
    }
}

fn text(p: &Paper) -> String {
    paper_text(&p.title, &p.abstract_text)
}

#[tokio::test]
async fn newest_papers_first_then_resumes_and_follows_changes() {
    let t = sqlite_store().await;
    let store = t.store.clone();
    let mut papers = seed_papers();
    store.upsert_papers(papers.clone()).await.unwrap();
    papers.sort_by_key(|p| std::cmp::Reverse(p.published_at()));
    let dir = tempfile::tempdir().unwrap();
    let index = Arc::new(VectorIndex::open(dir.path(), "recording", 3, true).unwrap());
    assert!(is_filling(&index));

    // A failure part-way (after 40 papers): what was embedded is kept, and
    // the index still counts as being filled.
    let failing = Recording::new(40);
    let emb: Arc<dyn Embedder> = failing.clone();
    let err = backfill(&*store, &index, &emb, |_| {}).await.unwrap_err();
    assert!(err.to_string().contains("on purpose"), "{err}");
    let first = failing.seen.lock().unwrap().clone();
    assert_eq!(first.len(), 32, "one whole batch of 32 before the failure");
    let newest: Vec<String> = papers.iter().take(32).map(text).collect();
    // Same-day papers may come in either order; as sets, the first batch
    // is exactly the 32 newest (their dates are distinct from the rest).
    let cut = papers[31].published_at();
    if papers[32].published_at() != cut {
        let mut a = first.clone();
        let mut b = newest.clone();
        a.sort();
        b.sort();
        assert_eq!(a, b, "the first batch is the newest papers");
    }
    assert_eq!(index.len(), 32);
    assert!(is_filling(&index));

    // The second run embeds only what is left and ends following the feed.
    let rest = Recording::new(usize::MAX);
    let emb: Arc<dyn Embedder> = rest.clone();
    let mut covered = Vec::new();
    let n = backfill(&*store, &index, &emb, |c| covered.push(c))
        .await
        .unwrap();
    assert_eq!(n, 36);
    assert_eq!(rest.seen.lock().unwrap().len(), 36);
    assert_eq!(index.len(), 68);
    assert_eq!(covered.last(), Some(&68));
    assert!(!is_filling(&index));
    assert_eq!(index.synced_seq(), store.change_seq().await.unwrap());
    // Every paper in the order newest first across both runs (by date).
    let order: Vec<String> = first
        .iter()
        .chain(rest.seen.lock().unwrap().iter())
        .cloned()
        .collect();
    let date_of = |t: &String| {
        papers
            .iter()
            .find(|p| text(p) == *t)
            .map(|p| p.published_at())
            .unwrap()
    };
    for w in order.windows(2) {
        assert!(date_of(&w[0]) >= date_of(&w[1]), "not newest first");
    }
    // A finished index does not walk again.
    assert_eq!(backfill(&*store, &index, &emb, |_| {}).await.unwrap(), 0);

    // Afterwards it follows the change feed: a deletion and a new paper.
    let gone = papers[3].id.clone();
    store.delete_paper(&gone).await.unwrap();
    let mut new = papers[0].clone();
    new.id = paperboy_core::ArxivId::parse("2611.00001").unwrap();
    new.title = "A paper that arrived after the walk".into();
    store.upsert_papers(vec![new.clone()]).await.unwrap();
    embed_catch_up(&*store, &index, &emb, |_| {}).await.unwrap();
    assert_eq!(index.len(), 68);
    assert!(index.vector_of(&gone).is_none());
    assert!(index.vector_of(&new.id).is_some());
}
