use chrono::Utc;
use paperboy_store::{HarvestCheckpoint, HarvestCounts, HarvestPage, StoreError};
use rusqlite::{params, Connection, OptionalExtension};

use crate::{db_err, papers};

pub fn checkpoint(
    conn: &Connection,
    set_spec: &str,
) -> Result<Option<HarvestCheckpoint>, StoreError> {
    let row = conn
        .query_row(
            "SELECT last_datestamp, run_from, resumption_token, run_max_datestamp
             FROM harvest_checkpoints WHERE set_spec = ?1",
            [set_spec],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()
        .map_err(db_err)?;
    row.map(|(a, b, c, d)| HarvestCheckpoint::from_columns(set_spec.to_string(), a, b, c, d))
        .transpose()
}

pub fn apply_page(conn: &mut Connection, page: HarvestPage) -> Result<HarvestCounts, StoreError> {
    let tx = conn.transaction().map_err(db_err)?;
    let papers = papers::upsert_in(&tx, page.papers)?;
    let mut deleted = 0;
    for id in &page.deleted {
        if papers::delete_in(&tx, id.as_str())? {
            deleted += 1;
        }
    }
    let (last, run_from, token, run_max) = page.checkpoint.to_columns();
    tx.execute(
        "INSERT INTO harvest_checkpoints
            (set_spec, last_datestamp, run_from, resumption_token, run_max_datestamp, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (set_spec) DO UPDATE SET last_datestamp = excluded.last_datestamp,
            run_from = excluded.run_from, resumption_token = excluded.resumption_token,
            run_max_datestamp = excluded.run_max_datestamp, updated_at = excluded.updated_at",
        params![
            page.checkpoint.set_spec,
            last,
            run_from,
            token,
            run_max,
            Utc::now().timestamp()
        ],
    )
    .map_err(db_err)?;
    tx.commit().map_err(db_err)?;
    Ok(HarvestCounts { papers, deleted })
}

pub fn try_lease(
    conn: &Connection,
    name: &str,
    holder: &str,
    ttl_secs: i64,
) -> Result<bool, StoreError> {
    let now = Utc::now().timestamp();
    let changed = conn
        .execute(
            "INSERT INTO leases (name, holder, expires_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder,
                expires_at = excluded.expires_at
             WHERE leases.holder = excluded.holder OR leases.expires_at < ?4",
            params![name, holder, now + ttl_secs, now],
        )
        .map_err(db_err)?;
    Ok(changed == 1)
}
