//! The ports the use cases reach the outside through, typed in our own
//! terms (core's and these), each with its own error enum. The production
//! adapters (the search engine, arXiv, SMTP, OpenAlex, GitHub) are in the
//! `paperboy-adapters` crate; tests plug in their own.

use async_trait::async_trait;
use chrono::NaiveDate;
use paperboy_core::fulltext::{FullText, ParseError};
use paperboy_core::search::{Found, Hit, Mode, Pick, Pool, Taste, TextMatch};
use paperboy_core::{ArxivId, Paper};
use paperboy_store::{HarvestCheckpoint, StoreError};
use std::collections::HashSet;

use crate::lease::JobLease;

/// What search could not do.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// The store the indexes follow (a database away answers 503).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The engine itself (an index, the embedder); for the log.
    #[error("{0}")]
    Engine(String),
}

/// What a reader asked search for, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchRequest {
    pub query: String,
    pub mode: Mode,
    pub limit: usize,
    pub offset: usize,
}

/// Keyword and semantic search over the store's papers.
#[async_trait]
pub trait Search: Send + Sync {
    async fn search(&self, req: &SearchRequest) -> Result<Found, SearchError>;

    /// Papers nearest to `paper`, never itself.
    async fn related(&self, paper: &Paper, limit: usize) -> Result<Vec<Hit>, SearchError>;

    /// The best keyword matches of a saved search (digests).
    async fn find(&self, query: &str, limit: usize) -> Result<Vec<ArxivId>, SearchError>;

    /// The passages of one paper's full text matching `query`, best first.
    async fn search_in_paper(
        &self,
        id: &ArxivId,
        query: &str,
        limit: usize,
    ) -> Result<Vec<TextMatch>, SearchError>;

    /// How far the keyword index has followed the store's change feed.
    fn indexed_up_to(&self) -> i64;

    /// How far the vector index has followed it (`None`: no vectors).
    fn embedded_up_to(&self) -> Option<i64> {
        None
    }

    /// The better vectors filled in behind the serving ones, if any.
    fn refinement(&self) -> Option<Refinement> {
        None
    }

    /// Which of `ids` match a saved search (alerts).
    async fn find_among(&self, query: &str, ids: &[ArxivId]) -> Result<Vec<ArxivId>, SearchError>;

    /// Recommendations for a reader's taste from `pool`, best first.
    async fn recommend(
        &self,
        taste: &Taste,
        pool: &Pool,
        exclude: &HashSet<ArxivId>,
        limit: usize,
    ) -> Result<Vec<Pick>, SearchError>;

    /// Recommendations among `among` by meaning alone: the cheap path a
    /// digest run takes for each subscriber (the same `among` each time).
    async fn recommend_among(
        &self,
        taste: &Taste,
        among: &[ArxivId],
        exclude: &HashSet<ArxivId>,
        limit: usize,
    ) -> Result<Vec<Pick>, SearchError>;
}

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// arXiv could not be asked (network, rate limit, a 5xx).
    #[error("arXiv could not be reached: {0}")]
    Unreachable(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Brings a paper the store lacks into it.
#[async_trait]
pub trait Fetcher: Send + Sync {
    /// `Ok(true)` when the paper is now in the store, `Ok(false)` when
    /// arXiv does not know it.
    async fn fetch(&self, id: &ArxivId) -> Result<bool, FetchError>;
}

#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The server refused the message for good (a bad address); the
    /// detail is the server's reply, for the log.
    #[error("the mail server refused the message: {0}")]
    Refused(String),
    /// Not now (server unreachable, a 4xx reply); it stays queued.
    #[error("the message could not be sent yet: {0}")]
    Deferred(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub use paperboy_mail::DrainSummary;

/// Sends what the outbox holds.
#[async_trait]
pub trait Mailer: Send + Sync {
    /// Sends one queued message now (a confirmation).
    async fn send_now(&self, outbox_id: i64) -> Result<(), SendError>;

    /// Sends everything due.
    async fn drain(&self) -> Result<DrainSummary, SendError>;
}

/// How far the better (transformer) vectors cover the papers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refinement {
    /// The model making them.
    pub model: String,
    /// Papers they cover.
    pub covered: u64,
    /// Still walking the store newest first (false: every paper had one
    /// when the walk ended, and new papers get one as they come).
    pub filling: bool,
}

/// A fetched full text not read yet: parsing a large page takes a while,
/// so the use case runs it off the async threads.
pub struct Unread(pub Box<dyn FnOnce() -> Result<FullText, ParseError> + Send>);

impl Unread {
    pub fn read(self) -> Result<FullText, ParseError> {
        (self.0)()
    }
}

impl std::fmt::Debug for Unread {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Unread")
    }
}

