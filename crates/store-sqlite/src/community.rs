use std::sync::LazyLock;

use chrono::{DateTime, NaiveDate, Utc};
use paperboy_core::{PaperId, Role, User, UserId};
use paperboy_store::community::{parse_day, parse_role};
use paperboy_store::{DailyEntry, DailySort, ListedPaper, NewUser, StoreError, TrendingRow};
use rusqlite::{params, params_from_iter, Connection, OptionalExtension, Row};

use crate::db_err;
use crate::papers::{into_stored, read_row, COLUMNS};

/// Papers joined with their daily entry and its submitter.
static LISTED: LazyLock<String> = LazyLock::new(|| paperboy_store::row::listed_select(COLUMNS));

fn ts(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(secs, 0).unwrap_or_default()
}

fn listed_rows(
    conn: &Connection,
    sql_tail: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<ListedPaper>, StoreError> {
    let sql = format!("{} {sql_tail}", *LISTED);
    let mut stmt = conn.prepare_cached(&sql).map_err(db_err)?;
    let rows = stmt
        .query_map(params, |r| {
            let (cols, extras) = read_row(r)?;
            let day: Option<String> = r.get(25)?;
            let by: Option<String> = r.get(26)?;
            let at: Option<i64> = r.get(27)?;
            Ok((cols, extras, day, by, at))
        })
        .map_err(db_err)?;
    let mut out = Vec::new();
    for row in rows {
        let (cols, extras, day, by, at) = row.map_err(db_err)?;
        let stored = into_stored(cols, extras)?;
        let daily = match day {
            Some(day) => Some(DailyEntry {
                paper_id: stored.paper_id,
                day: parse_day(stored.paper.id.as_str(), &day)?,
                submitted_by: by.unwrap_or_default(),
                submitted_at: ts(at.unwrap_or(0)),
            }),
            None => None,
        };
        out.push(ListedPaper { stored, daily });
    }
    Ok(out)
}

pub fn get_papers(conn: &Connection, ids: &[String]) -> Result<Vec<ListedPaper>, StoreError> {
    let mut out = Vec::new();
    for chunk in ids.chunks(500) {
        let marks = vec!["?"; chunk.len()].join(", ");
        let tail = format!("WHERE p.arxiv_id IN ({marks}) AND p.deleted_at IS NULL");
        out.extend(listed_rows(conn, &tail, params_from_iter(chunk.iter()))?);
    }
    Ok(out)
}

const USER_COLUMNS: &str = "user_id, username, email, role, created_at";

fn user_row(r: &Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        user_id: UserId(r.get(0)?),
        username: r.get(1)?,
        email: r.get(2)?,
        role: parse_role(&r.get::<_, String>(3)?),
        created_at: ts(r.get(4)?),
    })
}

pub fn create_user(conn: &Connection, u: NewUser) -> Result<User, StoreError> {
    let now = Utc::now().timestamp();
    conn.execute(
        "INSERT INTO users (username, email, password_hash, role, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![u.username, u.email, u.password_hash, u.role.as_str(), now],
    )
    .map_err(db_err)?;
    Ok(User {
        user_id: UserId(conn.last_insert_rowid()),
        username: u.username,
        email: u.email,
        role: u.role,
        created_at: ts(now),
    })
}

pub fn user_by_name(conn: &Connection, username: &str) -> Result<(User, String), StoreError> {
    conn.query_row(
        &format!("SELECT {USER_COLUMNS}, password_hash FROM users WHERE username = ?1"),
        [username],
        |r| Ok((user_row(r)?, r.get(5)?)),
    )
    .map_err(db_err)
}

pub fn set_role(conn: &Connection, username: &str, role: Role) -> Result<(), StoreError> {
    let n = conn
        .execute(
            "UPDATE users SET role = ?2 WHERE username = ?1",
            params![username, role.as_str()],
        )
        .map_err(db_err)?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub fn list_users(conn: &Connection) -> Result<Vec<User>, StoreError> {
    let mut stmt = conn
        .prepare(&format!(
            "SELECT {USER_COLUMNS} FROM users ORDER BY user_id"
        ))
        .map_err(db_err)?;
    let rows = stmt.query_map([], user_row).map_err(db_err)?;
    rows.collect::<Result<Vec<_>, _>>().map_err(db_err)
}

pub fn create_session(
    conn: &Connection,
    token_hash: &str,
    user: UserId,
    expires_at: i64,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
        params![token_hash, user.0, Utc::now().timestamp(), expires_at],
    )
    .map_err(db_err)?;
    Ok(())
}

