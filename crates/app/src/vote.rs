//! Upvotes: one per member per paper, from a form or the API.

use paperboy_core::{ArxivId, User};

use crate::{trending, App, AppError};

impl App {
    /// Sets (`up`) or clears the member's vote on a paper and refreshes the
    /// paper's trending key; the paper's new count.
    pub async fn upvote(&self, user: &User, id: &ArxivId, up: bool) -> Result<i64, AppError> {
        self.check_not_suspended(user)?;
        self.limit("vote", &user.username, self.settings.limits.vote)
            .await?;
        let stored =
            self.store.get_paper(id).await.map_err(|e| {
                AppError::or_not_found(e, || format!("no paper {id} in this store"))
            })?;
        let upvotes = self
            .store
            .set_vote(user.user_id, stored.paper_id, up)
            .await?;
        let now = chrono::Utc::now();
        if let Err(e) =
            trending::refresh_one(&*self.store, &self.scales, &stored, upvotes, now).await
        {
            // The key catches up at the next scheduled refresh.
            tracing::warn!(%id, error = %e, "could not refresh the trending key after a vote");
        }
        Ok(upvotes)
    }
}
