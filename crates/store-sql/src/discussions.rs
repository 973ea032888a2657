//! Comments, their revisions and votes, locked threads. A paper's
//! `num_comments` counts its visible comments and changes in the same
//! transaction as they do.

use std::sync::LazyLock;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use paperboy_core::{CommentId, PaperId, UserId};
use paperboy_store::{Comment, DiscussionStore, NewComment, StoreError};

use crate::columns::ts;
use crate::conn::{Conn, Sql, SqlRow};
use crate::{args, Backend, SqlStore};

const COMMENT_COLUMNS: &str = "c.comment_id, c.paper_id, c.parent_id, c.author_id, u.username, \
    c.body, c.html, c.created_at, c.edited_at, c.deleted_at, c.hidden_at, c.upvotes";

fn select(tail: &str) -> Sql {
    Sql::owned(format!(
        "SELECT {COMMENT_COLUMNS} FROM comments c JOIN users u ON u.user_id = c.author_id {tail}"
    ))
}

static COMMENT: LazyLock<Sql> = LazyLock::new(|| select("WHERE c.comment_id = $1"));
static COMMENTS_OF: LazyLock<Sql> =
    LazyLock::new(|| select("WHERE c.paper_id = $1 ORDER BY c.comment_id"));
static INSERT: Sql = Sql::new(
    "INSERT INTO comments (paper_id, parent_id, author_id, body, html, created_at)
     VALUES ($1, $2, $3, $4, $5, $6) RETURNING comment_id",
);
static COUNT_ON_PAPER: Sql =
    Sql::new("UPDATE papers SET num_comments = num_comments + $2 WHERE paper_id = $1");
static KEEP_REVISION: Sql = Sql::new(
    "INSERT INTO comment_revisions (comment_id, revised_at, body)
     SELECT comment_id, CAST($2 AS BIGINT), body FROM comments WHERE comment_id = $1",
);
static EDIT: Sql =
    Sql::new("UPDATE comments SET body = $2, html = $3, edited_at = $4 WHERE comment_id = $1");
static REVISIONS: Sql = Sql::new(
    "SELECT revised_at, body FROM comment_revisions WHERE comment_id = $1 ORDER BY revised_at",
);
static DELETE: Sql =
    Sql::new("UPDATE comments SET deleted_at = $2 WHERE comment_id = $1 AND deleted_at IS NULL");
static HIDE: Sql = Sql::new("UPDATE comments SET hidden_at = $2 WHERE comment_id = $1");
static ADD_VOTE: Sql = Sql::new(
    "INSERT INTO comment_votes (user_id, comment_id, created_at) VALUES ($1, $2, $3)
     ON CONFLICT DO NOTHING",
);
static REMOVE_VOTE: Sql =
    Sql::new("DELETE FROM comment_votes WHERE user_id = $1 AND comment_id = $2");
static COUNT_VOTE: Sql =
    Sql::new("UPDATE comments SET upvotes = upvotes + $2 WHERE comment_id = $1 RETURNING upvotes");
static UPVOTES: Sql = Sql::new("SELECT upvotes FROM comments WHERE comment_id = $1");
static VOTED: Sql =
    Sql::new("SELECT comment_id FROM comment_votes WHERE user_id = $1 AND comment_id = ANY($2)");
static LOCK: Sql = Sql::new(
    "INSERT INTO thread_locks (paper_id, locked_by, locked_at) VALUES ($1, $2, $3)
     ON CONFLICT (paper_id) DO NOTHING",
);
static UNLOCK: Sql = Sql::new("DELETE FROM thread_locks WHERE paper_id = $1");
static LOCKED: Sql = Sql::new("SELECT count(*) FROM thread_locks WHERE paper_id = $1");
static SINCE: Sql =
    Sql::new("SELECT count(*) FROM comments WHERE author_id = $1 AND created_at >= $2");

fn opt_ts(secs: Option<i64>) -> Option<DateTime<Utc>> {
    secs.map(ts)
}

fn comment(r: &dyn SqlRow) -> Result<Comment, StoreError> {
    Ok(Comment {
        comment_id: CommentId(r.i64(0)?),
        paper_id: PaperId(r.i64(1)?),
        parent_id: r.opt_i64(2)?.map(CommentId),
        author_id: UserId(r.i64(3)?),
        author: r.text(4)?,
        body: r.text(5)?,
        html: r.text(6)?,
        created_at: ts(r.i64(7)?),
        edited_at: opt_ts(r.opt_i64(8)?),
        deleted_at: opt_ts(r.opt_i64(9)?),
        hidden_at: opt_ts(r.opt_i64(10)?),
        upvotes: r.i64(11)?,
    })
}