pub fn session_user(conn: &Connection, token_hash: &str, now: i64) -> Result<User, StoreError> {
    let cols: Vec<String> = USER_COLUMNS.split(", ").map(|c| format!("u.{c}")).collect();
    conn.prepare_cached(&format!(
        "SELECT {} FROM sessions s JOIN users u ON u.user_id = s.user_id WHERE s.token_hash = ?1 AND s.expires_at > ?2",
        cols.join(", ")
    ))
    .map_err(db_err)?
    .query_row(params![token_hash, now], user_row)
    .map_err(db_err)
}

pub fn delete_session(conn: &Connection, token_hash: &str) -> Result<(), StoreError> {
    conn.execute("DELETE FROM sessions WHERE token_hash = ?1", [token_hash])
        .map_err(db_err)?;
    Ok(())
}

pub fn create_api_token(
    conn: &Connection,
    token_hash: &str,
    user: UserId,
    name: &str,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO api_tokens (token_hash, user_id, name, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![token_hash, user.0, name, Utc::now().timestamp()],
    )
    .map_err(db_err)?;
    Ok(())
}

pub fn api_token_user(conn: &Connection, token_hash: &str) -> Result<User, StoreError> {
    let cols: Vec<String> = USER_COLUMNS.split(", ").map(|c| format!("u.{c}")).collect();
    conn.prepare_cached(&format!(
        "SELECT {} FROM api_tokens t JOIN users u ON u.user_id = t.user_id WHERE t.token_hash = ?1",
        cols.join(", ")
    ))
    .map_err(db_err)?
    .query_row([token_hash], user_row)
    .map_err(db_err)
}

pub fn set_vote(
    conn: &mut Connection,
    user: UserId,
    paper: PaperId,
    up: bool,
) -> Result<i64, StoreError> {
    let tx = conn.transaction().map_err(db_err)?;
    let changed = if up {
        tx.execute(
            "INSERT INTO votes (user_id, paper_id, created_at) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
            params![user.0, paper.0, Utc::now().timestamp()],
        )
    } else {
        tx.execute("DELETE FROM votes WHERE user_id = ?1 AND paper_id = ?2", params![user.0, paper.0])
    }
    .map_err(db_err)?;
    if changed > 0 {
        let seq: i64 = tx
            .query_row(
                "UPDATE store_meta SET value = value + 1 WHERE key = 'change_seq' RETURNING value",
                [],
                |r| r.get(0),
            )
            .map_err(db_err)?;
        tx.execute(
            "UPDATE papers SET upvotes = upvotes + ?2, change_seq = ?3 WHERE paper_id = ?1",
            params![paper.0, if up { 1 } else { -1 }, seq],
        )
        .map_err(db_err)?;
    }
    let n = tx
        .query_row(
            "SELECT upvotes FROM papers WHERE paper_id = ?1",
            [paper.0],
            |r| r.get(0),
        )
        .map_err(db_err)?;
    tx.commit().map_err(db_err)?;
    Ok(n)
}

pub fn voted(
    conn: &Connection,
    user: UserId,
    papers: &[PaperId],
) -> Result<Vec<PaperId>, StoreError> {
    let mut out = Vec::new();
    for chunk in papers.chunks(500) {
        let marks = vec!["?"; chunk.len()].join(", ");
        let sql = format!("SELECT paper_id FROM votes WHERE user_id = ? AND paper_id IN ({marks})");
        let mut stmt = conn.prepare_cached(&sql).map_err(db_err)?;
        let mut values: Vec<i64> = vec![user.0];
        values.extend(chunk.iter().map(|p| p.0));
        let rows = stmt
            .query_map(params_from_iter(values.iter()), |r| r.get(0))
            .map_err(db_err)?;
        for r in rows {
            out.push(PaperId(r.map_err(db_err)?));
        }
    }
    Ok(out)
}

pub fn submit_daily(
    conn: &Connection,
    paper: PaperId,
    day: NaiveDate,
    user: UserId,
) -> Result<DailyEntry, StoreError> {
    let now = Utc::now().timestamp();
    conn.execute(
        "INSERT INTO daily_submissions (paper_id, day, submitted_by, submitted_at) VALUES (?1, ?2, ?3, ?4)",
        params![paper.0, day.format("%Y-%m-%d").to_string(), user.0, now],
    )
    .map_err(|e| match db_err(e) {
        StoreError::Conflict { .. } => StoreError::Conflict { constraint: "daily_submissions_paper_key".into() },
        other => other,
    })?;
    daily_entry(conn, paper)?.ok_or(StoreError::NotFound)
}

