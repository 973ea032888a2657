//! Libraries, tags, feedback, mutes, follows and feed tokens on every backend.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use std::sync::Arc;

use paperboy_core::ArxivId;
use paperboy_store::{
    FollowKind, LibraryQuery, LibrarySort, MuteKind, SaveCounts, Store, StoreError,
};
use paperboy_testkit::{seed_papers, storage_suite};

use paperboy_testkit::{paper_key as paper, store_member as user};

fn ids(list: &[paperboy_store::ListedPaper]) -> Vec<String> {
    list.iter()
        .map(|l| l.stored.paper.id.as_str().to_string())
        .collect()
}

async fn library_tags_and_collections(store: Arc<dyn Store>) {
    store.upsert_papers(seed_papers()).await.unwrap();
    let (ada, bob) = (user(&store, "ada").await, user(&store, "bob").await);
    assert!(!store.any_library().await.unwrap());
    let soups = paper(&store, "2203.05482").await;
    let ties = paper(&store, "2407.02880").await;
    let other = paper(&store, "2110.04366").await;
    let tags = vec!["merging".to_string(), "read".to_string()];
    assert!(
        store.save(ada, soups, &tags).await.unwrap(),
        "new to the library"
    );
    assert!(
        !store.save(ada, soups, &tags[..1]).await.unwrap(),
        "saved twice is once"
    );
    assert!(store.any_library().await.unwrap());
    let counts = store
        .save_many(ada, &[soups, ties, other], Some("merging"))
        .await
        .unwrap();
    assert_eq!(
        counts,
        SaveCounts {
            added: 2,
            already: 1
        }
    );

    let all = store
        .library(
            ada,
            &LibraryQuery {
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(all.len(), 3);
    let by_title = store
        .library(
            ada,
            &LibraryQuery {
                sort: LibrarySort::Title,
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let titles: Vec<String> = by_title
        .iter()
        .map(|l| l.stored.paper.title.to_lowercase())
        .collect();
    let mut sorted = titles.clone();
    sorted.sort();
    assert_eq!(titles, sorted);
    let found = store
        .library(
            ada,
            &LibraryQuery {
                text: Some("model SOUPS".into()),
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(ids(&found), vec!["2203.05482"]);
    let tagged = store.library_ids(ada, Some("merging")).await.unwrap();
    assert_eq!(tagged.len(), 3);
    assert_eq!(
        store.library_ids(ada, Some("read")).await.unwrap(),
        Vec::<ArxivId>::new(),
        "save replaced the tags"
    );
    assert!(
        store.library_ids(bob, None).await.unwrap().is_empty(),
        "bob's library is his own"
    );

    let saved = store.saved(ada, &[soups, other]).await.unwrap();
    assert_eq!(saved.len(), 2);
    assert!(saved.iter().all(|s| s.tags == vec!["merging".to_string()]));
    assert!(store.saved(bob, &[soups]).await.unwrap().is_empty());

    let tags = store.tags(ada).await.unwrap();
    assert_eq!(
        tags.len(),
        1,
        "a tag without papers is not listed: {tags:?}"
    );
    assert_eq!(
        (tags[0].tag.as_str(), tags[0].public, tags[0].papers),
        ("merging", false, 3)
    );
    assert!(!store.tag_public(ada, "merging").await.unwrap());
    store.set_tag_public(ada, "merging", true).await.unwrap();
    assert!(store.tag_public(ada, "merging").await.unwrap());
    assert!(matches!(
        store.set_tag_public(bob, "merging", true).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.tag_public(bob, "merging").await,
        Err(StoreError::NotFound)
    ));

    assert!(store.unsave(ada, other).await.unwrap());
    assert!(!store.unsave(ada, other).await.unwrap());
    assert_eq!(
        store.library_ids(ada, Some("merging")).await.unwrap().len(),
        2
    );
    assert_eq!(
        store.library_sizes(&[ada, bob]).await.unwrap(),
        vec![(ada, 2)]
    );

    // The ids the picks start from, kept beside each saved paper; a
    // withdrawn paper leaves them, from the whole library and its tags.
    let sorted = |ids: Vec<ArxivId>| {
        let mut v: Vec<String> = ids.iter().map(|i| i.as_str().to_string()).collect();
        v.sort();
        v
    };
    assert_eq!(
        sorted(store.library_ids(ada, None).await.unwrap()),
        vec!["2203.05482", "2407.02880"]
    );
    assert!(store
        .delete_paper(&ArxivId::parse("2407.02880").unwrap())
        .await
        .unwrap());
    assert_eq!(
        sorted(store.library_ids(ada, None).await.unwrap()),
        vec!["2203.05482"],
        "a withdrawn paper is no pick seed"
    );
    assert_eq!(
        store.library_ids(ada, Some("merging")).await.unwrap().len(),
        1
    );
}

async fn feedback_mutes_follows_and_tokens(store: Arc<dyn Store>) {
    store.upsert_papers(seed_papers()).await.unwrap();
    let (ada, bob) = (user(&store, "ada").await, user(&store, "bob").await);
    let soups = paper(&store, "2203.05482").await;
    store.set_feedback(ada, soups, -1).await.unwrap();
    store.set_feedback(ada, soups, 1).await.unwrap();
    assert_eq!(
        store.feedback(ada).await.unwrap(),
        vec![(ArxivId::parse("2203.05482").unwrap(), 1)]
    );
    assert!(store.feedback(bob).await.unwrap().is_empty());
    store.set_feedback(ada, soups, 0).await.unwrap();
    assert!(store.feedback(ada).await.unwrap().is_empty());
    // Ratings come back in the order they were given, however many fall
    // within one second (their time is in whole seconds), and one changed
    // later moves to the end.
    let given = ["2412.02186", "2308.02533", "2403.06221", "2308.15777"];
    for (i, id) in given.iter().enumerate() {
        let p = paper(&store, id).await;
        store
            .set_feedback(bob, p, if i % 2 == 0 { -1 } else { 1 })
            .await
            .unwrap();
    }
    let order = |f: Vec<(ArxivId, i64)>| -> Vec<String> {
        f.into_iter().map(|(id, _)| id.to_string()).collect()
    };
    assert_eq!(order(store.feedback(bob).await.unwrap()), given);
    let first = paper(&store, given[0]).await;
    store.set_feedback(bob, first, 1).await.unwrap();
    assert_eq!(
        order(store.feedback(bob).await.unwrap()),
        [given[1], given[2], given[3], given[0]]
    );

    store
        .mute(ada, MuteKind::Category, "cs.CV", true)
        .await
        .unwrap();
    store
        .mute(ada, MuteKind::Author, "wortsman m", true)
        .await
        .unwrap();
    store
        .mute(ada, MuteKind::Author, "wortsman m", true)
        .await
        .unwrap();
    assert_eq!(store.mutes(ada).await.unwrap().len(), 2);
    store
        .mute(ada, MuteKind::Category, "cs.CV", false)
        .await
        .unwrap();
    assert_eq!(
        store.mutes(ada).await.unwrap(),
        vec![(MuteKind::Author, "wortsman m".to_string())]
    );

    store
        .follow(ada, FollowKind::Paper, "2203.05482", "v1", true)
        .await
        .unwrap();
    store
        .follow(bob, FollowKind::Paper, "2203.05482", "v1", true)
        .await
        .unwrap();
    store
        .follow(ada, FollowKind::Author, "wortsman m", "", true)
        .await
        .unwrap();
    let targets = vec!["2203.05482".to_string()];
    assert_eq!(
        store
            .followers(FollowKind::Paper, Some(&targets))
            .await
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        store
            .followers(FollowKind::Author, None)
            .await
            .unwrap()
            .len(),
        1
    );
    store
        .set_follow_state(ada, FollowKind::Paper, "2203.05482", "v2")
        .await
        .unwrap();
    let mine = store.follows(ada).await.unwrap();
    assert_eq!(mine.len(), 2);
    let p = mine.iter().find(|f| f.kind == FollowKind::Paper).unwrap();
    assert_eq!(p.state, "v2");
    store
        .follow(bob, FollowKind::Paper, "2203.05482", "", false)
        .await
        .unwrap();
    assert_eq!(
        store
            .followers(FollowKind::Paper, Some(&targets))
            .await
            .unwrap()
            .len(),
        1
    );

    assert!(!store.has_feed_token(ada).await.unwrap());
    store.add_feed_token(ada, "digest-1").await.unwrap();
    assert!(store.has_feed_token(ada).await.unwrap());
    assert_eq!(
        store.feed_token_user("digest-1").await.unwrap().user_id,
        ada
    );
    assert!(matches!(
        store.feed_token_user("nope").await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(store.revoke_feed_tokens(ada).await.unwrap(), 1);
    assert!(matches!(
        store.feed_token_user("digest-1").await,
        Err(StoreError::NotFound)
    ));
    assert!(!store.has_feed_token(ada).await.unwrap());

    assert_eq!(store.alert_cursor().await.unwrap(), None);
    store.set_alert_cursor(41).await.unwrap();
    store.set_alert_cursor(42).await.unwrap();
    assert_eq!(store.alert_cursor().await.unwrap(), Some(42));
}

async fn published_since_lists_the_window(store: Arc<dyn Store>) {
    let mut papers = seed_papers();
    papers.push(paperboy_testkit::recent_paper(
        "2611.00001",
        "A fresh paper",
        "Fresh words.",
        "cs.LG",
    ));
    store.upsert_papers(papers).await.unwrap();
    let week_ago = chrono::Utc::now().timestamp() - 7 * 86_400;
    let recent = store.published_since(week_ago, 100).await.unwrap();
    assert_eq!(recent, vec![ArxivId::parse("2611.00001").unwrap()]);
    assert_eq!(store.published_since(0, 5).await.unwrap().len(), 5);
}

storage_suite!(
    library_tags_and_collections,
    feedback_mutes_follows_and_tokens,
    published_since_lists_the_window,
);

/// Runs one statement on a test store's database from outside the store,
/// as another program (or an older Paperboy) would.
async fn run_raw(t: &paperboy_testkit::TestStore, sql: &str) {
    if let Some(path) = t.url.strip_prefix("sqlite://") {
        paperboy_testkit::python(
            "import sqlite3, sys\nc = sqlite3.connect(sys.argv[1], timeout=30)\nc.execute(sys.argv[2])\nc.commit()",
            &[std::ffi::OsStr::new(path), std::ffi::OsStr::new(sql)],
            "python3 with sqlite3",
        );
    } else {
        let (client, conn) = tokio_postgres::connect(&t.url, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(conn);
        client.batch_execute(sql).await.unwrap();
    }
}

/// A node still running the version before migration 17 saves papers
/// without their arXiv id: the library's ids still name them, in order.
#[tokio::test]
async fn a_paper_saved_by_the_previous_version_is_still_in_the_ids() {
    let mut stores = vec![paperboy_testkit::sqlite_store().await];
    stores.extend(paperboy_testkit::postgres_store().await);
    for t in stores {
        let store = t.store.clone();
        store.upsert_papers(seed_papers()).await.unwrap();
        let ada = user(&store, "ada").await;
        let soups = paper(&store, "2203.05482").await;
        assert!(store.save(ada, soups, &[]).await.unwrap());
        let ties = paper(&store, "2407.02880").await;
        let later = chrono::Utc::now().timestamp() + 60;
        run_raw(
            &t,
            &format!(
                "INSERT INTO library (user_id, paper_id, added_at) VALUES ({}, {}, {later})",
                ada.0, ties.0
            ),
        )
        .await;
        let ids: Vec<String> = store
            .library_ids(ada, None)
            .await
            .unwrap()
            .iter()
            .map(|i| i.as_str().to_string())
            .collect();
        assert_eq!(ids, vec!["2407.02880", "2203.05482"], "{}", t.url);
    }
}