/// Counts (+1) or uncounts (-1) a comment on its paper.
async fn count(c: &mut dyn Conn, paper: PaperId, delta: i64) -> Result<(), StoreError> {
    c.execute(&COUNT_ON_PAPER, args![paper.0, delta]).await?;
    Ok(())
}

fn now() -> i64 {
    Utc::now().timestamp()
}

#[async_trait]
impl<B: Backend> DiscussionStore for SqlStore<B> {
    async fn add_comment(&self, n: NewComment) -> Result<Comment, StoreError> {
        on!(self, write, |c| {
            let parent = n.parent_id.map(|p| p.0);
            let id = c
                .scalar(
                    &INSERT,
                    args![n.paper_id.0, parent, n.author_id.0, &n.body, &n.html, now()],
                )
                .await?;
            count(c, n.paper_id, 1).await?;
            c.one(&COMMENT, args![id], comment).await
        })
    }

    async fn comment(&self, id: CommentId) -> Result<Comment, StoreError> {
        on!(self, read, |c| {
            c.one(&COMMENT, args![id.0], comment).await
        })
    }

    async fn comments_of(&self, paper: PaperId) -> Result<Vec<Comment>, StoreError> {
        on!(self, read, |c| {
            c.all(&COMMENTS_OF, args![paper.0], comment).await
        })
    }

    async fn edit_comment(
        &self,
        id: CommentId,
        body: &str,
        html: &str,
    ) -> Result<Comment, StoreError> {
        let (body, html) = (body.to_string(), html.to_string());
        on!(self, write, |c| {
            let at = now();
            c.execute(&KEEP_REVISION, args![id.0, at]).await?;
            c.execute(&EDIT, args![id.0, &body, &html, at]).await?;
            c.one(&COMMENT, args![id.0], comment).await
        })
    }

    async fn revisions(&self, id: CommentId) -> Result<Vec<(DateTime<Utc>, String)>, StoreError> {
        on!(self, read, |c| {
            c.all(&REVISIONS, args![id.0], |r| Ok((ts(r.i64(0)?), r.text(1)?)))
                .await
        })
    }

    async fn delete_comment(&self, id: CommentId) -> Result<(), StoreError> {
        on!(self, write, |c| {
            let was = c.one(&COMMENT, args![id.0], comment).await?;
            if c.execute(&DELETE, args![id.0, now()]).await? == 1 && was.hidden_at.is_none() {
                count(c, was.paper_id, -1).await?;
            }
            Ok(())
        })
    }

    async fn set_comment_hidden(&self, id: CommentId, hidden: bool) -> Result<(), StoreError> {
        on!(self, write, |c| {
            let was = c.one(&COMMENT, args![id.0], comment).await?;
            if was.hidden_at.is_some() == hidden {
                return Ok(());
            }
            let at = hidden.then(now);
            c.execute(&HIDE, args![id.0, at]).await?;
            if was.deleted_at.is_none() {
                count(c, was.paper_id, if hidden { -1 } else { 1 }).await?;
            }
            Ok(())
        })
    }

    async fn vote_comment(&self, user: UserId, id: CommentId, up: bool) -> Result<i64, StoreError> {
        on!(self, write, |c| {
            let changed = if up {
                c.execute(&ADD_VOTE, args![user.0, id.0, now()]).await?
            } else {
                c.execute(&REMOVE_VOTE, args![user.0, id.0]).await?
            };
            if changed == 0 {
                return c.scalar(&UPVOTES, args![id.0]).await;
            }
            let delta: i64 = if up { 1 } else { -1 };
            c.scalar(&COUNT_VOTE, args![id.0, delta]).await
        })
    }

    async fn comment_votes(
        &self,
        user: UserId,
        ids: &[CommentId],
    ) -> Result<Vec<CommentId>, StoreError> {
        let ids: Vec<i64> = ids.iter().map(|c| c.0).collect();
        on!(self, read, |c| {
            c.all(&VOTED, args![user.0, ids.as_slice()], |r| {
                Ok(CommentId(r.i64(0)?))
            })
            .await
        })
    }

    async fn set_thread_locked(
        &self,
        paper: PaperId,
        by: UserId,
        locked: bool,
    ) -> Result<(), StoreError> {
        on!(self, write, |c| {
            if locked {
                c.execute(&LOCK, args![paper.0, by.0, now()]).await?;
            } else {
                c.execute(&UNLOCK, args![paper.0]).await?;
            }
            Ok(())
        })
    }

    async fn thread_locked(&self, paper: PaperId) -> Result<bool, StoreError> {
        on!(self, read, |c| {
            Ok(c.scalar(&LOCKED, args![paper.0]).await? > 0)
        })
    }

    async fn comments_since(&self, user: UserId, since: i64) -> Result<i64, StoreError> {
        on!(self, read, |c| {
            c.scalar(&SINCE, args![user.0, since]).await
        })
    }
}
