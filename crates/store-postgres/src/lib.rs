//! PostgreSQL: the path to several web nodes sharing one database.
//!
//! This crate only provides connections (a pool); the storage contracts
//! are implemented once in `paperboy-store-sql`. Statements are prepared
//! once per connection and cached.

use async_trait::async_trait;
use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod};
use paperboy_store::StoreError;
use paperboy_store_sql::{
    Backend, BoxFuture, ColumnType, Conn, CopyIn, Dialect, Job, RowFn, Sql, SqlRow, SqlStore, Value,
};
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::{to_sql_checked, IsNull, ToSql, Type};
use tokio_postgres::NoTls;

/// The store every contract is implemented on.
pub type PostgresStore = SqlStore<Postgres>;

/// A pool of connections to one database.
pub struct Postgres {
    pool: Pool,
}

/// Connects to a `postgres://` URL and applies pending migrations.
pub async fn connect(url: &str) -> Result<PostgresStore, StoreError> {
    connect_with_pool_size(url, 16).await
}

pub async fn connect_with_pool_size(
    url: &str,
    max_size: usize,
) -> Result<PostgresStore, StoreError> {
    let open_err = |reason: String| StoreError::Open {
        url: redact(url),
        reason,
    };
    let config: tokio_postgres::Config = url
        .parse()
        .map_err(|e: tokio_postgres::Error| open_err(e.to_string()))?;
    let manager = Manager::from_config(
        config,
        NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    let pool = Pool::builder(manager)
        .max_size(max_size)
        .build()
        .map_err(|e| open_err(e.to_string()))?;
    drop(pool.get().await.map_err(|e| open_err(e.to_string()))?);
    SqlStore::new(Postgres { pool }).await
}

/// Hides a password in a URL before it reaches a message or a log.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

fn db_err(e: tokio_postgres::Error) -> StoreError {
    let Some(db) = e.as_db_error() else {
        // No answer from the server: the connection broke or never was.
        return StoreError::Unavailable(e.to_string());
    };
    let code = db.code();
    if code == &SqlState::UNIQUE_VIOLATION || code == &SqlState::FOREIGN_KEY_VIOLATION {
        return StoreError::Conflict {
            constraint: db.constraint().unwrap_or("unknown").to_string(),
        };
    }
    if code == &SqlState::ADMIN_SHUTDOWN
        || code == &SqlState::CANNOT_CONNECT_NOW
        || code == &SqlState::TOO_MANY_CONNECTIONS
    {
        return StoreError::Unavailable(db.message().to_string());
    }
    StoreError::Database(format!("{}: {}", code.code(), db.message()))
}

fn pool_err(e: deadpool_postgres::PoolError) -> StoreError {
    match e {
        deadpool_postgres::PoolError::Backend(e) => db_err(e),
        other => StoreError::Unavailable(format!("connection pool: {other}")),
    }
}

/// A connection inside a transaction. If the caller stops waiting before
/// it ends (a client hung up), the connection is closed rather than
/// handed back to the pool, and the server rolls the transaction back.
struct Tx {
    client: Option<Object>,
}

impl Tx {
    fn client(&mut self) -> Result<&mut Object, StoreError> {
        self.client
            .as_mut()
            .ok_or_else(|| StoreError::Database("transaction already ended".into()))
    }

    async fn end(mut self, statement: &str) -> Result<(), StoreError> {
        self.client()?
            .batch_execute(statement)
            .await
            .map_err(db_err)?;
        // Ended cleanly: the connection goes back to the pool.
        drop(self.client.take());
        Ok(())
    }
}

impl Drop for Tx {
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            drop(Object::take(client));
        }
    }
}

#[async_trait]
impl Backend for Postgres {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    async fn read<T: Send + 'static>(&self, job: Job<T>) -> Result<T, StoreError> {
        let mut client = self.pool.get().await.map_err(pool_err)?;
        job(&mut Pg(&mut client)).await
    }

    async fn write<T: Send + 'static>(&self, job: Job<T>) -> Result<T, StoreError> {
        let client = self.pool.get().await.map_err(pool_err)?;
        client.batch_execute("BEGIN").await.map_err(db_err)?;
        let mut tx = Tx {
            client: Some(client),
        };
        let out = job(&mut Pg(tx.client()?)).await;
        match out {
            Ok(v) => {
                tx.end("COMMIT").await?;
                Ok(v)
            }
            Err(e) => {
                if let Err(r) = tx.end("ROLLBACK").await {
                    tracing::warn!(error = %r, "rolling back a failed write");
                }
                Err(e)
            }
        }
    }
}

/// A value bound to whatever type the server inferred for its placeholder.
#[derive(Debug)]
struct Bind<'a>(&'a Value<'a>);

impl ToSql for Bind<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match *self.0 {
            Value::Null => Ok(IsNull::Yes),
            Value::I64(v) if *ty == Type::INT4 => i32::try_from(v)?.to_sql(ty, out),
            Value::I64(v) if *ty == Type::FLOAT8 => (v as f64).to_sql(ty, out),
            Value::I64(v) => v.to_sql(ty, out),
            Value::F64(v) => v.to_sql(ty, out),
            Value::Text(s) => s.to_sql(ty, out),
            Value::I64s(v) => v.to_sql(ty, out),
            Value::Texts(v) => v.to_sql(ty, out),
            Value::OptTexts(v) => v.to_sql(ty, out),
            Value::F64s(v) => v.to_sql(ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        // Each variant checks the type in `to_sql`.
        true
    }

