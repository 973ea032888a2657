//! Papers and the change feed.
//!
//! Every write takes numbers from the store-wide change sequence. The
//! sequence row is locked first (`UPDATE … SET value = value`, a no-op that
//! takes PostgreSQL's row lock and that SQLite's single writer already
//! holds): numbers are handed out in commit order, so a follower never
//! skips a late commit, and writers never deadlock on each other.

use rustc_hash::FxHashMap;
use std::sync::LazyLock;

use async_trait::async_trait;
use chrono::Utc;
use paperboy_core::{says_accepted, says_withdrawn, ArxivId, Paper};
use paperboy_store::{
    decide_upsert, ChangeFeed, ListedPaper, NewestCursor, PaperChange, PaperStore, StoreError,
    StoredPaper, UpsertCounts, UpsertDecision,
};

use crate::columns::{self, paper_columns_of, PaperColumns, PAPER_COLUMNS};
use crate::conn::{ColumnType, Conn, CopyIn, Dialect, Sql, Value};
use crate::{args, watch, Backend, SqlStore};

static LOCK_SEQ: Sql = Sql::new("UPDATE store_meta SET value = value WHERE key = 'change_seq'");
static RESERVE_SEQ: Sql =
    Sql::new("UPDATE store_meta SET value = value + $1 WHERE key = 'change_seq' RETURNING value");
static TEXT_DELETED: Sql = Sql::new(
    "UPDATE paper_texts SET text_seq = $2
     WHERE paper_id = (SELECT paper_id FROM papers WHERE arxiv_id = $1)",
);
static CHANGE_SEQ: Sql = Sql::new("SELECT value FROM store_meta WHERE key = 'change_seq'");
static GET: LazyLock<Sql> = LazyLock::new(|| {
    Sql::owned(format!(
        "SELECT {PAPER_COLUMNS} FROM papers WHERE arxiv_id = $1 AND deleted_at IS NULL"
    ))
});
static BY_KEY: LazyLock<Sql> = LazyLock::new(|| {
    Sql::owned(format!(
        "SELECT {PAPER_COLUMNS} FROM papers WHERE paper_id = $1 AND deleted_at IS NULL"
    ))
});
static CHANGES: LazyLock<Sql> = LazyLock::new(|| {
    Sql::owned(format!(
        "SELECT {PAPER_COLUMNS} FROM papers WHERE change_seq > $1 ORDER BY change_seq LIMIT $2"
    ))
});
static NEWEST_FIRST: LazyLock<Sql> = LazyLock::new(|| {
    Sql::owned(format!(
        "SELECT {PAPER_COLUMNS} FROM papers WHERE deleted_at IS NULL \
         AND (published_at < $1 OR (published_at = $1 AND paper_id < $2)) \
         ORDER BY published_at DESC, paper_id DESC LIMIT $3"
    ))
});
static COUNT: Sql = Sql::new("SELECT count(*) FROM papers WHERE deleted_at IS NULL");
static KNOWN_ONE: Sql =
    Sql::new("SELECT arxiv_id, content_hash, latest_version FROM papers WHERE arxiv_id = $1");
static KNOWN: Sql =
    Sql::new("SELECT arxiv_id, content_hash, latest_version FROM papers WHERE arxiv_id = ANY($1)");
static IS_LIVE: Sql =
    Sql::new("SELECT paper_id FROM papers WHERE arxiv_id = $1 AND deleted_at IS NULL FOR UPDATE");
static MARK_DELETED: Sql =
    Sql::new("UPDATE papers SET deleted_at = $2, change_seq = $3 WHERE arxiv_id = $1");
static PUBLISHED_SINCE: Sql = Sql::new(
    "SELECT arxiv_id FROM papers WHERE published_at >= $1 AND deleted_at IS NULL
     ORDER BY published_at DESC LIMIT $2",
);
static PING: Sql = Sql::new("SELECT 1");

/// Papers joined with their daily entry and its submitter: the paper
/// columns, then `day`, `username`, `submitted_at` ([`columns::listed`]).
pub(crate) fn listed_select(tail: &str) -> Sql {
    Sql::owned(format!(
        "SELECT {}, d.day, u.username, d.submitted_at FROM papers p \
         LEFT JOIN daily_submissions d ON d.paper_id = p.paper_id \
         LEFT JOIN users u ON u.user_id = d.submitted_by {tail}",
        paper_columns_of("p")
    ))
}

