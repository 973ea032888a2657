//! Draining the outbox over SMTP. Each row is marked sent in the store
//! before the server is told to take it (see [`crate::smtp`]), temporary
//! failures are retried with backoff, permanent ones count as bounces.
//!
//! The final `.` goes out the moment the store's commit returns (the
//! embedded store commits on the calling thread, so nothing is scheduled
//! in between): a crash between the two loses that one message (the outbox
//! says sent), it can never deliver it twice. Over TLS the same holds: the
//! `.` is sealed into its TLS record before the commit, and the record is
//! written the same way.
//!
//! When the server cannot be reached or refuses our credentials, no
//! message is at fault: each stays queued (tried again later, never given
//! up for it) and the error says what to fix.

use chrono::Utc;
use paperboy_store::{OutboxRow, OutboxStore, SendOutcome};

use crate::smtp::{SmtpClient, SmtpConfig, SmtpError};

/// A claim lasts this long; a sender that dies frees its rows after it.
pub const LEASE_SECS: i64 = 120;
/// Temporary failures after which a message is given up.
pub const MAX_ATTEMPTS: i64 = 8;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DrainSummary {
    pub sent: u64,
    pub retried: u64,
    pub failed: u64,
}

fn backoff_secs(attempts: i64) -> i64 {
    (30i64 << attempts.clamp(0, 10)).min(6 * 3600)
}

async fn send_row(
    client: &mut SmtpClient,
    store: &dyn OutboxStore,
    from: &str,
    row: &OutboxRow,
) -> Result<(), SmtpError> {
    let id = row.outbox_id;
    client
        .send(from, &row.recipient, &row.message, |dot| async move {
            store.finish_outbox(id, SendOutcome::Sent).await?;
            Ok(dot.write_now())
        })
        .await
}

/// Records a failed attempt; returns whether it was final.
async fn record_failure(
    store: &dyn OutboxStore,
    row: &OutboxRow,
    err: &SmtpError,
) -> Result<bool, SmtpError> {
    let outcome = match err {
        SmtpError::Permanent(e) | SmtpError::Config(e) => SendOutcome::Failed { error: e.clone() },
        // The connection or the account, not this message: due again at
        // the next drain (the scheduler's, once a minute), never given up.
        SmtpError::Setup(e) => SendOutcome::Retry {
            at: Utc::now().timestamp(),
            error: e.clone(),
        },
        SmtpError::Temporary(e) if row.attempts >= MAX_ATTEMPTS => SendOutcome::Failed {
            error: format!("gave up after {} attempts: {e}", row.attempts),
        },
        SmtpError::Temporary(e) => SendOutcome::Retry {
            at: Utc::now().timestamp() + backoff_secs(row.attempts),
            error: e.clone(),
        },
        SmtpError::Store(e) => SendOutcome::Retry {
            at: Utc::now().timestamp() + backoff_secs(row.attempts),
            error: format!("store: {e}"),
        },
    };
    let last = matches!(outcome, SendOutcome::Failed { .. });
    store.finish_outbox(row.outbox_id, outcome).await?;
    Ok(last)
}

/// Sends everything due, `batch` rows at a time, until nothing is due.
pub async fn drain_outbox(
    store: &dyn OutboxStore,
    smtp: &SmtpConfig,
    from: &str,
    batch: u32,
) -> Result<DrainSummary, SmtpError> {
    drain_outbox_with_lease(store, smtp, from, batch, LEASE_SECS).await
}

/// As [`drain_outbox`], with the claim's length given: it must outlast
/// sending one batch, and is how long a crashed sender's rows wait.
pub async fn drain_outbox_with_lease(
    store: &dyn OutboxStore,
    smtp: &SmtpConfig,
    from: &str,
    batch: u32,
    lease_secs: i64,
) -> Result<DrainSummary, SmtpError> {
    let mut summary = DrainSummary::default();
    loop {
        let rows = store
            .claim_outbox(Utc::now().timestamp(), lease_secs, batch)
            .await?;
        if rows.is_empty() {
            return Ok(summary);
        }
        let mut client: Option<SmtpClient> = None;
        for row in &rows {
            if client.is_none() {
                match SmtpClient::connect(smtp).await {
                    Ok(c) => client = Some(c),
                    Err(e) => {
                        tracing::error!(error = %e, "cannot send mail: the SMTP server cannot be reached or refused us");
                        for r in rows.iter().filter(|r| r.outbox_id >= row.outbox_id) {
                            let unreachable = SmtpError::Setup(e.to_string());
                            if record_failure(store, r, &unreachable).await? {
                                summary.failed += 1;
                            } else {
                                summary.retried += 1;
                            }
                        }
                        return Ok(summary);
                    }
                }
            }
            let Some(c) = client.as_mut() else { continue };
            match send_row(c, store, from, row).await {
                Ok(()) => summary.sent += 1,
                Err(e) => {
                    tracing::warn!(outbox_id = row.outbox_id, to = %row.recipient, error = %e, "send failed");
                    if record_failure(store, row, &e).await? {
                        summary.failed += 1;
                    } else {
                        summary.retried += 1;
                    }
                    // The session's state is unknown after an error: start afresh.
                    client = None;
                }
            }
        }
        if let Some(c) = client {
            c.quit().await;
        }
    }
}

/// Sends one queued row now (transactional mail such as a confirmation).
pub async fn send_one(
    store: &dyn OutboxStore,
    smtp: &SmtpConfig,
    from: &str,
    outbox_id: i64,
) -> Result<(), SmtpError> {
    let row = store
        .claim_outbox_row(outbox_id, Utc::now().timestamp(), LEASE_SECS)
        .await?;
    let Some(row) = row else { return Ok(()) };
    let result = async {
        let mut c = SmtpClient::connect(smtp)
            .await
            .map_err(|e| SmtpError::Setup(e.to_string()))?;
        let r = send_row(&mut c, store, from, &row).await;
        c.quit().await;
        r
    }
    .await;
    if let Err(e) = &result {
        record_failure(store, &row, e).await?;
    }
    result
}
