//! Subscribers, the outbox and what was already sent.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use paperboy_core::PaperId;

use crate::StoreError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SubscriberId(pub i64);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frequency {
    Daily,
    Weekly,
}

impl Frequency {
    pub fn as_str(self) -> &'static str {
        match self {
            Frequency::Daily => "daily",
            Frequency::Weekly => "weekly",
        }
    }

    pub fn parse(s: &str) -> Option<Frequency> {
        match s {
            "daily" => Some(Frequency::Daily),
            "weekly" => Some(Frequency::Weekly),
            _ => None,
        }
    }
}

/// What a subscriber asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preferences {
    pub frequency: Frequency,
    /// Top N trending papers; 0 for none.
    pub trending_top: u32,
    pub daily_list: bool,
    pub categories: Vec<String>,
    pub queries: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscriber {
    pub subscriber_id: SubscriberId,
    pub email: String,
    pub prefs: Preferences,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub unsubscribed_at: Option<DateTime<Utc>>,
    pub disabled_at: Option<DateTime<Utc>>,
    pub bounces: i64,
}

impl Subscriber {
    pub fn is_active(&self) -> bool {
        self.confirmed_at.is_some() && self.unsubscribed_at.is_none() && self.disabled_at.is_none()
    }
}

/// A message ready to go.
#[derive(Debug, Clone)]
pub struct OutgoingMail {
    pub dedupe_key: String,
    pub subscriber: Option<SubscriberId>,
    pub recipient: String,
    /// The whole RFC 5322 message, CRLF line ends.
    pub message: String,
}

#[derive(Debug, Clone)]
pub struct OutboxRow {
    pub outbox_id: i64,
    pub dedupe_key: String,
    pub subscriber: Option<SubscriberId>,
    pub recipient: String,
    pub message: String,
    pub attempts: i64,
}

/// How a send attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendOutcome {
    Sent,
    /// Try again at this time (unix seconds).
    Retry {
        at: i64,
        error: String,
    },
    /// Permanent failure (a bounce).
    Failed {
        error: String,
    },
}

/// Bounces after which an address is no longer mailed.
pub const MAX_BOUNCES: i64 = 3;

/// Subscribers and what was sent to them.
#[async_trait]
pub trait SubscriberStore: Send + Sync + 'static {
    /// A new unconfirmed subscriber, or the existing one with that address
    /// (its preferences replaced when it is not active, so a returning
    /// reader starts over).
    async fn upsert_subscriber(
        &self,
        email: &str,
        prefs: &Preferences,
    ) -> Result<Subscriber, StoreError>;
    /// Replaces a subscriber's preferences (the owner, logged in, in settings).
    async fn set_preferences(
        &self,
        id: SubscriberId,
        prefs: &Preferences,
    ) -> Result<(), StoreError>;
    /// The subscriber with this address, if any.
    async fn subscriber_by_email(&self, email: &str) -> Result<Option<Subscriber>, StoreError>;
    async fn subscriber(&self, id: SubscriberId) -> Result<Subscriber, StoreError>;
    async fn confirm_subscriber(&self, id: SubscriberId) -> Result<(), StoreError>;
    /// Stops mail to the subscriber, queued mail included.
    async fn unsubscribe(&self, id: SubscriberId) -> Result<(), StoreError>;
    /// Active subscribers of a frequency with ids above `after`, in id order.
    async fn active_subscribers(
        &self,
        frequency: Frequency,
        after: i64,
        limit: u32,
    ) -> Result<Vec<Subscriber>, StoreError>;
    /// Which of `papers` were never sent to the subscriber.
    async fn unsent_papers(
        &self,
        subscriber: SubscriberId,
        papers: &[PaperId],
    ) -> Result<Vec<PaperId>, StoreError>;
}

/// The outbox: complete messages, claimed by senders, each sent once.
#[async_trait]
pub trait OutboxStore: Send + Sync + 'static {
    /// Queues a message once per dedupe key, and records its papers as
    /// sent to its subscriber, in one transaction. False when the key was
    /// queued before.
    async fn enqueue_mail(
        &self,
        mail: OutgoingMail,
        papers: &[PaperId],
    ) -> Result<bool, StoreError>;
    /// Claims up to `limit` due rows for `lease_secs` (several senders
    /// never claim the same row).
    async fn claim_outbox(
        &self,
        now: i64,
        lease_secs: i64,
        limit: u32,
    ) -> Result<Vec<OutboxRow>, StoreError>;
    /// Claims one row by id (a transactional mail sent at once).
    async fn claim_outbox_row(
        &self,
        outbox_id: i64,
        now: i64,
        lease_secs: i64,
    ) -> Result<Option<OutboxRow>, StoreError>;
    async fn outbox_id(&self, dedupe_key: &str) -> Result<Option<i64>, StoreError>;
    /// Records how a send ended; a permanent failure counts a bounce and
    /// stops mail to the address after [`MAX_BOUNCES`].
    async fn finish_outbox(&self, outbox_id: i64, outcome: SendOutcome) -> Result<(), StoreError>;
    /// Rows by status (`pending`, `sent`, `failed`).
    async fn outbox_counts(&self) -> Result<Vec<(String, i64)>, StoreError>;
}
