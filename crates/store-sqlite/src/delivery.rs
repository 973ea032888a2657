use chrono::Utc;
use paperboy_core::PaperId;
use paperboy_store::delivery::{prefs_from_columns, prefs_to_columns, ts, MAX_BOUNCES};
use paperboy_store::{
    Frequency, OutboxRow, OutgoingMail, Preferences, SendOutcome, StoreError, Subscriber,
    SubscriberId,
};
use rusqlite::{params, Connection, OptionalExtension, Row};

use crate::db_err;

const COLS: &str =
    "subscriber_id, email, frequency, trending_top, daily_list, categories, queries, \
    confirmed_at, unsubscribed_at, disabled_at, bounces";

fn sub_row(r: &Row<'_>) -> rusqlite::Result<Subscriber> {
    let (f, t, d, c, q): (String, i64, i64, String, String) =
        (r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?);
    Ok(Subscriber {
        subscriber_id: SubscriberId(r.get(0)?),
        email: r.get(1)?,
        prefs: prefs_from_columns(&f, t, d, &c, &q),
        confirmed_at: ts(r.get(7)?),
        unsubscribed_at: ts(r.get(8)?),
        disabled_at: ts(r.get(9)?),
        bounces: r.get(10)?,
    })
}

pub fn subscriber(conn: &Connection, id: SubscriberId) -> Result<Subscriber, StoreError> {
    conn.query_row(
        &format!("SELECT {COLS} FROM subscribers WHERE subscriber_id = ?1"),
        [id.0],
        sub_row,
    )
    .map_err(db_err)
}

pub fn upsert_subscriber(
    conn: &mut Connection,
    email: &str,
    prefs: &Preferences,
) -> Result<Subscriber, StoreError> {
    let tx = conn.transaction().map_err(db_err)?;
    let (f, t, d, c, q) = prefs_to_columns(prefs);
    let existing: Option<Subscriber> = tx
        .query_row(
            &format!("SELECT {COLS} FROM subscribers WHERE email = ?1"),
            [email],
            sub_row,
        )
        .optional()
        .map_err(db_err)?;
    let id = match existing {
        Some(s) if s.is_active() => s.subscriber_id.0,
        Some(s) => {
            tx.execute(
                "UPDATE subscribers SET frequency = ?2, trending_top = ?3, daily_list = ?4, categories = ?5,
                    queries = ?6, unsubscribed_at = NULL, confirmed_at = CASE WHEN unsubscribed_at IS NULL
                    THEN confirmed_at ELSE NULL END
                 WHERE subscriber_id = ?1",
                params![s.subscriber_id.0, f, t, d, c, q],
            )
            .map_err(db_err)?;
            s.subscriber_id.0
        }
        None => {
            tx.execute(
                "INSERT INTO subscribers (email, frequency, trending_top, daily_list, categories, queries, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![email, f, t, d, c, q, Utc::now().timestamp()],
            )
            .map_err(db_err)?;
            tx.last_insert_rowid()
        }
    };
    let s = subscriber(&tx, SubscriberId(id))?;
    tx.commit().map_err(db_err)?;
    Ok(s)
}