static LISTED_BY_IDS: LazyLock<Sql> =
    LazyLock::new(|| listed_select("WHERE p.arxiv_id = ANY($1) AND p.deleted_at IS NULL"));
static RECENT_IN_CATEGORY: LazyLock<Sql> = LazyLock::new(|| {
    listed_select(
        "WHERE p.deleted_at IS NULL AND (' ' || p.categories || ' ') LIKE $1 \
         ORDER BY p.published_at DESC LIMIT $2",
    )
});

/// A paper's columns as a write fills them, in the order of [`one_row`].
const WRITTEN: [(&str, ColumnType); 20] = {
    use ColumnType::{Text, I64};
    [
        ("arxiv_id", Text),
        ("title", Text),
        ("abstract", Text),
        ("authors", Text),
        ("categories", Text),
        ("versions", Text),
        ("latest_version", I64),
        ("comments", Text),
        ("journal_ref", Text),
        ("doi", Text),
        ("report_no", Text),
        ("license", Text),
        ("submitter", Text),
        ("updated_on", Text),
        ("code_links", Text),
        ("github_repo", Text),
        ("published_at", I64),
        ("content_hash", I64),
        ("change_seq", I64),
        ("created_at", I64),
    ]
};
/// New papers: rows known to be absent (the change-sequence lock keeps
/// every other writer out until this one commits).
static NEW_PAPERS: LazyLock<CopyIn> = LazyLock::new(|| CopyIn::new("papers", &WRITTEN));
const ON_CONFLICT_UPDATE: &str = "ON CONFLICT (arxiv_id) DO UPDATE SET title = EXCLUDED.title, \
    abstract = EXCLUDED.abstract, authors = EXCLUDED.authors, categories = EXCLUDED.categories, \
    versions = EXCLUDED.versions, latest_version = EXCLUDED.latest_version, \
    comments = EXCLUDED.comments, journal_ref = EXCLUDED.journal_ref, doi = EXCLUDED.doi, \
    report_no = EXCLUDED.report_no, license = EXCLUDED.license, submitter = EXCLUDED.submitter, \
    updated_on = EXCLUDED.updated_on, code_links = EXCLUDED.code_links, \
    github_repo = EXCLUDED.github_repo, published_at = EXCLUDED.published_at, \
    content_hash = EXCLUDED.content_hash, change_seq = EXCLUDED.change_seq, deleted_at = NULL";

/// One paper a statement (SQLite: local and prepared, as fast as a batch;
/// a plain UPDATE seeks the id index once, an upsert twice).
static UPDATE_ONE: Sql = Sql::new(
    "UPDATE papers SET title = $2, abstract = $3, authors = $4, categories = $5, versions = $6,
        latest_version = $7, comments = $8, journal_ref = $9, doi = $10, report_no = $11,
        license = $12, submitter = $13, updated_on = $14, code_links = $15, github_repo = $16,
        published_at = $17, content_hash = $18, change_seq = $19, deleted_at = NULL
     WHERE arxiv_id = $1",
);

/// The changed papers of a batch in one round trip (PostgreSQL only: it
/// binds arrays).
static UPSERT_MANY: LazyLock<Sql> = LazyLock::new(|| {
    let names: Vec<&str> = WRITTEN.iter().map(|(n, _)| *n).collect();
    let names = names.join(", ");
    Sql::owned(format!(
        "INSERT INTO papers ({names}) SELECT u.*, $20 FROM UNNEST($1::text[], \
         $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::text[], \
         $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], \
         $15::text[], $16::text[], $17::bigint[], $18::bigint[], $19::bigint[]) AS u \
         {ON_CONFLICT_UPDATE}"
    ))
});

/// What an upsert batch knows of one id.
#[derive(Default)]
struct Seen {
    /// Content hash and version: the store's, or the batch's last accepted.
    held: Option<(i64, u32)>,
    /// Whether the store has the row (an UPDATE, not an INSERT).
    in_store: bool,
    /// Where it is among the writes.
    slot: Option<usize>,
    /// The version the store holds (0: none).
    stored_version: u32,
}

/// Takes `n` numbers from the change sequence; the first of them.
pub(crate) async fn reserve_seq(c: &mut dyn Conn, n: i64) -> Result<i64, StoreError> {
    let end = c.scalar(&RESERVE_SEQ, args![n]).await?;
    Ok(end - n + 1)
}

/// Locks the change sequence before any other row (see the module doc).
pub(crate) async fn lock_seq(c: &mut dyn Conn) -> Result<(), StoreError> {
    c.execute(&LOCK_SEQ, &[]).await?;
    Ok(())
}

