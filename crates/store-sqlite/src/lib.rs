//! The embedded store: one SQLite file (WAL) under the data directory.
//!
//! This crate only provides connections; the storage contracts are
//! implemented once in `paperboy-store-sql`. rusqlite is synchronous, so
//! every job runs on tokio's blocking pool, where its future completes at
//! once. One writer connection (SQLite allows one writer at a time anyway)
//! and a small pool of read connections, so reads never queue behind an
//! import.

pub mod backup;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use paperboy_store::StoreError;
use paperboy_store_sql::{
    complete_now, Backend, BoxFuture, Conn, CopyIn, Dialect, Job, RowFn, Sql, SqlRow, SqlStore,
    Value,
};
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, OpenFlags};

/// The store every contract is implemented on.
pub type SqliteStore = SqlStore<Sqlite>;

/// Connections to one SQLite file.
pub struct Sqlite {
    path: PathBuf,
    writer: Arc<Mutex<Connection>>,
    readers: Arc<Mutex<Vec<Connection>>>,
}

/// Readers kept open between jobs.
const READER_POOL: usize = 16;

/// Opens (creating the file and its directory if needed) and migrates.
/// Accepts `sqlite://path`, `sqlite:path` or a plain path.
pub async fn open(url: &str) -> Result<SqliteStore, StoreError> {
    let url = url.to_string();
    let backend = tokio::task::spawn_blocking(move || Sqlite::open(&url))
        .await
        .map_err(|e| StoreError::Database(format!("opening SQLite: {e}")))??;
    SqlStore::new(backend).await
}

impl Sqlite {
    fn open(url: &str) -> Result<Self, StoreError> {
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
        let writer = Connection::open(&path).map_err(|e| open_err(e.to_string()))?;
        configure(&writer, false).map_err(|e| open_err(e.to_string()))?;
        Ok(Sqlite {
            path,
            writer: Arc::new(Mutex::new(writer)),
            readers: Arc::new(Mutex::new(Vec::new())),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
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
    // Page cache in KiB (negative). The writer's grows to 64 MB when it
    // loads papers (the hot index pages of an import: store-sql's
    // `BULK_CACHE`); otherwise both keep 16 MB.
    conn.pragma_update(None, "cache_size", -16_000)?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    // Prepared statements are kept per connection, keyed by their text.
    conn.set_prepared_statement_cache_capacity(128);
    Ok(())
}

fn blocking_err(e: tokio::task::JoinError) -> StoreError {
    StoreError::Database(format!("store task failed: {e}"))
}

#[async_trait]
impl Backend for Sqlite {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    async fn read<T: Send + 'static>(&self, job: Job<T>) -> Result<T, StoreError> {
        let readers = self.readers.clone();
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || {
            let pooled = readers.lock().unwrap_or_else(|p| p.into_inner()).pop();
            let mut conn = match pooled {
                Some(c) => c,
                None => {
                    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
                    let c = Connection::open_with_flags(&path, flags).map_err(db_err)?;
                    configure(&c, true).map_err(db_err)?;
                    c
                }
            };
            let out = complete_now(job(&mut Lite(&mut conn)));
            let mut pool = readers.lock().unwrap_or_else(|p| p.into_inner());
            if pool.len() < READER_POOL {
                pool.push(conn);
            }
            out
        })
        .await
        .map_err(blocking_err)?
    }

    async fn write<T: Send + 'static>(&self, job: Job<T>) -> Result<T, StoreError> {
        let writer = self.writer.clone();
        let path = self.path.clone();
        let run = move || {
            let mut conn = writer.lock().unwrap_or_else(|p| p.into_inner());
            let attempt = || -> Result<T, StoreError> {
                // A job that panicked left its transaction open: end it first.
                if !conn.is_autocommit() {
                    conn.execute_batch("ROLLBACK").map_err(db_err)?;
                }
                // IMMEDIATE takes the write lock at once: another process
                // writing the same file makes this wait (busy timeout)
                // instead of failing half-way through.
                conn.execute_batch("BEGIN IMMEDIATE").map_err(db_err)?;
                match complete_now(job(&mut Lite(&mut conn))) {
                    Ok(out) => {
                        conn.execute_batch("COMMIT").map_err(db_err)?;
                        Ok(out)
                    }
                    Err(e) => {
                        if let Err(r) = conn.execute_batch("ROLLBACK") {
                            tracing::error!(error = %r, "rolling back a failed SQLite write");
                        }
                        Err(e)
                    }
                }
            };
            let out = attempt();
            // A failed COMMIT leaves the transaction open: roll it back.
            if out.is_err() && !conn.is_autocommit() {
                let _ = conn.execute_batch("ROLLBACK");
            }
            out.map_err(|e| on_file(e, &path))
        };
        // On a multi-threaded runtime the write runs on the calling thread
        // (its other tasks move to another worker meanwhile), so the caller
        // continues the instant the commit returns: the mail sender writes
        // the final SMTP `.` with nothing scheduled in between.
        match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
            Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(run),
            _ => tokio::task::spawn_blocking(run)
                .await
                .map_err(blocking_err)?,
        }
    }
}

