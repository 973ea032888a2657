//! Search: a tantivy keyword index and a vector index derived from the
//! store and kept in step with it by following its change sequence; the
//! engine that answers keyword, semantic and hybrid queries over them.
//! Never touches SQL.

mod embed_sync;
pub mod engine;
mod error;
pub mod hybrid;
mod keyword;
pub mod recommend;
mod sync;
pub mod vector;

pub use embed_sync::{
    abstract_words, backfill, embed_catch_up, embed_follow, is_filling, rebuild_cells_if_due,
    refine_follow, text_hash, vector_refresh,
};
pub use engine::{Engine, Found, Mode, Semantic, NO_MODEL_NOTE};
pub use error::SearchError;
pub use keyword::{DocTerms, Hit, KeywordIndex, SearchQuery, TextHits, TextMatch};
pub use recommend::{
    fit_line, similarity, Blocks, Line, Meaning, Model, PaperVectors, Pick, Pool, Recipe, Taste,
    Tuning, Window,
};
pub use sync::{catch_up, follow};
pub use vector::{Neighbour, VectorEntry, VectorIndex};
