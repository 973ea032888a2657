//! Migrations compiled into the binary, applied in order, each in its own
//! transaction.

use paperboy_store::StoreError;
use rusqlite::Connection;

const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../migrations/0001_papers.sql")),
    (2, include_str!("../migrations/0002_harvest.sql")),
    (3, include_str!("../migrations/0003_community.sql")),
    (4, include_str!("../migrations/0004_delivery.sql")),
];

pub fn run(conn: &mut Connection) -> Result<(), StoreError> {
    let fail = |version: i64, e: rusqlite::Error| StoreError::Migration {
        version,
        reason: e.to_string(),
    };
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)",
    )
    .map_err(|e| fail(0, e))?;
    for &(version, sql) in MIGRATIONS {
        // IMMEDIATE takes the write lock before looking, so two processes
        // opening a new file at once cannot both apply a migration.
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(|e| fail(version, e))?;
        let done: bool = tx
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = ?1)",
                [version],
                |r| r.get(0),
            )
            .map_err(|e| fail(version, e))?;
        if done {
            continue;
        }
        tx.execute_batch(sql).map_err(|e| fail(version, e))?;
        tx.execute(
            "INSERT INTO schema_migrations (version, applied_at) VALUES (?1, ?2)",
            [version, chrono::Utc::now().timestamp()],
        )
        .map_err(|e| fail(version, e))?;
        tx.commit().map_err(|e| fail(version, e))?;
        tracing::info!(version, "applied SQLite migration");
    }
    Ok(())
}