/// SQLite names columns ("UNIQUE constraint failed: users.username");
/// turn that into the name PostgreSQL reports (`users_username_key`).
fn constraint_name(msg: &str) -> String {
    let cols = msg.rsplit(": ").next().unwrap_or(msg);
    if let Some(index) = cols
        .strip_prefix("index '")
        .and_then(|s| s.strip_suffix('\''))
    {
        return index.to_string();
    }
    let mut parts = cols.split(", ");
    match parts.next().and_then(|first| first.split_once('.')) {
        Some((table, col)) => {
            let mut name = format!("{table}_{col}");
            for more in parts {
                if let Some((_, c)) = more.split_once('.') {
                    name.push('_');
                    name.push_str(c);
                }
            }
            format!("{name}_key")
        }
        None => cols.to_string(),
    }
}

fn db_err(e: rusqlite::Error) -> StoreError {
    match e {
        rusqlite::Error::QueryReturnedNoRows => StoreError::NotFound,
        rusqlite::Error::SqliteFailure(f, Some(msg))
            if f.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            StoreError::Conflict {
                constraint: constraint_name(&msg),
            }
        }
        rusqlite::Error::SqliteFailure(f, msg)
            if matches!(
                f.code,
                rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
            ) =>
        {
            StoreError::Unavailable(msg.unwrap_or_else(|| f.to_string()))
        }
        rusqlite::Error::SqliteFailure(f, msg)
            if matches!(
                f.code,
                rusqlite::ErrorCode::DiskFull | rusqlite::ErrorCode::SystemIoFailure
            ) =>
        {
            StoreError::Database(format!(
                "{} ({DISK_HINT})",
                msg.unwrap_or_else(|| f.to_string())
            ))
        }
        other => StoreError::Database(other.to_string()),
    }
}

const DISK_HINT: &str = "cannot write: the disk is full or a file size limit was reached; \
     the transaction was rolled back and the store is as it was";

/// Names the database file in a write error about the disk.
fn on_file(e: StoreError, path: &Path) -> StoreError {
    match e {
        StoreError::Database(m) if m.contains(DISK_HINT) => {
            StoreError::Database(format!("{}: {m}", path.display()))
        }
        other => other,
    }
}

/// A value as SQLite binds it; a list becomes JSON text for `json_each`.
struct Bind<'a>(&'a Value<'a>);

impl rusqlite::ToSql for Bind<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        let json = |v: serde_json::Result<String>| {
            v.map(|s| ToSqlOutput::Owned(rusqlite::types::Value::Text(s)))
                .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))
        };
        match *self.0 {
            Value::Null => Ok(ToSqlOutput::Borrowed(ValueRef::Null)),
            Value::I64(v) => Ok(ToSqlOutput::Owned(rusqlite::types::Value::Integer(v))),
            Value::F64(v) => Ok(ToSqlOutput::Owned(rusqlite::types::Value::Real(v))),
            Value::Text(s) => Ok(ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes()))),
            Value::I64s(v) => json(serde_json::to_string(v)),
            Value::Texts(v) => json(serde_json::to_string(v)),
            Value::OptTexts(v) => json(serde_json::to_string(v)),
            Value::F64s(v) => json(serde_json::to_string(v)),
        }
    }
}

