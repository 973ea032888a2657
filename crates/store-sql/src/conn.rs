//! The seam between the shared SQL and a backend: a connection that runs
//! statements, the values it binds and the rows it hands back.
//!
//! Statements are written once, in PostgreSQL's dialect, which SQLite
//! shares for almost everything Paperboy needs (`ON CONFLICT`, `RETURNING`,
//! CTEs, `$N` placeholders once renumbered). [`Sql::text`] translates the
//! few constructs SQLite lacks, each with its reason, in one place.

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;
use std::sync::OnceLock;

use paperboy_store::StoreError;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// `"sqlite"` or `"postgres"`.
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Sqlite => "sqlite",
            Dialect::Postgres => "postgres",
        }
    }
}

/// A statement, written once; rendered for SQLite on first use.
pub struct Sql {
    text: Cow<'static, str>,
    sqlite: OnceLock<String>,
}

impl Sql {
    pub const fn new(text: &'static str) -> Sql {
        Sql {
            text: Cow::Borrowed(text),
            sqlite: OnceLock::new(),
        }
    }

    /// A statement assembled at start-up (kept in a `LazyLock`).
    pub fn owned(text: String) -> Sql {
        Sql {
            text: Cow::Owned(text),
            sqlite: OnceLock::new(),
        }
    }

    pub fn text(&self, dialect: Dialect) -> &str {
        match dialect {
            Dialect::Postgres => &self.text,
            Dialect::Sqlite => self.sqlite.get_or_init(|| to_sqlite(&self.text)),
        }
    }
}

impl std::fmt::Debug for Sql {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// The type of a column a bulk write fills ([`CopyIn`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    Text,
    I64,
}

/// New rows for one table by the backend's bulk path ([`Conn::copy_in`]):
/// PostgreSQL's binary `COPY … FROM STDIN`, which skips parsing parameters
/// and arrays on the server (an array upsert of the same rows costs it
/// half as much again); SQLite, whose prepared insert is as fast as a
/// bulk path, inserts row by row.
pub struct CopyIn {
    columns: Vec<ColumnType>,
    /// `COPY table (…) FROM STDIN (FORMAT binary)`.
    pub copy: Sql,
    /// `INSERT INTO table (…) VALUES ($1, …)`.
    pub insert: Sql,
}

impl CopyIn {
    pub fn new(table: &str, columns: &[(&str, ColumnType)]) -> CopyIn {
        let names: Vec<&str> = columns.iter().map(|(n, _)| *n).collect();
        let names = names.join(", ");
        let params: Vec<String> = (1..=columns.len()).map(|i| format!("${i}")).collect();
        CopyIn {
            columns: columns.iter().map(|(_, t)| *t).collect(),
            copy: Sql::owned(format!("COPY {table} ({names}) FROM STDIN (FORMAT binary)")),
            insert: Sql::owned(format!(
                "INSERT INTO {table} ({names}) VALUES ({})",
                params.join(", ")
            )),
        }
    }

    /// Each column's type, in order.
    pub fn columns(&self) -> &[ColumnType] {
        &self.columns
    }
}

/// PostgreSQL's text as SQLite runs it.
pub fn to_sqlite(pg: &str) -> String {
    let mut s = pg.to_string();
    // SQLite binds no arrays: a list travels as JSON text and is unpacked
    // by json_each (built into every SQLite Paperboy ships), whose rows
    // have a `value` column too.
    while let Some(at) = s.find("UNNEST($") {
        let rest = &s[at + "UNNEST(".len()..];
        let (Some(close), Some(open)) = (rest.find(')'), rest.find("(value)")) else {
            break;
        };
        let param = rest[..close].split("::").next().unwrap_or("").to_string();
        let alias = rest[close + 1..open]
            .trim()
            .trim_start_matches("AS")
            .trim()
            .to_string();
        let end = at + "UNNEST(".len() + open + "(value)".len();
        s.replace_range(at..end, &format!("json_each({param}) AS {alias}"));
    }
    while let Some(at) = s.find("= ANY($") {
        let rest = &s[at + "= ANY(".len()..];
        let Some(close) = rest.find(')') else { break };
        let param = rest[..close].to_string();
        s.replace_range(
            at..at + "= ANY(".len() + close + 1,
            &format!("IN (SELECT value FROM json_each({param}))"),
        );
    }
    // One writer at a time in SQLite: the write transaction already holds
    // every row a PostgreSQL writer would lock.
    s = s
        .replace(" FOR UPDATE SKIP LOCKED", "")
        .replace(" FOR UPDATE", "");
    // The rowid alias is SQLite's identity column.
    s = s.replace(
        "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
        "INTEGER PRIMARY KEY",
    );
    // `$N` is a named parameter to SQLite, numbered by first appearance;
    // `?N` keeps PostgreSQL's numbering whatever the order.
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('?');
        } else {
            out.push(c);
        }
    }
    out
}

