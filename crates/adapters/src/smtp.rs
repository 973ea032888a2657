//! The outbox sent over SMTP.

use std::sync::Arc;

use async_trait::async_trait;
use paperboy_app::ports::{Mailer, SendError};
use paperboy_mail::{DrainSummary, SmtpConfig, SmtpError};
use paperboy_store::OutboxStore;

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
