use chrono::Utc;
use paperboy_store::{HarvestCheckpoint, HarvestCounts, HarvestPage, StoreError};
use tokio_postgres::GenericClient;

use crate::{db_err, papers};

pub async fn checkpoint<C: GenericClient>(
    client: &C,
    set_spec: &str,
) -> Result<Option<HarvestCheckpoint>, StoreError> {
    let row = client
        .query_opt(
            "SELECT last_datestamp, run_from, resumption_token, run_max_datestamp
             FROM harvest_checkpoints WHERE set_spec = $1",
            &[&set_spec],
        )
        .await
        .map_err(db_err)?;
    row.map(|r| {
        HarvestCheckpoint::from_columns(
            set_spec.to_string(),
            r.get(0),
            r.get(1),
            r.get(2),
            r.get(3),
        )
    })
    .transpose()
}

pub async fn apply_page(
    client: &mut deadpool_postgres::Object,
    page: HarvestPage,
) -> Result<HarvestCounts, StoreError> {
    let tx = client.transaction().await.map_err(db_err)?;
    let papers = papers::upsert_in(&tx, page.papers).await?;
    let mut deleted = 0;
    for id in &page.deleted {
        if papers::delete_in(&tx, id.as_str()).await? {
            deleted += 1;
        }
    }
    let (last, run_from, token, run_max) = page.checkpoint.to_columns();
    tx.execute(
        "INSERT INTO harvest_checkpoints
            (set_spec, last_datestamp, run_from, resumption_token, run_max_datestamp, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (set_spec) DO UPDATE SET last_datestamp = EXCLUDED.last_datestamp,
            run_from = EXCLUDED.run_from, resumption_token = EXCLUDED.resumption_token,
            run_max_datestamp = EXCLUDED.run_max_datestamp, updated_at = EXCLUDED.updated_at",
        &[
            &page.checkpoint.set_spec,
            &last,
            &run_from,
            &token,
            &run_max,
            &Utc::now().timestamp(),
        ],
    )
    .await
    .map_err(db_err)?;
    tx.commit().await.map_err(db_err)?;
    Ok(HarvestCounts { papers, deleted })
}

pub async fn try_lease<C: GenericClient>(
    client: &C,
    name: &str,
    holder: &str,
    ttl_secs: i64,
) -> Result<bool, StoreError> {
    let now = Utc::now().timestamp();
    let changed = client
        .execute(
            "INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, $3)
             ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder,
                expires_at = EXCLUDED.expires_at
             WHERE leases.holder = EXCLUDED.holder OR leases.expires_at < $4",
            &[&name, &holder, &(now + ttl_secs), &now],
        )
        .await
        .map_err(db_err)?;
    Ok(changed == 1)
}
