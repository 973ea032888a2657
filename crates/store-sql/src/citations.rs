//! Full-text fetch state and the citation graph.

use std::sync::LazyLock;

use async_trait::async_trait;
use paperboy_core::{ArxivId, PaperId};
use paperboy_store::{
    CitationStore, Citing, Passage, StoreError, StoredReference, TextChange, TextDue, TextFacts,
    TextRecord, TextStats,
};

use crate::conn::{Conn, Sql, SqlRow};
use crate::papers::{lock_seq, reserve_seq};
use crate::{args, watch, Backend, SqlStore};

/// Due: never fetched, or fetched for an older version.
/// `Last-Modified` only goes back for the same version (another version
/// is another page).
const DUE: &str = "SELECT p.paper_id, p.arxiv_id, p.latest_version, \
    CASE WHEN t.version = p.latest_version THEN t.last_modified END \
    FROM papers p LEFT JOIN paper_texts t ON t.paper_id = p.paper_id \
    WHERE p.deleted_at IS NULL AND (t.paper_id IS NULL OR t.version < p.latest_version)";
/// In a library or followed (the papers readers care about first).
static DUE_KEPT: LazyLock<Sql> = LazyLock::new(|| {
    Sql::owned(format!(
        "{DUE} AND p.paper_id IN (
            SELECT paper_id FROM library
            UNION SELECT q.paper_id FROM follows f JOIN papers q ON q.arxiv_id = f.target
                WHERE f.kind = 'paper')
         ORDER BY p.published_at DESC LIMIT $1"
    ))
});
/// On the daily list.
static DUE_DAILY: LazyLock<Sql> = LazyLock::new(|| {
    Sql::owned(format!(
        "{DUE} AND p.paper_id IN (SELECT paper_id FROM daily_submissions)
         ORDER BY p.published_at DESC LIMIT $1"
    ))
});
/// The newest.
static DUE_NEWEST: LazyLock<Sql> =
    LazyLock::new(|| Sql::owned(format!("{DUE} ORDER BY p.published_at DESC LIMIT $1")));
static TOUCH_TEXT: Sql =
    Sql::new("UPDATE paper_texts SET version = $2, fetched_at = $3 WHERE paper_id = $1");
static FETCHED_SINCE: Sql = Sql::new("SELECT count(*) FROM paper_texts WHERE fetched_at >= $1");
static UPSERT_TEXT: Sql = Sql::new(
    "INSERT INTO paper_texts
        (paper_id, version, status, last_modified, bytes, sections, fetched_at, section_hashes,
         cited_elsewhere)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
     ON CONFLICT (paper_id) DO UPDATE SET version = EXCLUDED.version, status = EXCLUDED.status,
        last_modified = EXCLUDED.last_modified, bytes = EXCLUDED.bytes,
        sections = EXCLUDED.sections, fetched_at = EXCLUDED.fetched_at,
        section_hashes = EXCLUDED.section_hashes, cited_elsewhere = EXCLUDED.cited_elsewhere",
);
static CITED_ELSEWHERE: Sql =
    Sql::new("SELECT cited_elsewhere FROM paper_texts WHERE paper_id = $1");
/// What the last page read gave: its version, section titles and hashes.
static OLD_TEXT: Sql = Sql::new(
    "SELECT version, sections, section_hashes FROM paper_texts
     WHERE paper_id = $1 AND status = 'parsed'",
);
/// Only a page read anew replaces the references (a missing page or a
/// refusal keeps what an earlier version gave).
static OLD_CITED: Sql = Sql::new(
    "SELECT DISTINCT cited_id FROM paper_references WHERE citing_id = $1 AND cited_id IS NOT NULL",
);
static DELETE_REFS: Sql = Sql::new("DELETE FROM paper_references WHERE citing_id = $1");
/// One reference; named by arXiv id, it is resolved here if that paper is
/// in the store (else later, by [`RESOLVE_WAITING`]); a paper matched by
/// title comes in `$9`. Never the citing paper itself.
static INSERT_REF: Sql = Sql::new(
    "INSERT INTO paper_references
        (citing_id, position, text, title, arxiv_id, doi, year, cited_id, context)
     VALUES ($1, $2, $3, $4, $5, $6, $7,
        COALESCE((SELECT q.paper_id FROM papers q WHERE q.arxiv_id = $5 AND q.deleted_at IS NULL),
                 $9),
        $8)",
);
static SELF_CITES: Sql =
    Sql::new("UPDATE paper_references SET cited_id = NULL WHERE citing_id = $1 AND cited_id = $1");
