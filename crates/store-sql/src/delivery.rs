//! Subscribers, what was sent to them, and the outbox.

use std::collections::HashSet;
use std::sync::LazyLock;

use async_trait::async_trait;
use chrono::Utc;
use paperboy_core::PaperId;
use paperboy_store::delivery::MAX_BOUNCES;
use paperboy_store::{
    Frequency, OutboxRow, OutboxStore, OutgoingMail, Preferences, SendOutcome, StoreError,
    Subscriber, SubscriberId, SubscriberStore,
};

use crate::columns::{self, preference_columns, OUTBOX_COLUMNS, SUBSCRIBER_COLUMNS};
use crate::conn::Sql;
use crate::{args, Backend, SqlStore};

static SUBSCRIBER: LazyLock<Sql> = LazyLock::new(|| {
    Sql::owned(format!(
        "SELECT {SUBSCRIBER_COLUMNS} FROM subscribers WHERE subscriber_id = $1"
    ))
});
static BY_EMAIL: LazyLock<Sql> = LazyLock::new(|| {
    Sql::owned(format!(
        "SELECT {SUBSCRIBER_COLUMNS} FROM subscribers WHERE email = $1"
    ))
});
static LOCK_BY_EMAIL: LazyLock<Sql> = LazyLock::new(|| {
    Sql::owned(format!(
        "SELECT {SUBSCRIBER_COLUMNS} FROM subscribers WHERE email = $1 FOR UPDATE"
    ))
});
static INSERT_SUBSCRIBER: Sql = Sql::new(
    "INSERT INTO subscribers (email, frequency, trending_top, daily_list, categories, queries, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (email) DO NOTHING",
);
/// A returning reader starts over: new preferences, and a new
/// confirmation when they had unsubscribed.
static RESTART_SUBSCRIBER: Sql = Sql::new(
    "UPDATE subscribers SET frequency = $2, trending_top = $3, daily_list = $4, categories = $5,
        queries = $6, unsubscribed_at = NULL,
        confirmed_at = CASE WHEN unsubscribed_at IS NULL THEN confirmed_at ELSE NULL END
     WHERE subscriber_id = $1",
);
static SET_PREFERENCES: Sql = Sql::new(
    "UPDATE subscribers SET frequency = $2, trending_top = $3, daily_list = $4, categories = $5,
        queries = $6
     WHERE subscriber_id = $1",
);
static CONFIRM: Sql = Sql::new(
    "UPDATE subscribers SET confirmed_at = COALESCE(confirmed_at, $2)
     WHERE subscriber_id = $1 AND unsubscribed_at IS NULL",
);
static UNSUBSCRIBE: Sql = Sql::new(
    "UPDATE subscribers SET unsubscribed_at = COALESCE(unsubscribed_at, $2) WHERE subscriber_id = $1",
);
static DROP_QUEUED: Sql = Sql::new(
    "UPDATE outbox SET status = 'failed', last_error = 'unsubscribed'
     WHERE subscriber_id = $1 AND status = 'pending'",
);
static ACTIVE: LazyLock<Sql> = LazyLock::new(|| {
    Sql::owned(format!(
        "SELECT {SUBSCRIBER_COLUMNS} FROM subscribers WHERE frequency = $1 AND subscriber_id > $2
         AND confirmed_at IS NOT NULL AND unsubscribed_at IS NULL AND disabled_at IS NULL
         ORDER BY subscriber_id LIMIT $3"
    ))
});
static SENT: Sql =
    Sql::new("SELECT paper_id FROM digest_papers WHERE subscriber_id = $1 AND paper_id = ANY($2)");
