//! Copies of the SQLite file while the server writes it, and putting a
//! copy back. `VACUUM INTO` reads the database in one read transaction, so
//! the copy is one consistent moment of the store; in WAL mode writers go
//! on meanwhile. The copy is written beside its destination and renamed
//! into place once complete, so an interrupted backup leaves no file that
//! looks finished.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};

/// Why a backup or a restore did not happen; each names the file.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0} exists; choose a new file")]
    Exists(PathBuf),
    #[error("{0}: no such file")]
    Missing(PathBuf),
    #[error("{path}: not a SQLite database ({reason})")]
    NotSqlite { path: PathBuf, reason: String },
    #[error("{path}: damaged ({check})")]
    Damaged { path: PathBuf, check: String },
    #[error("{path}: not a Paperboy store ({reason})")]
    NotPaperboy { path: PathBuf, reason: String },
    /// Reading, copying, renaming or syncing a file failed.
    #[error("{what}: {reason}")]
    Io { what: String, reason: String },
}

fn io(what: impl std::fmt::Display, e: impl std::fmt::Display) -> BackupError {
    BackupError::Io {
        what: what.to_string(),
        reason: e.to_string(),
    }
}

/// What a backup of `source` will roughly weigh (pages in use × page
/// size), for a progress bar.
pub fn expected_size(source: &Path) -> Result<u64, BackupError> {
    let conn = open_read_only(source)?;
    let q = |pragma: &str| -> Result<u64, BackupError> {
        conn.query_row(&format!("PRAGMA {pragma}"), [], |r| r.get::<_, i64>(0))
            .map(|n| n.max(0) as u64)
            .map_err(|e| io(source.display(), e))
    };
    Ok((q("page_count")? - q("freelist_count")?.min(q("page_count")?)) * q("page_size")?)
}

/// The file a backup to `out` is written to before it is complete.
pub fn partial_path(out: &Path) -> PathBuf {
    let mut name = out.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    out.with_file_name(name)
}

/// Writes a consistent copy of the store at `source` to `out` (which must
/// not exist). Blocking; watch `partial_path(out)` grow for progress.
pub fn backup(source: &Path, out: &Path) -> Result<(), BackupError> {
    if out.exists() {
        return Err(BackupError::Exists(out.to_path_buf()));
    }
    let partial = partial_path(out);
    // A partial copy is an earlier backup that was cut off.
    let _ = std::fs::remove_file(&partial);
    let conn = open_read_only(source)?;
    conn.busy_timeout(std::time::Duration::from_secs(30))
        .map_err(|e| io(source.display(), e))?;
    let target = partial
        .to_str()
        .ok_or_else(|| io(partial.display(), "not a UTF-8 path"))?;
    if let Err(e) = conn.execute("VACUUM INTO ?1", [target]) {
        let _ = std::fs::remove_file(&partial);
        return Err(io(
            format!("copying {} to {}", source.display(), partial.display()),
            e,
        ));
    }
    drop(conn);
    sync(&partial)?;
    std::fs::rename(&partial, out).map_err(|e| {
        io(
            format!("renaming {} to {}", partial.display(), out.display()),
            e,
        )
    })?;
    if let Some(dir) = out.parent() {
        let _ = sync_dir(dir);
    }
    Ok(())
}

/// What a store holds, in brief.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub papers: u64,
    pub users: u64,
}

/// Checks that `path` is an intact Paperboy store: SQLite's quick check
/// passes and the migrations table is there. Returns what it holds.
pub fn verify(path: &Path) -> Result<Counts, BackupError> {
    let conn = open_read_only(path)?;
    let check: String = conn
        .query_row("PRAGMA quick_check", [], |r| r.get(0))
        .map_err(|e| BackupError::NotSqlite {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
    if check != "ok" {
        return Err(BackupError::Damaged {
            path: path.to_path_buf(),
            check,
        });
    }
    let (migrations, papers, users): (i64, i64, i64) = conn
        .query_row(
            "SELECT (SELECT COUNT(*) FROM schema_migrations), \
                    (SELECT COUNT(*) FROM papers), (SELECT COUNT(*) FROM users)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .map_err(|e| BackupError::NotPaperboy {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
    if migrations == 0 {
        return Err(BackupError::NotPaperboy {
            path: path.to_path_buf(),
            reason: "no migrations applied".into(),
        });
    }
    Ok(Counts {
        papers: papers.max(0) as u64,
        users: users.max(0) as u64,
    })
}

/// Puts the backup `from` in place of the store file `db` (and drops its
/// WAL and shared-memory files). The store must not be open anywhere.
/// The copy lands beside `db` first, so a failure leaves `db` as it was.
pub fn restore(from: &Path, db: &Path) -> Result<(), BackupError> {
    verify(from)?;
    if let Some(dir) = db.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| io(dir.display(), e))?;
    }
    let partial = partial_path(db);
    std::fs::copy(from, &partial).map_err(|e| {
        io(
            format!("copying {} to {}", from.display(), partial.display()),
            e,
        )
    })?;
    sync(&partial)?;
    for suffix in ["-wal", "-shm"] {
        let mut name = db.as_os_str().to_os_string();
        name.push(suffix);
        let side = PathBuf::from(name);
        if side.exists() {
            std::fs::remove_file(&side).map_err(|e| io(side.display(), e))?;
        }
    }
    std::fs::rename(&partial, db).map_err(|e| {
        io(
            format!("renaming {} to {}", partial.display(), db.display()),
            e,
        )
    })?;
    if let Some(dir) = db.parent() {
        let _ = sync_dir(dir);
    }
    Ok(())
}

fn open_read_only(path: &Path) -> Result<Connection, BackupError> {
    if !path.is_file() {
        return Err(BackupError::Missing(path.to_path_buf()));
    }
    Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| io(path.display(), e))
}

fn sync(path: &Path) -> Result<(), BackupError> {
    std::fs::File::open(path)
        .and_then(|f| f.sync_all())
        .map_err(|e| io(path.display(), e))
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}
