//! What a use case answers when it cannot do what was asked. The front
//! doors (web, CLI) turn each variant into a status and a sentence; only
//! the variants that carry our own words are shown to people as they are.

use crate::ports::SearchError;
use paperboy_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The request itself is wrong; the message says how to fix it.
    #[error("{0}")]
    Invalid(String),
    /// Several fields of a form are wrong, one message each.
    #[error("{}", .0.join("; "))]
    Fields(Vec<String>),
    /// The request is larger than a limit it names (413).
    #[error("{0}")]
    TooLarge(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    /// Who is asking is unknown (log in, or send a token).
    #[error("{0}")]
    Unauthorized(String),
    /// Who is asking may not do this.
    #[error("{0}")]
    Forbidden(String),
    #[error("{message}")]
    RateLimited {
        message: String,
        retry_after_secs: u64,
    },
    /// Not now (a node catching up); our own words, shown as they are (503).
    #[error("{0}")]
    Unavailable(String),
    /// A part this instance has not set up (our own words, shown as they are).
    #[error("{0}")]
    NotConfigured(String),
    /// A server we depend on (arXiv, the mail server) failed; the detail
    /// is for the log, never for the page.
    #[error("{service}: {detail}")]
    Upstream {
        service: &'static str,
        detail: String,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Search(#[from] SearchError),
    /// A bug or an environment failure (a task that died, a hash that
    /// could not be made); logged, never shown.
    #[error("{0}")]
    Internal(String),
}

impl AppError {
    /// `NotFound` with this message when the store had no row.
    pub fn or_not_found(e: StoreError, message: impl FnOnce() -> String) -> AppError {
        match e {
            StoreError::NotFound => AppError::NotFound(message()),
            other => AppError::Store(other),
        }
    }
}