pub fn confirm(conn: &Connection, id: SubscriberId) -> Result<(), StoreError> {
    let n = conn
        .execute(
            "UPDATE subscribers SET confirmed_at = COALESCE(confirmed_at, ?2) WHERE subscriber_id = ?1 AND unsubscribed_at IS NULL",
            params![id.0, Utc::now().timestamp()],
        )
        .map_err(db_err)?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub fn unsubscribe(conn: &Connection, id: SubscriberId) -> Result<(), StoreError> {
    let n = conn
        .execute(
            "UPDATE subscribers SET unsubscribed_at = COALESCE(unsubscribed_at, ?2) WHERE subscriber_id = ?1",
            params![id.0, Utc::now().timestamp()],
        )
        .map_err(db_err)?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    // Nothing queued for them goes out any more.
    conn.execute(
        "UPDATE outbox SET status = 'failed', last_error = 'unsubscribed' WHERE subscriber_id = ?1 AND status = 'pending'",
        [id.0],
    )
    .map_err(db_err)?;
    Ok(())
}

pub fn active(
    conn: &Connection,
    frequency: Frequency,
    after: i64,
    limit: u32,
) -> Result<Vec<Subscriber>, StoreError> {
    let mut stmt = conn
        .prepare_cached(&format!(
            "SELECT {COLS} FROM subscribers WHERE frequency = ?1 AND subscriber_id > ?2 AND confirmed_at IS NOT NULL
             AND unsubscribed_at IS NULL AND disabled_at IS NULL ORDER BY subscriber_id LIMIT ?3"
        ))
        .map_err(db_err)?;
    let rows = stmt
        .query_map(params![frequency.as_str(), after, limit], sub_row)
        .map_err(db_err)?;
    rows.collect::<Result<Vec<_>, _>>().map_err(db_err)
}

pub fn unsent(
    conn: &Connection,
    sub: SubscriberId,
    papers: &[PaperId],
) -> Result<Vec<PaperId>, StoreError> {
    let mut stmt = conn
        .prepare_cached("SELECT 1 FROM digest_papers WHERE subscriber_id = ?1 AND paper_id = ?2")
        .map_err(db_err)?;
    let mut out = Vec::new();
    for p in papers {
        if !stmt.exists(params![sub.0, p.0]).map_err(db_err)? {
            out.push(*p);
        }
    }
    Ok(out)
}

pub fn enqueue(
    conn: &mut Connection,
    mail: OutgoingMail,
    papers: &[PaperId],
) -> Result<bool, StoreError> {
    let tx = conn.transaction().map_err(db_err)?;
    let now = Utc::now().timestamp();
    let n = tx
        .execute(
            "INSERT INTO outbox (dedupe_key, subscriber_id, recipient, message, next_attempt_at, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?5) ON CONFLICT (dedupe_key) DO NOTHING",
            params![mail.dedupe_key, mail.subscriber.map(|s| s.0), mail.recipient, mail.message, now],
        )
        .map_err(db_err)?;
    if n == 1 {
        if let Some(sub) = mail.subscriber {
            let mut stmt = tx
                .prepare_cached(
                    "INSERT OR IGNORE INTO digest_papers (subscriber_id, paper_id) VALUES (?1, ?2)",
                )
                .map_err(db_err)?;
            for p in papers {
                stmt.execute(params![sub.0, p.0]).map_err(db_err)?;
            }
        }
    }
    tx.commit().map_err(db_err)?;
    Ok(n == 1)
}

const OUT_COLS: &str = "outbox_id, dedupe_key, subscriber_id, recipient, message, attempts";

fn out_row(r: &Row<'_>) -> rusqlite::Result<OutboxRow> {
    Ok(OutboxRow {
        outbox_id: r.get(0)?,
        dedupe_key: r.get(1)?,
        subscriber: r.get::<_, Option<i64>>(2)?.map(SubscriberId),
        recipient: r.get(3)?,
        message: r.get(4)?,
        attempts: r.get(5)?,
    })
}

pub fn claim(
    conn: &Connection,
    now: i64,
    lease: i64,
    limit: u32,
) -> Result<Vec<OutboxRow>, StoreError> {
    // One writer at a time in SQLite: the UPDATE is the claim.
    let mut stmt = conn
        .prepare_cached(&format!(
            "UPDATE outbox SET claimed_until = ?2, attempts = attempts + 1 WHERE outbox_id IN (
                SELECT outbox_id FROM outbox WHERE status = 'pending' AND next_attempt_at <= ?1
                AND (claimed_until IS NULL OR claimed_until < ?1) ORDER BY outbox_id LIMIT ?3)
             RETURNING {OUT_COLS}"
        ))
        .map_err(db_err)?;
    let rows = stmt
        .query_map(params![now, now + lease, limit], out_row)
        .map_err(db_err)?;
    let mut v = rows.collect::<Result<Vec<_>, _>>().map_err(db_err)?;
    v.sort_by_key(|r| r.outbox_id);
    Ok(v)
}

