use chrono::{DateTime, Utc};
use paperboy_core::{ArxivId, Paper, PaperId};
use paperboy_store::row::PaperColumns;
use paperboy_store::{
    decide_upsert, PaperChange, StoreError, StoredPaper, UpsertCounts, UpsertDecision,
};
use rusqlite::{params, Connection, OptionalExtension, Row, Transaction};

use crate::db_err;

pub const COLUMNS: &str = "paper_id, arxiv_id, title, abstract, authors, categories, versions, \
    latest_version, comments, journal_ref, doi, report_no, license, submitter, updated_on, \
    code_links, github_repo, published_at, content_hash, change_seq, created_at, deleted_at, \
    upvotes, num_comments, github_stars";

fn next_seq(tx: &Transaction<'_>) -> Result<i64, StoreError> {
    tx.query_row(
        "UPDATE store_meta SET value = value + 1 WHERE key = 'change_seq' RETURNING value",
        [],
        |r| r.get(0),
    )
    .map_err(db_err)
}

pub fn upsert(conn: &mut Connection, papers: Vec<Paper>) -> Result<UpsertCounts, StoreError> {
    let tx = conn.transaction().map_err(db_err)?;
    let counts = upsert_in(&tx, papers)?;
    tx.commit().map_err(db_err)?;
    Ok(counts)
}

/// Upserts inside a transaction the caller commits.
pub fn upsert_in(tx: &Transaction<'_>, papers: Vec<Paper>) -> Result<UpsertCounts, StoreError> {
    let now = Utc::now().timestamp();
    let mut counts = UpsertCounts::default();
    let start_seq: i64 = tx
        .query_row(
            "SELECT value FROM store_meta WHERE key = 'change_seq'",
            [],
            |r| r.get(0),
        )
        .map_err(db_err)?;
    let mut seq = start_seq;
    {
        let mut select = tx
            .prepare_cached("SELECT content_hash, latest_version FROM papers WHERE arxiv_id = ?1")
            .map_err(db_err)?;
        let mut insert = tx
            .prepare_cached(
                "INSERT INTO papers (arxiv_id, title, abstract, authors, categories, versions,
                    latest_version, comments, journal_ref, doi, report_no, license, submitter,
                    updated_on, code_links, github_repo, published_at, content_hash, change_seq,
                    created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
                    ?17, ?18, ?19, ?20)",
            )
            .map_err(db_err)?;
        let mut update = tx
            .prepare_cached(
                "UPDATE papers SET title = ?2, abstract = ?3, authors = ?4, categories = ?5,
                    versions = ?6, latest_version = ?7, comments = ?8, journal_ref = ?9, doi = ?10,
                    report_no = ?11, license = ?12, submitter = ?13, updated_on = ?14,
                    code_links = ?15, github_repo = ?16, published_at = ?17, content_hash = ?18,
                    change_seq = ?19, deleted_at = NULL
                 WHERE arxiv_id = ?1",
            )
            .map_err(db_err)?;
        for paper in papers {
            let cols = PaperColumns::from_paper(paper);
            let existing: Option<(i64, i64)> = select
                .query_row([&cols.arxiv_id], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()
                .map_err(db_err)?;
            let existing = existing.map(|(h, v)| (h, v as u32));
            let decision = decide_upsert(existing, cols.content_hash, cols.latest_version as u32);
            if decision == UpsertDecision::Unchanged {
                counts.unchanged += 1;
                continue;
            }
            seq += 1;
            let c = &cols;
            let values = params![
                c.arxiv_id,
                c.title,
                c.abstract_text,
                c.authors,
                c.categories,
                c.versions,
                c.latest_version,
                c.comments,
                c.journal_ref,
                c.doi,
                c.report_no,
                c.license,
                c.submitter,
                c.updated_on,
                c.code_links,
                c.github_repo,
                c.published_at,
                c.content_hash,
                seq
            ];
            if decision == UpsertDecision::Insert {
                let mut all: Vec<&dyn rusqlite::ToSql> = values.to_vec();
                all.push(&now);
                insert.execute(all.as_slice()).map_err(db_err)?;
                counts.imported += 1;
            } else {
                update.execute(values).map_err(db_err)?;
                counts.updated += 1;
            }
        }
    }
    if seq != start_seq {
        tx.execute(
            "UPDATE store_meta SET value = ?1 WHERE key = 'change_seq'",
            [seq],
        )
        .map_err(db_err)?;
    }
    Ok(counts)
}