static NEW_CITED: Sql = Sql::new(
    "SELECT DISTINCT cited_id FROM paper_references WHERE citing_id = $1 AND cited_id IS NOT NULL",
);
/// A paper's count: distinct live papers citing it.
static RECOUNT: Sql = Sql::new(
    "UPDATE papers SET citation_count = (
        SELECT count(DISTINCT r.citing_id) FROM paper_references r
        JOIN papers c ON c.paper_id = r.citing_id AND c.deleted_at IS NULL
        WHERE r.cited_id = papers.paper_id)
     WHERE paper_id = ANY($1)",
);
static WAITING: Sql = Sql::new(
    "SELECT DISTINCT q.paper_id FROM paper_references r JOIN papers q ON q.arxiv_id = r.arxiv_id
     WHERE r.cited_id IS NULL AND r.arxiv_id IS NOT NULL AND q.deleted_at IS NULL
        AND q.paper_id != r.citing_id",
);
static RESOLVE_WAITING: Sql = Sql::new(
    "UPDATE paper_references SET cited_id = (
        SELECT q.paper_id FROM papers q WHERE q.arxiv_id = paper_references.arxiv_id
            AND q.deleted_at IS NULL AND q.paper_id != paper_references.citing_id)
     WHERE cited_id IS NULL AND arxiv_id IS NOT NULL
        AND arxiv_id IN (SELECT arxiv_id FROM papers WHERE paper_id = ANY($1))",
);
static REFERENCES: Sql = Sql::new(
    "SELECT r.position, r.text, r.title, q.arxiv_id, r.doi, r.year FROM paper_references r
     LEFT JOIN papers q ON q.paper_id = r.cited_id AND q.deleted_at IS NULL
     WHERE r.citing_id = $1 ORDER BY r.position",
);
static CITATIONS: Sql = Sql::new(
    "SELECT p.arxiv_id, min(r.context) FROM paper_references r
     JOIN papers p ON p.paper_id = r.citing_id AND p.deleted_at IS NULL
     WHERE r.cited_id = $1
     GROUP BY p.arxiv_id, p.published_at ORDER BY p.published_at DESC, p.arxiv_id LIMIT $2",
);
/// From the picks' references to the library, in that order: SQLite's
/// planner (no statistics on references) walked the member's whole library
/// instead, a paper lookup per saved paper, 22 ms a request for a
/// 10,000-paper library; its CROSS JOIN keeps the order written, and
/// PostgreSQL plans it as any inner join.
static LIBRARY_CITED_BY: Sql = Sql::new(
    "SELECT DISTINCT r.citing_id, q.arxiv_id
     FROM paper_references r CROSS JOIN library l CROSS JOIN papers q
     WHERE r.citing_id = ANY($2) AND r.cited_id IS NOT NULL
       AND l.user_id = $1 AND l.paper_id = r.cited_id
       AND q.paper_id = r.cited_id AND q.deleted_at IS NULL
     ORDER BY r.citing_id, q.arxiv_id",
);
static DELETE_PASSAGES: Sql = Sql::new("DELETE FROM paper_passages WHERE paper_id = $1");
static INSERT_PASSAGE: Sql = Sql::new(
    "INSERT INTO paper_passages (paper_id, position, section, text) VALUES ($1, $2, $3, $4)",
);
static MARK_TEXT_SEQ: Sql = Sql::new("UPDATE paper_texts SET text_seq = $2 WHERE paper_id = $1");
/// Papers whose passages changed (a deleted paper's are gone from search).
static TEXTS_SINCE: Sql = Sql::new(
    "SELECT t.text_seq, p.arxiv_id, p.paper_id, CASE WHEN p.deleted_at IS NULL THEN 1 ELSE 0 END
     FROM paper_texts t JOIN papers p ON p.paper_id = t.paper_id
     WHERE t.text_seq > $1 ORDER BY t.text_seq LIMIT $2",
);
static PASSAGES_OF: Sql = Sql::new(
    "SELECT paper_id, section, text FROM paper_passages WHERE paper_id = ANY($1)
     ORDER BY paper_id, position",
);
static PASSAGE_COUNTS: Sql = Sql::new(
    "SELECT count(*), CAST(COALESCE(sum(length(section) + length(text)), 0) AS BIGINT)
     FROM paper_passages",
);
static SECTIONS: Sql = Sql::new("SELECT sections FROM paper_texts WHERE paper_id = $1");
static STATUS_COUNTS: Sql =
    Sql::new("SELECT status, count(*), CAST(COALESCE(sum(bytes), 0) AS BIGINT) FROM paper_texts GROUP BY status");
