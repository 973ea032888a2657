//! Notifications shown on `/notifications`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use paperboy_core::{ArxivId, CommentId, PaperId, UserId};

use crate::StoreError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub notification_id: i64,
    /// `reply`, `comment`, …
    pub kind: String,
    pub paper_id: Option<PaperId>,
    pub comment_id: Option<CommentId>,
    /// The sentence shown.
    pub text: String,
    /// The paper it is about, by arXiv id (for the link).
    pub arxiv_id: Option<ArxivId>,
    pub created_at: DateTime<Utc>,
    pub read: bool,
}

#[derive(Debug, Clone)]
pub struct NewNotification {
    pub kind: String,
    pub paper_id: Option<PaperId>,
    pub comment_id: Option<CommentId>,
    pub actor_id: Option<UserId>,
    pub text: String,
    /// One notification per member and key: a second with the same key is
    /// dropped (alerts found twice are written once).
    pub dedupe_key: Option<String>,
}

#[async_trait]
pub trait NotificationStore: Send + Sync + 'static {
    /// The same notification to each of `users`.
    async fn notify(&self, users: &[UserId], n: NewNotification) -> Result<(), StoreError>;
    /// Newest first.
    async fn notifications(
        &self,
        user: UserId,
        limit: u32,
    ) -> Result<Vec<Notification>, StoreError>;
    async fn mark_notifications_read(&self, user: UserId) -> Result<(), StoreError>;
    async fn unread_notifications(&self, user: UserId) -> Result<i64, StoreError>;
    /// Members who took part in a paper's discussion (and want mail about
    /// replies when `mail_only`).
    async fn participants(
        &self,
        paper: PaperId,
        mail_only: bool,
    ) -> Result<Vec<paperboy_core::User>, StoreError>;
    /// Whether a member wants mail about replies.
    async fn set_notify_replies(&self, user: UserId, on: bool) -> Result<(), StoreError>;
    async fn notify_replies(&self, user: UserId) -> Result<bool, StoreError>;
}