    to_sql_checked!();
}

struct Row<'a>(&'a tokio_postgres::Row);

impl Row<'_> {
    fn get<'b, T: tokio_postgres::types::FromSql<'b>>(&'b self, i: usize) -> Result<T, StoreError> {
        self.0
            .try_get(i)
            .map_err(|e| StoreError::Database(format!("reading column {i}: {e}")))
    }
}

impl SqlRow for Row<'_> {
    /// Integers of every width (`SELECT 1` is an int4).
    fn opt_i64(&self, i: usize) -> Result<Option<i64>, StoreError> {
        let ty = self.0.columns().get(i).map(|c| c.type_().clone());
        match ty {
            Some(Type::INT4) => Ok(self.get::<Option<i32>>(i)?.map(i64::from)),
            Some(Type::INT2) => Ok(self.get::<Option<i16>>(i)?.map(i64::from)),
            _ => self.get(i),
        }
    }
    fn opt_f64(&self, i: usize) -> Result<Option<f64>, StoreError> {
        self.get(i)
    }
    fn opt_text(&self, i: usize) -> Result<Option<String>, StoreError> {
        self.get(i)
    }
}

struct Pg<'c>(&'c mut Object);

impl Pg<'_> {
    async fn prepare(&self, sql: &Sql) -> Result<tokio_postgres::Statement, StoreError> {
        self.0
            .prepare_cached(sql.text(Dialect::Postgres))
            .await
            .map_err(db_err)
    }
}

fn binds<'a>(params: &'a [Value<'a>]) -> Vec<Bind<'a>> {
    params.iter().map(Bind).collect()
}

fn refs<'a>(binds: &'a [Bind<'a>]) -> Vec<&'a (dyn ToSql + Sync)> {
    binds.iter().map(|b| b as &(dyn ToSql + Sync)).collect()
}

impl Conn for Pg<'_> {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn execute<'a>(
        &'a mut self,
        sql: &'a Sql,
        params: &'a [Value<'a>],
    ) -> BoxFuture<'a, Result<u64, StoreError>> {
        Box::pin(async move {
            let stmt = self.prepare(sql).await?;
            let b = binds(params);
            self.0.execute(&stmt, &refs(&b)).await.map_err(db_err)
        })
    }

    fn execute_many<'a>(
        &'a mut self,
        sql: &'a Sql,
        rows: &'a [Vec<Value<'a>>],
    ) -> BoxFuture<'a, Result<u64, StoreError>> {
        Box::pin(async move {
            let stmt = self.prepare(sql).await?;
            let mut n = 0;
            for params in rows {
                let b = binds(params);
                n += self.0.execute(&stmt, &refs(&b)).await.map_err(db_err)?;
            }
            Ok(n)
        })
    }

    fn query<'a>(
        &'a mut self,
        sql: &'a Sql,
        params: &'a [Value<'a>],
        each: &'a mut RowFn<'a>,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let stmt = self.prepare(sql).await?;
            let b = binds(params);
            let rows = self.0.query(&stmt, &refs(&b)).await.map_err(db_err)?;
            for r in &rows {
                each(&Row(r))?;
            }
            Ok(())
        })
    }

    fn query_many<'a>(
        &'a mut self,
        sql: &'a Sql,
        params: &'a [Vec<Value<'a>>],
        each: &'a mut RowFn<'a>,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let stmt = self.prepare(sql).await?;
            for p in params {
                let b = binds(p);
                for r in &self.0.query(&stmt, &refs(&b)).await.map_err(db_err)? {
                    each(&Row(r))?;
                }
            }
            Ok(())
        })
    }

    fn copy_in<'a>(
        &'a mut self,
        into: &'a CopyIn,
        rows: &'a [Vec<Value<'a>>],
    ) -> BoxFuture<'a, Result<u64, StoreError>> {
        Box::pin(async move {
            if rows.is_empty() {
                return Ok(0);
            }
            let types: Vec<Type> = into
                .columns()
                .iter()
                .map(|t| match t {
                    ColumnType::Text => Type::TEXT,
                    ColumnType::I64 => Type::INT8,
                })
                .collect();
            let sink = self
                .0
                .copy_in(into.copy.text(Dialect::Postgres))
                .await
                .map_err(db_err)?;
            let mut writer = std::pin::pin!(BinaryCopyInWriter::new(sink, &types));
            for row in rows {
                let b = binds(row);
                writer.as_mut().write(&refs(&b)).await.map_err(db_err)?;
            }
            writer.finish().await.map_err(db_err)
        })
    }

    fn batch<'a>(&'a mut self, sql: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move { self.0.batch_execute(sql).await.map_err(db_err) })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn redacts_passwords() {
        assert_eq!(
            super::redact("postgres://u:secret@h/db"),
            "postgres://u:***@h/db"
        );
        assert_eq!(super::redact("postgres://u@h/db"), "postgres://u@h/db");
    }
}
