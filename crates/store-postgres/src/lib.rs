//! PostgreSQL store: the path to several web nodes sharing one database.

mod harvest;
mod migrate;
mod papers;

use async_trait::async_trait;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use paperboy_core::{ArxivId, Paper};
use paperboy_store::{
    HarvestCheckpoint, HarvestCounts, HarvestPage, PaperChange, Store, StoreError, StoredPaper,
    UpsertCounts,
};
use tokio_postgres::NoTls;

pub struct PostgresStore {
    pool: Pool,
}

pub(crate) fn db_err(e: tokio_postgres::Error) -> StoreError {
    if let Some(db) = e.as_db_error() {
        if db.code() == &tokio_postgres::error::SqlState::UNIQUE_VIOLATION
            || db.code() == &tokio_postgres::error::SqlState::FOREIGN_KEY_VIOLATION
        {
            return StoreError::Conflict {
                constraint: db.constraint().unwrap_or("unknown").to_string(),
            };
        }
    }
    StoreError::Database(e.to_string())
}

pub(crate) fn pool_err(e: deadpool_postgres::PoolError) -> StoreError {
    match e {
        deadpool_postgres::PoolError::Backend(e) => db_err(e),
        other => StoreError::Database(format!("connection pool: {other}")),
    }
}

impl PostgresStore {
    /// Connects to a `postgres://` URL and applies pending migrations.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::connect_with_pool_size(url, 16).await
    }

    pub async fn connect_with_pool_size(url: &str, max_size: usize) -> Result<Self, StoreError> {
        let open_err = |reason: String| StoreError::Open {
            url: redact(url),
            reason,
        };
        let config: tokio_postgres::Config = url
            .parse()
            .map_err(|e: tokio_postgres::Error| open_err(e.to_string()))?;
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(max_size)
            .build()
            .map_err(|e| open_err(e.to_string()))?;
        let mut client = pool.get().await.map_err(|e| open_err(e.to_string()))?;
        migrate::run(&mut client).await?;
        drop(client);
        Ok(PostgresStore { pool })
    }

    pub(crate) async fn client(&self) -> Result<deadpool_postgres::Object, StoreError> {
        self.pool.get().await.map_err(pool_err)
    }
}

/// Hides a password in a URL before it reaches a message or a log.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[async_trait]
impl Store for PostgresStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.client()
            .await?
            .simple_query("SELECT 1")
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn upsert_papers(&self, papers: Vec<Paper>) -> Result<UpsertCounts, StoreError> {
        let mut client = self.client().await?;
        papers::upsert(&mut client, papers).await
    }

    async fn get_paper(&self, id: &ArxivId) -> Result<StoredPaper, StoreError> {
        papers::get(&**self.client().await?, id.as_str()).await
    }

    async fn delete_paper(&self, id: &ArxivId) -> Result<bool, StoreError> {
        let mut client = self.client().await?;
        papers::delete(&mut client, id.as_str()).await
    }

    async fn count_papers(&self) -> Result<u64, StoreError> {
        let row = self
            .client()
            .await?
            .query_one("SELECT count(*) FROM papers WHERE deleted_at IS NULL", &[])
            .await
            .map_err(db_err)?;
        Ok(row.get::<_, i64>(0) as u64)
    }

    async fn change_seq(&self) -> Result<i64, StoreError> {
        let row = self
            .client()
            .await?
            .query_one("SELECT value FROM store_meta WHERE key = 'change_seq'", &[])
            .await
            .map_err(db_err)?;
        Ok(row.get(0))
    }

    async fn changes_since(&self, after: i64, limit: u32) -> Result<Vec<PaperChange>, StoreError> {
        papers::changes_since(&**self.client().await?, after, limit).await
    }

    async fn harvest_checkpoint(
        &self,
        set_spec: &str,
    ) -> Result<Option<HarvestCheckpoint>, StoreError> {
        harvest::checkpoint(&**self.client().await?, set_spec).await
    }

    async fn apply_harvest_page(&self, page: HarvestPage) -> Result<HarvestCounts, StoreError> {
        let mut client = self.client().await?;
        harvest::apply_page(&mut client, page).await
    }

    async fn try_lease(&self, name: &str, holder: &str, ttl_secs: i64) -> Result<bool, StoreError> {
        harvest::try_lease(&**self.client().await?, name, holder, ttl_secs).await
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn redacts_passwords() {
        assert_eq!(
            super::redact("postgres://u:secret@h/db"),
            "postgres://u:***@h/db"
        );
        assert_eq!(super::redact("postgres://u@h/db"), "postgres://u@h/db");
    }
}