static REF_COUNTS: Sql = Sql::new("SELECT count(*), count(cited_id) FROM paper_references");
static WAITING_TEXTS: Sql = Sql::new(
    "SELECT count(*) FROM papers p WHERE p.deleted_at IS NULL
        AND NOT EXISTS (SELECT 1 FROM paper_texts t WHERE t.paper_id = p.paper_id)",
);

fn due(r: &dyn SqlRow) -> Result<TextDue, StoreError> {
    let key = r.text(1)?;
    Ok(TextDue {
        paper_id: PaperId(r.i64(0)?),
        arxiv_id: ArxivId::parse(&key).map_err(|e| StoreError::Corrupt {
            key: key.clone(),
            reason: e.to_string(),
        })?,
        version: u32::try_from(r.i64(2)?).unwrap_or(1),
        last_modified: r.opt_text(3)?,
    })
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn to_json<T: serde::Serialize + ?Sized>(v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|e| StoreError::Database(e.to_string()))
}

/// The sections of a new version that were not in the old one as they are
/// (a new title, or the same title with other text); when the old read
/// kept no fingerprints, none (nothing to compare with).
fn changed_sections(
    old_titles: &[String],
    old_hashes: &[i64],
    titles: &[String],
    hashes: &[i64],
) -> Vec<String> {
    if old_hashes.len() != old_titles.len() || hashes.len() != titles.len() || old_hashes.is_empty()
    {
        return Vec::new();
    }
    let old: std::collections::HashSet<(&str, i64)> = old_titles
        .iter()
        .map(String::as_str)
        .zip(old_hashes.iter().copied())
        .collect();
    let mut out: Vec<String> = Vec::new();
    for (t, h) in titles.iter().zip(hashes) {
        if !old.contains(&(t.as_str(), *h)) && !out.contains(t) {
            out.push(t.clone());
        }
    }
    out
}

#[async_trait]
impl<B: Backend> CitationStore for SqlStore<B> {
    async fn texts_due(&self, limit: u32) -> Result<Vec<TextDue>, StoreError> {
        on!(self, read, |c| {
            let mut out: Vec<TextDue> = Vec::new();
            for sql in [&*DUE_KEPT, &*DUE_DAILY, &*DUE_NEWEST] {
                if out.len() == limit as usize {
                    break;
                }
                for d in c.all(sql, args![limit], due).await? {
                    if out.len() < limit as usize && !out.iter().any(|o| o.paper_id == d.paper_id) {
                        out.push(d);
                    }
                }
            }
            Ok(out)
        })
    }

    async fn texts_fetched_since(&self, since: i64) -> Result<u64, StoreError> {
        on!(self, read, |c| {
            Ok(c.scalar(&FETCHED_SINCE, args![since]).await? as u64)
        })
    }

