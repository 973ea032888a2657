use std::collections::HashMap;

use chrono::{DateTime, Utc};
use paperboy_core::{ArxivId, Paper, PaperId};
use paperboy_store::row::PaperColumns;
use paperboy_store::{
    decide_upsert, PaperChange, StoreError, StoredPaper, UpsertCounts, UpsertDecision,
};
use tokio_postgres::{GenericClient, Row};

use crate::db_err;

pub const COLUMNS: &str = "paper_id, arxiv_id, title, abstract, authors, categories, versions, \
    latest_version, comments, journal_ref, doi, report_no, license, submitter, updated_on, \
    code_links, github_repo, published_at, content_hash, change_seq, created_at, deleted_at, \
    upvotes, num_comments, github_stars";

/// Takes the change-sequence lock without consuming a number. Every
/// writer takes this lock before any paper row lock, so writers never
/// deadlock on each other.
pub async fn lock_seq<C: GenericClient>(tx: &C) -> Result<(), StoreError> {
    tx.query_one(
        "SELECT value FROM store_meta WHERE key = 'change_seq' FOR UPDATE",
        &[],
    )
    .await
    .map_err(db_err)?;
    Ok(())
}

/// Reserves `n` change numbers; the row lock is held until commit, so
/// numbers are handed out in commit order.
async fn reserve_seq<C: GenericClient>(tx: &C, n: i64) -> Result<i64, StoreError> {
    let row = tx
        .query_one(
            "UPDATE store_meta SET value = value + $1 WHERE key = 'change_seq' RETURNING value",
            &[&n],
        )
        .await
        .map_err(db_err)?;
    let end: i64 = row.get(0);
    Ok(end - n + 1)
}

pub async fn upsert(
    client: &mut deadpool_postgres::Object,
    papers: Vec<Paper>,
) -> Result<UpsertCounts, StoreError> {
    let tx = client.transaction().await.map_err(db_err)?;
    let counts = upsert_in(&tx, papers).await?;
    tx.commit().await.map_err(db_err)?;
    Ok(counts)
}

/// Upserts inside a transaction the caller commits.
pub async fn upsert_in(
    tx: &tokio_postgres::Transaction<'_>,
    papers: Vec<Paper>,
) -> Result<UpsertCounts, StoreError> {
    let ids: Vec<String> = papers.iter().map(|p| p.id.to_string()).collect();
    let rows = tx
        .query(
            "SELECT arxiv_id, content_hash, latest_version FROM papers WHERE arxiv_id = ANY($1)",
            &[&ids],
        )
        .await
        .map_err(db_err)?;
    let mut known: HashMap<String, (i64, u32)> = rows
        .iter()
        .map(|r| {
            (
                r.get::<_, String>(0),
                (r.get::<_, i64>(1), r.get::<_, i64>(2) as u32),
            )
        })
        .collect();

    // Same decisions, in the same order, as the SQLite store; an id seen
    // twice in one batch keeps its last accepted content.
    let mut counts = UpsertCounts::default();
    let mut writes: Vec<PaperColumns> = Vec::new();
    let mut slot: HashMap<String, usize> = HashMap::new();
    for paper in papers {
        let cols = PaperColumns::from_paper(paper);
        let decision = decide_upsert(
            known.get(&cols.arxiv_id).copied(),
            cols.content_hash,
            cols.latest_version as u32,
        );
        match decision {
            UpsertDecision::Unchanged => {
                counts.unchanged += 1;
                continue;
            }
            UpsertDecision::Insert => counts.imported += 1,
            UpsertDecision::Update => counts.updated += 1,
        }
        known.insert(
            cols.arxiv_id.clone(),
            (cols.content_hash, cols.latest_version as u32),
        );
        match slot.get(&cols.arxiv_id) {
            Some(&i) => writes[i] = cols,
            None => {
                slot.insert(cols.arxiv_id.clone(), writes.len());
                writes.push(cols);
            }
        }
    }
    if writes.is_empty() {
        return Ok(counts);
    }

    let first = reserve_seq(tx, writes.len() as i64).await?;
    let seqs: Vec<i64> = (0..writes.len() as i64).map(|i| first + i).collect();
    let now = Utc::now().timestamp();
    macro_rules! col {
        ($f:ident) => {
            writes.iter().map(|c| c.$f.clone()).collect::<Vec<_>>()
        };
    }
    let (arxiv_id, title, abstract_text, authors) = (
        col!(arxiv_id),
        col!(title),
        col!(abstract_text),
        col!(authors),
    );
    let (categories, versions, latest_version) =
        (col!(categories), col!(versions), col!(latest_version));
    let (comments, journal_ref, doi, report_no) = (
        col!(comments),
        col!(journal_ref),
        col!(doi),
        col!(report_no),
    );
    let (license, submitter, updated_on, code_links) = (
        col!(license),
        col!(submitter),
        col!(updated_on),
        col!(code_links),
    );
    let (github_repo, published_at, content_hash) =
        (col!(github_repo), col!(published_at), col!(content_hash));
    tx.execute(
        "INSERT INTO papers (arxiv_id, title, abstract, authors, categories, versions,
            latest_version, comments, journal_ref, doi, report_no, license, submitter,
            updated_on, code_links, github_repo, published_at, content_hash, change_seq,
            created_at)
         SELECT u.*, $20 FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
            $6::text[], $7::bigint[], $8::text[], $9::text[], $10::text[], $11::text[],
            $12::text[], $13::text[], $14::text[], $15::text[], $16::text[], $17::bigint[],
            $18::bigint[], $19::bigint[]) AS u
         ON CONFLICT (arxiv_id) DO UPDATE SET title = EXCLUDED.title,
            abstract = EXCLUDED.abstract, authors = EXCLUDED.authors,
            categories = EXCLUDED.categories, versions = EXCLUDED.versions,
            latest_version = EXCLUDED.latest_version, comments = EXCLUDED.comments,
            journal_ref = EXCLUDED.journal_ref, doi = EXCLUDED.doi,
            report_no = EXCLUDED.report_no, license = EXCLUDED.license,
            submitter = EXCLUDED.submitter, updated_on = EXCLUDED.updated_on,
            code_links = EXCLUDED.code_links, github_repo = EXCLUDED.github_repo,
            published_at = EXCLUDED.published_at, content_hash = EXCLUDED.content_hash,
            change_seq = EXCLUDED.change_seq, deleted_at = NULL",
        &[
            &arxiv_id,
            &title,
            &abstract_text,
            &authors,
            &categories,
            &versions,
            &latest_version,
            &comments,
            &journal_ref,
            &doi,
            &report_no,
            &license,
            &submitter,
            &updated_on,
            &code_links,
            &github_repo,
            &published_at,
            &content_hash,
            &seqs,
            &now,
        ],
    )
    .await
    .map_err(db_err)?;
    Ok(counts)
}

