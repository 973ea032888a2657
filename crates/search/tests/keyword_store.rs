//! The keyword index's document store is read outside the memory map:
//! searches still highlight from it, in the writer and in a reader, and the
//! server's address space maps the postings but never a `.store` file.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use paperboy_core::ArxivId;
use paperboy_search::{KeywordIndex, SearchQuery};
use paperboy_testkit::seed_papers;

fn search(ix: &KeywordIndex, text: &str) -> Vec<paperboy_search::Hit> {
    let q = SearchQuery {
        text: text.to_string(),
        limit: 10,
        highlight: true,
        ..Default::default()
    };
    ix.search(&q).unwrap().0
}

/// Paths of the files this process has mapped.
#[cfg(target_os = "linux")]
fn mapped_files() -> Vec<String> {
    std::fs::read_to_string("/proc/self/maps")
        .unwrap()
        .lines()
        .filter_map(|l| l.split_whitespace().nth(5).map(str::to_string))
        .collect()
}

#[test]
fn stored_text_is_read_without_mapping_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let papers = seed_papers();
    let ix = KeywordIndex::open(dir.path(), true).unwrap();
    ix.apply(&papers, &[], 1).unwrap();
    ix.reload().unwrap();

    let hits = search(&ix, "averaging weights of fine-tuned models");
    assert_eq!(hits[0].arxiv_id.as_str(), "2203.05482", "Model soups first");
    let summary = hits[0].highlighted_summary.as_deref().unwrap();
    assert!(summary.contains("<mark>"), "{summary}");
    let soups = ArxivId::parse("2203.05482").unwrap();
    let (title, abs) = ix.stored_text(&soups).unwrap();
    assert!(title.starts_with("Model soups"), "{title}");
    assert!(abs.split_whitespace().count() > 100);

    // A second process's view: a reader opened on the same directory.
    let reader = KeywordIndex::open(dir.path(), false).unwrap();
    let again = search(&reader, "averaging weights of fine-tuned models");
    assert_eq!(again[0].arxiv_id, hits[0].arxiv_id);
    assert_eq!(again[0].highlighted_summary, hits[0].highlighted_summary);

    #[cfg(target_os = "linux")]
    {
        let maps = mapped_files();
        let under = |ext: &str| {
            maps.iter()
                .filter(|p| p.starts_with(dir.path().to_str().unwrap()) && p.ends_with(ext))
                .count()
        };
        assert!(under(".idx") > 0, "postings are mapped: {maps:?}");
        assert_eq!(under(".store"), 0, "no document store is mapped");
    }
}

#[test]
fn a_quoted_compound_is_a_phrase_and_a_bare_one_finds_its_pieces() {
    let dir = tempfile::tempdir().unwrap();
    let ix = KeywordIndex::open(dir.path(), true).unwrap();
    ix.apply(&seed_papers(), &[], 1).unwrap();
    ix.reload().unwrap();
    // Few papers hold either piece here, so a bare compound is still its
    // phrase; quoted, it always is. Both find papers that say it.
    for q in ["fine-tuned", "\"fine-tuned\"", "zero-shot", "\"zero-shot\""] {
        let hits = search(&ix, q);
        assert!(!hits.is_empty(), "{q}");
        let (word, _) = q.trim_matches('"').split_once('-').unwrap();
        for h in &hits {
            let (title, abs) = ix.stored_text(&h.arxiv_id).unwrap();
            let text = format!("{title} {abs}").to_lowercase();
            assert!(text.contains(word), "{q}: {}", h.arxiv_id.as_str());
        }
    }
}