pub fn claim_one(
    conn: &Connection,
    id: i64,
    now: i64,
    lease: i64,
) -> Result<Option<OutboxRow>, StoreError> {
    conn.query_row(
        &format!(
            "UPDATE outbox SET claimed_until = ?3, attempts = attempts + 1 WHERE outbox_id = ?1 AND status = 'pending'
             AND (claimed_until IS NULL OR claimed_until < ?2) RETURNING {OUT_COLS}"
        ),
        params![id, now, now + lease],
        out_row,
    )
    .optional()
    .map_err(db_err)
}

pub fn outbox_id(conn: &Connection, key: &str) -> Result<Option<i64>, StoreError> {
    conn.query_row(
        "SELECT outbox_id FROM outbox WHERE dedupe_key = ?1",
        [key],
        |r| r.get(0),
    )
    .optional()
    .map_err(db_err)
}

pub fn finish(conn: &mut Connection, id: i64, outcome: SendOutcome) -> Result<(), StoreError> {
    let tx = conn.transaction().map_err(db_err)?;
    let now = Utc::now().timestamp();
    match outcome {
        SendOutcome::Sent => {
            tx.execute(
                "UPDATE outbox SET status = 'sent', sent_at = ?2, claimed_until = NULL WHERE outbox_id = ?1",
                params![id, now],
            )
        }
        SendOutcome::Retry { at, error } => tx.execute(
            "UPDATE outbox SET status = 'pending', next_attempt_at = ?2, last_error = ?3, claimed_until = NULL, sent_at = NULL
             WHERE outbox_id = ?1",
            params![id, at, error],
        ),
        SendOutcome::Failed { error } => {
            tx.execute(
                "UPDATE outbox SET status = 'failed', last_error = ?2, claimed_until = NULL, sent_at = NULL WHERE outbox_id = ?1",
                params![id, error],
            )
            .map_err(db_err)?;
            tx.execute(
                "UPDATE subscribers SET bounces = bounces + 1,
                    disabled_at = CASE WHEN bounces + 1 >= ?2 THEN ?3 ELSE disabled_at END
                 WHERE subscriber_id = (SELECT subscriber_id FROM outbox WHERE outbox_id = ?1)",
                params![id, MAX_BOUNCES, now],
            )
        }
    }
    .map_err(db_err)?;
    tx.commit().map_err(db_err)?;
    Ok(())
}

pub fn counts(conn: &Connection) -> Result<Vec<(String, i64)>, StoreError> {
    let mut stmt = conn
        .prepare("SELECT status, count(*) FROM outbox GROUP BY status ORDER BY status")
        .map_err(db_err)?;
    let rows = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .map_err(db_err)?;
    rows.collect::<Result<Vec<_>, _>>().map_err(db_err)
}

pub fn set_preferences(
    conn: &Connection,
    id: SubscriberId,
    prefs: &Preferences,
) -> Result<(), StoreError> {
    let (f, t, d, c, q) = prefs_to_columns(prefs);
    let n = conn
        .execute(
            "UPDATE subscribers SET frequency = ?2, trending_top = ?3, daily_list = ?4, categories = ?5, queries = ?6
             WHERE subscriber_id = ?1",
            params![id.0, f, t, d, c, q],
        )
        .map_err(db_err)?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub fn by_email(conn: &Connection, email: &str) -> Result<Option<Subscriber>, StoreError> {
    conn.query_row(
        &format!("SELECT {COLS} FROM subscribers WHERE email = ?1"),
        [email],
        sub_row,
    )
    .optional()
    .map_err(db_err)
}
