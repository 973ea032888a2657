use std::sync::LazyLock;

use chrono::{DateTime, NaiveDate, Utc};
use paperboy_core::{PaperId, Role, User, UserId};
use paperboy_store::community::{parse_day, parse_role};
use paperboy_store::{DailyEntry, DailySort, ListedPaper, NewUser, StoreError, TrendingRow};
use tokio_postgres::types::ToSql;
use tokio_postgres::{GenericClient, Row};

use crate::db_err;
use crate::papers::{read_row, COLUMNS};

static LISTED: LazyLock<String> = LazyLock::new(|| paperboy_store::row::listed_select(COLUMNS));

fn ts(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(secs, 0).unwrap_or_default()
}

async fn listed_rows<C: GenericClient>(
    client: &C,
    tail: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Vec<ListedPaper>, StoreError> {
    let sql = format!("{} {tail}", *LISTED);
    let rows = client.query(&sql, params).await.map_err(db_err)?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let (stored, _) = read_row(r)?;
        let day: Option<String> = r.get(25);
        let daily = match day {
            Some(day) => Some(DailyEntry {
                paper_id: stored.paper_id,
                day: parse_day(stored.paper.id.as_str(), &day)?,
                submitted_by: r.get::<_, Option<String>>(26).unwrap_or_default(),
                submitted_at: ts(r.get::<_, Option<i64>>(27).unwrap_or(0)),
            }),
            None => None,
        };
        out.push(ListedPaper { stored, daily });
    }
    Ok(out)
}

pub async fn get_papers<C: GenericClient>(
    client: &C,
    ids: &[String],
) -> Result<Vec<ListedPaper>, StoreError> {
    listed_rows(
        client,
        "WHERE p.arxiv_id = ANY($1) AND p.deleted_at IS NULL",
        &[&ids],
    )
    .await
}

const USER_COLUMNS: &str = "u.user_id, u.username, u.email, u.role, u.created_at";

fn user_row(r: &Row) -> User {
    User {
        user_id: UserId(r.get(0)),
        username: r.get(1),
        email: r.get(2),
        role: parse_role(r.get(3)),
        created_at: ts(r.get(4)),
    }
}

pub async fn create_user<C: GenericClient>(client: &C, u: NewUser) -> Result<User, StoreError> {
    let now = Utc::now().timestamp();
    let row = client
        .query_one(
            "INSERT INTO users (username, email, password_hash, role, created_at) VALUES ($1, $2, $3, $4, $5)
             RETURNING user_id",
            &[&u.username, &u.email, &u.password_hash, &u.role.as_str(), &now],
        )
        .await
        .map_err(db_err)?;
    Ok(User {
        user_id: UserId(row.get(0)),
        username: u.username,
        email: u.email,
        role: u.role,
        created_at: ts(now),
    })
}

pub async fn user_by_name<C: GenericClient>(
    client: &C,
    username: &str,
) -> Result<(User, String), StoreError> {
    let row = client
        .query_opt(
            &format!("SELECT {USER_COLUMNS}, u.password_hash FROM users u WHERE u.username = $1"),
            &[&username],
        )
        .await
        .map_err(db_err)?
        .ok_or(StoreError::NotFound)?;
    Ok((user_row(&row), row.get(5)))
}

