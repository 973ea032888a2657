//! The storage suite: one set of behaviours, run against every backend.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use paperboy_core::{ArxivId, Paper, Version};
use paperboy_store::{
    HarvestCheckpoint, HarvestCounts, HarvestPage, NewestCursor, Store, StoreError, UpsertCounts,
};
use paperboy_testkit::{seed_papers, storage_suite};

fn counts(imported: u64, updated: u64, unchanged: u64) -> UpsertCounts {
    UpsertCounts {
        imported,
        updated,
        unchanged,
    }
}

fn paper(id: &str) -> Paper {
    let mut p = seed_papers()
        .into_iter()
        .next()
        .expect("seed corpus has papers");
    p.id = ArxivId::parse(id).unwrap();
    p
}

async fn seed_corpus_roundtrips(store: Arc<dyn Store>) {
    let papers = seed_papers();
    assert_eq!(papers.len(), 68);
    let got = store.upsert_papers(papers.clone()).await.unwrap();
    assert_eq!(got, counts(68, 0, 0));
    assert_eq!(store.count_papers().await.unwrap(), 68);
    for p in &papers {
        let stored = store.get_paper(&p.id).await.unwrap();
        assert_eq!(&stored.paper, p, "{} reads back as written", p.id);
        assert_eq!(stored.upvotes, 0);
    }
    let soups = store
        .get_paper(&ArxivId::parse("2203.05482").unwrap())
        .await
        .unwrap();
    assert_eq!(
        soups.paper.github_repo(),
        Some("https://github.com/mlfoundations/model-soups")
    );
    let again = store.upsert_papers(papers).await.unwrap();
    assert_eq!(again, counts(0, 0, 68));
}

async fn unknown_paper_is_not_found(store: Arc<dyn Store>) {
    let err = store
        .get_paper(&ArxivId::parse("hep-th/9901001").unwrap())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound), "{err:?}");
}

async fn newer_version_updates_and_older_never_rolls_back(store: Arc<dyn Store>) {
    let v1 = paper("2101.00001");
    store.upsert_papers(vec![v1.clone()]).await.unwrap();
    let mut v2 = v1.clone();
    v2.title = "A better title".into();
    v2.versions.push(Version {
        number: 2,
        created_at: Utc.with_ymd_and_hms(2024, 5, 1, 0, 0, 0).unwrap(),
    });
    assert_eq!(
        store.upsert_papers(vec![v2.clone()]).await.unwrap(),
        counts(0, 1, 0)
    );
    // The stale v1 record arrives again, e.g. from an old snapshot.
    assert_eq!(
        store.upsert_papers(vec![v1]).await.unwrap(),
        counts(0, 0, 1)
    );
    let stored = store.get_paper(&v2.id).await.unwrap();
    assert_eq!(stored.paper.title, "A better title");
    assert_eq!(stored.paper.latest_version(), 2);
}

async fn same_version_with_corrected_metadata_updates(store: Arc<dyn Store>) {
    let p = paper("2101.00002");
    store.upsert_papers(vec![p.clone()]).await.unwrap();
    let mut fixed = p.clone();
    fixed.journal_ref = Some("Nature 1 (2024)".into());
    assert_eq!(
        store.upsert_papers(vec![fixed]).await.unwrap(),
        counts(0, 1, 0)
    );
    assert_eq!(
        store
            .get_paper(&p.id)
            .await
            .unwrap()
            .paper
            .journal_ref
            .as_deref(),
        Some("Nature 1 (2024)")
    );
}

async fn a_batch_may_name_a_paper_twice(store: Arc<dyn Store>) {
    let a = paper("2101.00003");
    let mut b = a.clone();
    b.title = "Second take".into();
    let got = store
        .upsert_papers(vec![a.clone(), b, a.clone()])
        .await
        .unwrap();
    assert_eq!(got, counts(1, 2, 0));
    assert_eq!(store.get_paper(&a.id).await.unwrap().paper.title, a.title);
    assert_eq!(store.count_papers().await.unwrap(), 1);
}

