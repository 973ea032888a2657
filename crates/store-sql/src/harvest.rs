//! Harvest checkpoints and scheduler leases.

use async_trait::async_trait;
use chrono::{NaiveDate, Utc};
use paperboy_store::{
    HarvestCheckpoint, HarvestCounts, HarvestPage, HarvestStore, LeaseStore, StoreError,
};

use crate::conn::{Sql, SqlRow};
use crate::papers::{delete_in, upsert_in};
use crate::{args, Backend, SqlStore};

static CHECKPOINT: Sql = Sql::new(
    "SELECT set_spec, last_datestamp, run_from, resumption_token, run_max_datestamp
     FROM harvest_checkpoints WHERE set_spec = $1",
);
static SAVE_CHECKPOINT: Sql = Sql::new(
    "INSERT INTO harvest_checkpoints
        (set_spec, last_datestamp, run_from, resumption_token, run_max_datestamp, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (set_spec) DO UPDATE SET last_datestamp = EXCLUDED.last_datestamp,
        run_from = EXCLUDED.run_from, resumption_token = EXCLUDED.resumption_token,
        run_max_datestamp = EXCLUDED.run_max_datestamp, updated_at = EXCLUDED.updated_at",
);
static TRY_LEASE: Sql = Sql::new(
    "INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, $3)
     ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
     WHERE leases.holder = EXCLUDED.holder OR leases.expires_at < $4",
);

static COUNT_ACTION: Sql = Sql::new(
    "INSERT INTO rate_counts (key, window_start, count, expires_at) VALUES ($1, $2, 1, $3)
     ON CONFLICT (key, window_start) DO UPDATE SET count = rate_counts.count + 1
     RETURNING count",
);
static PRUNE_COUNTS: Sql = Sql::new("DELETE FROM rate_counts WHERE expires_at < $1");

fn date_text(d: Option<NaiveDate>) -> Option<String> {
    d.map(|d| d.format("%Y-%m-%d").to_string())
}

fn checkpoint(r: &dyn SqlRow) -> Result<HarvestCheckpoint, StoreError> {
    let set_spec = r.text(0)?;
    let date = |i: usize| -> Result<Option<NaiveDate>, StoreError> {
        r.opt_text(i)?
            .map(|s| {
                NaiveDate::parse_from_str(&s, "%Y-%m-%d").map_err(|e| StoreError::Corrupt {
                    key: format!("harvest checkpoint {set_spec}"),
                    reason: format!("date `{s}`: {e}"),
                })
            })
            .transpose()
    };
    Ok(HarvestCheckpoint {
        last_datestamp: date(1)?,
        run_from: date(2)?,
        resumption_token: r.opt_text(3)?,
        run_max_datestamp: date(4)?,
        set_spec: set_spec.clone(),
    })
}

#[async_trait]
impl<B: Backend> HarvestStore for SqlStore<B> {
    async fn harvest_checkpoint(
        &self,
        set_spec: &str,
    ) -> Result<Option<HarvestCheckpoint>, StoreError> {
        let set_spec = set_spec.to_string();
        on!(self, read, |c| {
            c.opt(&CHECKPOINT, args![&set_spec], checkpoint).await
        })
    }

    async fn apply_harvest_page(&self, page: HarvestPage) -> Result<HarvestCounts, StoreError> {
        on!(self, write, |c| {
            let papers = upsert_in(c, page.papers).await?;
            let mut deleted = 0;
            for id in &page.deleted {
                if delete_in(c, id.as_str()).await? {
                    deleted += 1;
                }
            }
            let cp = &page.checkpoint;
            let (last, from) = (date_text(cp.last_datestamp), date_text(cp.run_from));
            let max = date_text(cp.run_max_datestamp);
            let now = Utc::now().timestamp();
            c.execute(
                &SAVE_CHECKPOINT,
                args![&cp.set_spec, &last, &from, &cp.resumption_token, &max, now],
            )
            .await?;
            Ok(HarvestCounts { papers, deleted })
        })
    }
}

#[async_trait]
impl<B: Backend> LeaseStore for SqlStore<B> {
    async fn try_lease(&self, name: &str, holder: &str, ttl_secs: i64) -> Result<bool, StoreError> {
        let (name, holder) = (name.to_string(), holder.to_string());
        on!(self, write, |c| {
            let now = Utc::now().timestamp();
            let n = c
                .execute(&TRY_LEASE, args![&name, &holder, now + ttl_secs, now])
                .await?;
            Ok(n == 1)
        })
    }

    async fn count_action(
        &self,
        key: &str,
        window_start: i64,
        expires_at: i64,
    ) -> Result<i64, StoreError> {
        let key = key.to_string();
        on!(self, write, |c| {
            // Expired windows go now and then (about one call in 256),
            // within the same write.
            if Utc::now().timestamp_subsec_nanos().is_multiple_of(256) {
                c.execute(&PRUNE_COUNTS, args![Utc::now().timestamp()])
                    .await?;
            }
            c.one(&COUNT_ACTION, args![&key, window_start, expires_at], |r| {
                r.i64(0)
            })
            .await
        })
    }
}
