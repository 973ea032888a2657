//! `/notifications`: what happened in the discussions a member took part
//! in, and whether they also want it by mail.

use paperboy_core::User;
use paperboy_store::Notification;

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