pub async fn set_role<C: GenericClient>(
    client: &C,
    username: &str,
    role: Role,
) -> Result<(), StoreError> {
    let n = client
        .execute(
            "UPDATE users SET role = $2 WHERE username = $1",
            &[&username, &role.as_str()],
        )
        .await
        .map_err(db_err)?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub async fn list_users<C: GenericClient>(client: &C) -> Result<Vec<User>, StoreError> {
    let rows = client
        .query(
            &format!("SELECT {USER_COLUMNS} FROM users u ORDER BY u.user_id"),
            &[],
        )
        .await
        .map_err(db_err)?;
    Ok(rows.iter().map(user_row).collect())
}

pub async fn create_session<C: GenericClient>(
    client: &C,
    token_hash: &str,
    user: UserId,
    expires_at: i64,
) -> Result<(), StoreError> {
    client
        .execute(
            "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
            &[&token_hash, &user.0, &Utc::now().timestamp(), &expires_at],
        )
        .await
        .map_err(db_err)?;
    Ok(())
}

pub async fn session_user<C: GenericClient>(
    client: &C,
    token_hash: &str,
    now: i64,
) -> Result<User, StoreError> {
    let row = client
        .query_opt(
            &format!(
                "SELECT {USER_COLUMNS} FROM sessions s JOIN users u ON u.user_id = s.user_id
                 WHERE s.token_hash = $1 AND s.expires_at > $2"
            ),
            &[&token_hash, &now],
        )
        .await
        .map_err(db_err)?
        .ok_or(StoreError::NotFound)?;
    Ok(user_row(&row))
}

pub async fn delete_session<C: GenericClient>(
    client: &C,
    token_hash: &str,
) -> Result<(), StoreError> {
    client
        .execute("DELETE FROM sessions WHERE token_hash = $1", &[&token_hash])
        .await
        .map_err(db_err)?;
    Ok(())
}

pub async fn create_api_token<C: GenericClient>(
    client: &C,
    token_hash: &str,
    user: UserId,
    name: &str,
) -> Result<(), StoreError> {
    client
        .execute(
            "INSERT INTO api_tokens (token_hash, user_id, name, created_at) VALUES ($1, $2, $3, $4)",
            &[&token_hash, &user.0, &name, &Utc::now().timestamp()],
        )
        .await
        .map_err(db_err)?;
    Ok(())
}

pub async fn api_token_user<C: GenericClient>(
    client: &C,
    token_hash: &str,
) -> Result<User, StoreError> {
    let row = client
        .query_opt(
            &format!("SELECT {USER_COLUMNS} FROM api_tokens t JOIN users u ON u.user_id = t.user_id WHERE t.token_hash = $1"),
            &[&token_hash],
        )
        .await
        .map_err(db_err)?
        .ok_or(StoreError::NotFound)?;
    Ok(user_row(&row))
}

pub async fn set_vote(
    client: &mut deadpool_postgres::Object,
    user: UserId,
    paper: PaperId,
    up: bool,
) -> Result<i64, StoreError> {
    let tx = client.transaction().await.map_err(db_err)?;
    crate::papers::lock_seq(&*tx).await?;
    let changed = if up {
        tx.execute(
            "INSERT INTO votes (user_id, paper_id, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            &[&user.0, &paper.0, &Utc::now().timestamp()],
        )
        .await
    } else {
        tx.execute("DELETE FROM votes WHERE user_id = $1 AND paper_id = $2", &[&user.0, &paper.0]).await
    }
    .map_err(db_err)?;
    let n: i64 = if changed > 0 {
        let seq: i64 = tx
            .query_one(
                "UPDATE store_meta SET value = value + 1 WHERE key = 'change_seq' RETURNING value",
                &[],
            )
            .await
            .map_err(db_err)?
            .get(0);
        let delta: i64 = if up { 1 } else { -1 };
        tx.query_one(
            "UPDATE papers SET upvotes = upvotes + $2, change_seq = $3 WHERE paper_id = $1 RETURNING upvotes",
            &[&paper.0, &delta, &seq],
        )
        .await
        .map_err(db_err)?
        .get(0)
    } else {
        tx.query_opt(
            "SELECT upvotes FROM papers WHERE paper_id = $1",
            &[&paper.0],
        )
        .await
        .map_err(db_err)?
        .ok_or(StoreError::NotFound)?
        .get(0)
    };
    tx.commit().await.map_err(db_err)?;
    Ok(n)
}

pub async fn voted<C: GenericClient>(
    client: &C,
    user: UserId,
    papers: &[PaperId],
) -> Result<Vec<PaperId>, StoreError> {
    let ids: Vec<i64> = papers.iter().map(|p| p.0).collect();
    let rows = client
        .query(
            "SELECT paper_id FROM votes WHERE user_id = $1 AND paper_id = ANY($2)",
            &[&user.0, &ids],
        )
        .await
        .map_err(db_err)?;
    Ok(rows.iter().map(|r| PaperId(r.get(0))).collect())
}

pub async fn submit_daily<C: GenericClient>(
    client: &C,
    paper: PaperId,
    day: NaiveDate,
    user: UserId,
) -> Result<DailyEntry, StoreError> {
    client
        .execute(
            "INSERT INTO daily_submissions (paper_id, day, submitted_by, submitted_at) VALUES ($1, $2, $3, $4)",
            &[&paper.0, &day.format("%Y-%m-%d").to_string(), &user.0, &Utc::now().timestamp()],
        )
        .await
        .map_err(|e| match db_err(e) {
            StoreError::Conflict { .. } => StoreError::Conflict { constraint: "daily_submissions_paper_key".into() },
            other => other,
        })?;
    daily_entry(client, paper)
        .await?
        .ok_or(StoreError::NotFound)
}

pub async fn daily_entry<C: GenericClient>(
    client: &C,
    paper: PaperId,
) -> Result<Option<DailyEntry>, StoreError> {
    let row = client
        .query_opt(
            "SELECT d.day, u.username, d.submitted_at FROM daily_submissions d JOIN users u ON u.user_id = d.submitted_by
             WHERE d.paper_id = $1",
            &[&paper.0],
        )
        .await
        .map_err(db_err)?;
    row.map(|r| {
        Ok(DailyEntry {
            paper_id: paper,
            day: parse_day("daily entry", r.get(0))?,
            submitted_by: r.get(1),
            submitted_at: ts(r.get(2)),
        })
    })
    .transpose()
}

pub async fn daily_papers<C: GenericClient>(
    client: &C,
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
        "WHERE d.day >= $1 AND d.day <= $2 AND p.deleted_at IS NULL ORDER BY {order}, p.paper_id LIMIT $3 OFFSET $4"
    );
    let (from, to) = (
        from.format("%Y-%m-%d").to_string(),
        to.format("%Y-%m-%d").to_string(),
    );
    listed_rows(
        client,
        &tail,
        &[&from, &to, &i64::from(limit), &i64::from(offset)],
    )
    .await
}

