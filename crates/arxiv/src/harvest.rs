//! Keeping the store current from arXiv: OAI-PMH `ListRecords` per set,
//! resumable at every page, and the Atom API for single papers.

use std::sync::Arc;

use chrono::{NaiveDate, Utc};
use paperboy_core::{ArxivId, Paper};
use paperboy_store::{
    HarvestCheckpoint, HarvestPage, HarvestStore, PaperStore, StoreError, UpsertCounts,
};

use crate::atom::{self, AtomEntry};
use crate::client::{FetchError, PoliteClient};
use crate::oai::{self, OaiError, OaiRecord};

#[derive(Debug, thiserror::Error)]
pub enum HarvestError {
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("{url}: {message}")]
    Remote { url: String, message: String },
    /// Another node took the lease: this run stopped after `pages` pages
    /// (its checkpoint saved; that node goes on from it).
    #[error("set {set}: another node holds the harvest lease now; stopped after {pages} pages")]
    LeaseLost { set: String, pages: u64 },
}

/// What a harvest did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HarvestSummary {
    pub new: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub deleted: u64,
    pub rejected: u64,
    pub pages: u64,
}

impl HarvestSummary {
    fn add_upserts(&mut self, c: UpsertCounts) {
        self.new += c.imported;
        self.updated += c.updated;
        self.unchanged += c.unchanged;
    }

    pub fn add(&mut self, o: HarvestSummary) {
        self.new += o.new;
        self.updated += o.updated;
        self.unchanged += o.unchanged;
        self.deleted += o.deleted;
        self.rejected += o.rejected;
        self.pages += o.pages;
    }
}

/// Progress reports for a bar and for the log.
pub enum HarvestEvent<'a> {
    Page {
        set: &'a str,
        records: u64,
        cursor: Option<u64>,
        complete_list_size: Option<u64>,
    },
    /// A record that could not be used: where it came from and why.
    Rejected(String),
    /// The server no longer knows our resumption token; starting over.
    Restarted {
        set: &'a str,
        from: Option<NaiveDate>,
    },
}

/// A lease a long run holds: its name, holder and length (see
/// [`Harvester::harvest_set_leased`]).
pub struct Lease<'a> {
    pub store: &'a dyn paperboy_store::LeaseStore,
    pub name: &'a str,
    pub holder: &'a str,
    pub secs: i64,
}

impl Lease<'_> {
    /// Renewed, or the run stops: `LeaseLost` after `pages` pages of `set`.
    async fn renew(&self, set: &str, pages: u64) -> Result<(), HarvestError> {
        if self
            .store
            .try_lease(self.name, self.holder, self.secs)
            .await?
        {
            Ok(())
        } else {
            Err(HarvestError::LeaseLost {
                set: set.to_string(),
                pages,
            })
        }
    }
}

pub struct Harvester {
    client: Arc<PoliteClient>,
    /// Checkpoints and harvested pages.
    store: Arc<dyn HarvestStore>,
    /// Papers fetched by id.
    papers: Arc<dyn PaperStore>,
    oai_url: String,
    api_url: String,
    metadata_prefix: String,
    /// A set's first harvest covers this many days back (`None`: the
    /// whole history).
    initial_days: Option<u32>,
}

/// Restarts allowed after `badResumptionToken` before giving up.
const MAX_RESTARTS: u32 = 3;

impl Harvester {
    pub fn new(
        client: Arc<PoliteClient>,
        store: Arc<dyn HarvestStore>,
        papers: Arc<dyn PaperStore>,
        oai_url: &str,
        api_url: &str,
    ) -> Self {
        Harvester {
            client,
            store,
            papers,
            oai_url: oai_url.to_string(),
            api_url: api_url.to_string(),
            metadata_prefix: "arXivRaw".into(),
            initial_days: None,
        }
    }

    /// The first harvest of a set (no checkpoint yet, no `from`) covers
    /// the last `days` days; 0 means the whole history.
    pub fn with_initial_days(mut self, days: u32) -> Self {
        self.initial_days = (days > 0).then_some(days);
        self
    }

    /// Where a harvest of a set with checkpoint `saved` starts when no
    /// `from` is given: `Some(day)` only for a first harvest with a window.
    pub fn first_from(
        &self,
        saved: Option<&HarvestCheckpoint>,
        today: NaiveDate,
    ) -> Option<NaiveDate> {
        let first = saved.is_none_or(|c| c.last_datestamp.is_none() && !c.in_progress());
        match self.initial_days {
            Some(days) if first => Some(today - chrono::Duration::days(i64::from(days))),
            _ => None,
        }
    }

