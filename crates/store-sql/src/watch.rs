//! The library watch: events written by the transactions that see them
//! (here the reads, and the helpers the paper and citation writers call).

use async_trait::async_trait;
use chrono::{TimeZone, Utc};
use paperboy_core::{ArxivId, PaperId, UserId};
use paperboy_store::{EventKind, PaperEvent, StoreError, WatchStore, Watcher};

use crate::conn::{Conn, Sql, SqlRow};
use crate::{args, Backend, SqlStore};

static EVENTS: Sql = Sql::new(
    "SELECT e.event_id, e.paper_id, p.arxiv_id, e.kind, e.version, e.old_title, e.old_abstract,
        e.detail, c.arxiv_id, e.context, e.created_at
     FROM paper_events e JOIN papers p ON p.paper_id = e.paper_id
     LEFT JOIN papers c ON c.paper_id = e.citing_id
     WHERE e.event_id > $1 ORDER BY e.event_id LIMIT $2",
);
static LAST_EVENT: Sql = Sql::new("SELECT COALESCE(MAX(event_id), 0) FROM paper_events");
/// Saved or followed, since the earlier of the two.
static WATCHERS: Sql = Sql::new(
    "SELECT paper_id, user_id, MIN(since) FROM (
        SELECT paper_id, user_id, added_at AS since FROM library WHERE paper_id = ANY($1)
        UNION ALL
        SELECT p.paper_id, f.user_id, f.created_at FROM follows f
            JOIN papers p ON p.arxiv_id = f.target
            WHERE f.kind = 'paper' AND p.paper_id = ANY($1)) w
     GROUP BY paper_id, user_id ORDER BY paper_id, user_id",
);
static CURSOR: Sql = Sql::new("SELECT value FROM store_meta WHERE key = 'watch_event'");
static SET_CURSOR: Sql = Sql::new(
    "INSERT INTO store_meta (key, value) VALUES ('watch_event', $1)
     ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
);

/// A new version of a paper the store holds at an older one: the title
/// and abstract it replaces. Run before the paper's row is written.
static NEW_VERSION: Sql = Sql::new(
    "INSERT INTO paper_events (paper_id, kind, version, old_title, old_abstract, created_at)
     SELECT paper_id, $2, $3, title, abstract, $4 FROM papers
     WHERE arxiv_id = $1 AND latest_version < $3 AND deleted_at IS NULL",
);
/// A code repository where there was none, or another.
static NEW_CODE: Sql = Sql::new(
    "INSERT INTO paper_events (paper_id, kind, detail, created_at)
     SELECT paper_id, 'code', $2, $3 FROM papers
     WHERE arxiv_id = $1 AND COALESCE(github_repo, '') <> $2 AND deleted_at IS NULL",
);
/// A journal reference where there was none (or another).
static NEW_JOURNAL_REF: Sql = Sql::new(
    "INSERT INTO paper_events (paper_id, kind, detail, created_at)
     SELECT paper_id, 'venue', $2, $3 FROM papers
     WHERE arxiv_id = $1 AND COALESCE(journal_ref, '') <> $2 AND deleted_at IS NULL",
);
/// Comments newly saying a venue took it (the caller checked they say so).
static NEW_ACCEPTED: Sql = Sql::new(
    "INSERT INTO paper_events (paper_id, kind, detail, created_at)
     SELECT paper_id, 'venue', $2, $3 FROM papers
     WHERE arxiv_id = $1 AND COALESCE(comments, '') <> $2 AND deleted_at IS NULL",
);
static WITHDRAWN: Sql = Sql::new(
    "INSERT INTO paper_events (paper_id, kind, created_at)
     SELECT paper_id, 'withdrawn', $2 FROM papers WHERE arxiv_id = $1 AND deleted_at IS NULL",
);
/// Papers newly cited by `$1` (not among `$2`, those it cited before),
/// with the first citing sentence.
static NEW_CITED: Sql = Sql::new(
    "INSERT INTO paper_events (paper_id, kind, citing_id, context, created_at)
     SELECT cited_id, 'cited', citing_id, MIN(context), $3 FROM paper_references
     WHERE citing_id = $1 AND cited_id IS NOT NULL AND NOT (cited_id = ANY($2))
     GROUP BY cited_id, citing_id",
);
/// References to `$1` (papers that just arrived) that were waiting: run
/// before they are resolved.
static WAITING_CITED: Sql = Sql::new(
    "INSERT INTO paper_events (paper_id, kind, citing_id, context, created_at)
     SELECT q.paper_id, 'cited', r.citing_id, MIN(r.context), $2
     FROM paper_references r JOIN papers q ON q.arxiv_id = r.arxiv_id
     JOIN papers c ON c.paper_id = r.citing_id AND c.deleted_at IS NULL
     WHERE r.cited_id IS NULL AND q.paper_id = ANY($1) AND q.paper_id != r.citing_id
        AND NOT EXISTS (SELECT 1 FROM paper_references o
            WHERE o.citing_id = r.citing_id AND o.cited_id = q.paper_id)
     GROUP BY q.paper_id, r.citing_id",
);
static SECTIONS_CHANGED: Sql = Sql::new(
    "INSERT INTO paper_events (paper_id, kind, version, detail, created_at)
     VALUES ($1, 'sections', $2, $3, $4)",
);

pub(crate) fn now() -> i64 {
    Utc::now().timestamp()
}

/// Before a paper's row is written at `version` (`withdrawn`: that version
/// says so): the event, if the store holds it at an older version.
pub(crate) async fn note_version(
    c: &mut dyn Conn,
    arxiv_id: &str,
    version: i64,
    withdrawn: bool,
) -> Result<(), StoreError> {
    let kind = if withdrawn { "withdrawn" } else { "version" };
    c.execute(&NEW_VERSION, args![arxiv_id, kind, version, now()])
        .await?;
    Ok(())
}

