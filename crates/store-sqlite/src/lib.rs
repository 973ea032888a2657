//! The embedded store: one SQLite file (WAL) under the data directory.
//!
//! rusqlite is synchronous; every call runs on tokio's blocking pool. One
//! writer connection (SQLite allows one writer at a time anyway) and a small
//! pool of read connections, so reads never queue behind an import.

mod harvest;
mod migrate;
mod papers;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use paperboy_core::{ArxivId, Paper};
use paperboy_store::{
    HarvestCheckpoint, HarvestCounts, HarvestPage, PaperChange, Store, StoreError, StoredPaper,
    UpsertCounts,
};
use rusqlite::{Connection, OpenFlags};

pub struct SqliteStore {
    path: PathBuf,
    writer: Arc<Mutex<Connection>>,
    readers: Arc<Mutex<Vec<Connection>>>,
}

pub(crate) fn db_err(e: rusqlite::Error) -> StoreError {
    match e {
        rusqlite::Error::QueryReturnedNoRows => StoreError::NotFound,
        rusqlite::Error::SqliteFailure(f, Some(msg))
            if f.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            StoreError::Conflict {
                constraint: constraint_name(&msg),
            }
        }
        other => StoreError::Database(other.to_string()),
    }
}

/// SQLite names the columns ("UNIQUE constraint failed: votes.user_id,
/// votes.paper_id"); that text is the constraint's name for our purposes.
fn constraint_name(msg: &str) -> String {
    msg.rsplit(": ").next().unwrap_or(msg).to_string()
}

impl SqliteStore {
    /// Opens (creating the file and its directory if needed) and migrates.
    /// Accepts `sqlite://path`, `sqlite:path` or a plain path.
    pub fn open(url: &str) -> Result<Self, StoreError> {
        let path = PathBuf::from(
            url.strip_prefix("sqlite://")
                .or_else(|| url.strip_prefix("sqlite:"))
                .unwrap_or(url),
        );
        let open_err = |reason: String| StoreError::Open {
            url: url.to_string(),
            reason,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| open_err(format!("{}: {e}", dir.display())))?;
        }
        let mut writer = Connection::open(&path).map_err(|e| open_err(e.to_string()))?;
        configure(&writer, false).map_err(|e| open_err(e.to_string()))?;
        migrate::run(&mut writer)?;
        Ok(SqliteStore {
            path,
            writer: Arc::new(Mutex::new(writer)),
            readers: Arc::new(Mutex::new(Vec::new())),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` on the writer connection on the blocking pool.
    async fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let writer = self.writer.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = writer.lock().unwrap_or_else(|p| p.into_inner());
            f(&mut conn)
        })
        .await
        .map_err(|e| StoreError::Database(format!("store task failed: {e}")))?
    }

    /// Runs `f` on a pooled read connection on the blocking pool.
    async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let readers = self.readers.clone();
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || {
            let pooled = readers.lock().unwrap_or_else(|p| p.into_inner()).pop();
            let conn = match pooled {
                Some(c) => c,
                None => {
                    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
                    let c = Connection::open_with_flags(&path, flags).map_err(db_err)?;
                    configure(&c, true).map_err(db_err)?;
                    c
                }
            };
            let out = f(&conn);
            let mut pool = readers.lock().unwrap_or_else(|p| p.into_inner());
            if pool.len() < 16 {
                pool.push(conn);
            }
            out
        })
        .await
        .map_err(|e| StoreError::Database(format!("store task failed: {e}")))?
    }
}

fn configure(conn: &Connection, read_only: bool) -> rusqlite::Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    if !read_only {
        // WAL: readers never block the writer; NORMAL sync is durable at
        // every checkpoint and never corrupts on a crash.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        // Checkpoint in larger steps (64 MiB of WAL) during heavy writes.
        conn.pragma_update(None, "wal_autocheckpoint", 16_384)?;
    }
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // Page cache in KiB (negative): the writer's covers the hot index pages
    // of a large import; readers are many and keep less.
    conn.pragma_update(
        None,
        "cache_size",
        if read_only { -16_000 } else { -64_000 },
    )?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    Ok(())
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.read(|c| c.query_row("SELECT 1", [], |_| Ok(())).map_err(db_err))
            .await
    }

    async fn upsert_papers(&self, papers: Vec<Paper>) -> Result<UpsertCounts, StoreError> {
        self.write(move |c| papers::upsert(c, papers)).await
    }

    async fn get_paper(&self, id: &ArxivId) -> Result<StoredPaper, StoreError> {
        let id = id.to_string();
        self.read(move |c| papers::get(c, &id)).await
    }

    async fn delete_paper(&self, id: &ArxivId) -> Result<bool, StoreError> {
        let id = id.to_string();
        self.write(move |c| papers::delete(c, &id)).await
    }

    async fn count_papers(&self) -> Result<u64, StoreError> {
        self.read(|c| {
            c.query_row(
                "SELECT count(*) FROM papers WHERE deleted_at IS NULL",
                [],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n as u64)
            .map_err(db_err)
        })
        .await
    }

    async fn change_seq(&self) -> Result<i64, StoreError> {
        self.read(|c| {
            c.query_row(
                "SELECT value FROM store_meta WHERE key = 'change_seq'",
                [],
                |r| r.get(0),
            )
            .map_err(db_err)
        })
        .await
    }

    async fn changes_since(&self, after: i64, limit: u32) -> Result<Vec<PaperChange>, StoreError> {
        self.read(move |c| papers::changes_since(c, after, limit))
            .await
    }

    async fn harvest_checkpoint(
        &self,
        set_spec: &str,
    ) -> Result<Option<HarvestCheckpoint>, StoreError> {
        let set_spec = set_spec.to_string();
        self.read(move |c| harvest::checkpoint(c, &set_spec)).await
    }

    async fn apply_harvest_page(&self, page: HarvestPage) -> Result<HarvestCounts, StoreError> {
        self.write(move |c| harvest::apply_page(c, page)).await
    }

    async fn try_lease(&self, name: &str, holder: &str, ttl_secs: i64) -> Result<bool, StoreError> {
        let (name, holder) = (name.to_string(), holder.to_string());
        self.write(move |c| harvest::try_lease(c, &name, &holder, ttl_secs))
            .await
    }
}
