pub mod backup;
pub mod digest;
pub mod eval;
pub mod fulltext;
pub mod import;
pub mod ingest;
pub mod library;
pub mod model;
pub mod search;
pub mod serve;
pub mod stars;
pub mod user;

use crate::config::Config;

/// `paperboy migrate`: opening a store applies its migrations.
pub async fn migrate(config: Config) -> anyhow::Result<()> {
    let store = crate::wiring::open_store(&config).await?;
    println!(
        "{} store at {} is up to date",
        store.backend(),
        config.database_url()
    );
    Ok(())
}
