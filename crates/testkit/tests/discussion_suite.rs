//! Discussions, moderation, notifications and star snapshots on every backend.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use std::sync::Arc;

use paperboy_core::{ArxivId, PaperId, UserId};
use paperboy_store::{
    ClaimStatus, NewComment, NewNotification, RepoStatus, ReportKind, Store, StoreError,
};
use paperboy_testkit::{recent_paper, seed_papers, storage_suite};

use paperboy_testkit::{paper_key as paper, store_member as user};

fn new_comment(paper: PaperId, author: UserId, parent: Option<i64>, body: &str) -> NewComment {
    NewComment {
        paper_id: paper,
        parent_id: parent.map(paperboy_core::CommentId),
        author_id: author,
        body: body.into(),
        html: format!("<p>{body}</p>"),
    }
}

async fn num_comments(store: &Arc<dyn Store>, id: &str) -> i64 {
    store
        .get_paper(&ArxivId::parse(id).unwrap())
        .await
        .unwrap()
        .num_comments
}

async fn comments_count_edit_delete_hide_and_vote(store: Arc<dyn Store>) {
    store.upsert_papers(seed_papers()).await.unwrap();
    let p = paper(&store, "2203.05482").await;
    let (ada, bob) = (user(&store, "ada").await, user(&store, "bob").await);
    let first = store
        .add_comment(new_comment(p, ada, None, "First"))
        .await
        .unwrap();
    assert_eq!((first.author.as_str(), first.upvotes), ("ada", 0));
    let reply = store
        .add_comment(new_comment(p, bob, Some(first.comment_id.0), "A reply"))
        .await
        .unwrap();
    assert_eq!(reply.parent_id, Some(first.comment_id));
    assert_eq!(num_comments(&store, "2203.05482").await, 2);

    let edited = store
        .edit_comment(first.comment_id, "First, edited", "<p>First, edited</p>")
        .await
        .unwrap();
    assert!(edited.edited_at.is_some());
    let history = store.revisions(first.comment_id).await.unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].1, "First", "the earlier body is kept");

    store.delete_comment(reply.comment_id).await.unwrap();
    store.delete_comment(reply.comment_id).await.unwrap();
    assert_eq!(
        num_comments(&store, "2203.05482").await,
        1,
        "deleting twice uncounts once"
    );
    store
        .set_comment_hidden(first.comment_id, true)
        .await
        .unwrap();
    store
        .set_comment_hidden(first.comment_id, true)
        .await
        .unwrap();
    assert_eq!(num_comments(&store, "2203.05482").await, 0);
    store
        .set_comment_hidden(first.comment_id, false)
        .await
        .unwrap();
    assert_eq!(num_comments(&store, "2203.05482").await, 1);
    let thread = store.comments_of(p).await.unwrap();
    assert_eq!(thread.len(), 2, "the deleted reply keeps its place");
    assert!(thread[1].deleted_at.is_some() && !thread[1].is_visible());

    assert_eq!(
        store
            .vote_comment(bob, first.comment_id, true)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        store
            .vote_comment(bob, first.comment_id, true)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        store
            .vote_comment(ada, first.comment_id, true)
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        store
            .comment_votes(bob, &[first.comment_id, reply.comment_id])
            .await
            .unwrap(),
        vec![first.comment_id]
    );
    assert_eq!(
        store
            .vote_comment(bob, first.comment_id, false)
            .await
            .unwrap(),
        1
    );

    assert!(!store.thread_locked(p).await.unwrap());
    store.set_thread_locked(p, ada, true).await.unwrap();
    store.set_thread_locked(p, ada, true).await.unwrap();
    assert!(store.thread_locked(p).await.unwrap());
    store.set_thread_locked(p, ada, false).await.unwrap();
    assert!(!store.thread_locked(p).await.unwrap());
    assert_eq!(store.comments_since(ada, 0).await.unwrap(), 1);
    assert_eq!(store.comments_since(ada, i64::MAX).await.unwrap(), 0);
    assert!(matches!(
        store.comment(paperboy_core::CommentId(999_999)).await,
        Err(StoreError::NotFound)
    ));
}

