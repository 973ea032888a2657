use thiserror::Error;

/// Storage failures, small on purpose: callers decide on the variant, the
/// message carries the detail for logs.
#[derive(Debug, Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A named constraint was violated (unique vote, taken username).
    #[error("conflict on {constraint}")]
    Conflict { constraint: String },
    /// A row in the database could not be read back into a domain value.
    #[error("corrupt row {key}: {reason}")]
    Corrupt { key: String, reason: String },
    #[error("migration {version} failed: {reason}")]
    Migration { version: i64, reason: String },
    /// The database cannot be reached right now (connection refused, pool
    /// exhausted, server restarting); worth retrying shortly.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("database error: {0}")]
    Database(String),
    #[error("cannot open store at {url}: {reason}")]
    Open { url: String, reason: String },
}

impl StoreError {
    /// The constraint a `Conflict` names, if this is one.
    pub fn conflict(&self) -> Option<&str> {
        match self {
            StoreError::Conflict { constraint } => Some(constraint),
            _ => None,
        }
    }
}
