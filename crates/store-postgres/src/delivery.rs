use chrono::Utc;
use paperboy_core::PaperId;
use paperboy_store::delivery::{prefs_from_columns, prefs_to_columns, ts, MAX_BOUNCES};
use paperboy_store::{
    Frequency, OutboxRow, OutgoingMail, Preferences, SendOutcome, StoreError, Subscriber,
    SubscriberId,
};
use tokio_postgres::{GenericClient, Row};

use crate::db_err;

const COLS: &str =
    "subscriber_id, email, frequency, trending_top, daily_list, categories, queries, \
    confirmed_at, unsubscribed_at, disabled_at, bounces";

fn sub_row(r: &Row) -> Subscriber {
    Subscriber {
        subscriber_id: SubscriberId(r.get(0)),
        email: r.get(1),
        prefs: prefs_from_columns(r.get(2), r.get(3), r.get(4), r.get(5), r.get(6)),
        confirmed_at: ts(r.get(7)),
        unsubscribed_at: ts(r.get(8)),
        disabled_at: ts(r.get(9)),
        bounces: r.get(10),
    }
}

pub async fn subscriber<C: GenericClient>(
    c: &C,
    id: SubscriberId,
) -> Result<Subscriber, StoreError> {
    let row = c
        .query_opt(
            &format!("SELECT {COLS} FROM subscribers WHERE subscriber_id = $1"),
            &[&id.0],
        )
        .await
        .map_err(db_err)?
        .ok_or(StoreError::NotFound)?;
    Ok(sub_row(&row))
}

pub async fn upsert_subscriber(
    client: &mut deadpool_postgres::Object,
    email: &str,
    prefs: &Preferences,
) -> Result<Subscriber, StoreError> {
    let tx = client.transaction().await.map_err(db_err)?;
    let (f, t, d, c, q) = prefs_to_columns(prefs);
    let now = Utc::now().timestamp();
    // Insert or lock the existing row, then decide.
    tx.execute(
        "INSERT INTO subscribers (email, frequency, trending_top, daily_list, categories, queries, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (email) DO NOTHING",
        &[&email, &f, &t, &d, &c, &q, &now],
    )
    .await
    .map_err(db_err)?;
    let row = tx
        .query_one(
            &format!("SELECT {COLS} FROM subscribers WHERE email = $1 FOR UPDATE"),
            &[&email],
        )
        .await
        .map_err(db_err)?;
    let s = sub_row(&row);
    if !s.is_active() {
        tx.execute(
            "UPDATE subscribers SET frequency = $2, trending_top = $3, daily_list = $4, categories = $5, queries = $6,
                unsubscribed_at = NULL,
                confirmed_at = CASE WHEN unsubscribed_at IS NULL THEN confirmed_at ELSE NULL END
             WHERE subscriber_id = $1",
            &[&s.subscriber_id.0, &f, &t, &d, &c, &q],
        )
        .await
        .map_err(db_err)?;
    }
    let out = subscriber(&*tx, s.subscriber_id).await?;
    tx.commit().await.map_err(db_err)?;
    Ok(out)
}