    async fn record_text(&self, record: TextRecord) -> Result<(), StoreError> {
        on!(self, write, |c| {
            // Events are written here: in the order of the change sequence.
            lock_seq(c).await?;
            let id = record.paper_id.0;
            if record.status == paperboy_store::TextStatus::Unchanged {
                let version = i64::from(record.version);
                c.execute(&TOUCH_TEXT, args![id, version, now()]).await?;
                return Ok(());
            }
            let sections = to_json(&record.sections)?;
            let hashes = to_json(&record.section_hashes)?;
            let old = c
                .opt(&OLD_TEXT, args![id], |r| {
                    Ok((r.i64(0)?, r.text(1)?, r.text(2)?))
                })
                .await?;
            let values = args![
                id,
                i64::from(record.version),
                record.status.as_str(),
                &record.last_modified,
                record.bytes,
                &sections,
                now(),
                &hashes,
                record.cited_elsewhere
            ];
            c.execute(&UPSERT_TEXT, values).await?;
            use paperboy_store::TextStatus::{Catalogued, Parsed};
            if !matches!(record.status, Parsed | Catalogued) {
                return Ok(());
            }
            let parsed = record.status == Parsed;
            if let Some((old_version, old_titles, old_hashes)) = old.filter(|_| parsed) {
                if old_version < i64::from(record.version) {
                    let old_titles: Vec<String> =
                        serde_json::from_str(&old_titles).unwrap_or_default();
                    let old_hashes: Vec<i64> =
                        serde_json::from_str(&old_hashes).unwrap_or_default();
                    let changed = changed_sections(
                        &old_titles,
                        &old_hashes,
                        &record.sections,
                        &record.section_hashes,
                    );
                    if !changed.is_empty() {
                        let version = i64::from(record.version);
                        watch::note_sections(c, id, version, &changed).await?;
                    }
                }
            }
            let mut touched = c.all(&OLD_CITED, args![id], |r| r.i64(0)).await?;
            c.execute(&DELETE_REFS, args![id]).await?;
            for (i, r) in record.references.iter().enumerate() {
                let arxiv = r.arxiv_id.as_ref().map(|a| a.as_str().to_string());
                let values = args![
                    id,
                    i as i64 + 1,
                    &r.text,
                    &r.title,
                    &arxiv,
                    &r.doi,
                    r.year.map(i64::from),
                    &r.context,
                    r.matched.map(|m| m.0)
                ];
                c.execute(&INSERT_REF, values).await?;
            }
            c.execute(&SELF_CITES, args![id]).await?;
            if parsed {
                c.execute(&DELETE_PASSAGES, args![id]).await?;
                for (i, p) in record.passages.iter().enumerate() {
                    let values = args![id, i as i64 + 1, &p.section, &p.text];
                    c.execute(&INSERT_PASSAGE, values).await?;
                }
                let seq = reserve_seq(c, 1).await?;
                c.execute(&MARK_TEXT_SEQ, args![id, seq]).await?;
            }
            watch::note_cited(c, id, &touched).await?;
            touched.extend(c.all(&NEW_CITED, args![id], |r| r.i64(0)).await?);
            touched.sort_unstable();
            touched.dedup();
            if !touched.is_empty() {
                c.execute(&RECOUNT, args![&touched[..]]).await?;
            }
            Ok(())
        })
    }

    async fn resolve_waiting_references(&self) -> Result<u64, StoreError> {
        on!(self, write, |c| {
            lock_seq(c).await?;
            let arrived = c.all(&WAITING, &[], |r| r.i64(0)).await?;
            if arrived.is_empty() {
                return Ok(0);
            }
            watch::note_waiting_cited(c, &arrived).await?;
            let n = c.execute(&RESOLVE_WAITING, args![&arrived[..]]).await?;
            c.execute(&RECOUNT, args![&arrived[..]]).await?;
            Ok(n)
        })
    }

    async fn references_of(&self, paper: PaperId) -> Result<Vec<StoredReference>, StoreError> {
        on!(self, read, |c| { references_in(c, paper).await })
    }

    async fn citations_of(&self, paper: PaperId, limit: u32) -> Result<Vec<Citing>, StoreError> {
        on!(self, read, |c| { citing_in(c, paper, limit).await })
    }

    async fn library_cited_by(
        &self,
        user: paperboy_core::UserId,
        citing: &[PaperId],
    ) -> Result<Vec<(PaperId, ArxivId)>, StoreError> {
        let ids: Vec<i64> = citing.iter().map(|p| p.0).collect();
        on!(self, read, |c| {
            let rows = c
                .all(&LIBRARY_CITED_BY, args![user.0, &ids[..]], |r| {
                    Ok((PaperId(r.i64(0)?), r.text(1)?))
                })
                .await?;
            Ok(rows
                .into_iter()
                .filter_map(|(p, k)| ArxivId::parse(&k).ok().map(|a| (p, a)))
                .collect())
        })
    }

    async fn text_facts(&self, paper: PaperId, limit: u32) -> Result<TextFacts, StoreError> {
        on!(self, read, |c| {
            Ok(TextFacts {
                references: references_in(c, paper).await?,
                citing: citing_in(c, paper, limit).await?,
                sections: c
                    .opt(&SECTIONS, args![paper.0], |r| r.text(0))
                    .await?
                    .and_then(|j| serde_json::from_str(&j).ok())
                    .unwrap_or_default(),
                cited_elsewhere: cited_elsewhere_in(c, paper).await?,
            })
        })
    }

    async fn cited_elsewhere(&self, paper: PaperId) -> Result<Option<i64>, StoreError> {
        on!(self, read, |c| { cited_elsewhere_in(c, paper).await })
    }

