//! Daily submissions: a member puts a recent arXiv paper on today's list,
//! fetching it from arXiv when the store lacks it.

use chrono::{DateTime, Utc};
use paperboy_core::{ArxivId, User};
use paperboy_store::{DailyEntry, StoreError};

use crate::ports::FetchError;
use crate::{App, AppError};

/// Why a submission was refused; each says what the submitter can do.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    #[error("{0}")]
    BadId(String),
    #[error("This instance does not have {0} and cannot fetch papers from arXiv; an operator can harvest or import it.")]
    NotHere(ArxivId),
    #[error("arXiv does not know a paper {0}.")]
    UnknownToArxiv(ArxivId),
    #[error("arXiv could not be reached to fetch {0}; try again in a few minutes.")]
    ArxivUnreachable(ArxivId),
    /// First submitted to arXiv longer ago than the list accepts.
    #[error("{id} was first submitted to arXiv on {}; the daily list takes papers from the last {max_days} days.", .published.format("%B %-d, %Y"))]
    TooOld {
        id: ArxivId,
        published: DateTime<Utc>,
        max_days: i64,
    },
    /// Already on a daily list (this one, when the store still has it).
    #[error("{id} is already on a daily list.")]
    AlreadyListed {
        id: ArxivId,
        entry: Option<DailyEntry>,
    },
    #[error(transparent)]
    App(#[from] AppError),
}

impl From<StoreError> for SubmitError {
    fn from(e: StoreError) -> Self {
        SubmitError::App(e.into())
    }
}

impl App {
    /// Puts the paper `raw` names (an id or an arXiv URL) on today's list.
    pub async fn submit_daily(&self, user: &User, raw: &str) -> Result<DailyEntry, SubmitError> {
        self.check_not_suspended(user)?;
        self.limit("submission", &user.username, self.settings.limits.submit)
            .await?;
        let id = ArxivId::parse_loose(raw)
            .map_err(|e| SubmitError::BadId(e.to_string()))?
            .id;
        let stored = match self.store.get_paper(&id).await {
            Ok(s) => s,
            Err(StoreError::NotFound) => {
                let Some(fetcher) = &self.fetcher else {
                    return Err(SubmitError::NotHere(id));
                };
                match fetcher.fetch(&id).await {
                    Ok(true) => self.store.get_paper(&id).await?,
                    Ok(false) => return Err(SubmitError::UnknownToArxiv(id)),
                    Err(FetchError::Store(e)) => return Err(e.into()),
                    Err(e) => {
                        tracing::warn!(%id, error = %e, "fetching a submitted paper failed");
                        return Err(SubmitError::ArxivUnreachable(id));
                    }
                }
            }
            Err(e) => return Err(e.into()),
        };
        let max_days = self.settings.max_submission_age_days;
        let published = stored.paper.published_at();
        if Utc::now() - published > chrono::Duration::days(max_days) {
            return Err(SubmitError::TooOld {
                id,
                published,
                max_days,
            });
        }
        match self
            .store
            .submit_daily(stored.paper_id, self.today(), user.user_id)
            .await
        {
            Ok(entry) => Ok(entry),
            Err(StoreError::Conflict { .. }) => {
                let entry = self.store.daily_entry(stored.paper_id).await?;
                Err(SubmitError::AlreadyListed { id, entry })
            }
            Err(e) => Err(e.into()),
        }
    }
}