async fn reports_log_suspensions_and_claims(store: Arc<dyn Store>) {
    store.upsert_papers(seed_papers()).await.unwrap();
    let p = paper(&store, "2203.05482").await;
    let (ada, mod_) = (user(&store, "ada").await, user(&store, "mia").await);
    let c = store
        .add_comment(new_comment(p, ada, None, "Spam"))
        .await
        .unwrap();
    let r = store
        .add_report(ReportKind::Comment, c.comment_id.0, mod_, "spam")
        .await
        .unwrap();
    assert_eq!((r.kind, r.reporter.as_str()), (ReportKind::Comment, "mia"));
    assert_eq!(store.open_reports().await.unwrap().len(), 1);
    let n = store
        .resolve_reports(ReportKind::Comment, c.comment_id.0, mod_, "hidden")
        .await
        .unwrap();
    assert_eq!(n, 1);
    assert!(store.open_reports().await.unwrap().is_empty());
    store
        .log_action(
            mod_,
            "hide comment",
            "a comment by ada",
            Some("/papers/x"),
            "spam",
        )
        .await
        .unwrap();
    store
        .log_action(mod_, "lock thread", "Model soups", None, "heated")
        .await
        .unwrap();
    let log = store.mod_log(0, 10).await.unwrap();
    assert_eq!(log[0].action, "lock thread", "newest first");
    assert_eq!(
        (log[1].moderator.as_str(), log[1].reason.as_str()),
        ("mia", "spam")
    );

    let until = chrono::Utc::now().timestamp() + 3600;
    store.set_suspension(ada, Some(until)).await.unwrap();
    let (u, _) = store.user_by_name("ada").await.unwrap();
    assert_eq!(u.suspended_until.map(|t| t.timestamp()), Some(until));
    store.set_suspension(ada, None).await.unwrap();
    assert!(store
        .user_by_name("ada")
        .await
        .unwrap()
        .0
        .suspended_until
        .is_none());

    let claim = store.add_claim(p, 0, ada).await.unwrap();
    assert_eq!(claim.status, ClaimStatus::Pending);
    assert!(matches!(
        store.add_claim(p, 0, ada).await,
        Err(StoreError::Conflict { .. })
    ));
    assert_eq!(store.pending_claims().await.unwrap().len(), 1);
    let decided = store
        .decide_claim(claim.claim_id, ClaimStatus::Approved, mod_)
        .await
        .unwrap();
    assert_eq!(decided.status, ClaimStatus::Approved);
    assert!(store.pending_claims().await.unwrap().is_empty());
    assert_eq!(
        store.claimed_authors(&[p]).await.unwrap(),
        vec![(p, 0, "ada".to_string())]
    );
    let papers = store.authored_papers(ada, 10).await.unwrap();
    assert_eq!(papers[0].stored.paper.id.as_str(), "2203.05482");

    store
        .set_paper_links(
            p,
            Some("https://github.com/ada/soups"),
            Some("https://ada.example"),
        )
        .await
        .unwrap();
    let s = store
        .get_paper(&ArxivId::parse("2203.05482").unwrap())
        .await
        .unwrap();
    assert_eq!(s.github_repo(), Some("https://github.com/ada/soups"));
    assert_eq!(s.project_page.as_deref(), Some("https://ada.example"));
    // A harvest of the same paper keeps the author's links.
    let mut again = s.paper.clone();
    again.title.push_str(" (v2)");
    again.versions.push(paperboy_core::Version {
        number: 9,
        created_at: chrono::Utc::now(),
    });
    store.upsert_papers(vec![again]).await.unwrap();
    let s = store
        .get_paper(&ArxivId::parse("2203.05482").unwrap())
        .await
        .unwrap();
    assert_eq!(s.github_repo(), Some("https://github.com/ada/soups"));
    assert!(store.remove_submission(p).await.is_ok());
}

