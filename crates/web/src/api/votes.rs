//! Upvotes: one per user per paper, by form or by API.

use paperboy_core::{ArxivId, User};
use paperboy_store::StoreError;

use crate::{trending, ApiError, AppState};

/// Sets the user's vote and refreshes the paper's trending key.
pub async fn vote(state: &AppState, user: &User, id: &ArxivId, up: bool) -> Result<i64, ApiError> {
    state
        .limiter
        .check("vote", &user.username, state.settings.limits.vote)?;
    let stored = match state.store.get_paper(id).await {
        Ok(s) => s,
        Err(StoreError::NotFound) => {
            return Err(ApiError::NotFound(format!("no paper {id} in this store")))
        }
        Err(e) => return Err(e.into()),
    };
    let upvotes = state
        .store
        .set_vote(user.user_id, stored.paper_id, up)
        .await?;
    if let Err(e) = trending::refresh_one(
        &*state.store,
        &state.scales,
        &stored,
        upvotes,
        chrono::Utc::now(),
    )
    .await
    {
        tracing::warn!(%id, error = %e, "could not refresh the trending key after a vote");
    }
    Ok(upvotes)
}