fn run_execute(conn: &Connection, sql: &Sql, params: &[Value<'_>]) -> Result<u64, StoreError> {
    let mut stmt = conn
        .prepare_cached(sql.text(Dialect::Sqlite))
        .map_err(db_err)?;
    let n = stmt
        .execute(rusqlite::params_from_iter(params.iter().map(Bind)))
        .map_err(db_err)?;
    Ok(n as u64)
}

fn run_many(conn: &Connection, sql: &Sql, rows: &[Vec<Value<'_>>]) -> Result<u64, StoreError> {
    let mut stmt = conn
        .prepare_cached(sql.text(Dialect::Sqlite))
        .map_err(db_err)?;
    let mut n = 0;
    for params in rows {
        n += stmt
            .execute(rusqlite::params_from_iter(params.iter().map(Bind)))
            .map_err(db_err)? as u64;
    }
    Ok(n)
}

fn run_query(
    conn: &Connection,
    sql: &Sql,
    params: &[Vec<Value<'_>>],
    each: &mut RowFn<'_>,
) -> Result<(), StoreError> {
    let mut stmt = conn
        .prepare_cached(sql.text(Dialect::Sqlite))
        .map_err(db_err)?;
    for p in params {
        let mut rows = stmt
            .query(rusqlite::params_from_iter(p.iter().map(Bind)))
            .map_err(db_err)?;
        while let Some(row) = rows.next().map_err(db_err)? {
            each(&Row(row))?;
        }
    }
    Ok(())
}

struct Row<'a, 'b>(&'a rusqlite::Row<'b>);

impl SqlRow for Row<'_, '_> {
    fn opt_i64(&self, i: usize) -> Result<Option<i64>, StoreError> {
        self.0.get(i).map_err(db_err)
    }
    fn opt_f64(&self, i: usize) -> Result<Option<f64>, StoreError> {
        self.0.get(i).map_err(db_err)
    }
    fn opt_text(&self, i: usize) -> Result<Option<String>, StoreError> {
        self.0.get(i).map_err(db_err)
    }
}

/// A connection (the writer inside its transaction, or a reader). Every
/// call completes before its future is made.
struct Lite<'c>(&'c mut Connection);

impl Conn for Lite<'_> {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn execute<'a>(
        &'a mut self,
        sql: &'a Sql,
        params: &'a [Value<'a>],
    ) -> BoxFuture<'a, Result<u64, StoreError>> {
        Box::pin(std::future::ready(run_execute(self.0, sql, params)))
    }

    fn execute_many<'a>(
        &'a mut self,
        sql: &'a Sql,
        rows: &'a [Vec<Value<'a>>],
    ) -> BoxFuture<'a, Result<u64, StoreError>> {
        Box::pin(std::future::ready(run_many(self.0, sql, rows)))
    }

    fn copy_in<'a>(
        &'a mut self,
        into: &'a CopyIn,
        rows: &'a [Vec<Value<'a>>],
    ) -> BoxFuture<'a, Result<u64, StoreError>> {
        Box::pin(std::future::ready(run_many(self.0, &into.insert, rows)))
    }

    fn query<'a>(
        &'a mut self,
        sql: &'a Sql,
        params: &'a [Value<'a>],
        each: &'a mut RowFn<'a>,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        let one = [params.to_vec()];
        Box::pin(std::future::ready(run_query(self.0, sql, &one, each)))
    }

    fn query_many<'a>(
        &'a mut self,
        sql: &'a Sql,
        params: &'a [Vec<Value<'a>>],
        each: &'a mut RowFn<'a>,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(std::future::ready(run_query(self.0, sql, params, each)))
    }

    fn batch<'a>(&'a mut self, sql: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(std::future::ready(
            self.0.execute_batch(sql).map_err(db_err),
        ))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn constraint_names_follow_postgres() {
        assert_eq!(
            super::constraint_name("UNIQUE constraint failed: users.username"),
            "users_username_key"
        );
        assert_eq!(
            super::constraint_name("UNIQUE constraint failed: votes.user_id, votes.paper_id"),
            "votes_user_id_paper_id_key"
        );
    }
}