/// What one ask for a paper's full text came to.
#[derive(Debug)]
pub enum TextFetch {
    /// The text (arXiv's HTML rendering, else the LaTeX source): its
    /// size, its `Last-Modified`, and the parser that reads it.
    Fetched {
        bytes: usize,
        last_modified: Option<String>,
        text: Unread,
    },
    /// Unchanged since the `If-Modified-Since` sent.
    NotModified,
    /// No full text for this version.
    Missing,
    /// Larger than the cap (at least this many bytes).
    TooLarge { bytes: usize },
    /// Refused for now (403, 429, 5xx, or unreachable): stop, and ask
    /// again after `retry_after` (or a backoff of the caller's choosing).
    Refused {
        reason: String,
        retry_after: Option<std::time::Duration>,
    },
}

/// A catalogue of scholarly works (OpenAlex): the references and the
/// cited-by count of a paper whose full text arXiv does not have.
#[async_trait]
pub trait Catalogue: Send + Sync {
    async fn work(&self, id: &ArxivId) -> CatalogueFetch;
}

/// What a catalogue said about a paper.
#[derive(Debug, Clone, PartialEq)]
pub enum CatalogueFetch {
    Found {
        /// Works citing it, as the catalogue counts them.
        cited_by: i64,
        references: Vec<CatalogueReference>,
    },
    /// The catalogue does not know the paper.
    Missing,
    /// Refused or unreachable: nothing recorded, ask again later.
    Refused {
        reason: String,
        retry_after: Option<std::time::Duration>,
    },
}

/// A work the paper cites, as the catalogue describes it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CatalogueReference {
    pub title: Option<String>,
    /// Without `https://doi.org/`.
    pub doi: Option<String>,
    pub year: Option<i32>,
}

/// Where papers' full text comes from (arXiv's HTML).
#[async_trait]
pub trait TextSource: Send + Sync {
    async fn fetch_text(
        &self,
        id: &ArxivId,
        version: u32,
        if_modified_since: Option<&str>,
    ) -> TextFetch;
}

/// What a harvest run reports as it goes.
#[derive(Debug, Clone, Copy)]
pub enum HarvestNews<'a> {
    /// A page of `records` records of `set` was stored; `cursor` is where
    /// the page started in the source's list of `complete_list_size`.
    Page {
        set: &'a str,
        records: u64,
        cursor: Option<u64>,
        complete_list_size: Option<u64>,
    },
    /// A record that could not be used: where it came from and why.
    Rejected(&'a str),
    /// The source forgot where the run was; it starts over from `from`.
    Restarted {
        set: &'a str,
        from: Option<NaiveDate>,
    },
}

/// What a finished harvest run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Harvested {
    pub new: u64,
    pub updated: u64,
    pub deleted: u64,
    pub rejected: u64,
}

impl Harvested {
    pub fn add(&mut self, o: Harvested) {
        self.new += o.new;
        self.updated += o.updated;
        self.deleted += o.deleted;
        self.rejected += o.rejected;
    }
}

/// Why a harvest run stopped early.
#[derive(Debug, thiserror::Error)]
pub enum HarvestFailure {
    /// Another node took the lease; it goes on from the checkpoint.
    #[error("{0}")]
    HandedOver(String),
    /// The source or the store failed; the run is tried again later.
    #[error("{0}")]
    Failed(String),
}

/// Where new papers come from (arXiv's OAI-PMH interface), a set at a
/// time, each page stored with its checkpoint.
#[async_trait]
pub trait Harvest: Send + Sync {
    /// Where a set's first run starts (`None`: the source's beginning or
    /// the checkpoint).
    fn first_from(&self, saved: Option<&HarvestCheckpoint>, today: NaiveDate) -> Option<NaiveDate>;

    /// Harvests `set` from its checkpoint (or from `from`), renewing
    /// `lease` before every page and stopping once another node holds it.
    async fn harvest_set(
        &self,
        set: &str,
        from: Option<NaiveDate>,
        on: &(dyn for<'n> Fn(HarvestNews<'n>) + Send + Sync),
        lease: Option<&JobLease>,
    ) -> Result<Harvested, HarvestFailure>;
}
