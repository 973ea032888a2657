//! The production adapters of the ports: arXiv's Atom API for papers the
//! store lacks, arXiv's HTML for their full text, SMTP for the outbox.

use std::sync::Arc;

use async_trait::async_trait;
use paperboy_arxiv::harvest::{HarvestError, HarvestEvent, Harvester};
use paperboy_core::ArxivId;
use paperboy_mail::{DrainSummary, SmtpConfig, SmtpError};
use paperboy_store::{OutboxStore, PaperStore, StoreError};

use crate::ports::{
    Catalogue, CatalogueFetch, CatalogueReference, FetchError, Fetcher, Mailer, SendError,
    TextFetch, TextSource,
};

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

/// Sends the outbox over SMTP.
pub struct SmtpMailer {
    pub outbox: Arc<dyn OutboxStore>,
    pub smtp: SmtpConfig,
    /// `Name <address>` of outgoing mail.
    pub from: String,
    /// How long a sender's claim on queued mail lasts.
    pub claim_secs: i64,
}

fn send_error(e: SmtpError) -> SendError {
    match e {
        SmtpError::Permanent(reply) | SmtpError::Config(reply) => SendError::Refused(reply),
        SmtpError::Temporary(reason) | SmtpError::Setup(reason) => SendError::Deferred(reason),
        SmtpError::Store(e) => SendError::Store(e),
    }
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send_now(&self, outbox_id: i64) -> Result<(), SendError> {
        paperboy_mail::send_one(&*self.outbox, &self.smtp, &self.from, outbox_id)
            .await
            .map_err(send_error)
    }

    async fn drain(&self) -> Result<DrainSummary, SendError> {
        paperboy_mail::drain_outbox_with_lease(
            &*self.outbox,
            &self.smtp,
            &self.from,
            100,
            self.claim_secs,
        )
        .await
        .map_err(send_error)
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
            } => TextFetch::Page {
                html: String::from_utf8_lossy(&body).into_owned(),
                last_modified,
            },
            // No HTML: the LaTeX source, when the submission has one.
            Got::Missing => {
                let url = self.eprint_url(id, version);
                match self.get(&url, if_modified_since).await {
                    Got::Body {
                        body,
                        last_modified,
                    } => TextFetch::Source {
                        bytes: body,
                        last_modified,
                    },
                    Got::Missing => TextFetch::Missing,
                    Got::Other(f) => f,
                }
            }
            Got::Other(f) => f,
        }
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

/// OpenAlex (`https://api.openalex.org`, or a stand-in): a paper found by
/// arXiv's DOI (`/works/doi:10.48550/arXiv.{id}`), then the works it cites
/// fifty at a time (`/works?filter=openalex:W1|W2…`), with the API key,
/// through the polite client.
pub struct OpenAlex {
    pub client: Arc<paperboy_arxiv::PoliteClient>,
    pub base_url: String,
    pub api_key: String,
}

/// The parts of an OpenAlex work read here.
#[derive(Debug, serde::Deserialize)]
struct OpenAlexWork {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    doi: Option<String>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    publication_year: Option<i32>,
    #[serde(default)]
    cited_by_count: Option<i64>,
    #[serde(default)]
    referenced_works: Vec<String>,
}

#[derive(Debug, serde::Deserialize)]
struct OpenAlexList {
    results: Vec<OpenAlexWork>,
}

/// Works of a reference list asked for at once.
const OPENALEX_BATCH: usize = 50;
/// References read of one paper (as from a full text).
const OPENALEX_MAX_REFERENCES: usize = 2_000;
/// The largest answer read.
const OPENALEX_MAX_BYTES: usize = 8 * 1024 * 1024;

impl OpenAlex {
    fn url(&self, path_and_query: &str) -> String {
        let sep = if path_and_query.contains('?') {
            '&'
        } else {
            '?'
        };
        format!(
            "{}{path_and_query}{sep}api_key={}",
            self.base_url.trim_end_matches('/'),
            url::form_urlencoded::byte_serialize(self.api_key.as_bytes()).collect::<String>()
        )
    }

    /// One GET, parsed; `Ok(None)` for a 404.
    async fn get<T: serde::de::DeserializeOwned>(
        &self,
        path_and_query: &str,
    ) -> Result<Option<T>, CatalogueFetch> {
        use paperboy_arxiv::Page;
        let url = self.url(path_and_query);
        // The key stays out of messages.
        let shown = format!("{}{path_and_query}", self.base_url.trim_end_matches('/'));
        let refused = |reason: String, retry_after| CatalogueFetch::Refused {
            reason,
            retry_after,
        };
        match self.client.get_page(&url, None, OPENALEX_MAX_BYTES).await {
            Ok(Page::Body { body, .. }) => serde_json::from_slice(&body)
                .map(Some)
                .map_err(|e| refused(format!("{shown}: not an OpenAlex answer: {e}"), None)),
            Ok(Page::Missing) => Ok(None),
            Ok(Page::Refused {
                status,
                retry_after,
            }) => Err(refused(format!("{shown}: HTTP {status}"), retry_after)),
            Ok(Page::TooLarge { bytes }) => Err(refused(
                format!("{shown}: an answer of {bytes} bytes, more than read"),
                None,
            )),
            Ok(Page::NotModified) => Ok(None),
            Err(e) => Err(refused(e.to_string().replace(&self.api_key, "***"), None)),
        }
    }
}

#[async_trait]
impl Catalogue for OpenAlex {
    async fn work(&self, id: &ArxivId) -> CatalogueFetch {
        let path = format!(
            "/works/doi:10.48550/arXiv.{id}?select=id,doi,title,publication_year,cited_by_count,referenced_works"
        );
        let work: OpenAlexWork = match self.get(&path).await {
            Ok(Some(w)) => w,
            Ok(None) => return CatalogueFetch::Missing,
            Err(refused) => return refused,
        };
        let mut references = Vec::new();
        let cited: Vec<&str> = work
            .referenced_works
            .iter()
            .take(OPENALEX_MAX_REFERENCES)
            .map(|w| w.rsplit('/').next().unwrap_or(w))
            .filter(|w| w.starts_with('W') && w[1..].bytes().all(|b| b.is_ascii_digit()))
            .collect();
        for batch in cited.chunks(OPENALEX_BATCH) {
            let path = format!(
                "/works?filter=openalex:{}&select=id,doi,title,publication_year&per-page={}",
                batch.join("|"),
                OPENALEX_BATCH
            );
            let mut list: OpenAlexList = match self.get(&path).await {
                Ok(Some(l)) => l,
                Ok(None) => continue,
                Err(refused) => return refused,
            };
            // In the paper's order, whatever order OpenAlex answers in.
            let place = |w: &OpenAlexWork| {
                let id = w.id.as_deref().unwrap_or("");
                let id = id.rsplit('/').next().unwrap_or(id);
                batch.iter().position(|b| *b == id).unwrap_or(usize::MAX)
            };
            list.results.sort_by_key(place);
            references.extend(list.results.into_iter().map(|w| {
                CatalogueReference {
                    title: w.title.filter(|t| !t.trim().is_empty()),
                    doi: w
                        .doi
                        .map(|d| d.trim_start_matches("https://doi.org/").to_string()),
                    year: w.publication_year,
                }
            }));
        }
        CatalogueFetch::Found {
            cited_by: work.cited_by_count.unwrap_or(0),
            references,
        }
    }
}
