//! The production adapters of the ports: arXiv's Atom API for papers the
//! store lacks, arXiv's HTML for their full text, SMTP for the outbox.

use std::sync::Arc;

use async_trait::async_trait;
use paperboy_arxiv::harvest::{HarvestError, HarvestEvent, Harvester};
use paperboy_core::ArxivId;
use paperboy_mail::{DrainSummary, SmtpConfig, SmtpError};
use paperboy_store::{OutboxStore, PaperStore, StoreError};

use crate::ports::{FetchError, Fetcher, Mailer, SendError, TextFetch, TextSource};

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
/// one request at a time through the polite client.
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
        use paperboy_arxiv::Page;
        let url = self.url(id, version);
        match self
            .client
            .get_page(&url, if_modified_since, self.max_bytes)
            .await
        {
            Ok(Page::Body {
                text,
                last_modified,
            }) => TextFetch::Page {
                html: text,
                last_modified,
            },
            Ok(Page::NotModified) => TextFetch::NotModified,
            Ok(Page::Missing) => TextFetch::Missing,
            Ok(Page::TooLarge { bytes }) => TextFetch::TooLarge { bytes },
            Ok(Page::Refused {
                status,
                retry_after,
            }) => TextFetch::Refused {
                reason: format!("{url}: HTTP {status}"),
                retry_after,
            },
            Err(e) => TextFetch::Refused {
                reason: e.to_string(),
                retry_after: None,
            },
        }
    }
}
