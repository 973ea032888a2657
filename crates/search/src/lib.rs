//! Search: a tantivy keyword index derived from the store and kept in step
//! with it by following the store's change sequence. Never touches SQL.

mod keyword;
mod sync;

pub use keyword::{Hit, KeywordIndex, SearchError, SearchQuery};
pub use sync::{catch_up, follow};