    /// `arXivRaw` (the default: full version history) or `arXiv`.
    pub fn with_metadata_prefix(mut self, prefix: &str) -> Self {
        self.metadata_prefix = prefix.to_string();
        self
    }

    fn list_url(&self, set: &str, from: Option<NaiveDate>) -> String {
        let mut url = format!(
            "{}?verb=ListRecords&metadataPrefix={}",
            self.oai_url, self.metadata_prefix
        );
        if !set.is_empty() {
            url.push_str(&format!("&set={}", encode(set)));
        }
        if let Some(f) = from {
            url.push_str(&format!("&from={}", f.format("%Y-%m-%d")));
        }
        url
    }

    fn token_url(&self, token: &str) -> String {
        format!(
            "{}?verb=ListRecords&resumptionToken={}",
            self.oai_url,
            encode(token)
        )
    }

    /// Fetches and parses one page; a page that does not parse (cut off in
    /// transit) is fetched again, within the client's retry budget.
    async fn fetch_page(&self, url: &str) -> Result<Result<oai::OaiPage, OaiError>, HarvestError> {
        let mut attempt = 0;
        loop {
            let body = self.client.get_text(url).await?;
            match oai::parse_list_records(&body, Utc::now()) {
                Err(e @ (OaiError::Xml(_) | OaiError::NotOai(_))) => {
                    attempt += 1;
                    if attempt > self.client.settings().max_retries {
                        return Err(HarvestError::Remote {
                            url: url.to_string(),
                            message: e.to_string(),
                        });
                    }
                    let wait = self.client.backoff(attempt);
                    tracing::warn!(url, error = %e, wait_ms = wait.as_millis() as u64, "unreadable page; fetching again");
                    tokio::time::sleep(wait).await;
                }
                other => return Ok(other),
            }
        }
    }