/// Papers in one write from which SQLite's writer takes the larger page
/// cache of a load ([`BULK_CACHE`]).
const BULK_BATCH: usize = 200;
/// The page cache of SQLite's writer during a load of papers, in KiB
/// (negative): it holds the hot pages of the papers table's indexes.
const BULK_CACHE: &str = "PRAGMA cache_size = -64000";

/// Upserts inside the caller's transaction.
pub(crate) async fn upsert_in(
    c: &mut dyn Conn,
    papers: Vec<Paper>,
) -> Result<UpsertCounts, StoreError> {
    lock_seq(c).await?;
    let ids: Vec<String> = papers.iter().map(|p| p.id.to_string()).collect();
    // Per id: what the store holds (or the batch accepted last), and its
    // place among the writes (an id seen twice keeps its last content).
    let decode = |r: &dyn crate::SqlRow| {
        let held = (r.i64(1)?, r.i64(2)? as u32);
        Ok((
            r.text(0)?,
            Seen {
                held: Some(held),
                in_store: true,
                slot: None,
                stored_version: held.1,
            },
        ))
    };
    // PostgreSQL: one round trip for the batch; SQLite: one indexed lookup
    // per id on a prepared statement (an IN list would be sorted first).
    let mut found = Vec::with_capacity(ids.len());
    let mut each = |r: &dyn crate::SqlRow| {
        found.push(decode(r)?);
        Ok(())
    };
    match c.dialect() {
        Dialect::Postgres => c.query(&KNOWN, args![ids.as_slice()], &mut each).await?,
        Dialect::Sqlite => {
            let params: Vec<Vec<Value<'_>>> = ids.iter().map(|id| vec![Value::from(id)]).collect();
            c.query_many(&KNOWN_ONE, &params, &mut each).await?
        }
    }
    let (counts, writes) = plan_writes(papers, found.into_iter().collect());
    if writes.is_empty() {
        return Ok(counts);
    }
    let first = reserve_seq(c, writes.len() as i64).await?;
    let now = Utc::now().timestamp();
    note_changes(c, &writes).await?;
    let inserts: Vec<Vec<Value<'_>>> = writes
        .iter()
        .enumerate()
        .filter(|(_, (_, stored))| *stored == 0)
        .map(|(i, (w, _))| one_row(w, first + i as i64, now))
        .collect();
    c.copy_in(&NEW_PAPERS, &inserts).await?;
    let updated = writes.iter().enumerate().filter(|(_, (_, s))| *s > 0);
    match c.dialect() {
        Dialect::Sqlite => {
            let updates: Vec<Vec<Value<'_>>> = updated
                .map(|(i, (w, _))| one_row(w, first + i as i64, now)[..19].to_vec())
                .collect();
            c.execute_many(&UPDATE_ONE, &updates).await?;
        }
        Dialect::Postgres => {
            let (cols, seqs): (Vec<&PaperColumns>, Vec<i64>) =
                updated.map(|(i, (w, _))| (w, first + i as i64)).unzip();
            if !cols.is_empty() {
                write_many(c, &cols, &seqs, now).await?
            }
        }
    }
    Ok(counts)
}

/// What a batch writes, decided against what the store holds (`seen`):
/// the counts, and each write's columns with the version the store holds
/// (0: a new paper, an INSERT). An id named twice keeps its last content.
fn plan_writes(
    papers: Vec<Paper>,
    mut seen: FxHashMap<String, Seen>,
) -> (UpsertCounts, Vec<(PaperColumns, u32)>) {
    let mut counts = UpsertCounts::default();
    let mut writes: Vec<(PaperColumns, u32)> = Vec::new();
    for paper in papers {
        let cols = PaperColumns::from_paper(paper);
        let version = cols.latest_version as u32;
        let state = match seen.get_mut(&cols.arxiv_id) {
            Some(s) => s,
            None => seen.entry(cols.arxiv_id.clone()).or_default(),
        };
        match decide_upsert(state.held, cols.content_hash, version) {
            UpsertDecision::Unchanged => {
                counts.unchanged += 1;
                continue;
            }
            UpsertDecision::Insert => counts.imported += 1,
            UpsertDecision::Update => counts.updated += 1,
        }
        state.held = Some((cols.content_hash, version));
        match state.slot {
            Some(i) => writes[i].0 = cols,
            None => {
                state.slot = Some(writes.len());
                let stored = if state.in_store {
                    state.stored_version.max(1)
                } else {
                    0
                };
                writes.push((cols, stored));
            }
        }
    }
    (counts, writes)
}