/// Before a paper's row is written with `repo`.
pub(crate) async fn note_code(
    c: &mut dyn Conn,
    arxiv_id: &str,
    repo: &str,
) -> Result<(), StoreError> {
    c.execute(&NEW_CODE, args![arxiv_id, repo, now()]).await?;
    Ok(())
}

/// Before a paper's row is written with a journal reference, or comments
/// saying a venue accepted it.
pub(crate) async fn note_venue(
    c: &mut dyn Conn,
    arxiv_id: &str,
    journal_ref: Option<&str>,
    accepted_comments: Option<&str>,
) -> Result<(), StoreError> {
    if let Some(j) = journal_ref {
        c.execute(&NEW_JOURNAL_REF, args![arxiv_id, j, now()])
            .await?;
    }
    if let Some(said) = accepted_comments {
        c.execute(&NEW_ACCEPTED, args![arxiv_id, said, now()])
            .await?;
    }
    Ok(())
}

/// Before a live paper is marked deleted.
pub(crate) async fn note_withdrawn(c: &mut dyn Conn, arxiv_id: &str) -> Result<(), StoreError> {
    c.execute(&WITHDRAWN, args![arxiv_id, now()]).await?;
    Ok(())
}

/// After `citing`'s references were replaced: the papers it cites now and
/// did not before (`before`).
pub(crate) async fn note_cited(
    c: &mut dyn Conn,
    citing: i64,
    before: &[i64],
) -> Result<(), StoreError> {
    c.execute(&NEW_CITED, args![citing, before, now()]).await?;
    Ok(())
}

/// Before waiting references to `arrived` are resolved.
pub(crate) async fn note_waiting_cited(
    c: &mut dyn Conn,
    arrived: &[i64],
) -> Result<(), StoreError> {
    c.execute(&WAITING_CITED, args![arrived, now()]).await?;
    Ok(())
}

/// A new version's full text changed these sections.
pub(crate) async fn note_sections(
    c: &mut dyn Conn,
    paper: i64,
    version: i64,
    titles: &[String],
) -> Result<(), StoreError> {
    let json = serde_json::to_string(titles).map_err(|e| StoreError::Database(e.to_string()))?;
    c.execute(&SECTIONS_CHANGED, args![paper, version, &json, now()])
        .await?;
    Ok(())
}

fn corrupt(key: &str, reason: impl ToString) -> StoreError {
    StoreError::Corrupt {
        key: key.to_string(),
        reason: reason.to_string(),
    }
}

fn event(r: &dyn SqlRow) -> Result<PaperEvent, StoreError> {
    let key = r.text(2)?;
    let arxiv_id = ArxivId::parse(&key).map_err(|e| corrupt(&key, e))?;
    let version = r
        .opt_i64(4)?
        .and_then(|v| u32::try_from(v).ok())
        .unwrap_or(0);
    let kind = match r.text(3)?.as_str() {
        "version" => EventKind::Version {
            version,
            old_title: r.opt_text(5)?.unwrap_or_default(),
            old_abstract: r.opt_text(6)?.unwrap_or_default(),
        },
        "withdrawn" => EventKind::Withdrawn,
        "code" => EventKind::Code {
            repo: r.opt_text(7)?.unwrap_or_default(),
        },
        "venue" => EventKind::Venue {
            said: r.opt_text(7)?.unwrap_or_default(),
        },
        "sections" => EventKind::Sections {
            version,
            titles: r
                .opt_text(7)?
                .and_then(|j| serde_json::from_str(&j).ok())
                .unwrap_or_default(),
        },
        "cited" => {
            let citing = r.opt_text(8)?.unwrap_or_default();
            EventKind::Cited {
                citing: ArxivId::parse(&citing).map_err(|e| corrupt(&citing, e))?,
                context: r.opt_text(9)?,
            }
        }
        other => return Err(corrupt(&key, format!("unknown event kind {other:?}"))),
    };
    Ok(PaperEvent {
        event_id: r.i64(0)?,
        paper_id: PaperId(r.i64(1)?),
        arxiv_id,
        kind,
        at: Utc
            .timestamp_opt(r.i64(10)?, 0)
            .single()
            .unwrap_or_default(),
    })
}

#[async_trait]
impl<B: Backend> WatchStore for SqlStore<B> {
    async fn paper_events(&self, after: i64, limit: u32) -> Result<Vec<PaperEvent>, StoreError> {
        on!(self, read, |c| {
            c.all(&EVENTS, args![after, limit], event).await
        })
    }

    async fn last_event_id(&self) -> Result<i64, StoreError> {
        on!(self, read, |c| { c.scalar(&LAST_EVENT, &[]).await })
    }

    async fn watchers(&self, papers: &[PaperId]) -> Result<Vec<Watcher>, StoreError> {
        let ids: Vec<i64> = papers.iter().map(|p| p.0).collect();
        on!(self, read, |c| {
            c.all(&WATCHERS, args![&ids[..]], |r| {
                Ok(Watcher {
                    paper_id: PaperId(r.i64(0)?),
                    user_id: UserId(r.i64(1)?),
                    since: Utc.timestamp_opt(r.i64(2)?, 0).single().unwrap_or_default(),
                })
            })
            .await
        })
    }

    async fn watch_cursor(&self) -> Result<Option<i64>, StoreError> {
        on!(self, read, |c| { c.opt(&CURSOR, &[], |r| r.i64(0)).await })
    }

    async fn set_watch_cursor(&self, event_id: i64) -> Result<(), StoreError> {
        on!(self, write, |c| {
            c.execute(&SET_CURSOR, args![event_id]).await.map(drop)
        })
    }
}