pub fn read_row(r: &Row<'_>) -> rusqlite::Result<(PaperColumns, Extras)> {
    let cols = PaperColumns {
        arxiv_id: r.get(1)?,
        title: r.get(2)?,
        abstract_text: r.get(3)?,
        authors: r.get(4)?,
        categories: r.get(5)?,
        versions: r.get(6)?,
        latest_version: r.get(7)?,
        comments: r.get(8)?,
        journal_ref: r.get(9)?,
        doi: r.get(10)?,
        report_no: r.get(11)?,
        license: r.get(12)?,
        submitter: r.get(13)?,
        updated_on: r.get(14)?,
        code_links: r.get(15)?,
        github_repo: r.get(16)?,
        published_at: r.get(17)?,
        content_hash: r.get(18)?,
    };
    let extras = Extras {
        paper_id: r.get(0)?,
        change_seq: r.get(19)?,
        created_at: r.get(20)?,
        deleted_at: r.get(21)?,
        upvotes: r.get(22)?,
        num_comments: r.get(23)?,
        github_stars: r.get(24)?,
    };
    Ok((cols, extras))
}

pub struct Extras {
    paper_id: i64,
    change_seq: i64,
    created_at: i64,
    deleted_at: Option<i64>,
    upvotes: i64,
    num_comments: i64,
    github_stars: Option<i64>,
}

pub fn into_stored(cols: PaperColumns, x: Extras) -> Result<StoredPaper, StoreError> {
    Ok(StoredPaper {
        paper_id: PaperId(x.paper_id),
        paper: cols.into_paper()?,
        upvotes: x.upvotes,
        num_comments: x.num_comments,
        github_stars: x.github_stars,
        change_seq: x.change_seq,
        created_at: DateTime::<Utc>::from_timestamp(x.created_at, 0).unwrap_or_default(),
    })
}

pub fn get(conn: &Connection, arxiv_id: &str) -> Result<StoredPaper, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM papers WHERE arxiv_id = ?1 AND deleted_at IS NULL");
    let mut stmt = conn.prepare_cached(&sql).map_err(db_err)?;
    let (cols, extras) = stmt.query_row([arxiv_id], read_row).map_err(db_err)?;
    into_stored(cols, extras)
}

pub fn delete(conn: &mut Connection, arxiv_id: &str) -> Result<bool, StoreError> {
    let tx = conn.transaction().map_err(db_err)?;
    let changed = delete_in(&tx, arxiv_id)?;
    tx.commit().map_err(db_err)?;
    Ok(changed)
}

/// Marks a paper deleted inside a transaction the caller commits.
pub fn delete_in(tx: &Transaction<'_>, arxiv_id: &str) -> Result<bool, StoreError> {
    let live: bool = tx
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM papers WHERE arxiv_id = ?1 AND deleted_at IS NULL)",
            [arxiv_id],
            |r| r.get(0),
        )
        .map_err(db_err)?;
    if !live {
        return Ok(false);
    }
    let seq = next_seq(tx)?;
    tx.execute(
        "UPDATE papers SET deleted_at = ?2, change_seq = ?3 WHERE arxiv_id = ?1",
        params![arxiv_id, Utc::now().timestamp(), seq],
    )
    .map_err(db_err)?;
    Ok(true)
}

pub fn changes_since(
    conn: &Connection,
    after: i64,
    limit: u32,
) -> Result<Vec<PaperChange>, StoreError> {
    let sql =
        format!("SELECT {COLUMNS} FROM papers WHERE change_seq > ?1 ORDER BY change_seq LIMIT ?2");
    let mut stmt = conn.prepare_cached(&sql).map_err(db_err)?;
    let rows = stmt
        .query_map(params![after, limit], read_row)
        .map_err(db_err)?;
    let mut out = Vec::new();
    for row in rows {
        let (cols, extras) = row.map_err(db_err)?;
        let arxiv_id = ArxivId::parse(&cols.arxiv_id).map_err(|e| StoreError::Corrupt {
            key: cols.arxiv_id.clone(),
            reason: e.to_string(),
        })?;
        let change_seq = extras.change_seq;
        let paper = if extras.deleted_at.is_some() {
            None
        } else {
            Some(into_stored(cols, extras)?)
        };
        out.push(PaperChange {
            change_seq,
            arxiv_id,
            paper,
        });
    }
    Ok(out)
}
