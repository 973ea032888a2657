//! Notifications, and who takes part in a discussion.

use std::sync::LazyLock;

use async_trait::async_trait;
use chrono::Utc;
use paperboy_core::{ArxivId, CommentId, PaperId, User, UserId};
use paperboy_store::{NewNotification, Notification, NotificationStore, StoreError};

use crate::columns::{self, ts, USER_COLUMNS};
use crate::conn::Sql;
use crate::{args, Backend, SqlStore};

static NOTIFY: Sql = Sql::new(
    "INSERT INTO notifications (user_id, kind, paper_id, comment_id, actor_id, text, created_at, dedupe_key)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT (user_id, dedupe_key) DO NOTHING",
);
static NOTIFICATIONS: Sql = Sql::new(
    "SELECT n.notification_id, n.kind, n.paper_id, n.comment_id, n.text, n.created_at,
        n.read_at, p.arxiv_id
     FROM notifications n LEFT JOIN papers p ON p.paper_id = n.paper_id
     WHERE n.user_id = $1 ORDER BY n.notification_id DESC LIMIT $2",
);
static MARK_READ: Sql =
    Sql::new("UPDATE notifications SET read_at = $2 WHERE user_id = $1 AND read_at IS NULL");
static UNREAD: Sql =
    Sql::new("SELECT count(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL");
static PARTICIPANTS: LazyLock<Sql> = LazyLock::new(|| {
    Sql::owned(format!(
        "SELECT {USER_COLUMNS} FROM users u WHERE u.user_id IN
            (SELECT author_id FROM comments WHERE paper_id = $1 AND deleted_at IS NULL)
         AND ($2 = 0 OR u.notify_replies = 1) ORDER BY u.user_id"
    ))
});
static SET_NOTIFY: Sql = Sql::new("UPDATE users SET notify_replies = $2 WHERE user_id = $1");
static NOTIFY_REPLIES: Sql = Sql::new("SELECT notify_replies FROM users WHERE user_id = $1");

#[async_trait]
impl<B: Backend> NotificationStore for SqlStore<B> {
    async fn notify(&self, users: &[UserId], n: NewNotification) -> Result<(), StoreError> {
        let users = users.to_vec();
        on!(self, write, |c| {
            let now = Utc::now().timestamp();
            let (paper, comment) = (n.paper_id.map(|p| p.0), n.comment_id.map(|c| c.0));
            let actor = n.actor_id.map(|a| a.0);
            let rows: Vec<Vec<crate::Value<'_>>> = users
                .iter()
                .map(|u| {
                    args![
                        u.0,
                        &n.kind,
                        paper,
                        comment,
                        actor,
                        &n.text,
                        now,
                        &n.dedupe_key
                    ]
                    .to_vec()
                })
                .collect();
            c.execute_many(&NOTIFY, &rows).await.map(drop)
        })
    }

    async fn notifications(
        &self,
        user: UserId,
        limit: u32,
    ) -> Result<Vec<Notification>, StoreError> {
        on!(self, read, |c| {
            c.all(&NOTIFICATIONS, args![user.0, limit], |r| {
                Ok(Notification {
                    notification_id: r.i64(0)?,
                    kind: r.text(1)?,
                    paper_id: r.opt_i64(2)?.map(PaperId),
                    comment_id: r.opt_i64(3)?.map(CommentId),
                    text: r.text(4)?,
                    created_at: ts(r.i64(5)?),
                    read: r.opt_i64(6)?.is_some(),
                    arxiv_id: r.opt_text(7)?.and_then(|s| ArxivId::parse(&s).ok()),
                })
            })
            .await
        })
    }

    async fn mark_notifications_read(&self, user: UserId) -> Result<(), StoreError> {
        on!(self, write, |c| {
            let now = Utc::now().timestamp();
            c.execute(&MARK_READ, args![user.0, now]).await.map(drop)
        })
    }

    async fn unread_notifications(&self, user: UserId) -> Result<i64, StoreError> {
        on!(self, read, |c| { c.scalar(&UNREAD, args![user.0]).await })
    }

    async fn participants(&self, paper: PaperId, mail_only: bool) -> Result<Vec<User>, StoreError> {
        on!(self, read, |c| {
            let mail_only = i64::from(mail_only);
            c.all(&PARTICIPANTS, args![paper.0, mail_only], columns::user)
                .await
        })
    }

    async fn set_notify_replies(&self, user: UserId, on: bool) -> Result<(), StoreError> {
        on!(self, write, |c| {
            c.execute(&SET_NOTIFY, args![user.0, i64::from(on)])
                .await
                .map(drop)
        })
    }

    async fn notify_replies(&self, user: UserId) -> Result<bool, StoreError> {
        on!(self, read, |c| {
            Ok(c.scalar(&NOTIFY_REPLIES, args![user.0]).await? != 0)
        })
    }
}
