//! Subscribers, the outbox and what was already sent.

use chrono::{DateTime, Utc};
use paperboy_core::PaperId;

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

pub fn prefs_to_columns(p: &Preferences) -> (String, i64, i64, String, String) {
    (
        p.frequency.as_str().to_string(),
        i64::from(p.trending_top),
        i64::from(p.daily_list),
        p.categories.join(" "),
        p.queries.join("\n"),
    )
}

pub fn prefs_from_columns(
    frequency: &str,
    trending_top: i64,
    daily_list: i64,
    categories: &str,
    queries: &str,
) -> Preferences {
    Preferences {
        frequency: Frequency::parse(frequency).unwrap_or(Frequency::Weekly),
        trending_top: trending_top.clamp(0, 100) as u32,
        daily_list: daily_list != 0,
        categories: categories.split_whitespace().map(str::to_string).collect(),
        queries: queries
            .lines()
            .map(str::trim)
            .filter(|q| !q.is_empty())
            .map(str::to_string)
            .collect(),
    }
}

pub fn ts(secs: Option<i64>) -> Option<DateTime<Utc>> {
    secs.and_then(|s| DateTime::from_timestamp(s, 0))
}

/// Papers are identified by store id in `digest_papers`.
pub type SentPapers = Vec<PaperId>;
