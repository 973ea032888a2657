//! The one place a backend is chosen, from the database URL.

use std::sync::Arc;

use anyhow::Context;
use paperboy_store::Store;
use paperboy_store_postgres::PostgresStore;
use paperboy_store_sqlite::SqliteStore;

use crate::config::Config;

pub async fn open(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    let url = config.database_url();
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let store = PostgresStore::connect(&url).await.with_context(|| {
            format!(
                "opening PostgreSQL at {}",
                paperboy_store_postgres::redact(&url)
            )
        })?;
        Ok(Arc::new(store))
    } else if url.starts_with("sqlite:") {
        let store = tokio::task::spawn_blocking(move || {
            SqliteStore::open(&url).with_context(|| format!("opening SQLite at {url}"))
        })
        .await??;
        Ok(Arc::new(store))
    } else {
        anyhow::bail!("database URL `{url}` must start with sqlite:// or postgres://")
    }
}
