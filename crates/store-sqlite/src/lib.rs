//! The embedded store: one SQLite file (WAL) under the data directory.
//!
//! rusqlite is synchronous; every call runs on tokio's blocking pool. One
//! writer connection (SQLite allows one writer at a time anyway) and a small
//! pool of read connections, so reads never queue behind an import.

mod community;
mod delivery;
mod harvest;
mod migrate;
mod papers;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::NaiveDate;
use paperboy_core::{ArxivId, Paper, PaperId, Role, User, UserId};
use paperboy_store::{
    DailyEntry, DailySort, Frequency, HarvestCheckpoint, HarvestCounts, HarvestPage, ListedPaper,
    NewUser, OutboxRow, OutgoingMail, PaperChange, Preferences, SendOutcome, Store, StoreError,
    StoredPaper, Subscriber, SubscriberId, TrendingRow, UpsertCounts,
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

    async fn get_papers(&self, ids: &[ArxivId]) -> Result<Vec<ListedPaper>, StoreError> {
        let ids: Vec<String> = ids.iter().map(|i| i.to_string()).collect();
        self.read(move |c| community::get_papers(c, &ids)).await
    }

    async fn create_user(&self, user: NewUser) -> Result<User, StoreError> {
        self.write(move |c| community::create_user(c, user)).await
    }

    async fn user_by_name(&self, username: &str) -> Result<(User, String), StoreError> {
        let name = username.to_string();
        self.read(move |c| community::user_by_name(c, &name)).await
    }

    async fn set_role(&self, username: &str, role: Role) -> Result<(), StoreError> {
        let name = username.to_string();
        self.write(move |c| community::set_role(c, &name, role))
            .await
    }

    async fn list_users(&self) -> Result<Vec<User>, StoreError> {
        self.read(community::list_users).await
    }

    async fn create_session(
        &self,
        token_hash: &str,
        user: UserId,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        let t = token_hash.to_string();
        self.write(move |c| community::create_session(c, &t, user, expires_at))
            .await
    }

    async fn session_user(&self, token_hash: &str, now: i64) -> Result<User, StoreError> {
        let t = token_hash.to_string();
        self.read(move |c| community::session_user(c, &t, now))
            .await
    }

    async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError> {
        let t = token_hash.to_string();
        self.write(move |c| community::delete_session(c, &t)).await
    }

    async fn create_api_token(
        &self,
        token_hash: &str,
        user: UserId,
        name: &str,
    ) -> Result<(), StoreError> {
        let (t, n) = (token_hash.to_string(), name.to_string());
        self.write(move |c| community::create_api_token(c, &t, user, &n))
            .await
    }

    async fn api_token_user(&self, token_hash: &str) -> Result<User, StoreError> {
        let t = token_hash.to_string();
        self.read(move |c| community::api_token_user(c, &t)).await
    }

    async fn set_vote(&self, user: UserId, paper: PaperId, up: bool) -> Result<i64, StoreError> {
        self.write(move |c| community::set_vote(c, user, paper, up))
            .await
    }

    async fn voted(&self, user: UserId, papers: &[PaperId]) -> Result<Vec<PaperId>, StoreError> {
        let papers = papers.to_vec();
        self.read(move |c| community::voted(c, user, &papers)).await
    }

    async fn submit_daily(
        &self,
        paper: PaperId,
        day: NaiveDate,
        user: UserId,
    ) -> Result<DailyEntry, StoreError> {
        self.write(move |c| community::submit_daily(c, paper, day, user))
            .await
    }

    async fn daily_entry(&self, paper: PaperId) -> Result<Option<DailyEntry>, StoreError> {
        self.read(move |c| community::daily_entry(c, paper)).await
    }

    async fn daily_papers(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        sort: DailySort,
        offset: u32,
        limit: u32,
    ) -> Result<Vec<ListedPaper>, StoreError> {
        self.read(move |c| community::daily_papers(c, from, to, sort, offset, limit))
            .await
    }

    async fn trending_papers(
        &self,
        offset: u32,
        limit: u32,
    ) -> Result<Vec<ListedPaper>, StoreError> {
        self.read(move |c| community::trending_papers(c, offset, limit))
            .await
    }

    async fn trending_rows(&self, since: i64) -> Result<Vec<TrendingRow>, StoreError> {
        self.read(move |c| community::trending_rows(c, since)).await
    }

    async fn set_trending_scores(
        &self,
        scores: Vec<(PaperId, f64)>,
        zero_before: i64,
    ) -> Result<(), StoreError> {
        self.write(move |c| community::set_trending_scores(c, scores, zero_before))
            .await
    }

    async fn recent_in_category(
        &self,
        category: &str,
        limit: u32,
    ) -> Result<Vec<ListedPaper>, StoreError> {
        let c = category.to_string();
        self.read(move |conn| community::recent_in_category(conn, &c, limit))
            .await
    }

    async fn user_submissions(
        &self,
        user: UserId,
        limit: u32,
    ) -> Result<Vec<ListedPaper>, StoreError> {
        self.read(move |c| community::user_submissions(c, user, limit))
            .await
    }

    async fn user_upvoted(&self, user: UserId, limit: u32) -> Result<Vec<ListedPaper>, StoreError> {
        self.read(move |c| community::user_upvoted(c, user, limit))
            .await
    }

    async fn upsert_subscriber(
        &self,
        email: &str,
        prefs: &Preferences,
    ) -> Result<Subscriber, StoreError> {
        let (e, p) = (email.to_string(), prefs.clone());
        self.write(move |c| delivery::upsert_subscriber(c, &e, &p))
            .await
    }

    async fn set_preferences(
        &self,
        id: SubscriberId,
        prefs: &Preferences,
    ) -> Result<(), StoreError> {
        let p = prefs.clone();
        self.write(move |c| delivery::set_preferences(c, id, &p))
            .await
    }

    async fn subscriber_by_email(&self, email: &str) -> Result<Option<Subscriber>, StoreError> {
        let e = email.to_string();
        self.read(move |c| delivery::by_email(c, &e)).await
    }

    async fn subscriber(&self, id: SubscriberId) -> Result<Subscriber, StoreError> {
        self.read(move |c| delivery::subscriber(c, id)).await
    }

    async fn confirm_subscriber(&self, id: SubscriberId) -> Result<(), StoreError> {
        self.write(move |c| delivery::confirm(c, id)).await
    }

    async fn unsubscribe(&self, id: SubscriberId) -> Result<(), StoreError> {
        self.write(move |c| delivery::unsubscribe(c, id)).await
    }

    async fn active_subscribers(
        &self,
        frequency: Frequency,
        after: i64,
        limit: u32,
    ) -> Result<Vec<Subscriber>, StoreError> {
        self.read(move |c| delivery::active(c, frequency, after, limit))
            .await
    }

    async fn unsent_papers(
        &self,
        subscriber: SubscriberId,
        papers: &[PaperId],
    ) -> Result<Vec<PaperId>, StoreError> {
        let papers = papers.to_vec();
        self.read(move |c| delivery::unsent(c, subscriber, &papers))
            .await
    }

    async fn enqueue_mail(
        &self,
        mail: OutgoingMail,
        papers: &[PaperId],
    ) -> Result<bool, StoreError> {
        let papers = papers.to_vec();
        self.write(move |c| delivery::enqueue(c, mail, &papers))
            .await
    }

    async fn claim_outbox(
        &self,
        now: i64,
        lease_secs: i64,
        limit: u32,
    ) -> Result<Vec<OutboxRow>, StoreError> {
        self.write(move |c| delivery::claim(c, now, lease_secs, limit))
            .await
    }

    async fn claim_outbox_row(
        &self,
        outbox_id: i64,
        now: i64,
        lease_secs: i64,
    ) -> Result<Option<OutboxRow>, StoreError> {
        self.write(move |c| delivery::claim_one(c, outbox_id, now, lease_secs))
            .await
    }

    async fn outbox_id(&self, dedupe_key: &str) -> Result<Option<i64>, StoreError> {
        let k = dedupe_key.to_string();
        self.read(move |c| delivery::outbox_id(c, &k)).await
    }

    async fn finish_outbox(&self, outbox_id: i64, outcome: SendOutcome) -> Result<(), StoreError> {
        self.write(move |c| delivery::finish(c, outbox_id, outcome))
            .await
    }

    async fn finish_outbox_sent_then(
        &self,
        outbox_id: i64,
        after_commit: Box<dyn FnOnce() -> usize + Send>,
    ) -> Result<usize, StoreError> {
        self.write(move |c| {
            delivery::finish(c, outbox_id, SendOutcome::Sent)?;
            Ok(after_commit())
        })
        .await
    }

    async fn outbox_counts(&self) -> Result<Vec<(String, i64)>, StoreError> {
        self.read(delivery::counts).await
    }
}
