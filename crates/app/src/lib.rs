//! The application layer: every use case of Paperboy, one file per
//! behaviour (`vote.rs`: what happens when someone upvotes). The front
//! doors (the web crate, the CLI) translate requests into calls here and
//! render the answers; the parts (store, search, mail, arXiv) are reached
//! through their contracts or through the ports in [`ports`].

pub mod accounts;
pub mod authors;
pub mod bibtex;
pub mod citations;
pub mod digest;
pub mod discussions;
mod error;
pub mod feeds;
pub mod follows;
pub mod lease;
pub mod library;
pub mod markdown;
pub mod moderation;
pub mod notifications;
pub mod operations;
pub mod papers;
pub mod ports;
pub mod ratelimit;
pub mod recommend;
pub mod scheduler;
pub mod search;
pub mod stars;
pub mod submit;
pub mod subscribe;
pub mod tex;
pub mod trending;
pub mod views;
pub mod vote;
pub mod watch;

use std::sync::Arc;

use chrono::NaiveDate;
use paperboy_mail::Signer;
use paperboy_store::Store;

pub use error::AppError;
pub use ports::{Fetcher, Mailer, Search};
pub use ratelimit::{Limit, Limits, RateLimiter};
pub use trending::Scales;

/// The application: the store, the ports, and what the instance is.
/// Cheap to clone; every front door holds one.
#[derive(Clone)]
pub struct App {
    /// The store: reached only through the use cases.
    store: Arc<dyn Store>,
    pub settings: Arc<Settings>,
    /// Keyword and semantic search; `None` until an index is set up.
    pub search: Option<Arc<dyn Search>>,
    /// Brings papers the store lacks from arXiv (submissions).
    pub fetcher: Option<Arc<dyn Fetcher>>,
    /// Email: signing links always; sending when a mailer is configured.
    pub mail: Option<Arc<MailSettings>>,
    pub limiter: Arc<RateLimiter>,
    pub scales: Arc<Scales>,
    /// Papers' full text from arXiv; `None` when turned off.
    pub texts: Option<Arc<citations::Texts>>,
    /// The GitHub star tracker; `None` when not set up.
    pub stars: Option<Arc<stars::StarTracker>>,
    /// How this node's harvests are going (for the pages and `/metrics`).
    pub harvest: Arc<scheduler::HarvestStatus>,
}

/// What the instance is and how it behaves.
#[derive(Debug, Clone)]
pub struct Settings {
    pub base_url: String,
    pub instance_name: String,
    /// Where the daily list's day begins and ends.
    pub timezone: chrono_tz::Tz,
    /// Older papers are refused on the daily list.
    pub max_submission_age_days: i64,
    pub limits: Limits,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            base_url: "http://127.0.0.1:8080".into(),
            instance_name: "Paperboy".into(),
            timezone: chrono_tz::UTC,
            max_submission_age_days: 14,
            limits: Limits::default(),
        }
    }
}

impl Settings {
    /// Whether links and cookies are for https.
    pub fn secure(&self) -> bool {
        self.base_url.starts_with("https://")
    }
}

/// How mail is signed, addressed and (when configured) sent.
pub struct MailSettings {
    pub signer: Signer,
    /// `Name <address>` of outgoing mail.
    pub from: String,
    /// `None`: mail is composed and queued, but this instance cannot send.
    pub mailer: Option<Arc<dyn Mailer>>,
}

impl App {
    pub fn new(store: Arc<dyn Store>, settings: Settings) -> Self {
        App {
            store,
            settings: Arc::new(settings),
            search: None,
            fetcher: None,
            mail: None,
            limiter: Arc::default(),
            scales: Arc::default(),
            texts: None,
            stars: None,
            harvest: Arc::default(),
        }
    }

    /// Today in the instance's time zone (the daily list's day).
    pub fn today(&self) -> NaiveDate {
        chrono::Utc::now()
            .with_timezone(&self.settings.timezone)
            .date_naive()
    }

    /// Whether this instance can send email (a mail server is set up):
    /// where it cannot, the pages say so instead of promising mail.
    pub fn sends_mail(&self) -> bool {
        self.mail.as_ref().is_some_and(|m| m.mailer.is_some())
    }

    pub(crate) fn search_port(&self) -> Result<&Arc<dyn Search>, AppError> {
        self.search
            .as_ref()
            .ok_or_else(|| AppError::NotConfigured("search is not set up on this instance".into()))
    }

    pub(crate) fn mail_settings(&self) -> Result<&Arc<MailSettings>, AppError> {
        self.mail
            .as_ref()
            .ok_or_else(|| AppError::NotConfigured("email is not set up on this instance".into()))
    }
}
