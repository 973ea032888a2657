//! `/notifications`: what happened in the discussions a member took part
//! in, and whether they also want it by mail.

use paperboy_core::User;
use paperboy_store::{NewNotification, Notification};

use crate::{App, AppError};

impl App {
    /// The newest notices, marked read once seen.
    pub async fn notifications(&self, user: &User) -> Result<Vec<Notification>, AppError> {
        let list = self.store.notifications(user.user_id, 100).await?;
        if list.iter().any(|n| !n.read) {
            self.store.mark_notifications_read(user.user_id).await?;
        }
        Ok(list)
    }

    /// Tells a member how a job they started finished (a submission or an
    /// import finished in the background).
    pub(crate) async fn notify_member(
        &self,
        user: &User,
        kind: &str,
        text: &str,
    ) -> Result<(), AppError> {
        self.store
            .notify(
                &[user.user_id],
                NewNotification {
                    kind: kind.into(),
                    paper_id: None,
                    comment_id: None,
                    actor_id: None,
                    text: text.into(),
                    dedupe_key: None,
                },
            )
            .await?;
        Ok(())
    }

    pub async fn unread_notifications(&self, user: &User) -> Result<i64, AppError> {
        Ok(self.store.unread_notifications(user.user_id).await?)
    }

    /// Mail about replies in discussions the member took part in.
    pub async fn set_reply_mail(&self, user: &User, on: bool) -> Result<(), AppError> {
        Ok(self.store.set_notify_replies(user.user_id, on).await?)
    }

    pub async fn reply_mail(&self, user: &User) -> Result<bool, AppError> {
        Ok(self.store.notify_replies(user.user_id).await?)
    }
}