pub async fn confirm<C: GenericClient>(c: &C, id: SubscriberId) -> Result<(), StoreError> {
    let n = c
        .execute(
            "UPDATE subscribers SET confirmed_at = COALESCE(confirmed_at, $2) WHERE subscriber_id = $1 AND unsubscribed_at IS NULL",
            &[&id.0, &Utc::now().timestamp()],
        )
        .await
        .map_err(db_err)?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub async fn unsubscribe<C: GenericClient>(c: &C, id: SubscriberId) -> Result<(), StoreError> {
    let n = c
        .execute(
            "UPDATE subscribers SET unsubscribed_at = COALESCE(unsubscribed_at, $2) WHERE subscriber_id = $1",
            &[&id.0, &Utc::now().timestamp()],
        )
        .await
        .map_err(db_err)?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    c.execute(
        "UPDATE outbox SET status = 'failed', last_error = 'unsubscribed' WHERE subscriber_id = $1 AND status = 'pending'",
        &[&id.0],
    )
    .await
    .map_err(db_err)?;
    Ok(())
}

pub async fn active<C: GenericClient>(
    c: &C,
    frequency: Frequency,
    after: i64,
    limit: u32,
) -> Result<Vec<Subscriber>, StoreError> {
    let rows = c
        .query(
            &format!(
                "SELECT {COLS} FROM subscribers WHERE frequency = $1 AND subscriber_id > $2 AND confirmed_at IS NOT NULL
                 AND unsubscribed_at IS NULL AND disabled_at IS NULL ORDER BY subscriber_id LIMIT $3"
            ),
            &[&frequency.as_str(), &after, &i64::from(limit)],
        )
        .await
        .map_err(db_err)?;
    Ok(rows.iter().map(sub_row).collect())
}

pub async fn unsent<C: GenericClient>(
    c: &C,
    sub: SubscriberId,
    papers: &[PaperId],
) -> Result<Vec<PaperId>, StoreError> {
    let ids: Vec<i64> = papers.iter().map(|p| p.0).collect();
    let rows = c
        .query(
            "SELECT paper_id FROM digest_papers WHERE subscriber_id = $1 AND paper_id = ANY($2)",
            &[&sub.0, &ids],
        )
        .await
        .map_err(db_err)?;
    let sent: std::collections::HashSet<i64> = rows.iter().map(|r| r.get(0)).collect();
    Ok(papers
        .iter()
        .copied()
        .filter(|p| !sent.contains(&p.0))
        .collect())
}

pub async fn enqueue(
    client: &mut deadpool_postgres::Object,
    mail: OutgoingMail,
    papers: &[PaperId],
) -> Result<bool, StoreError> {
    let tx = client.transaction().await.map_err(db_err)?;
    let now = Utc::now().timestamp();
    let n = tx
        .execute(
            "INSERT INTO outbox (dedupe_key, subscriber_id, recipient, message, next_attempt_at, created_at)
             VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (dedupe_key) DO NOTHING",
            &[&mail.dedupe_key, &mail.subscriber.map(|s| s.0), &mail.recipient, &mail.message, &now],
        )
        .await
        .map_err(db_err)?;
    if n == 1 {
        if let Some(sub) = mail.subscriber {
            let ids: Vec<i64> = papers.iter().map(|p| p.0).collect();
            tx.execute(
                "INSERT INTO digest_papers (subscriber_id, paper_id) SELECT $1, UNNEST($2::bigint[]) ON CONFLICT DO NOTHING",
                &[&sub.0, &ids],
            )
            .await
            .map_err(db_err)?;
        }
    }
    tx.commit().await.map_err(db_err)?;
    Ok(n == 1)
}

const OUT_COLS: &str = "outbox_id, dedupe_key, subscriber_id, recipient, message, attempts";

fn out_row(r: &Row) -> OutboxRow {
    OutboxRow {
        outbox_id: r.get(0),
        dedupe_key: r.get(1),
        subscriber: r.get::<_, Option<i64>>(2).map(SubscriberId),
        recipient: r.get(3),
        message: r.get(4),
        attempts: r.get(5),
    }
}

/// Several nodes share the work: rows another sender holds are skipped.
pub async fn claim<C: GenericClient>(
    c: &C,
    now: i64,
    lease: i64,
    limit: u32,
) -> Result<Vec<OutboxRow>, StoreError> {
    let rows = c
        .query(
            &format!(
                "UPDATE outbox SET claimed_until = $2, attempts = attempts + 1 WHERE outbox_id IN (
                    SELECT outbox_id FROM outbox WHERE status = 'pending' AND next_attempt_at <= $1
                    AND (claimed_until IS NULL OR claimed_until < $1) ORDER BY outbox_id LIMIT $3
                    FOR UPDATE SKIP LOCKED)
                 RETURNING {OUT_COLS}"
            ),
            &[&now, &(now + lease), &i64::from(limit)],
        )
        .await
        .map_err(db_err)?;
    let mut v: Vec<OutboxRow> = rows.iter().map(out_row).collect();
    v.sort_by_key(|r| r.outbox_id);
    Ok(v)
}