/// The library watch: what changed about papers already held (a new
/// version, a withdrawal, code, a venue), noted before their rows are
/// replaced.
async fn note_changes(c: &mut dyn Conn, writes: &[(PaperColumns, u32)]) -> Result<(), StoreError> {
    for (w, stored) in writes {
        if *stored == 0 {
            continue;
        }
        if w.latest_version > i64::from(*stored) {
            let withdrawn = w.comments.as_deref().is_some_and(says_withdrawn);
            watch::note_version(c, &w.arxiv_id, w.latest_version, withdrawn).await?;
        }
        if let Some(repo) = &w.github_repo {
            watch::note_code(c, &w.arxiv_id, repo).await?;
        }
        let accepted = w.comments.as_deref().filter(|c| says_accepted(c));
        if w.journal_ref.is_some() || accepted.is_some() {
            watch::note_venue(c, &w.arxiv_id, w.journal_ref.as_deref(), accepted).await?;
        }
    }
    Ok(())
}

/// The text columns of a paper, in [`INSERT_COLUMNS`] order.
fn texts(w: &PaperColumns) -> [&String; 6] {
    [
        &w.arxiv_id,
        &w.title,
        &w.abstract_text,
        &w.authors,
        &w.categories,
        &w.versions,
    ]
}

/// The nullable columns that follow `latest_version`.
fn optionals(w: &PaperColumns) -> [&Option<String>; 7] {
    [
        &w.comments,
        &w.journal_ref,
        &w.doi,
        &w.report_no,
        &w.license,
        &w.submitter,
        &w.updated_on,
    ]
}

fn one_row(w: &PaperColumns, seq: i64, now: i64) -> Vec<Value<'_>> {
    let mut v: Vec<Value<'_>> = texts(w).into_iter().map(Value::from).collect();
    v.push(Value::from(w.latest_version));
    v.extend(optionals(w).into_iter().map(Value::from));
    v.extend([Value::from(&w.code_links), Value::from(&w.github_repo)]);
    v.extend([w.published_at, w.content_hash, seq, now].map(Value::from));
    v
}

/// The batch as columns (arrays) for [`UPSERT_MANY`].
async fn write_many(
    c: &mut dyn Conn,
    writes: &[&PaperColumns],
    seqs: &[i64],
    now: i64,
) -> Result<(), StoreError> {
    // Column k of every row, as one array each.
    let texts: Vec<Vec<String>> = (0..6)
        .map(|k| writes.iter().map(|w| texts(w)[k].clone()).collect())
        .collect();
    let optionals: Vec<Vec<Option<String>>> = (0..7)
        .map(|k| writes.iter().map(|w| optionals(w)[k].clone()).collect())
        .collect();
    let num = |f: fn(&PaperColumns) -> i64| -> Vec<i64> { writes.iter().map(|w| f(w)).collect() };
    let latest = num(|w| w.latest_version);
    let code_links: Vec<String> = writes.iter().map(|w| w.code_links.clone()).collect();
    let github: Vec<Option<String>> = writes.iter().map(|w| w.github_repo.clone()).collect();
    let (published, hashes) = (num(|w| w.published_at), num(|w| w.content_hash));
    let mut params: Vec<Value<'_>> = texts.iter().map(|t| Value::Texts(t)).collect();
    params.push(Value::I64s(&latest));
    params.extend(optionals.iter().map(|o| Value::OptTexts(o)));
    params.push(Value::Texts(&code_links));
    params.push(Value::OptTexts(&github));
    params.extend([&published[..], &hashes[..], seqs].map(Value::I64s));
    params.push(Value::I64(now));
    c.execute(&UPSERT_MANY, &params).await?;
    Ok(())
}

/// Marks a paper deleted inside the caller's transaction.
pub(crate) async fn delete_in(c: &mut dyn Conn, arxiv_id: &str) -> Result<bool, StoreError> {
    lock_seq(c).await?;
    if c.opt(&IS_LIVE, args![arxiv_id], |r| r.i64(0))
        .await?
        .is_none()
    {
        return Ok(false);
    }
    let seq = reserve_seq(c, 1).await?;
    let now = Utc::now().timestamp();
    watch::note_withdrawn(c, arxiv_id).await?;
    c.execute(&MARK_DELETED, args![arxiv_id, now, seq]).await?;
    // Its passages leave search with it.
    c.execute(&TEXT_DELETED, args![arxiv_id, seq]).await?;
    Ok(true)
}