/// The recommender's tf·idf vectors come out the same, to the bit, whether
/// each term's document frequency is asked of every segment or read from
/// the table of every term (built over several segments here).
#[test]
fn term_vectors_are_the_same_from_the_frequency_table() {
    let dir = tempfile::tempdir().unwrap();
    let papers = seed_papers();
    let ix = KeywordIndex::open(dir.path(), true).unwrap();
    for (seq, part) in papers.chunks(20).enumerate() {
        ix.apply(part, &[], seq as i64 + 1).unwrap();
    }
    ix.reload().unwrap();
    let ids: Vec<ArxivId> = papers.iter().map(|p| p.id.clone()).collect();
    // Asked of the index: each by a reader of its own, whose table is
    // only being started at its first call.
    let asked: Vec<_> = ids
        .iter()
        .map(|id| {
            let fresh = KeywordIndex::open(dir.path(), false).unwrap();
            fresh.doc_terms(std::slice::from_ref(id)).unwrap().remove(0)
        })
        .collect();

    let reader = KeywordIndex::open(dir.path(), false).unwrap();
    let terms = reader.table_terms().unwrap();
    assert!(terms > 500, "terms in two papers or more: {terms}");
    let tabled = reader.doc_terms(&ids).unwrap();
    assert_eq!(asked.len(), tabled.len());
    for (a, t) in asked.iter().zip(&tabled) {
        let (a, t) = (a.as_ref().unwrap(), t.as_ref().unwrap());
        assert!(!a.weights.is_empty());
        let bits = |m: &rustc_hash::FxHashMap<String, f32>| {
            let mut v: Vec<(String, u32)> =
                m.iter().map(|(k, x)| (k.clone(), x.to_bits())).collect();
            v.sort();
            v
        };
        assert_eq!(bits(&a.weights), bits(&t.weights), "{}", a.id);
        assert_eq!(bits(&a.bigrams), bits(&t.bigrams), "{}", a.id);
    }
}

/// A profile query over a window (papers first published since a day)
/// searches only the segments holding such papers; it finds exactly what
/// the same query over every segment finds in the window, with the same
/// scores. The papers are indexed oldest first in four commits, so the
/// older segments hold nothing of a recent window.
#[test]
fn a_windowed_profile_query_skips_older_segments_and_loses_nothing() {
    use std::collections::HashSet;
    let dir = tempfile::tempdir().unwrap();
    let mut papers = seed_papers();
    papers.sort_by_key(|p| p.published_at());
    let ix = KeywordIndex::open(dir.path(), true).unwrap();
    for (seq, part) in papers.chunks(17).enumerate() {
        ix.apply(part, &[], seq as i64 + 1).unwrap();
    }
    ix.reload().unwrap();
    let profile: Vec<(String, f32)> = [
        ("model", 1.0),
        ("learn", 0.6),
        ("languag", 0.5),
        ("train", 0.3),
    ]
    .iter()
    .map(|(t, w)| (t.to_string(), *w))
    .collect();
    let none = HashSet::new();
    let everything = ix.profile_hits(&profile, None, &none, 1000).unwrap();
    assert!(everything.len() > 30, "{}", everything.len());
    let published = |id: &ArxivId| {
        papers
            .iter()
            .find(|p| &p.id == id)
            .map(|p| p.published_at().timestamp())
            .unwrap()
    };
    // Windows from every paper's own date: the newest paper alone, the
    // newest segment, several, all of them.
    for p in papers.iter().rev().step_by(7) {
        let since = p.published_at().timestamp();
        let want: Vec<(String, u32)> = everything
            .iter()
            .filter(|(h, _)| published(&h.arxiv_id) >= since)
            .map(|(h, _)| (h.arxiv_id.to_string(), h.score.to_bits()))
            .collect();
        let got: Vec<(String, u32)> = ix
            .profile_hits(&profile, Some(since), &none, 1000)
            .unwrap()
            .iter()
            .map(|(h, _)| (h.arxiv_id.to_string(), h.score.to_bits()))
            .collect();
        // The same papers with the same scores, in the same order (the
        // window filters; it adds nothing to a paper's score).
        assert_eq!(got, want, "since {since}");
    }
    // A window after every paper: nothing, and no error.
    let later = papers.last().unwrap().published_at().timestamp() + 86_400;
    assert!(ix
        .profile_hits(&profile, Some(later), &none, 10)
        .unwrap()
        .is_empty());
}
