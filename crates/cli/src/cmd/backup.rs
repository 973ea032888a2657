//! `paperboy backup OUT` and `paperboy restore IN [--force]`.
//!
//! SQLite: a consistent copy while the server writes (`VACUUM INTO`, one
//! read transaction), and putting one back into a data directory, then
//! rebuilding the derived indexes. PostgreSQL has its own tools for this
//! (`pg_dump`/`pg_restore`); the commands say how to use them.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;
use paperboy_store_sqlite::backup;

use crate::config::Config;

#[derive(Debug, Args)]
pub struct BackupOpts {
    /// The backup file to write (must not exist).
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct RestoreOpts {
    /// A backup file made by `paperboy backup`.
    pub input: PathBuf,
    /// Replace a store that already holds papers or accounts.
    #[arg(long)]
    pub force: bool,
}

/// The SQLite file the configuration names, or the PostgreSQL advice.
fn sqlite_path(config: &Config, verb: &str) -> anyhow::Result<PathBuf> {
    let url = config.database_url();
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let shown = paperboy_store_postgres::redact(&url);
        anyhow::bail!(
            "the store is PostgreSQL ({shown}); PostgreSQL's own tools {verb} it consistently while Paperboy runs:\n  \
             backup:  pg_dump --format=custom --file=paperboy.dump '{shown}'\n  \
             restore: pg_restore --clean --if-exists --no-owner --dbname='{shown}' paperboy.dump\n\
             then run `paperboy reindex` on each node to rebuild its search indexes"
        );
    }
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .ok_or_else(|| {
            anyhow::anyhow!("database URL `{url}` must start with sqlite:// or postgres://")
        })?;
    Ok(PathBuf::from(path))
}

pub async fn backup(opts: BackupOpts, config: Config) -> anyhow::Result<()> {
    let source = sqlite_path(&config, "back up")?;
    anyhow::ensure!(
        source.is_file(),
        "{}: no store there (is the data directory right?)",
        source.display()
    );
    let out = opts.out.clone();
    anyhow::ensure!(
        !out.exists(),
        "{}: exists; choose a new file",
        out.display()
    );
    let expected = backup::expected_size(&source)?;
    let bar = crate::progress::bytes_bar(Some(expected), "backup");
    let started = Instant::now();
    let copying = {
        let (source, out) = (source.clone(), out.clone());
        tokio::task::spawn_blocking(move || backup::backup(&source, &out))
    };
    tokio::pin!(copying);
    let partial = backup::partial_path(&out);
    let result = loop {
        tokio::select! {
            r = &mut copying => break r.context("the backup task failed")?,
            () = tokio::time::sleep(Duration::from_millis(200)) => {
                if let Ok(m) = std::fs::metadata(&partial) {
                    bar.set_position(m.len().min(expected));
                }
            }
        }
    };
    bar.finish_and_clear();
    result?;
    let counts = backup::verify(&out)?;
    let size = std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0);
    println!(
        "backed up {} papers and {} accounts to {} ({:.1} MB) in {:.1}s",
        counts.papers,
        counts.users,
        out.display(),
        size as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

pub async fn restore(opts: RestoreOpts, config: Config) -> anyhow::Result<()> {
    let db = sqlite_path(&config, "restore")?;
    let incoming = backup::verify(&opts.input)?;
    // A server on this data directory holds the keyword index's lock.
    let index_dir = crate::indexes::index_dir(&config);
    if index_dir.exists() {
        drop(
            paperboy_search::KeywordIndex::open(&index_dir, true).map_err(|e| {
                anyhow::anyhow!(
                    "{}: {e}; stop `paperboy serve` on this data directory first",
                    index_dir.display()
                )
            })?,
        );
    }
    if db.exists() && !opts.force {
        let present = backup::verify(&db).map_err(|e| {
            anyhow::anyhow!(
                "{e}; the store there is not one Paperboy can read: pass --force to replace it"
            )
        })?;
        anyhow::ensure!(
            present.papers == 0 && present.users == 0,
            "{} already holds {} papers and {} accounts; pass --force to replace them",
            db.display(),
            present.papers,
            present.users
        );
    }
    let started = Instant::now();
    let (from, to) = (opts.input.clone(), db.clone());
    tokio::task::spawn_blocking(move || backup::restore(&from, &to))
        .await
        .context("the restore task failed")??;
    println!(
        "restored {} papers and {} accounts from {} in {:.1}s; rebuilding the indexes",
        incoming.papers,
        incoming.users,
        opts.input.display(),
        started.elapsed().as_secs_f64()
    );
    // The indexes describe the old store: start them afresh.
    remove_indexes(&config)?;
    super::search::reindex(config).await
}

fn remove_indexes(config: &Config) -> anyhow::Result<()> {
    let dir: &Path = &config.data_dir.join("index");
    if dir.exists() {
        std::fs::remove_dir_all(dir).with_context(|| format!("removing {}", dir.display()))?;
    }
    Ok(())
}