async fn notifications_reach_participants(store: Arc<dyn Store>) {
    store.upsert_papers(seed_papers()).await.unwrap();
    let p = paper(&store, "2203.05482").await;
    let (ada, bob) = (user(&store, "ada").await, user(&store, "bob").await);
    store
        .add_comment(new_comment(p, ada, None, "Hi"))
        .await
        .unwrap();
    store
        .add_comment(new_comment(p, bob, None, "Hello"))
        .await
        .unwrap();
    let all: Vec<String> = store
        .participants(p, false)
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.username)
        .collect();
    assert_eq!(all, ["ada", "bob"]);
    assert!(store.participants(p, true).await.unwrap().is_empty());
    store.set_notify_replies(ada, true).await.unwrap();
    assert!(store.notify_replies(ada).await.unwrap());
    assert_eq!(
        store.participants(p, true).await.unwrap()[0].username,
        "ada"
    );
    let n = NewNotification {
        kind: "comment".into(),
        paper_id: Some(p),
        comment_id: None,
        actor_id: Some(bob),
        text: "bob commented on Model soups".into(),
        dedupe_key: Some("comment:1".into()),
    };
    store.notify(&[ada], n.clone()).await.unwrap();
    store.notify(&[ada], n).await.unwrap();
    assert_eq!(
        store.unread_notifications(ada).await.unwrap(),
        1,
        "the same key is written once"
    );
    let list = store.notifications(ada, 10).await.unwrap();
    assert_eq!(
        list[0].arxiv_id.as_ref().map(|i| i.as_str()),
        Some("2203.05482")
    );
    assert!(!list[0].read);
    store.mark_notifications_read(ada).await.unwrap();
    assert_eq!(store.unread_notifications(ada).await.unwrap(), 0);
    assert!(store.notifications(bob, 10).await.unwrap().is_empty());
}

async fn stars_are_tracked_snapshotted_and_feed_trending(store: Arc<dyn Store>) {
    let fresh = recent_paper(
        "2511.00300",
        "A starred paper",
        "Code at https://github.com/lab/starred.",
        "cs.LG",
    );
    store.upsert_papers(vec![fresh]).await.unwrap();
    assert_eq!(store.track_linked_repos(100).await.unwrap(), 1);
    assert_eq!(store.track_linked_repos(100).await.unwrap(), 0, "once");
    let now = chrono::Utc::now().timestamp();
    let due = store.due_repos(now, 10).await.unwrap();
    assert_eq!(due.len(), 1);
    let url = due[0].url.clone();
    assert_eq!((due[0].status, due[0].stars), (RepoStatus::New, None));
    assert!(due[0].newest_paper_at.is_some());
    let today = chrono::Utc::now().date_naive();
    let week_ago = (today - chrono::Duration::days(6)).to_string();
    store
        .record_stars(&url, 100, Some("\"e1\""), None, &week_ago, now + 3600)
        .await
        .unwrap();
    store
        .record_stars(&url, 350, None, None, &today.to_string(), now + 3600)
        .await
        .unwrap();
    assert!(
        store.due_repos(now, 10).await.unwrap().is_empty(),
        "not due again yet"
    );
    let r = store.tracked_repo(&url).await.unwrap();
    assert_eq!(
        (r.stars, r.etag.as_deref(), r.status),
        (Some(350), Some("\"e1\""), RepoStatus::Ok)
    );
    assert_eq!(store.star_history(&url).await.unwrap().len(), 2);
    let s = store
        .get_paper(&ArxivId::parse("2511.00300").unwrap())
        .await
        .unwrap();
    assert_eq!(s.github_stars, Some(350));
    let week = now - 7 * 86_400;
    let rows = store.trending_rows(0, week).await.unwrap();
    assert_eq!(rows[0].star_growth, 250, "350 now, 100 a week ago");
    let row = store.trending_row(s.paper_id, week).await.unwrap();
    assert_eq!(row.star_growth, 250);
    store
        .record_fetch_failure(&url, "502", now - 1)
        .await
        .unwrap();
    assert_eq!(store.due_repos(now, 10).await.unwrap()[0].failures, 1);
    store.record_gone(&url).await.unwrap();
    assert!(
        store.due_repos(now, 10).await.unwrap().is_empty(),
        "gone is never fetched"
    );
    assert_eq!(
        store.repo_counts().await.unwrap(),
        vec![("gone".to_string(), 1)]
    );
}

storage_suite!(
    comments_count_edit_delete_hide_and_vote,
    reports_log_suspensions_and_claims,
    notifications_reach_participants,
    stars_are_tracked_snapshotted_and_feed_trending,
);