    async fn text_stats(&self) -> Result<TextStats, StoreError> {
        on!(self, read, |c| {
            let mut s = TextStats::default();
            let rows = c
                .all(&STATUS_COUNTS, &[], |r| {
                    Ok((r.text(0)?, r.i64(1)?, r.i64(2)?))
                })
                .await?;
            for (status, n, bytes) in rows {
                let n = n as u64;
                match paperboy_store::TextStatus::parse(&status) {
                    paperboy_store::TextStatus::Parsed => s.parsed = n,
                    paperboy_store::TextStatus::Missing => s.missing = n,
                    paperboy_store::TextStatus::Unreadable => s.unreadable = n,
                    paperboy_store::TextStatus::TooLarge => s.too_large = n,
                    paperboy_store::TextStatus::Catalogued => s.catalogued = n,
                    paperboy_store::TextStatus::Unchanged => {}
                }
                s.bytes += bytes;
            }
            let (refs, resolved) = c
                .one(&REF_COUNTS, &[], |r| Ok((r.i64(0)?, r.i64(1)?)))
                .await?;
            s.references = refs as u64;
            s.resolved = resolved as u64;
            s.waiting = c.scalar(&WAITING_TEXTS, &[]).await? as u64;
            let (passages, passage_chars) = c
                .one(&PASSAGE_COUNTS, &[], |r| Ok((r.i64(0)?, r.i64(1)?)))
                .await?;
            s.passages = passages as u64;
            s.passage_chars = passage_chars;
            Ok(s)
        })
    }
}

/// Papers whose passages changed after `after`, with their passages now.
pub(crate) async fn texts_since(
    c: &mut dyn crate::conn::Conn,
    after: i64,
    limit: u32,
) -> Result<Vec<TextChange>, StoreError> {
    let rows = c
        .all(&TEXTS_SINCE, args![after, limit], |r| {
            Ok((r.i64(0)?, r.text(1)?, r.i64(2)?, r.i64(3)? == 1))
        })
        .await?;
    let live: Vec<i64> = rows.iter().filter(|r| r.3).map(|r| r.2).collect();
    let mut by_paper: std::collections::HashMap<i64, Vec<Passage>> = Default::default();
    if !live.is_empty() {
        let passages = c
            .all(&PASSAGES_OF, args![&live[..]], |r| {
                Ok((r.i64(0)?, r.text(1)?, r.text(2)?))
            })
            .await?;
        for (paper, section, text) in passages {
            by_paper
                .entry(paper)
                .or_default()
                .push(Passage { section, text });
        }
    }
    rows.into_iter()
        .map(|(seq, key, paper, _)| {
            Ok(TextChange {
                seq,
                arxiv_id: ArxivId::parse(&key).map_err(|e| StoreError::Corrupt {
                    key: key.clone(),
                    reason: e.to_string(),
                })?,
                passages: by_paper.remove(&paper).unwrap_or_default(),
            })
        })
        .collect()
}

async fn references_in(
    c: &mut dyn Conn,
    paper: PaperId,
) -> Result<Vec<StoredReference>, StoreError> {
    c.all(&REFERENCES, args![paper.0], |r| {
        Ok(StoredReference {
            position: r.i64(0)?,
            text: r.text(1)?,
            title: r.opt_text(2)?,
            cited: r.opt_text(3)?.and_then(|k| ArxivId::parse(&k).ok()),
            doi: r.opt_text(4)?,
            year: r.opt_i64(5)?.and_then(|y| i32::try_from(y).ok()),
        })
    })
    .await
}

async fn citing_in(
    c: &mut dyn Conn,
    paper: PaperId,
    limit: u32,
) -> Result<Vec<Citing>, StoreError> {
    c.all(&CITATIONS, args![paper.0, limit], |r| {
        let key = r.text(0)?;
        Ok(Citing {
            citing: ArxivId::parse(&key).map_err(|e| StoreError::Corrupt {
                key: key.clone(),
                reason: e.to_string(),
            })?,
            context: r.opt_text(1)?,
        })
    })
    .await
}

async fn cited_elsewhere_in(c: &mut dyn Conn, paper: PaperId) -> Result<Option<i64>, StoreError> {
    Ok(c.opt(&CITED_ELSEWHERE, args![paper.0], |r| r.opt_i64(0))
        .await?
        .flatten())
}