pub async fn trending_papers<C: GenericClient>(
    client: &C,
    offset: u32,
    limit: u32,
) -> Result<Vec<ListedPaper>, StoreError> {
    listed_rows(
        client,
        "WHERE p.deleted_at IS NULL ORDER BY p.trending_score DESC, p.published_at DESC LIMIT $1 OFFSET $2",
        &[&i64::from(limit), &i64::from(offset)],
    )
    .await
}

pub async fn trending_rows<C: GenericClient>(
    client: &C,
    since: i64,
) -> Result<Vec<TrendingRow>, StoreError> {
    let rows = client
        .query(
            "SELECT paper_id, published_at, upvotes, github_stars, categories FROM papers
             WHERE published_at >= $1 AND deleted_at IS NULL",
            &[&since],
        )
        .await
        .map_err(db_err)?;
    Ok(rows
        .iter()
        .map(|r| TrendingRow {
            paper_id: PaperId(r.get(0)),
            published_at: r.get(1),
            upvotes: r.get(2),
            github_stars: r.get(3),
            primary_category: r
                .get::<_, String>(4)
                .split_whitespace()
                .next()
                .unwrap_or("")
                .to_string(),
        })
        .collect())
}

pub async fn set_trending_scores(
    client: &mut deadpool_postgres::Object,
    scores: Vec<(PaperId, f64)>,
    zero_before: i64,
) -> Result<(), StoreError> {
    let tx = client.transaction().await.map_err(db_err)?;
    let ids: Vec<i64> = scores.iter().map(|s| s.0 .0).collect();
    let values: Vec<f64> = scores.iter().map(|s| s.1).collect();
    tx.execute(
        "UPDATE papers p SET trending_score = u.score FROM UNNEST($1::bigint[], $2::float8[]) AS u(id, score)
         WHERE p.paper_id = u.id",
        &[&ids, &values],
    )
    .await
    .map_err(db_err)?;
    tx.execute(
        "UPDATE papers SET trending_score = 0 WHERE trending_score != 0 AND published_at < $1",
        &[&zero_before],
    )
    .await
    .map_err(db_err)?;
    tx.commit().await.map_err(db_err)?;
    Ok(())
}

pub async fn user_submissions<C: GenericClient>(
    client: &C,
    user: UserId,
    limit: u32,
) -> Result<Vec<ListedPaper>, StoreError> {
    listed_rows(
        client,
        "WHERE d.submitted_by = $1 ORDER BY d.submitted_at DESC LIMIT $2",
        &[&user.0, &i64::from(limit)],
    )
    .await
}

pub async fn user_upvoted<C: GenericClient>(
    client: &C,
    user: UserId,
    limit: u32,
) -> Result<Vec<ListedPaper>, StoreError> {
    listed_rows(
        client,
        "JOIN votes v ON v.paper_id = p.paper_id WHERE v.user_id = $1 ORDER BY v.created_at DESC LIMIT $2",
        &[&user.0, &i64::from(limit)],
    )
    .await
}

pub async fn recent_in_category<C: GenericClient>(
    client: &C,
    category: &str,
    limit: u32,
) -> Result<Vec<ListedPaper>, StoreError> {
    let pattern = format!("% {category} %");
    listed_rows(
        client,
        "WHERE p.deleted_at IS NULL AND (' ' || p.categories || ' ') LIKE $1 ORDER BY p.published_at DESC LIMIT $2",
        &[&pattern, &i64::from(limit)],
    )
    .await
}