/// A value bound to a placeholder.
#[derive(Debug, Clone, Copy)]
pub enum Value<'a> {
    Null,
    I64(i64),
    F64(f64),
    Text(&'a str),
    /// A list for `= ANY($N)`.
    I64s(&'a [i64]),
    /// A list for `= ANY($N)`.
    Texts(&'a [String]),
    /// A nullable column of a bulk write (PostgreSQL arrays only).
    OptTexts(&'a [Option<String>]),
    /// A column of a bulk write (PostgreSQL arrays only).
    F64s(&'a [f64]),
}

impl From<i64> for Value<'_> {
    fn from(v: i64) -> Self {
        Value::I64(v)
    }
}

impl From<u32> for Value<'_> {
    fn from(v: u32) -> Self {
        Value::I64(i64::from(v))
    }
}

impl From<f64> for Value<'_> {
    fn from(v: f64) -> Self {
        Value::F64(v)
    }
}

impl<'a> From<&'a str> for Value<'a> {
    fn from(v: &'a str) -> Self {
        Value::Text(v)
    }
}

impl<'a> From<&'a String> for Value<'a> {
    fn from(v: &'a String) -> Self {
        Value::Text(v)
    }
}

impl<'a> From<Option<&'a str>> for Value<'a> {
    fn from(v: Option<&'a str>) -> Self {
        v.map_or(Value::Null, Value::Text)
    }
}

impl<'a> From<&'a Option<String>> for Value<'a> {
    fn from(v: &'a Option<String>) -> Self {
        v.as_deref().map_or(Value::Null, Value::Text)
    }
}

impl From<Option<i64>> for Value<'_> {
    fn from(v: Option<i64>) -> Self {
        v.map_or(Value::Null, Value::I64)
    }
}

impl<'a> From<&'a [i64]> for Value<'a> {
    fn from(v: &'a [i64]) -> Self {
        Value::I64s(v)
    }
}

impl<'a> From<&'a [String]> for Value<'a> {
    fn from(v: &'a [String]) -> Self {
        Value::Texts(v)
    }
}

/// `args![a, b, c]`: the values of a statement's placeholders, in order.
#[macro_export]
macro_rules! args {
    ($($v:expr),* $(,)?) => {
        &[$($crate::Value::from($v)),*]
    };
}

/// One row of a result, read by column position. A backend reads the
/// nullable forms; the others follow.
pub trait SqlRow {
    fn opt_i64(&self, i: usize) -> Result<Option<i64>, StoreError>;
    fn opt_f64(&self, i: usize) -> Result<Option<f64>, StoreError>;
    fn opt_text(&self, i: usize) -> Result<Option<String>, StoreError>;

    fn i64(&self, i: usize) -> Result<i64, StoreError> {
        self.opt_i64(i)?.ok_or_else(|| null_column(i))
    }

    fn f64(&self, i: usize) -> Result<f64, StoreError> {
        self.opt_f64(i)?.ok_or_else(|| null_column(i))
    }

    fn text(&self, i: usize) -> Result<String, StoreError> {
        self.opt_text(i)?.ok_or_else(|| null_column(i))
    }
}

fn null_column(i: usize) -> StoreError {
    StoreError::Database(format!("column {i} is NULL"))
}

/// Turns a row into a value.
pub trait Decode<T>: Fn(&dyn SqlRow) -> Result<T, StoreError> + Send + Sync {}

impl<T, F: Fn(&dyn SqlRow) -> Result<T, StoreError> + Send + Sync> Decode<T> for F {}

/// Called with each row of a query.
pub type RowFn<'a> = dyn FnMut(&dyn SqlRow) -> Result<(), StoreError> + Send + 'a;

/// A connection (inside a transaction for writes). SQLite's complete
/// at once; PostgreSQL's go to the server.
pub trait Conn: Send {
    fn dialect(&self) -> Dialect;

