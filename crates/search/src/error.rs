use paperboy_embed::EmbedError;
use paperboy_store::StoreError;

/// Everything search can fail at: its two indexes, the store it follows,
/// the embedder.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("keyword index at {path}: {reason}")]
    Open { path: String, reason: String },
    #[error("keyword index: {0}")]
    Index(String),
    #[error("the keyword index is being written by another process (it holds the index lock)")]
    Locked,
    #[error("vector index at {path}: {reason}")]
    Vector { path: String, reason: String },
    #[error("vector index at {path} holds vectors of `{found}` ({found_dim} dimensions), not `{want}` ({want_dim}); run `paperboy reindex`")]
    ModelMismatch {
        path: String,
        found: String,
        found_dim: usize,
        want: String,
        want_dim: usize,
    },
    #[error("the vector index is being written by another process (it holds vectors.lock)")]
    VectorLocked,
    #[error("reading changes from the store: {0}")]
    Store(#[from] StoreError),
    #[error("embedding: {0}")]
    Embed(#[from] EmbedError),
    #[error("a search task stopped: {0}")]
    Task(String),
}
