//! Migrations compiled into the binary, written once (PostgreSQL's text,
//! rendered for SQLite like every statement) and applied in order inside
//! one write transaction, so several nodes starting together never apply
//! one twice and a failed migration leaves the schema as it was.
//!
//! Rolling deploys: each migration only adds (tables, nullable or
//! defaulted columns, indexes), so nodes still running the previous
//! version keep working while the new one starts (expand/contract).

use paperboy_store::StoreError;

use crate::conn::{job, Dialect, Sql};
use crate::{args, Backend};

pub const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../migrations/0001_papers.sql")),
    (2, include_str!("../migrations/0002_harvest.sql")),
    (3, include_str!("../migrations/0003_community.sql")),
    (4, include_str!("../migrations/0004_delivery.sql")),
    (5, include_str!("../migrations/0005_discussions.sql")),
    (6, include_str!("../migrations/0006_github.sql")),
    (7, include_str!("../migrations/0007_library.sql")),
    (8, include_str!("../migrations/0008_rate_limits.sql")),
    (9, include_str!("../migrations/0009_password_resets.sql")),
    (10, include_str!("../migrations/0010_citations.sql")),
    (11, include_str!("../migrations/0011_watch.sql")),
    (12, include_str!("../migrations/0012_passages.sql")),
    (13, include_str!("../migrations/0013_openalex.sql")),
    (14, include_str!("../migrations/0014_deferred_indexes.sql")),
    (15, include_str!("../migrations/0015_lz4.sql")),
    (16, include_str!("../migrations/0016_feedback_order.sql")),
    (17, include_str!("../migrations/0017_library_ids.sql")),
];

/// Migrations with nothing to do on SQLite (recorded there as applied).
const POSTGRES_ONLY: &[i64] = &[15];

/// Any 64-bit number both nodes agree on: "paperboy" in ASCII.
const LOCK_KEY: i64 = 0x7061_7065_7262_6f79;

static LOCK: Sql = Sql::new("SELECT pg_advisory_xact_lock($1)");
static CREATE: Sql = Sql::new(
    "CREATE TABLE IF NOT EXISTS schema_migrations (
        version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)",
);
static APPLIED: Sql = Sql::new("SELECT version FROM schema_migrations ORDER BY version");
static RECORD: Sql =
    Sql::new("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)");

/// Applies every migration the database lacks, and builds any index a
/// killed bulk load left unbuilt.
pub async fn migrate<B: Backend>(backend: &B) -> Result<(), StoreError> {
    backend
        .write(job(|c| {
            Box::pin(async move {
                // SQLite's write transaction already holds the database's
                // one write lock; PostgreSQL needs a lock of its own.
                if c.dialect() == Dialect::Postgres {
                    c.execute(&LOCK, args![LOCK_KEY]).await?;
                }
                c.execute(&CREATE, &[]).await?;
                let done = c.all(&APPLIED, &[], |r| r.i64(0)).await?;
                for &(version, text) in MIGRATIONS {
                    if done.contains(&version) {
                        continue;
                    }
                    let sql = match c.dialect() {
                        Dialect::Postgres => text.to_string(),
                        Dialect::Sqlite if POSTGRES_ONLY.contains(&version) => String::new(),
                        Dialect::Sqlite => crate::to_sqlite(text),
                    };
                    c.batch(&sql).await.map_err(|e| StoreError::Migration {
                        version,
                        reason: e.to_string(),
                    })?;
                    let now = chrono::Utc::now().timestamp();
                    c.execute(&RECORD, args![version, now]).await?;
                    tracing::info!(version, "applied migration");
                }
                // In the same transaction: the indexes a killed bulk load
                // left unbuilt (one count when there are none).
                let built = crate::indexes::restore(c).await?;
                if built > 0 {
                    tracing::warn!(
                        built,
                        "built the indexes an interrupted bulk load had dropped"
                    );
                }
                Ok(())
            })
        }))
        .await
}