    /// Runs one statement; the number of rows it changed.
    fn execute<'a>(
        &'a mut self,
        sql: &'a Sql,
        params: &'a [Value<'a>],
    ) -> BoxFuture<'a, Result<u64, StoreError>>;

    /// Runs one statement once per row of `rows` (prepared once): a batch
    /// of writes; the rows changed in all.
    fn execute_many<'a>(
        &'a mut self,
        sql: &'a Sql,
        rows: &'a [Vec<Value<'a>>],
    ) -> BoxFuture<'a, Result<u64, StoreError>>;

    /// Runs one query, handing each row to `each` in order.
    fn query<'a>(
        &'a mut self,
        sql: &'a Sql,
        params: &'a [Value<'a>],
        each: &'a mut RowFn<'a>,
    ) -> BoxFuture<'a, Result<(), StoreError>>;

    /// Runs one query once per row of `params` (prepared once), handing
    /// every result row to `each` in order.
    fn query_many<'a>(
        &'a mut self,
        sql: &'a Sql,
        params: &'a [Vec<Value<'a>>],
        each: &'a mut RowFn<'a>,
    ) -> BoxFuture<'a, Result<(), StoreError>>;

    /// Inserts `rows` (values in the order of `into`'s columns) by the
    /// backend's bulk path; how many.
    fn copy_in<'a>(
        &'a mut self,
        into: &'a CopyIn,
        rows: &'a [Vec<Value<'a>>],
    ) -> BoxFuture<'a, Result<u64, StoreError>>;

    /// Runs several statements without parameters (migrations).
    fn batch<'a>(&'a mut self, sql: &'a str) -> BoxFuture<'a, Result<(), StoreError>>;
}

impl dyn Conn + '_ {
    /// Every row, decoded.
    pub async fn all<T: Send>(
        &mut self,
        sql: &Sql,
        params: &[Value<'_>],
        decode: impl Decode<T>,
    ) -> Result<Vec<T>, StoreError> {
        let mut out = Vec::new();
        let mut each = |r: &dyn SqlRow| {
            out.push(decode(r)?);
            Ok(())
        };
        self.query(sql, params, &mut each).await?;
        Ok(out)
    }

    /// The first row, if any (the statements asking for one yield one).
    pub async fn opt<T: Send>(
        &mut self,
        sql: &Sql,
        params: &[Value<'_>],
        decode: impl Decode<T>,
    ) -> Result<Option<T>, StoreError> {
        Ok(self.all(sql, params, decode).await?.into_iter().next())
    }

    /// The first row; `NotFound` when there is none.
    pub async fn one<T: Send>(
        &mut self,
        sql: &Sql,
        params: &[Value<'_>],
        decode: impl Decode<T>,
    ) -> Result<T, StoreError> {
        self.opt(sql, params, decode)
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// The first column of the first row, as a number.
    pub async fn scalar(&mut self, sql: &Sql, params: &[Value<'_>]) -> Result<i64, StoreError> {
        self.one(sql, params, |r| r.i64(0)).await
    }
}

/// Work for a connection: a closure returning a future that borrows it.
pub type Job<T> =
    Box<dyn for<'c> FnOnce(&'c mut dyn Conn) -> BoxFuture<'c, Result<T, StoreError>> + Send>;

/// Builds a [`Job`]; the bound lets the compiler see that the future may
/// borrow the connection it is given.
pub fn job<T, F>(f: F) -> Job<T>
where
    F: for<'c> FnOnce(&'c mut dyn Conn) -> BoxFuture<'c, Result<T, StoreError>> + Send + 'static,
{
    Box::new(f)
}

/// Polls a future that must complete at once (SQLite's connection never
/// waits); one that would wait is a programming error, reported as such.
pub fn complete_now<T>(fut: BoxFuture<'_, Result<T, StoreError>>) -> Result<T, StoreError> {
    let mut fut = fut;
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match fut.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(v) => v,
        std::task::Poll::Pending => Err(StoreError::Database(
            "a store job waited on something other than its SQLite connection".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::to_sqlite;

    #[test]
    fn sqlite_rendering() {
        assert_eq!(
            to_sqlite("SELECT a FROM t WHERE b = $2 AND c = ANY($1) FOR UPDATE"),
            "SELECT a FROM t WHERE b = ?2 AND c IN (SELECT value FROM json_each(?1))"
        );
        assert_eq!(
            to_sqlite("SELECT 1 FROM t LIMIT $3 FOR UPDATE SKIP LOCKED)"),
            "SELECT 1 FROM t LIMIT ?3)"
        );
        assert_eq!(
            to_sqlite("SELECT j.value FROM UNNEST($2::bigint[]) AS j(value) WHERE true"),
            "SELECT j.value FROM json_each(?2) AS j WHERE true"
        );
        assert_eq!(
            to_sqlite("id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, price $ 5"),
            "id INTEGER PRIMARY KEY, price $ 5"
        );
    }
}
