//! Migrations compiled into the binary. An advisory lock keeps several
//! nodes starting together from applying the same migration twice.

use paperboy_store::StoreError;

const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../migrations/0001_papers.sql")),
    (2, include_str!("../migrations/0002_harvest.sql")),
    (3, include_str!("../migrations/0003_community.sql")),
    (4, include_str!("../migrations/0004_delivery.sql")),
];
const LOCK_KEY: i64 = 0x7061_7065_7262_6f79; // "paperboy"

pub async fn run(client: &mut deadpool_postgres::Object) -> Result<(), StoreError> {
    let fail = |version: i64, e: tokio_postgres::Error| StoreError::Migration {
        version,
        reason: e.to_string(),
    };
    client
        .execute("SELECT pg_advisory_lock($1)", &[&LOCK_KEY])
        .await
        .map_err(|e| fail(0, e))?;
    let result = apply(client).await;
    let unlock = client
        .execute("SELECT pg_advisory_unlock($1)", &[&LOCK_KEY])
        .await;
    result?;
    unlock.map_err(|e| fail(0, e))?;
    Ok(())
}

async fn apply(client: &mut deadpool_postgres::Object) -> Result<(), StoreError> {
    let fail = |version: i64, e: tokio_postgres::Error| StoreError::Migration {
        version,
        reason: e.to_string(),
    };
    client
        .batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)",
        )
        .await
        .map_err(|e| fail(0, e))?;
    for &(version, sql) in MIGRATIONS {
        let tx = client.transaction().await.map_err(|e| fail(version, e))?;
        let done: bool = tx
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = $1)",
                &[&version],
            )
            .await
            .map_err(|e| fail(version, e))?
            .get(0);
        if done {
            continue;
        }
        tx.batch_execute(sql).await.map_err(|e| fail(version, e))?;
        tx.execute(
            "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
            &[&version, &chrono::Utc::now().timestamp()],
        )
        .await
        .map_err(|e| fail(version, e))?;
        tx.commit().await.map_err(|e| fail(version, e))?;
        tracing::info!(version, "applied PostgreSQL migration");
    }
    Ok(())
}
