//! Search: a tantivy keyword index derived from the store and kept in step
//! with it by following the store's change sequence. Never touches SQL.

mod keyword;
mod embed_sync;
pub mod hybrid;
mod sync;
pub mod vector;

pub use keyword::{Hit, KeywordIndex, SearchError, SearchQuery};
pub use embed_sync::{abstract_words, embed_catch_up, embed_follow, text_hash, vector_refresh};
pub use sync::{catch_up, follow};
pub use vector::{Neighbour, VectorEntry, VectorError, VectorIndex};
