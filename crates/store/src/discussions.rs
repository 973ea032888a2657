//! Discussions: comments with one level of replies, their edits and votes,
//! and locked threads.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use paperboy_core::{CommentId, PaperId, UserId};

use crate::StoreError;

/// A comment as stored: the body as typed and its rendered HTML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    pub comment_id: CommentId,
    pub paper_id: PaperId,
    pub parent_id: Option<CommentId>,
    pub author_id: UserId,
    pub author: String,
    pub body: String,
    pub html: String,
    pub created_at: DateTime<Utc>,
    pub edited_at: Option<DateTime<Utc>>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub hidden_at: Option<DateTime<Utc>>,
    pub upvotes: i64,
}

impl Comment {
    /// Shown with its text (neither deleted nor hidden).
    pub fn is_visible(&self) -> bool {
        self.deleted_at.is_none() && self.hidden_at.is_none()
    }
}

#[derive(Debug, Clone)]
pub struct NewComment {
    pub paper_id: PaperId,
    pub parent_id: Option<CommentId>,
    pub author_id: UserId,
    pub body: String,
    pub html: String,
}

#[async_trait]
pub trait DiscussionStore: Send + Sync + 'static {
    /// Adds a comment and counts it on its paper.
    async fn add_comment(&self, comment: NewComment) -> Result<Comment, StoreError>;
    async fn comment(&self, id: CommentId) -> Result<Comment, StoreError>;
    /// A paper's comments, oldest first (deleted and hidden ones included:
    /// the thread shows their place).
    async fn comments_of(&self, paper: PaperId) -> Result<Vec<Comment>, StoreError>;
    /// Replaces the body, keeping the previous one as a revision.
    async fn edit_comment(
        &self,
        id: CommentId,
        body: &str,
        html: &str,
    ) -> Result<Comment, StoreError>;
    /// Earlier bodies, oldest first, with when they were replaced.
    async fn revisions(&self, id: CommentId) -> Result<Vec<(DateTime<Utc>, String)>, StoreError>;
    /// Marks a comment deleted (by its author) and uncounts it.
    async fn delete_comment(&self, id: CommentId) -> Result<(), StoreError>;
    /// Hides or restores a comment (a moderator), counting it accordingly.
    async fn set_comment_hidden(&self, id: CommentId, hidden: bool) -> Result<(), StoreError>;
    /// Sets or clears a member's vote on a comment; the new count.
    async fn vote_comment(&self, user: UserId, id: CommentId, up: bool) -> Result<i64, StoreError>;
    /// Which of `ids` the member has upvoted.
    async fn comment_votes(
        &self,
        user: UserId,
        ids: &[CommentId],
    ) -> Result<Vec<CommentId>, StoreError>;
    async fn set_thread_locked(
        &self,
        paper: PaperId,
        by: UserId,
        locked: bool,
    ) -> Result<(), StoreError>;
    async fn thread_locked(&self, paper: PaperId) -> Result<bool, StoreError>;
    /// Comments a member posted since `since` (unix seconds): the rate
    /// limit holds across nodes because it is counted here.
    async fn comments_since(&self, user: UserId, since: i64) -> Result<i64, StoreError>;
}