static ENQUEUE: Sql = Sql::new(
    "INSERT INTO outbox (dedupe_key, subscriber_id, recipient, message, next_attempt_at, created_at)
     VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (dedupe_key) DO NOTHING",
);
static RECORD_SENT: Sql = Sql::new(
    "INSERT INTO digest_papers (subscriber_id, paper_id)
     SELECT $1, j.value FROM UNNEST($2::bigint[]) AS j(value) WHERE true
     ON CONFLICT DO NOTHING",
);
/// Rows another sender holds are skipped (PostgreSQL); SQLite's one writer
/// makes the UPDATE itself the claim.
static CLAIM: LazyLock<Sql> = LazyLock::new(|| {
    Sql::owned(format!(
        "UPDATE outbox SET claimed_until = $2, attempts = attempts + 1 WHERE outbox_id IN (
            SELECT outbox_id FROM outbox WHERE status = 'pending' AND next_attempt_at <= $1
            AND (claimed_until IS NULL OR claimed_until < $1) ORDER BY outbox_id LIMIT $3
            FOR UPDATE SKIP LOCKED)
         RETURNING {OUTBOX_COLUMNS}"
    ))
});
static CLAIM_ONE: LazyLock<Sql> = LazyLock::new(|| {
    Sql::owned(format!(
        "UPDATE outbox SET claimed_until = $3, attempts = attempts + 1
         WHERE outbox_id = $1 AND status = 'pending' AND (claimed_until IS NULL OR claimed_until < $2)
         RETURNING {OUTBOX_COLUMNS}"
    ))
});
static OUTBOX_ID: Sql = Sql::new("SELECT outbox_id FROM outbox WHERE dedupe_key = $1");
static MARK_SENT: Sql = Sql::new(
    "UPDATE outbox SET status = 'sent', sent_at = $2, claimed_until = NULL WHERE outbox_id = $1",
);
static MARK_RETRY: Sql = Sql::new(
    "UPDATE outbox SET status = 'pending', next_attempt_at = $2, last_error = $3,
        claimed_until = NULL, sent_at = NULL
     WHERE outbox_id = $1",
);
static MARK_FAILED: Sql = Sql::new(
    "UPDATE outbox SET status = 'failed', last_error = $2, claimed_until = NULL, sent_at = NULL
     WHERE outbox_id = $1",
);
static COUNT_BOUNCE: Sql = Sql::new(
    "UPDATE subscribers SET bounces = bounces + 1,
        disabled_at = CASE WHEN bounces + 1 >= $2 THEN $3 ELSE disabled_at END
     WHERE subscriber_id = (SELECT subscriber_id FROM outbox WHERE outbox_id = $1)",
);
static COUNTS: Sql =
    Sql::new("SELECT status, count(*) FROM outbox GROUP BY status ORDER BY status");

#[async_trait]
impl<B: Backend> SubscriberStore for SqlStore<B> {
    async fn upsert_subscriber(
        &self,
        email: &str,
        prefs: &Preferences,
    ) -> Result<Subscriber, StoreError> {
        let email = email.to_string();
        let (f, t, d, cats, q) = preference_columns(prefs);
        on!(self, write, |c| {
            let now = Utc::now().timestamp();
            c.execute(&INSERT_SUBSCRIBER, args![&email, f, t, d, &cats, &q, now])
                .await?;
            let s = c
                .one(&LOCK_BY_EMAIL, args![&email], columns::subscriber)
                .await?;
            if s.is_active() {
                return Ok(s);
            }
            let id = s.subscriber_id.0;
            c.execute(&RESTART_SUBSCRIBER, args![id, f, t, d, &cats, &q])
                .await?;
            c.one(&SUBSCRIBER, args![id], columns::subscriber).await
        })
    }

    async fn set_preferences(
        &self,
        id: SubscriberId,
        prefs: &Preferences,
    ) -> Result<(), StoreError> {
        let (f, t, d, cats, q) = preference_columns(prefs);
        on!(self, write, |c| {
            match c
                .execute(&SET_PREFERENCES, args![id.0, f, t, d, &cats, &q])
                .await?
            {
                0 => Err(StoreError::NotFound),
                _ => Ok(()),
            }
        })
    }

    async fn subscriber_by_email(&self, email: &str) -> Result<Option<Subscriber>, StoreError> {
        let email = email.to_string();
        on!(self, read, |c| {
            c.opt(&BY_EMAIL, args![&email], columns::subscriber).await
        })
    }

    async fn subscriber(&self, id: SubscriberId) -> Result<Subscriber, StoreError> {
        on!(self, read, |c| {
            c.one(&SUBSCRIBER, args![id.0], columns::subscriber).await
        })
    }

    async fn confirm_subscriber(&self, id: SubscriberId) -> Result<(), StoreError> {
        on!(self, write, |c| {
            let now = Utc::now().timestamp();
            match c.execute(&CONFIRM, args![id.0, now]).await? {
                0 => Err(StoreError::NotFound),
                _ => Ok(()),
            }
        })
    }