async fn every_write_bumps_the_change_sequence(store: Arc<dyn Store>) {
    assert_eq!(store.change_seq().await.unwrap(), 0);
    let (a, b) = (paper("2101.00004"), paper("hep-th/9901001"));
    store
        .upsert_papers(vec![a.clone(), b.clone()])
        .await
        .unwrap();
    assert_eq!(store.change_seq().await.unwrap(), 2);
    store.upsert_papers(vec![a.clone()]).await.unwrap();
    assert_eq!(
        store.change_seq().await.unwrap(),
        2,
        "an unchanged paper writes nothing"
    );
    assert!(store.delete_paper(&a.id).await.unwrap());
    assert!(
        !store.delete_paper(&a.id).await.unwrap(),
        "deleting twice changes nothing"
    );
    assert_eq!(store.change_seq().await.unwrap(), 3);

    let feed = store.changes_since(0, 100).await.unwrap();
    let seen: Vec<(i64, &str, bool)> = feed
        .iter()
        .map(|c| (c.change_seq, c.arxiv_id.as_str(), c.paper.is_some()))
        .collect();
    assert_eq!(
        seen,
        [(2, "hep-th/9901001", true), (3, "2101.00004", false)]
    );
    assert_eq!(store.changes_since(2, 100).await.unwrap().len(), 1);
    assert_eq!(store.changes_since(0, 1).await.unwrap().len(), 1);
    assert!(matches!(
        store.get_paper(&a.id).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(store.count_papers().await.unwrap(), 1);
}

async fn concurrent_writers_get_distinct_sequence_numbers(store: Arc<dyn Store>) {
    let mut tasks = Vec::new();
    for t in 0..4 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut total = UpsertCounts::default();
            for i in 0..5 {
                let p = paper(&format!("2102.{:05}", t * 100 + i));
                total.add(store.upsert_papers(vec![p]).await.unwrap());
            }
            total
        }));
    }
    let mut total = UpsertCounts::default();
    for t in tasks {
        total.add(t.await.unwrap());
    }
    assert_eq!(total, counts(20, 0, 0));
    assert_eq!(store.change_seq().await.unwrap(), 20);
    let feed = store.changes_since(0, 100).await.unwrap();
    let seqs: Vec<i64> = feed.iter().map(|c| c.change_seq).collect();
    assert_eq!(seqs, (1..=20).collect::<Vec<_>>());
}

async fn ping_answers(store: Arc<dyn Store>) {
    store.ping().await.unwrap();
}

async fn harvest_pages_apply_atomically_with_their_checkpoint(store: Arc<dyn Store>) {
    assert_eq!(store.harvest_checkpoint("cs").await.unwrap(), None);
    let day = |d: u32| chrono::NaiveDate::from_ymd_opt(2024, 5, d);
    let (a, b) = (paper("2405.00001"), paper("2405.00002"));
    let mut cp = HarvestCheckpoint::new("cs");
    cp.run_from = day(1);
    cp.resumption_token = Some("token-2".into());
    cp.run_max_datestamp = day(3);
    let page = HarvestPage {
        papers: vec![a.clone(), b.clone()],
        deleted: vec![],
        checkpoint: cp.clone(),
    };
    let got = store.apply_harvest_page(page).await.unwrap();
    assert_eq!(
        got,
        HarvestCounts {
            papers: counts(2, 0, 0),
            deleted: 0
        }
    );
    assert_eq!(
        store.harvest_checkpoint("cs").await.unwrap(),
        Some(cp.clone())
    );
    assert!(store
        .harvest_checkpoint("cs")
        .await
        .unwrap()
        .unwrap()
        .in_progress());

    let mut done = HarvestCheckpoint::new("cs");
    done.last_datestamp = day(4);
    let page = HarvestPage {
        papers: vec![a.clone()],
        deleted: vec![b.id.clone()],
        checkpoint: done.clone(),
    };
    let got = store.apply_harvest_page(page).await.unwrap();
    assert_eq!(
        got,
        HarvestCounts {
            papers: counts(0, 0, 1),
            deleted: 1
        }
    );
    assert_eq!(store.harvest_checkpoint("cs").await.unwrap(), Some(done));
    assert_eq!(store.count_papers().await.unwrap(), 1);
    assert_eq!(
        store.harvest_checkpoint("math").await.unwrap(),
        None,
        "sets are separate"
    );
}

async fn one_holder_at_a_time_gets_a_lease(store: Arc<dyn Store>) {
    assert!(store.try_lease("scheduler", "node-a", 60).await.unwrap());
    assert!(!store.try_lease("scheduler", "node-b", 60).await.unwrap());
    assert!(
        store.try_lease("scheduler", "node-a", 60).await.unwrap(),
        "renewal"
    );
    assert!(store.try_lease("other", "node-b", 60).await.unwrap());
    // An expired lease goes to whoever asks next.
    assert!(store.try_lease("short", "node-a", -1).await.unwrap());
    assert!(store.try_lease("short", "node-b", 60).await.unwrap());
    assert!(!store.try_lease("short", "node-a", 60).await.unwrap());
}

