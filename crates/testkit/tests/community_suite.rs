//! Accounts, votes, the daily list and trending keys on every backend.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use std::sync::Arc;

use chrono::NaiveDate;
use paperboy_core::{ArxivId, PaperId, Role};
use paperboy_store::{DailySort, NewUser, Store, StoreError};
use paperboy_testkit::{seed_papers, storage_suite};

fn new_user(name: &str) -> NewUser {
    NewUser {
        username: name.into(),
        email: format!("{name}@example.org"),
        password_hash: "hash".into(),
        role: Role::Member,
    }
}

async fn seeded(store: &Arc<dyn Store>) -> Vec<PaperId> {
    store.upsert_papers(seed_papers()).await.unwrap();
    let ids: Vec<ArxivId> = seed_papers().iter().take(5).map(|p| p.id.clone()).collect();
    let mut out = Vec::new();
    for id in ids {
        out.push(store.get_paper(&id).await.unwrap().paper_id);
    }
    out
}

async fn usernames_and_emails_are_unique(store: Arc<dyn Store>) {
    let ada = store.create_user(new_user("ada")).await.unwrap();
    assert_eq!(ada.role, Role::Member);
    let mut same_name = new_user("ada");
    same_name.email = "other@example.org".into();
    match store.create_user(same_name).await {
        Err(StoreError::Conflict { constraint }) => assert_eq!(constraint, "users_username_key"),
        other => panic!("{other:?}"),
    }
    let mut same_mail = new_user("bob");
    same_mail.email = "ada@example.org".into();
    match store.create_user(same_mail).await {
        Err(StoreError::Conflict { constraint }) => assert_eq!(constraint, "users_email_key"),
        other => panic!("{other:?}"),
    }
    store.set_role("ada", Role::Curator).await.unwrap();
    let (found, hash) = store.user_by_name("ada").await.unwrap();
    assert_eq!((found.role, hash.as_str()), (Role::Curator, "hash"));
    assert!(matches!(
        store.set_role("nobody", Role::Admin).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(store.list_users().await.unwrap().len(), 1);
}

async fn sessions_expire_and_tokens_resolve(store: Arc<dyn Store>) {
    let ada = store.create_user(new_user("ada")).await.unwrap();
    store
        .create_session("s1", ada.user_id, 1_000)
        .await
        .unwrap();
    assert_eq!(store.session_user("s1", 999).await.unwrap().username, "ada");
    assert!(matches!(
        store.session_user("s1", 1_000).await,
        Err(StoreError::NotFound)
    ));
    store.delete_session("s1").await.unwrap();
    assert!(matches!(
        store.session_user("s1", 0).await,
        Err(StoreError::NotFound)
    ));
    store
        .create_api_token("t1", ada.user_id, "script")
        .await
        .unwrap();
    assert_eq!(
        store.api_token_user("t1").await.unwrap().user_id,
        ada.user_id
    );
    assert!(matches!(
        store.api_token_user("t2").await,
        Err(StoreError::NotFound)
    ));
}

async fn votes_count_once_and_exactly_under_concurrency(store: Arc<dyn Store>) {
    let papers = seeded(&store).await;
    let p = papers[0];
    let ada = store.create_user(new_user("ada")).await.unwrap();
    let seq = store.change_seq().await.unwrap();
    assert_eq!(store.set_vote(ada.user_id, p, true).await.unwrap(), 1);
    assert_eq!(
        store.set_vote(ada.user_id, p, true).await.unwrap(),
        1,
        "twice counts once"
    );
    assert_eq!(
        store.change_seq().await.unwrap(),
        seq,
        "a vote feeds no index: it takes no number from the change sequence \
         (and so never waits on its lock behind a harvest page)"
    );
    assert_eq!(store.voted(ada.user_id, &papers).await.unwrap(), vec![p]);
    assert_eq!(store.set_vote(ada.user_id, p, false).await.unwrap(), 0);
    assert_eq!(store.set_vote(ada.user_id, p, false).await.unwrap(), 0);

    let mut users = Vec::new();
    for i in 0..20 {
        users.push(
            store
                .create_user(new_user(&format!("user{i}")))
                .await
                .unwrap()
                .user_id,
        );
    }
    let mut tasks = Vec::new();
    for (i, u) in users.iter().copied().enumerate() {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store.set_vote(u, p, true).await.unwrap();
            if i % 4 == 0 {
                store.set_vote(u, p, false).await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let stored = store.get_paper(&seed_papers()[0].id).await.unwrap();
    assert_eq!(stored.upvotes, 15);
    assert_eq!(store.user_upvoted(users[1], 10).await.unwrap().len(), 1);
}

async fn daily_list_by_day_and_duplicates(store: Arc<dyn Store>) {
    let papers = seeded(&store).await;
    let ada = store.create_user(new_user("ada")).await.unwrap();
    let day = |d| NaiveDate::from_ymd_opt(2024, 5, d).unwrap();
    let e = store
        .submit_daily(papers[0], day(1), ada.user_id)
        .await
        .unwrap();
    assert_eq!((e.day, e.submitted_by.as_str()), (day(1), "ada"));
    store
        .submit_daily(papers[1], day(1), ada.user_id)
        .await
        .unwrap();
    store
        .submit_daily(papers[2], day(3), ada.user_id)
        .await
        .unwrap();
    match store.submit_daily(papers[0], day(2), ada.user_id).await {
        Err(StoreError::Conflict { constraint }) => {
            assert_eq!(constraint, "daily_submissions_paper_key")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        store.daily_entry(papers[0]).await.unwrap().unwrap().day,
        day(1)
    );
    assert_eq!(store.daily_entry(papers[3]).await.unwrap(), None);
    let one = store
        .daily_papers(day(1), day(1), DailySort::PublishedAt, None, 0, 10)
        .await
        .unwrap();
    assert_eq!(one.len(), 2);
    assert!(one
        .iter()
        .all(|l| l.daily.as_ref().map(|d| d.day) == Some(day(1))));
    let week = store
        .daily_papers(day(1), day(7), DailySort::Trending, None, 0, 10)
        .await
        .unwrap();
    assert_eq!(week.len(), 3);
    let paged = store
        .daily_papers(day(1), day(7), DailySort::Trending, None, 2, 10)
        .await
        .unwrap();
    assert_eq!(paged.len(), 1);
    assert_eq!(
        store.user_submissions(ada.user_id, 10).await.unwrap().len(),
        3
    );
}

async fn trending_keys_order_the_list(store: Arc<dyn Store>) {
    let papers = seeded(&store).await;
    store
        .set_trending_scores(
            vec![(papers[3], 5.0), (papers[1], 9.0), (papers[4], 1.0)],
            i64::MIN,
        )
        .await
        .unwrap();
    let top = store.trending_papers(0, 3).await.unwrap();
    let got: Vec<PaperId> = top.iter().map(|l| l.stored.paper_id).collect();
    assert_eq!(got, [papers[1], papers[3], papers[4]]);
    // Zeroing everything published before the far future empties the keys.
    store.set_trending_scores(vec![], i64::MAX).await.unwrap();
    let rows = store.trending_rows(0, 0).await.unwrap();
    assert_eq!(rows.len(), 68);
    assert!(rows.iter().any(|r| r.primary_category == "cs.LG"));
    let listed = store
        .get_papers(&[seed_papers()[0].id.clone(), "2203.99999".parse().unwrap()])
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
}

storage_suite!(
    usernames_and_emails_are_unique,
    sessions_expire_and_tokens_resolve,
    votes_count_once_and_exactly_under_concurrency,
    daily_list_by_day_and_duplicates,
    trending_keys_order_the_list,
);