    async fn unsubscribe(&self, id: SubscriberId) -> Result<(), StoreError> {
        on!(self, write, |c| {
            let now = Utc::now().timestamp();
            if c.execute(&UNSUBSCRIBE, args![id.0, now]).await? == 0 {
                return Err(StoreError::NotFound);
            }
            c.execute(&DROP_QUEUED, args![id.0]).await?;
            Ok(())
        })
    }

    async fn active_subscribers(
        &self,
        frequency: Frequency,
        after: i64,
        limit: u32,
    ) -> Result<Vec<Subscriber>, StoreError> {
        on!(self, read, |c| {
            c.all(
                &ACTIVE,
                args![frequency.as_str(), after, limit],
                columns::subscriber,
            )
            .await
        })
    }

    async fn unsent_papers(
        &self,
        subscriber: SubscriberId,
        papers: &[PaperId],
    ) -> Result<Vec<PaperId>, StoreError> {
        let papers = papers.to_vec();
        on!(self, read, |c| {
            let ids: Vec<i64> = papers.iter().map(|p| p.0).collect();
            let sent: HashSet<i64> = c
                .all(&SENT, args![subscriber.0, ids.as_slice()], |r| r.i64(0))
                .await?
                .into_iter()
                .collect();
            Ok(papers
                .into_iter()
                .filter(|p| !sent.contains(&p.0))
                .collect())
        })
    }
}

#[async_trait]
impl<B: Backend> OutboxStore for SqlStore<B> {
    async fn enqueue_mail(
        &self,
        mail: OutgoingMail,
        papers: &[PaperId],
    ) -> Result<bool, StoreError> {
        let ids: Vec<i64> = papers.iter().map(|p| p.0).collect();
        on!(self, write, |c| {
            let now = Utc::now().timestamp();
            let sub = mail.subscriber.map(|s| s.0);
            let n = c
                .execute(
                    &ENQUEUE,
                    args![&mail.dedupe_key, sub, &mail.recipient, &mail.message, now],
                )
                .await?;
            if let (1, Some(sub)) = (n, sub) {
                c.execute(&RECORD_SENT, args![sub, ids.as_slice()]).await?;
            }
            Ok(n == 1)
        })
    }

    async fn claim_outbox(
        &self,
        now: i64,
        lease_secs: i64,
        limit: u32,
    ) -> Result<Vec<OutboxRow>, StoreError> {
        on!(self, write, |c| {
            let mut rows = c
                .all(
                    &CLAIM,
                    args![now, now + lease_secs, limit],
                    columns::outbox_row,
                )
                .await?;
            rows.sort_by_key(|r| r.outbox_id);
            Ok(rows)
        })
    }

    async fn claim_outbox_row(
        &self,
        outbox_id: i64,
        now: i64,
        lease_secs: i64,
    ) -> Result<Option<OutboxRow>, StoreError> {
        on!(self, write, |c| {
            c.opt(
                &CLAIM_ONE,
                args![outbox_id, now, now + lease_secs],
                columns::outbox_row,
            )
            .await
        })
    }

    async fn outbox_id(&self, dedupe_key: &str) -> Result<Option<i64>, StoreError> {
        let key = dedupe_key.to_string();
        on!(self, read, |c| {
            c.opt(&OUTBOX_ID, args![&key], |r| r.i64(0)).await
        })
    }

    async fn finish_outbox(&self, outbox_id: i64, outcome: SendOutcome) -> Result<(), StoreError> {
        on!(self, write, |c| {
            let now = Utc::now().timestamp();
            match outcome {
                SendOutcome::Sent => c.execute(&MARK_SENT, args![outbox_id, now]).await?,
                SendOutcome::Retry { at, error } => {
                    c.execute(&MARK_RETRY, args![outbox_id, at, &error]).await?
                }
                SendOutcome::Failed { error } => {
                    c.execute(&MARK_FAILED, args![outbox_id, &error]).await?;
                    c.execute(&COUNT_BOUNCE, args![outbox_id, MAX_BOUNCES, now])
                        .await?
                }
            };
            Ok(())
        })
    }

    async fn outbox_counts(&self) -> Result<Vec<(String, i64)>, StoreError> {
        on!(self, read, |c| {
            c.all(&COUNTS, &[], |r| Ok((r.text(0)?, r.i64(1)?))).await
        })
    }
}