async fn rate_counts_are_one_per_key_and_window(store: Arc<dyn Store>) {
    let far = chrono::Utc::now().timestamp() + 3600;
    assert_eq!(store.count_action("vote:ada", 600, far).await.unwrap(), 1);
    assert_eq!(store.count_action("vote:ada", 600, far).await.unwrap(), 2);
    assert_eq!(store.count_action("vote:bob", 600, far).await.unwrap(), 1);
    assert_eq!(
        store.count_action("vote:ada", 1200, far).await.unwrap(),
        1,
        "a new window starts from one"
    );
    // Concurrent counts (two nodes) lose none.
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let s = store.clone();
        tasks.push(tokio::spawn(async move {
            s.count_action("log-in:10.0.0.1", 0, far).await.unwrap()
        }));
    }
    let mut seen: Vec<i64> = Vec::new();
    for t in tasks {
        seen.push(t.await.unwrap());
    }
    seen.sort_unstable();
    assert_eq!(seen, (1..=20).collect::<Vec<i64>>());
}

/// A walk newest first, a page at a time, sees every live paper once, in
/// order of first publication (ties by store key), and no deleted one.
async fn papers_walk_newest_first_in_pages(store: Arc<dyn Store>) {
    let papers = seed_papers();
    store.upsert_papers(papers.clone()).await.unwrap();
    let gone = papers[5].id.clone();
    assert!(store.delete_paper(&gone).await.unwrap());
    let mut cursor = NewestCursor::START;
    let mut seen: Vec<(NewestCursor, ArxivId)> = Vec::new();
    loop {
        let page = store.papers_newest_first(cursor, 7).await.unwrap();
        assert!(page.len() <= 7);
        let Some((last, _)) = page.last() else { break };
        cursor = *last;
        seen.extend(page.into_iter().map(|(c, p)| (c, p.paper.id)));
    }
    assert_eq!(seen.len(), 67, "every live paper once");
    assert!(
        !seen.iter().any(|(_, id)| *id == gone),
        "deleted paper listed"
    );
    let mut ids: Vec<&ArxivId> = seen.iter().map(|(_, id)| id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 67, "a paper listed twice");
    for w in seen.windows(2) {
        assert!(
            w[0].0 > w[1].0,
            "out of order: {:?} before {:?}",
            w[0],
            w[1]
        );
    }
    // The cursor's date is the paper's first publication.
    let (c, id) = &seen[0];
    let newest = papers
        .iter()
        .map(|p| p.published_at().timestamp())
        .max()
        .unwrap();
    assert_eq!(c.published_at, newest, "{id}");
}

/// A bulk load's deferred indexes: the store keeps answering without them,
/// builds them once when asked, and a store opened after a load killed
/// midway builds them by itself.
async fn deferred_indexes_are_built_again(t: paperboy_testkit::TestStore) {
    let store = t.store.clone();
    // published_at, trending, github_repo, claimed_github_repo, deleted.
    assert_eq!(store.defer_indexes().await.unwrap(), 5);
    assert_eq!(store.defer_indexes().await.unwrap(), 0, "none left to drop");
    store.upsert_papers(seed_papers()).await.unwrap();
    let page = store
        .papers_newest_first(NewestCursor::START, 100)
        .await
        .unwrap();
    assert_eq!(page.len(), 68, "listings work without the indexes");
    assert_eq!(store.restore_indexes().await.unwrap(), 5);
    assert_eq!(store.restore_indexes().await.unwrap(), 0);

    // Dropped, then the loader dies: the next open builds them.
    assert_eq!(store.defer_indexes().await.unwrap(), 5);
    drop(store);
    let reopened: Arc<dyn Store> = if t.url.starts_with("sqlite:") {
        Arc::new(paperboy_store_sqlite::open(&t.url).await.unwrap())
    } else {
        Arc::new(paperboy_store_postgres::connect(&t.url).await.unwrap())
    };
    assert_eq!(
        reopened.restore_indexes().await.unwrap(),
        0,
        "built at open"
    );
    assert_eq!(
        reopened.defer_indexes().await.unwrap(),
        5,
        "every index is there again"
    );
    assert_eq!(reopened.restore_indexes().await.unwrap(), 5);
}

#[tokio::test]
async fn deferred_indexes_are_built_again_sqlite() {
    deferred_indexes_are_built_again(paperboy_testkit::sqlite_store().await).await;
}

#[tokio::test]
async fn deferred_indexes_are_built_again_postgres() {
    match paperboy_testkit::postgres_store().await {
        Some(t) => deferred_indexes_are_built_again(t).await,
        None => eprintln!("PAPERBOY_TEST_PG is not set: PostgreSQL run skipped"),
    }
}

storage_suite!(
    papers_walk_newest_first_in_pages,
    harvest_pages_apply_atomically_with_their_checkpoint,
    one_holder_at_a_time_gets_a_lease,
    rate_counts_are_one_per_key_and_window,
    seed_corpus_roundtrips,
    unknown_paper_is_not_found,
    newer_version_updates_and_older_never_rolls_back,
    same_version_with_corrected_metadata_updates,
    a_batch_may_name_a_paper_twice,
    every_write_bumps_the_change_sequence,
    concurrent_writers_get_distinct_sequence_numbers,
    ping_answers,
);