    /// Harvests one set from where its checkpoint stands (or from `from`,
    /// when given) to the end of the list.
    pub async fn harvest_set(
        &self,
        set: &str,
        from: Option<NaiveDate>,
        on_event: &(dyn Fn(HarvestEvent<'_>) + Send + Sync),
    ) -> Result<HarvestSummary, HarvestError> {
        self.harvest_set_leased(set, from, on_event, None).await
    }

    /// [`Self::harvest_set`] under a lease: renewed before every page, and
    /// the run stops (checkpoint saved, nothing half-written) at the page
    /// where another holder has it, so two nodes never harvest one set at
    /// once however long a run takes.
    pub async fn harvest_set_leased(
        &self,
        set: &str,
        from: Option<NaiveDate>,
        on_event: &(dyn Fn(HarvestEvent<'_>) + Send + Sync),
        lease: Option<&Lease<'_>>,
    ) -> Result<HarvestSummary, HarvestError> {
        let saved = self.store.harvest_checkpoint(set).await?;
        let from =
            from.or_else(|| self.first_from(saved.as_ref(), chrono::Utc::now().date_naive()));
        let saved = saved.unwrap_or_else(|| HarvestCheckpoint::new(set));
        let last_done = saved.last_datestamp;
        let (mut token, run_from, mut run_max) = match from {
            Some(f) => (None, Some(f), None),
            None if saved.in_progress() => (
                saved.resumption_token.clone(),
                saved.run_from,
                saved.run_max_datestamp,
            ),
            None => (None, saved.last_datestamp, None),
        };
        let mut summary = HarvestSummary::default();
        let mut restarts = 0;
        loop {
            if let Some(l) = lease {
                l.renew(set, summary.pages).await?;
            }
            let url = match &token {
                Some(t) => self.token_url(t),
                None => self.list_url(set, run_from),
            };
            let page = match self.fetch_page(&url).await? {
                Ok(page) => page,
                Err(OaiError::NoRecordsMatch(_)) => {
                    // Nothing (more) to harvest: the run is complete.
                    let mut cp = HarvestCheckpoint::new(set);
                    cp.last_datestamp = last_done.max(run_max);
                    self.store
                        .apply_harvest_page(HarvestPage {
                            checkpoint: cp,
                            ..Default::default()
                        })
                        .await?;
                    return Ok(summary);
                }
                Err(OaiError::BadResumptionToken(msg))
                    if token.is_some() && restarts < MAX_RESTARTS =>
                {
                    restarts += 1;
                    tracing::warn!(url, %msg, from = ?run_from, "resumption token refused; restarting the run");
                    on_event(HarvestEvent::Restarted {
                        set,
                        from: run_from,
                    });
                    token = None;
                    run_max = None;
                    continue;
                }
                Err(e) => {
                    return Err(HarvestError::Remote {
                        url,
                        message: e.to_string(),
                    })
                }
            };
            for record in &page.records {
                run_max = run_max.max(record.datestamp());
            }
            let (papers, deleted, rejected) = sort_records(page.records, &url, on_event);
            summary.rejected += rejected;
            let records = (papers.len() + deleted.len()) as u64;
            // Mid-run, the checkpoint holds the token and the run's extent;
            // at its end, only how far it got.
            let mut cp = HarvestCheckpoint::new(set);
            match &page.resumption_token {
                Some(next) => {
                    cp.last_datestamp = last_done;
                    cp.run_from = run_from;
                    cp.resumption_token = Some(next.clone());
                    cp.run_max_datestamp = run_max;
                }
                None => cp.last_datestamp = last_done.max(run_max),
            }
            let counts = self
                .store
                .apply_harvest_page(HarvestPage {
                    papers,
                    deleted,
                    checkpoint: cp,
                })
                .await?;
            summary.add_upserts(counts.papers);
            summary.deleted += counts.deleted;
            summary.pages += 1;
            on_event(HarvestEvent::Page {
                set,
                records,
                cursor: page.cursor,
                complete_list_size: page.complete_list_size,
            });
            match page.resumption_token {
                Some(next) => token = Some(next),
                None => return Ok(summary),
            }
        }
    }

    /// Fetches papers by id through the Atom API and stores them. Returns
    /// the summary and the papers that arrived.
    pub async fn fetch_ids(
        &self,
        ids: &[ArxivId],
        on_event: &(dyn Fn(HarvestEvent<'_>) + Send + Sync),
    ) -> Result<(HarvestSummary, Vec<Paper>), HarvestError> {
        let mut summary = HarvestSummary::default();
        let mut got = Vec::new();
        for chunk in ids.chunks(100) {
            let url = atom::id_list_url(&self.api_url, chunk);
            let body = self.client.get_text(&url).await?;
            let feed = atom::parse_feed(&body, Utc::now()).map_err(|e| HarvestError::Remote {
                url: url.clone(),
                message: e.to_string(),
            })?;
            let mut papers = Vec::new();
            for entry in feed.entries {
                match entry {
                    AtomEntry::Paper(p) => papers.push(p),
                    AtomEntry::Rejected { entry_id, reason } => {
                        summary.rejected += 1;
                        on_event(HarvestEvent::Rejected(format!(
                            "{url}: entry {entry_id}: {reason}"
                        )));
                    }
                    AtomEntry::ApiError { message } => {
                        return Err(HarvestError::Remote {
                            url,
                            message: format!("arXiv API error: {message}"),
                        })
                    }
                }
            }
            got.extend(papers.iter().cloned());
            let counts = self.papers.upsert_papers(papers).await?;
            summary.add_upserts(counts);
            summary.pages += 1;
        }
        Ok((summary, got))
    }
}

/// Percent-encodes a query value (tokens may hold `|`, `:` or `/`).
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b':' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// A page's records: the papers, the deletions, and how many were
/// rejected (each reported through `on_event` with the page's URL).
fn sort_records(
    records: Vec<OaiRecord>,
    url: &str,
    on_event: &(dyn Fn(HarvestEvent<'_>) + Send + Sync),
) -> (Vec<Paper>, Vec<ArxivId>, u64) {
    let (mut papers, mut deleted, mut rejected) = (Vec::new(), Vec::new(), 0);
    for record in records {
        match record {
            OaiRecord::Live { paper: Ok(p), .. } => papers.push(p),
            OaiRecord::Live {
                identifier,
                paper: Err(e),
                ..
            } => {
                rejected += 1;
                on_event(HarvestEvent::Rejected(format!(
                    "{url}: record {identifier}: {e}"
                )));
            }
            OaiRecord::Deleted { id: Some(id), .. } => deleted.push(id),
            OaiRecord::Deleted {
                identifier,
                id: None,
                ..
            } => {
                rejected += 1;
                on_event(HarvestEvent::Rejected(format!(
                    "{url}: deleted record {identifier} has no arXiv id"
                )));
            }
        }
    }
    (papers, deleted, rejected)
}
