//! What search and recommendations answer with: shared by the search
//! engine, which makes them, and the application's ports, which hand them
//! to the front doors (so neither converts the other's types).

use crate::ArxivId;

/// How a query is matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Keyword,
    Semantic,
    Hybrid,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Keyword => "keyword",
            Mode::Semantic => "semantic",
            Mode::Hybrid => "hybrid",
        }
    }

    /// `keyword`, `semantic` or `hybrid`.
    pub fn parse(s: &str) -> Option<Mode> {
        match s {
            "keyword" => Some(Mode::Keyword),
            "semantic" => Some(Mode::Semantic),
            "hybrid" => Some(Mode::Hybrid),
            _ => None,
        }
    }
}

/// A page of search results.
#[derive(Debug, Clone)]
pub struct Found {
    pub hits: Vec<Hit>,
    pub total: usize,
    /// Papers containing the query's words (keyword matches), when that is
    /// known: in semantic and hybrid modes the rest are only near in
    /// meaning, which any query is (a nonsense word included).
    pub word_matches: Option<usize>,
    /// The mode that answered (keyword when semantic was not possible).
    pub mode: Mode,
    pub note: Option<String>,
}

/// Said when a semantic query was answered by keywords.
pub const NO_MODEL_NOTE: &str = "semantic search is not available on this instance (no embedding model); showing keyword results";

/// One paper found.
#[derive(Debug, Clone)]
pub struct Hit {
    pub arxiv_id: ArxivId,
    pub score: f32,
    pub highlighted_title: Option<String>,
    pub highlighted_summary: Option<String>,
    /// The paper's best passage matching the query, where its full text
    /// is indexed and matches.
    pub passage: Option<TextMatch>,
}

/// A passage matching a query: its section, and a snippet (HTML: escaped
/// text with `<mark>` around the matching words).
#[derive(Debug, Clone, PartialEq)]
pub struct TextMatch {
    pub section: String,
    pub snippet: String,
}

/// What a reader likes and dislikes.
#[derive(Debug, Clone, Default, Hash)]
pub struct Taste {
    /// 👍 and library papers, most recent first (👍 before the library).
    pub liked: Vec<ArxivId>,
    /// 👎, most recent first.
    pub disliked: Vec<ArxivId>,
    /// How many 👍 and 👎 the reader has given.
    pub rated: usize,
}

/// Where the picks come from.
#[derive(Debug, Clone)]
pub enum Pool {
    /// Papers first published at or after this time (Unix seconds); `ids`
    /// are all of them, newest first.
    Since { since: i64, ids: Vec<ArxivId> },
    /// The whole index.
    All,
}

/// One recommendation.
#[derive(Debug, Clone, PartialEq)]
pub struct Pick {
    pub arxiv_id: ArxivId,
    pub score: f32,
    /// The liked papers it is closest to, closest first.
    pub similar_to: Vec<ArxivId>,
    /// Distinctive words it shares with them.
    pub terms: Vec<String>,
}