#[async_trait]
impl<B: Backend> PaperStore for SqlStore<B> {
    fn backend(&self) -> &'static str {
        self.backend.dialect().name()
    }

    async fn ping(&self) -> Result<(), StoreError> {
        on!(self, read, |c| { c.scalar(&PING, &[]).await.map(drop) })
    }

    async fn upsert_papers(&self, papers: Vec<Paper>) -> Result<UpsertCounts, StoreError> {
        on!(self, write, |c| {
            if c.dialect() == Dialect::Sqlite && papers.len() >= BULK_BATCH {
                // A load of papers (an import, a harvest's page) keeps the
                // papers table's hot index pages in the writer's cache;
                // the writer of any other command keeps the small one it
                // opened with (a digest run's 76,000 queued mails filled
                // 64 MB of cache it never read again).
                c.batch(BULK_CACHE).await?;
            }
            upsert_in(c, papers).await
        })
    }

    async fn defer_indexes(&self) -> Result<u32, StoreError> {
        on!(self, write, |c| { crate::indexes::defer(c).await })
    }

    async fn restore_indexes(&self) -> Result<u32, StoreError> {
        on!(self, write, |c| { crate::indexes::restore(c).await })
    }

    async fn get_paper(&self, id: &ArxivId) -> Result<StoredPaper, StoreError> {
        let id = id.to_string();
        on!(self, read, |c| {
            c.one(&GET, args![&id], columns::paper).await
        })
    }

    async fn paper_by_key(&self, id: paperboy_core::PaperId) -> Result<StoredPaper, StoreError> {
        on!(self, read, |c| {
            c.one(&BY_KEY, args![id.0], columns::paper).await
        })
    }

    async fn get_papers(&self, ids: &[ArxivId]) -> Result<Vec<ListedPaper>, StoreError> {
        let ids: Vec<String> = ids.iter().map(|i| i.to_string()).collect();
        on!(self, read, |c| {
            c.all(&LISTED_BY_IDS, args![ids.as_slice()], columns::listed)
                .await
        })
    }

    async fn delete_paper(&self, id: &ArxivId) -> Result<bool, StoreError> {
        let id = id.to_string();
        on!(self, write, |c| { delete_in(c, &id).await })
    }

    async fn published_since(&self, since: i64, limit: u32) -> Result<Vec<ArxivId>, StoreError> {
        on!(self, read, |c| {
            let rows = c
                .all(&PUBLISHED_SINCE, args![since, limit], |r| r.text(0))
                .await?;
            Ok(rows.iter().filter_map(|s| ArxivId::parse(s).ok()).collect())
        })
    }

    async fn count_papers(&self) -> Result<u64, StoreError> {
        on!(self, read, |c| {
            Ok(c.scalar(&COUNT, &[]).await?.max(0) as u64)
        })
    }

    async fn recent_in_category(
        &self,
        category: &str,
        limit: u32,
    ) -> Result<Vec<ListedPaper>, StoreError> {
        let pattern = format!("% {category} %");
        on!(self, read, |c| {
            c.all(&RECENT_IN_CATEGORY, args![&pattern, limit], columns::listed)
                .await
        })
    }
}

#[async_trait]
impl<B: Backend> ChangeFeed for SqlStore<B> {
    async fn change_seq(&self) -> Result<i64, StoreError> {
        on!(self, read, |c| { c.scalar(&CHANGE_SEQ, &[]).await })
    }

    async fn changes_since(&self, after: i64, limit: u32) -> Result<Vec<PaperChange>, StoreError> {
        on!(self, read, |c| {
            c.all(&CHANGES, args![after, limit], columns::change).await
        })
    }

    async fn papers_newest_first(
        &self,
        after: NewestCursor,
        limit: u32,
    ) -> Result<Vec<(NewestCursor, StoredPaper)>, StoreError> {
        on!(self, read, |c| {
            c.all(
                &NEWEST_FIRST,
                args![after.published_at, after.paper_id, limit],
                |r| {
                    let cursor = NewestCursor {
                        published_at: r.i64(17)?,
                        paper_id: r.i64(0)?,
                    };
                    Ok((cursor, columns::paper(r)?))
                },
            )
            .await
        })
    }

    async fn texts_since(
        &self,
        after: i64,
        limit: u32,
    ) -> Result<Vec<paperboy_store::TextChange>, StoreError> {
        on!(self, read, |c| {
            crate::citations::texts_since(c, after, limit).await
        })
    }
}
