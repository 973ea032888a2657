//! The storage contracts of `paperboy-store`, implemented once in SQL for
//! both backends. A backend (`paperboy-store-sqlite`,
//! `paperboy-store-postgres`) provides only connections: a [`Backend`]
//! that runs a [`Job`] on a read connection or inside a write transaction.
//! Each area file here implements its contract; where the dialects really
//! differ (bulk writes with arrays, row locks, advisory locks) the area
//! file says why next to the branch.

/// Runs `$body` (a block using the connection `$c`) on the store's
/// backend, `read` (a read connection) or `write` (a transaction), and
/// awaits it.
macro_rules! on {
    ($store:expr, $how:ident, |$c:ident| $body:block) => {
        $store
            .backend
            .$how($crate::conn::job(move |$c| Box::pin(async move $body)))
            .await
    };
}

mod accounts;
mod citations;
mod columns;
mod community;
mod conn;
mod delivery;
mod discussions;
mod harvest;
mod indexes;
mod library;
mod migrate;
mod moderation;
mod notifications;
mod papers;
mod stars;
mod watch;

use async_trait::async_trait;
use paperboy_store::StoreError;

pub use columns::PaperColumns;
pub use conn::{
    complete_now, job, to_sqlite, BoxFuture, ColumnType, Conn, CopyIn, Dialect, Job, RowFn, Sql,
    SqlRow, Value,
};
pub use migrate::{migrate, MIGRATIONS};

/// What a backend provides: somewhere to run a job.
#[async_trait]
pub trait Backend: Send + Sync + 'static {
    fn dialect(&self) -> Dialect;

    /// Runs `job` on a connection outside any transaction.
    async fn read<T: Send + 'static>(&self, job: Job<T>) -> Result<T, StoreError>;

    /// Runs `job` in a transaction: committed when it returns `Ok`, rolled
    /// back otherwise (and when the caller stops waiting).
    async fn write<T: Send + 'static>(&self, job: Job<T>) -> Result<T, StoreError>;
}

/// A store over a backend: every contract of `paperboy-store`.
pub struct SqlStore<B> {
    backend: B,
}

impl<B: Backend> SqlStore<B> {
    /// Wraps a backend and brings its schema up to date (with any index
    /// a killed bulk load left unbuilt).
    pub async fn new(backend: B) -> Result<Self, StoreError> {
        migrate(&backend).await?;
        Ok(SqlStore { backend })
    }

    pub fn backend_ref(&self) -> &B {
        &self.backend
    }
}
