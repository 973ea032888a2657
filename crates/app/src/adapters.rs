//! The production adapters of the ports: arXiv's Atom API for papers the
//! store lacks, SMTP for the outbox.

use std::sync::Arc;

use async_trait::async_trait;
use paperboy_arxiv::harvest::{HarvestError, HarvestEvent, Harvester};
use paperboy_core::ArxivId;
use paperboy_mail::{DrainSummary, SmtpConfig, SmtpError};
use paperboy_store::{OutboxStore, PaperStore, StoreError};

use crate::ports::{FetchError, Fetcher, Mailer, SendError};

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
