//! arXiv: papers the store lacks (the Atom API), the daily harvest
//! (OAI-PMH, under the scheduler's lease), and papers' full text (the HTML
//! rendering, else the LaTeX source), all through the polite client.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::NaiveDate;
use paperboy_app::lease::JobLease;
use paperboy_app::ports::{
    FetchError, Fetcher, Harvest, HarvestFailure, HarvestNews, Harvested, TextFetch, TextSource,
    Unread,
};
use paperboy_arxiv::harvest::{HarvestError, HarvestEvent, Harvester, Lease};
use paperboy_core::fulltext::{FullText, ParseError};
use paperboy_core::ArxivId;
use paperboy_store::{HarvestCheckpoint, LeaseStore, PaperStore, StoreError};

/// Fetches papers through the arXiv API client (polite: spaced requests,
/// `Retry-After` honoured) and stores them.
pub struct ArxivFetcher {
    pub harvester: Arc<Harvester>,
    pub papers: Arc<dyn PaperStore>,
}

#[async_trait]
impl Fetcher for ArxivFetcher {
    async fn fetch(&self, id: &ArxivId) -> Result<bool, FetchError> {
        let on_event = |e: HarvestEvent<'_>| {
            if let HarvestEvent::Rejected(msg) = e {
                tracing::warn!(%msg, "arXiv API entry rejected");
            }
        };
        match self
            .harvester
            .fetch_ids(std::slice::from_ref(id), &on_event)
            .await
        {
            Ok(_) => {}
            Err(HarvestError::Store(e)) => return Err(e.into()),
            Err(e) => return Err(FetchError::Unreachable(e.to_string())),
        }
        match self.papers.get_paper(id).await {
            Ok(_) => Ok(true),
            Err(StoreError::NotFound) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }
}

/// The daily harvest through the OAI-PMH harvester, renewing the
/// scheduler's lease (in `leases`) before every page.
pub struct ArxivHarvest {
    pub harvester: Arc<Harvester>,
    pub leases: Arc<dyn LeaseStore>,
}

#[async_trait]
impl Harvest for ArxivHarvest {
    fn first_from(&self, saved: Option<&HarvestCheckpoint>, today: NaiveDate) -> Option<NaiveDate> {
        self.harvester.first_from(saved, today)
    }

    async fn harvest_set(
        &self,
        set: &str,
        from: Option<NaiveDate>,
        on: &(dyn for<'n> Fn(HarvestNews<'n>) + Send + Sync),
        lease: Option<&JobLease>,
    ) -> Result<Harvested, HarvestFailure> {
        let on_event = |e: HarvestEvent<'_>| match e {
            HarvestEvent::Page {
                set,
                records,
                cursor,
                complete_list_size,
            } => on(HarvestNews::Page {
                set,
                records,
                cursor,
                complete_list_size,
            }),
            HarvestEvent::Rejected(msg) => on(HarvestNews::Rejected(&msg)),
            HarvestEvent::Restarted { set, from } => on(HarvestNews::Restarted { set, from }),
        };
        let lease = lease.map(|l| Lease {
            store: &*self.leases,
            name: &l.name,
            holder: &l.holder,
            secs: l.secs,
        });
        match self
            .harvester
            .harvest_set_leased(set, from, &on_event, lease.as_ref())
            .await
        {
            Ok(s) => Ok(Harvested {
                new: s.new,
                updated: s.updated,
                deleted: s.deleted,
                rejected: s.rejected,
            }),
            Err(e @ HarvestError::LeaseLost { .. }) => {
                Err(HarvestFailure::HandedOver(e.to_string()))
            }
            Err(e) => Err(HarvestFailure::Failed(e.to_string())),
        }
    }
}

/// Papers' full text from arXiv's HTML rendering (`{base}/html/{id}v{n}`),
/// else their LaTeX source (`{base}/e-print/{id}v{n}`), one request at a
/// time through the polite client.
pub struct ArxivHtml {
    pub client: Arc<paperboy_arxiv::PoliteClient>,
    /// `https://arxiv.org`, or a stand-in.
    pub base_url: String,
    /// Pages larger than this are not read.
    pub max_bytes: usize,
}

impl ArxivHtml {
    pub fn url(&self, id: &ArxivId, version: u32) -> String {
        format!(
            "{}/html/{id}v{version}",
            self.base_url.trim_end_matches('/')
        )
    }
}

#[async_trait]
impl TextSource for ArxivHtml {
    async fn fetch_text(
        &self,
        id: &ArxivId,
        version: u32,
        if_modified_since: Option<&str>,
    ) -> TextFetch {
        let url = self.url(id, version);
        match self.get(&url, if_modified_since).await {
            Got::Body {
                body,
                last_modified,
            } => fetched(body, last_modified, |b| {
                paperboy_arxiv::fulltext::parse(&String::from_utf8_lossy(b))
            }),
            // No HTML: the LaTeX source, when the submission has one.
            Got::Missing => {
                let url = self.eprint_url(id, version);
                match self.get(&url, if_modified_since).await {
                    Got::Body {
                        body,
                        last_modified,
                    } => fetched(body, last_modified, paperboy_arxiv::latex::parse_source),
                    Got::Missing => TextFetch::Missing,
                    Got::Other(f) => f,
                }
            }
            Got::Other(f) => f,
        }
    }
}

/// A fetched page or source, to be read by `parse` (off the async threads).
fn fetched(
    body: Vec<u8>,
    last_modified: Option<String>,
    parse: fn(&[u8]) -> Result<FullText, ParseError>,
) -> TextFetch {
    TextFetch::Fetched {
        bytes: body.len(),
        last_modified,
        text: Unread(Box::new(move || parse(&body))),
    }
}

/// One GET of arXiv's, as the fetcher needs it.
enum Got {
    Body {
        body: Vec<u8>,
        last_modified: Option<String>,
    },
    Missing,
    Other(TextFetch),
}

impl ArxivHtml {
    /// The paper's LaTeX source: `{base}/e-print/{id}v{n}`.
    pub fn eprint_url(&self, id: &ArxivId, version: u32) -> String {
        format!(
            "{}/e-print/{id}v{version}",
            self.base_url.trim_end_matches('/')
        )
    }

    async fn get(&self, url: &str, if_modified_since: Option<&str>) -> Got {
        use paperboy_arxiv::Page;
        match self
            .client
            .get_page(url, if_modified_since, self.max_bytes)
            .await
        {
            Ok(Page::Body {
                body,
                last_modified,
            }) => Got::Body {
                body,
                last_modified,
            },
            Ok(Page::NotModified) => Got::Other(TextFetch::NotModified),
            Ok(Page::Missing) => Got::Missing,
            Ok(Page::TooLarge { bytes }) => Got::Other(TextFetch::TooLarge { bytes }),
            Ok(Page::Refused {
                status,
                retry_after,
            }) => Got::Other(TextFetch::Refused {
                reason: format!("{url}: HTTP {status}"),
                retry_after,
            }),
            Err(e) => Got::Other(TextFetch::Refused {
                reason: e.to_string(),
                retry_after: None,
            }),
        }
    }
}
