//! Daily submissions: a member puts a recent arXiv paper on today's list,
//! fetching it from arXiv when the store lacks it.

use chrono::{DateTime, Utc};
use paperboy_core::{ArxivId, User};
use paperboy_store::{DailyEntry, StoreError};

use crate::ports::FetchError;
use crate::{App, AppError};

/// How long a submission waits for arXiv before answering "fetching" and
/// finishing in the background (a request is never held for arXiv's
/// retries).
pub const FETCH_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

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
    /// arXiv is slow to answer: the fetch goes on, and the paper joins
    /// today's list when it arrives (the submitter is notified either way).
    #[error("Fetching {0} from arXiv (it asks for a pause between requests); it joins today's list when it arrives, and a notification says so.")]
    Fetching(ArxivId),
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
        match self.store.get_paper(&id).await {
            Ok(_) => {}
            Err(StoreError::NotFound) => {
                let Some(fetcher) = self.fetcher.clone() else {
                    return Err(SubmitError::NotHere(id));
                };
                // The fetch and the listing run as their own task: the
                // request waits for them at most FETCH_WAIT.
                let (app, who, wanted) = (self.clone(), user.clone(), id.clone());
                let task = tokio::spawn(async move {
                    match fetcher.fetch(&wanted).await {
                        Ok(true) => app.list_submission(&who, &wanted).await,
                        Ok(false) => Err(SubmitError::UnknownToArxiv(wanted)),
                        Err(FetchError::Store(e)) => Err(e.into()),
                        Err(e) => {
                            tracing::warn!(id = %wanted, error = %e, "fetching a submitted paper failed");
                            Err(SubmitError::ArxivUnreachable(wanted))
                        }
                    }
                });
                let mut task = task;
                return match tokio::time::timeout(FETCH_WAIT, &mut task).await {
                    Ok(joined) => joined.map_err(|e| AppError::Internal(e.to_string()))?,
                    Err(_) => {
                        let (app, who, about) = (self.clone(), user.clone(), id.clone());
                        tokio::spawn(async move {
                            let id = about;
                            let text = match task.await {
                                Ok(Ok(entry)) => format!(
                                    "{id} arrived from arXiv and is on the daily list of {}.",
                                    entry.day.format("%B %-d, %Y")
                                ),
                                Ok(Err(e)) => format!("Your submission of {id}: {e}"),
                                Err(e) => {
                                    tracing::error!(error = %e, "a submission task failed");
                                    return;
                                }
                            };
                            if let Err(e) = app.notify_member(&who, "submission", &text).await {
                                tracing::warn!(error = %e, "cannot notify a submitter");
                            }
                        });
                        Err(SubmitError::Fetching(id))
                    }
                };
            }
            Err(e) => return Err(e.into()),
        }
        self.list_submission(user, &id).await
    }

    /// Puts a paper the store holds on today's list, if it is recent enough
    /// and not listed yet.
    async fn list_submission(&self, user: &User, id: &ArxivId) -> Result<DailyEntry, SubmitError> {
        let id = id.clone();
        let stored = self.store.get_paper(&id).await?;
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