pub fn read_row(r: &Row) -> Result<(StoredPaper, Option<i64>), StoreError> {
    let cols = PaperColumns {
        arxiv_id: r.get(1),
        title: r.get(2),
        abstract_text: r.get(3),
        authors: r.get(4),
        categories: r.get(5),
        versions: r.get(6),
        latest_version: r.get(7),
        comments: r.get(8),
        journal_ref: r.get(9),
        doi: r.get(10),
        report_no: r.get(11),
        license: r.get(12),
        submitter: r.get(13),
        updated_on: r.get(14),
        code_links: r.get(15),
        github_repo: r.get(16),
        published_at: r.get(17),
        content_hash: r.get(18),
    };
    let stored = StoredPaper {
        paper_id: PaperId(r.get(0)),
        paper: cols.into_paper()?,
        change_seq: r.get(19),
        created_at: DateTime::<Utc>::from_timestamp(r.get(20), 0).unwrap_or_default(),
        upvotes: r.get(22),
        num_comments: r.get(23),
        github_stars: r.get(24),
    };
    Ok((stored, r.get(21)))
}

pub async fn get<C: GenericClient>(client: &C, arxiv_id: &str) -> Result<StoredPaper, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM papers WHERE arxiv_id = $1 AND deleted_at IS NULL");
    let row = client.query_opt(&sql, &[&arxiv_id]).await.map_err(db_err)?;
    let row = row.ok_or(StoreError::NotFound)?;
    Ok(read_row(&row)?.0)
}

pub async fn delete(
    client: &mut deadpool_postgres::Object,
    arxiv_id: &str,
) -> Result<bool, StoreError> {
    let tx = client.transaction().await.map_err(db_err)?;
    let changed = delete_in(&tx, arxiv_id).await?;
    tx.commit().await.map_err(db_err)?;
    Ok(changed)
}

/// Marks a paper deleted inside a transaction the caller commits.
pub async fn delete_in(
    tx: &tokio_postgres::Transaction<'_>,
    arxiv_id: &str,
) -> Result<bool, StoreError> {
    let live = tx
        .query_opt(
            "SELECT 1 FROM papers WHERE arxiv_id = $1 AND deleted_at IS NULL FOR UPDATE",
            &[&arxiv_id],
        )
        .await
        .map_err(db_err)?;
    if live.is_none() {
        return Ok(false);
    }
    let seq = reserve_seq(tx, 1).await?;
    tx.execute(
        "UPDATE papers SET deleted_at = $2, change_seq = $3 WHERE arxiv_id = $1",
        &[&arxiv_id, &Utc::now().timestamp(), &seq],
    )
    .await
    .map_err(db_err)?;
    Ok(true)
}

pub async fn changes_since<C: GenericClient>(
    client: &C,
    after: i64,
    limit: u32,
) -> Result<Vec<PaperChange>, StoreError> {
    let sql =
        format!("SELECT {COLUMNS} FROM papers WHERE change_seq > $1 ORDER BY change_seq LIMIT $2");
    let rows = client
        .query(&sql, &[&after, &i64::from(limit)])
        .await
        .map_err(db_err)?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        let (stored, deleted_at) = read_row(row)?;
        out.push(PaperChange {
            change_seq: stored.change_seq,
            arxiv_id: ArxivId::parse(&row.get::<_, String>(1)).map_err(|e| {
                StoreError::Corrupt {
                    key: row.get(1),
                    reason: e.to_string(),
                }
            })?,
            paper: if deleted_at.is_some() {
                None
            } else {
                Some(stored)
            },
        });
    }
    Ok(out)
}