pub async fn claim_one<C: GenericClient>(
    c: &C,
    id: i64,
    now: i64,
    lease: i64,
) -> Result<Option<OutboxRow>, StoreError> {
    let row = c
        .query_opt(
            &format!(
                "UPDATE outbox SET claimed_until = $3, attempts = attempts + 1 WHERE outbox_id = $1 AND status = 'pending'
                 AND (claimed_until IS NULL OR claimed_until < $2) RETURNING {OUT_COLS}"
            ),
            &[&id, &now, &(now + lease)],
        )
        .await
        .map_err(db_err)?;
    Ok(row.as_ref().map(out_row))
}

pub async fn outbox_id<C: GenericClient>(c: &C, key: &str) -> Result<Option<i64>, StoreError> {
    let row = c
        .query_opt(
            "SELECT outbox_id FROM outbox WHERE dedupe_key = $1",
            &[&key],
        )
        .await
        .map_err(db_err)?;
    Ok(row.map(|r| r.get(0)))
}

pub async fn finish(
    client: &mut deadpool_postgres::Object,
    id: i64,
    outcome: SendOutcome,
) -> Result<(), StoreError> {
    let tx = client.transaction().await.map_err(db_err)?;
    let now = Utc::now().timestamp();
    match outcome {
        SendOutcome::Sent => {
            tx.execute("UPDATE outbox SET status = 'sent', sent_at = $2, claimed_until = NULL WHERE outbox_id = $1", &[&id, &now])
                .await
        }
        SendOutcome::Retry { at, error } => {
            tx.execute(
                "UPDATE outbox SET status = 'pending', next_attempt_at = $2, last_error = $3, claimed_until = NULL, sent_at = NULL
                 WHERE outbox_id = $1",
                &[&id, &at, &error],
            )
            .await
        }
        SendOutcome::Failed { error } => {
            tx.execute(
                "UPDATE outbox SET status = 'failed', last_error = $2, claimed_until = NULL, sent_at = NULL WHERE outbox_id = $1",
                &[&id, &error],
            )
            .await
            .map_err(db_err)?;
            tx.execute(
                "UPDATE subscribers SET bounces = bounces + 1,
                    disabled_at = CASE WHEN bounces + 1 >= $2 THEN $3 ELSE disabled_at END
                 WHERE subscriber_id = (SELECT subscriber_id FROM outbox WHERE outbox_id = $1)",
                &[&id, &MAX_BOUNCES, &now],
            )
            .await
        }
    }
    .map_err(db_err)?;
    tx.commit().await.map_err(db_err)?;
    Ok(())
}

pub async fn counts<C: GenericClient>(c: &C) -> Result<Vec<(String, i64)>, StoreError> {
    let rows = c
        .query(
            "SELECT status, count(*) FROM outbox GROUP BY status ORDER BY status",
            &[],
        )
        .await
        .map_err(db_err)?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

pub async fn set_preferences<C: GenericClient>(
    c: &C,
    id: SubscriberId,
    prefs: &Preferences,
) -> Result<(), StoreError> {
    let (f, t, d, cats, q) = prefs_to_columns(prefs);
    let n = c
        .execute(
            "UPDATE subscribers SET frequency = $2, trending_top = $3, daily_list = $4, categories = $5, queries = $6
             WHERE subscriber_id = $1",
            &[&id.0, &f, &t, &d, &cats, &q],
        )
        .await
        .map_err(db_err)?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub async fn by_email<C: GenericClient>(
    c: &C,
    email: &str,
) -> Result<Option<Subscriber>, StoreError> {
    let row = c
        .query_opt(
            &format!("SELECT {COLS} FROM subscribers WHERE email = $1"),
            &[&email],
        )
        .await
        .map_err(db_err)?;
    Ok(row.as_ref().map(sub_row))
}
