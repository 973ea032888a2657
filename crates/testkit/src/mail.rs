//! An in-memory mailer: it takes rows from the real outbox the way the
//! SMTP sender does (claim, then mark sent) and keeps the messages, so a
//! test can read them; and a reader for the messages Paperboy writes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use base64::Engine;
use paperboy_app::ports::{DrainSummary, SendError};
use paperboy_app::Mailer;
use paperboy_store::{OutboxRow, OutboxStore, SendOutcome};

pub struct MemoryMailer {
    outbox: Arc<dyn OutboxStore>,
    sent: Mutex<Vec<Mail>>,
    /// Addresses the "server" refuses for good.
    refused: Mutex<Vec<String>>,
}

impl MemoryMailer {
    pub fn new(outbox: Arc<dyn OutboxStore>) -> Self {
        MemoryMailer {
            outbox,
            sent: Mutex::new(Vec::new()),
            refused: Mutex::new(Vec::new()),
        }
    }

    /// Every message sent so far, oldest first.
    pub fn sent(&self) -> Vec<Mail> {
        self.sent.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Sends everything queued (as the scheduler's outbox job does).
    pub async fn drain_now(&self) -> DrainSummary {
        Mailer::drain(self).await.expect("the outbox drains")
    }

    /// From now on, mail to `address` is refused (a bounce).
    pub fn refuse(&self, address: &str) {
        self.refused
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(address.to_string());
    }

    async fn deliver(&self, row: &OutboxRow) -> Result<bool, SendError> {
        let refused = self
            .refused
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(&row.recipient);
        if refused {
            let error = format!("550 no such user: {}", row.recipient);
            self.outbox
                .finish_outbox(
                    row.outbox_id,
                    SendOutcome::Failed {
                        error: error.clone(),
                    },
                )
                .await?;
            return Err(SendError::Refused(error));
        }
        self.outbox
            .finish_outbox(row.outbox_id, SendOutcome::Sent)
            .await?;
        self.sent
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(Mail::parse(&row.message));
        Ok(true)
    }
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

#[async_trait]
impl Mailer for MemoryMailer {
    async fn send_now(&self, outbox_id: i64) -> Result<(), SendError> {
        if let Some(row) = self.outbox.claim_outbox_row(outbox_id, now(), 60).await? {
            self.deliver(&row).await?;
        }
        Ok(())
    }

    async fn drain(&self) -> Result<DrainSummary, SendError> {
        let mut summary = DrainSummary::default();
        loop {
            let rows = self.outbox.claim_outbox(now(), 60, 100).await?;
            if rows.is_empty() {
                return Ok(summary);
            }
            for row in &rows {
                match self.deliver(row).await {
                    Ok(_) => summary.sent += 1,
                    Err(SendError::Refused(_)) => summary.failed += 1,
                    Err(e) => return Err(e),
                }
            }
        }
    }
}

/// A message as Paperboy writes it: headers, and the decoded text and
/// HTML parts.
#[derive(Debug, Clone)]
pub struct Mail {
    pub raw: String,
    pub headers: HashMap<String, String>,
    pub text: String,
    pub html: String,
}

fn part(body: &str, content_type: &str) -> String {
    let marker = format!(
        "Content-Type: {content_type}; charset=utf-8\nContent-Transfer-Encoding: base64\n\n"
    );
    body.split(&marker)
        .nth(1)
        .map(|rest| {
            let b64: String = rest.lines().take_while(|l| !l.starts_with("--")).collect();
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(b64)
                .unwrap_or_default();
            String::from_utf8_lossy(&bytes).into_owned()
        })
        .unwrap_or_default()
}

impl Mail {
    pub fn parse(raw: &str) -> Mail {
        let norm = raw.replace("\r\n", "\n");
        let (head, body) = norm.split_once("\n\n").unwrap_or((&norm, ""));
        let mut headers = HashMap::new();
        let mut last = String::new();
        for line in head.lines() {
            if line.starts_with([' ', '\t']) {
                if let Some(v) = headers.get_mut(&last) {
                    let v: &mut String = v;
                    v.push_str(line.trim());
                }
            } else if let Some((k, v)) = line.split_once(':') {
                last = k.to_ascii_lowercase();
                headers.insert(last.clone(), v.trim().to_string());
            }
        }
        Mail {
            raw: raw.to_string(),
            text: part(body, "text/plain"),
            html: part(body, "text/html"),
            headers,
        }
    }

    pub fn to(&self) -> &str {
        self.header("to")
    }

    pub fn subject(&self) -> &str {
        self.header("subject")
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
            .unwrap_or("")
    }

    /// The first link in the text part that starts with `prefix`.
    pub fn link(&self, prefix: &str) -> String {
        let at = self
            .text
            .find(prefix)
            .unwrap_or_else(|| panic!("no {prefix} link in {}", self.text));
        self.text[at..]
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_string()
    }
}
