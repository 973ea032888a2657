//! Bulk loads: the papers table's secondary indexes dropped for the load
//! and built again after it.
//!
//! The definitions come from the database's own catalogue (what the
//! migrations created, whatever they become), and wait in
//! `deferred_indexes`, written in the transaction that drops them. Building
//! them again deletes the rows in the transaction that creates them, so a
//! kill at any point leaves either the indexes or their definitions, and
//! [`crate::SqlStore::new`] builds whatever a killed load left behind.
//! Unique indexes stay: upserts need the arXiv id's, the change feed the
//! sequence's.

use crate::args;
use crate::conn::{Conn, Dialect, Sql};
use paperboy_store::StoreError;

static PG_SECONDARY: Sql = Sql::new(
    "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i
     JOIN pg_class c ON c.oid = i.indexrelid
     WHERE i.indrelid = 'papers'::regclass AND NOT i.indisunique AND NOT i.indisprimary
     ORDER BY c.relname",
);
static SQLITE_SECONDARY: Sql = Sql::new(
    "SELECT name, sql FROM sqlite_master
     WHERE type = 'index' AND tbl_name = 'papers' AND sql IS NOT NULL
       AND upper(sql) NOT LIKE 'CREATE UNIQUE%'
     ORDER BY name",
);
static RECORD: Sql = Sql::new(
    "INSERT INTO deferred_indexes (name, definition) VALUES ($1, $2)
     ON CONFLICT (name) DO NOTHING",
);
/// Taken, not read: a second node restoring at the same moment waits on
/// the rows and then finds none.
static TAKE: Sql = Sql::new("DELETE FROM deferred_indexes RETURNING name, definition");
static WAITING: Sql = Sql::new("SELECT count(*) FROM deferred_indexes");

/// Drops the secondary indexes, recording each; how many.
pub(crate) async fn defer(c: &mut dyn Conn) -> Result<u32, StoreError> {
    let secondary = match c.dialect() {
        Dialect::Postgres => &PG_SECONDARY,
        Dialect::Sqlite => &SQLITE_SECONDARY,
    };
    let found = c
        .all(secondary, &[], |r| Ok((r.text(0)?, r.text(1)?)))
        .await?;
    for (name, definition) in &found {
        c.execute(&RECORD, args![name, definition]).await?;
        c.batch(&format!("DROP INDEX {}", quoted(name))).await?;
    }
    Ok(found.len() as u32)
}

/// Builds every recorded index again; how many.
pub(crate) async fn restore(c: &mut dyn Conn) -> Result<u32, StoreError> {
    // Most opens find nothing: one count, no write.
    if c.scalar(&WAITING, &[]).await? == 0 {
        return Ok(0);
    }
    let waiting = c.all(&TAKE, &[], |r| Ok((r.text(0)?, r.text(1)?))).await?;
    for (name, definition) in &waiting {
        let sql = if_missing(definition).ok_or_else(|| StoreError::Corrupt {
            key: format!("deferred_indexes {name}"),
            reason: format!("not a CREATE INDEX statement: {definition}"),
        })?;
        c.batch(&sql).await?;
    }
    Ok(waiting.len() as u32)
}

/// `CREATE INDEX x ON …` as `CREATE INDEX IF NOT EXISTS x ON …` (a node
/// that already built it, or a definition recorded twice, is no error).
fn if_missing(definition: &str) -> Option<String> {
    let rest = definition.trim_start();
    let head = "CREATE INDEX ";
    if rest.len() < head.len() || !rest[..head.len()].eq_ignore_ascii_case(head) {
        return None;
    }
    let tail = rest[head.len()..].trim_start();
    if tail.len() >= 14 && tail[..14].eq_ignore_ascii_case("IF NOT EXISTS ") {
        return Some(rest.to_string());
    }
    Some(format!("CREATE INDEX IF NOT EXISTS {tail}"))
}

/// An identifier in double quotes (both dialects).
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::if_missing;

    #[test]
    fn definitions_become_idempotent() {
        assert_eq!(
            if_missing("CREATE INDEX papers_x ON public.papers USING btree (x)").as_deref(),
            Some("CREATE INDEX IF NOT EXISTS papers_x ON public.papers USING btree (x)")
        );
        assert_eq!(
            if_missing("create index if not exists a ON p (x)").as_deref(),
            Some("create index if not exists a ON p (x)")
        );
        assert_eq!(if_missing("DROP TABLE papers"), None);
        assert_eq!(if_missing("CREATE UNIQUE INDEX a ON p (x)"), None);
    }
}