pub fn daily_entry(conn: &Connection, paper: PaperId) -> Result<Option<DailyEntry>, StoreError> {
    conn.query_row(
        "SELECT d.day, u.username, d.submitted_at FROM daily_submissions d JOIN users u ON u.user_id = d.submitted_by
         WHERE d.paper_id = ?1",
        [paper.0],
        |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?)),
    )
    .optional()
    .map_err(db_err)?
    .map(|(day, by, at)| {
        Ok(DailyEntry { paper_id: paper, day: parse_day("daily entry", &day)?, submitted_by: by, submitted_at: ts(at) })
    })
    .transpose()
}

pub fn daily_papers(
    conn: &Connection,
    from: NaiveDate,
    to: NaiveDate,
    sort: DailySort,
    offset: u32,
    limit: u32,
) -> Result<Vec<ListedPaper>, StoreError> {
    let order = match sort {
        DailySort::Trending => "p.trending_score DESC, p.upvotes DESC, p.published_at DESC",
        DailySort::PublishedAt => "p.published_at DESC",
    };
    let tail = format!(
        "WHERE d.day >= ?1 AND d.day <= ?2 AND p.deleted_at IS NULL ORDER BY {order}, p.paper_id LIMIT ?3 OFFSET ?4"
    );
    listed_rows(
        conn,
        &tail,
        params![
            from.format("%Y-%m-%d").to_string(),
            to.format("%Y-%m-%d").to_string(),
            limit,
            offset
        ],
    )
}

pub fn trending_papers(
    conn: &Connection,
    offset: u32,
    limit: u32,
) -> Result<Vec<ListedPaper>, StoreError> {
    listed_rows(
        conn,
        "WHERE p.deleted_at IS NULL ORDER BY p.trending_score DESC, p.published_at DESC LIMIT ?1 OFFSET ?2",
        params![limit, offset],
    )
}

pub fn trending_rows(conn: &Connection, since: i64) -> Result<Vec<TrendingRow>, StoreError> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT paper_id, published_at, upvotes, github_stars, categories FROM papers
             WHERE published_at >= ?1 AND deleted_at IS NULL",
        )
        .map_err(db_err)?;
    let rows = stmt
        .query_map([since], |r| {
            let cats: String = r.get(4)?;
            Ok(TrendingRow {
                paper_id: PaperId(r.get(0)?),
                published_at: r.get(1)?,
                upvotes: r.get(2)?,
                github_stars: r.get(3)?,
                primary_category: cats.split_whitespace().next().unwrap_or("").to_string(),
            })
        })
        .map_err(db_err)?;
    rows.collect::<Result<Vec<_>, _>>().map_err(db_err)
}

pub fn set_trending_scores(
    conn: &mut Connection,
    scores: Vec<(PaperId, f64)>,
    zero_before: i64,
) -> Result<(), StoreError> {
    let tx = conn.transaction().map_err(db_err)?;
    {
        let mut stmt = tx
            .prepare_cached("UPDATE papers SET trending_score = ?2 WHERE paper_id = ?1")
            .map_err(db_err)?;
        for (id, score) in scores {
            stmt.execute(params![id.0, score]).map_err(db_err)?;
        }
    }
    tx.execute(
        "UPDATE papers SET trending_score = 0 WHERE trending_score != 0 AND published_at < ?1",
        [zero_before],
    )
    .map_err(db_err)?;
    tx.commit().map_err(db_err)?;
    Ok(())
}

pub fn user_submissions(
    conn: &Connection,
    user: UserId,
    limit: u32,
) -> Result<Vec<ListedPaper>, StoreError> {
    listed_rows(
        conn,
        "WHERE d.submitted_by = ?1 ORDER BY d.submitted_at DESC LIMIT ?2",
        params![user.0, limit],
    )
}

pub fn user_upvoted(
    conn: &Connection,
    user: UserId,
    limit: u32,
) -> Result<Vec<ListedPaper>, StoreError> {
    listed_rows(
        conn,
        "JOIN votes v ON v.paper_id = p.paper_id WHERE v.user_id = ?1 ORDER BY v.created_at DESC LIMIT ?2",
        params![user.0, limit],
    )
}

pub fn recent_in_category(
    conn: &Connection,
    category: &str,
    limit: u32,
) -> Result<Vec<ListedPaper>, StoreError> {
    listed_rows(
        conn,
        "WHERE p.deleted_at IS NULL AND (' ' || p.categories || ' ') LIKE ?1 ORDER BY p.published_at DESC LIMIT ?2",
        params![format!("% {category} %"), limit],
    )
}
