//! What each feed holds: trending, the daily list (last seven days), a
//! search, a category. The web layer renders them as Atom or RSS.

use chrono::{DateTime, Duration, Utc};
use paperboy_core::search::Mode;
use paperboy_core::{Category, DayRange};
use paperboy_store::{DailySort, ListedPaper};

use crate::ports::SearchRequest;
use crate::{App, AppError};

/// Entries per feed.
pub const ENTRIES: u32 = 30;

/// A feed by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedKind {
    Trending,
    Daily,
    Search(String),
    Category(Category),
}

pub struct FeedEntry {
    pub listed: ListedPaper,
    /// When this entry last changed for this feed.
    pub updated: DateTime<Utc>,
    /// Said before the abstract: why a paper was recommended, an alert.
    pub note: Option<String>,
}

pub struct Feed {
    pub title: String,
    /// The page the feed follows (absolute URL).
    pub page_url: String,
    pub entries: Vec<FeedEntry>,
}

impl Feed {
    /// The newest entry's date (the epoch for an empty feed).
    pub fn updated(&self) -> DateTime<Utc> {
        self.entries
            .iter()
            .map(|e| e.updated)
            .max()
            .unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
    }
}

/// A paper's last change: its newest version.
fn paper_updated(l: &ListedPaper) -> DateTime<Utc> {
    let p = &l.stored.paper;
    p.versions
        .last()
        .map(|v| v.created_at)
        .unwrap_or_else(|| p.published_at())
}

fn by_paper_date(rows: Vec<ListedPaper>) -> Vec<FeedEntry> {
    rows.into_iter()
        .map(|l| FeedEntry {
            updated: paper_updated(&l),
            listed: l,
            note: None,
        })
        .collect()
}

/// A query string value, percent-encoded.
pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl App {
    pub async fn feed(&self, kind: &FeedKind) -> Result<Feed, AppError> {
        let base = self.settings.base_url.trim_end_matches('/');
        let instance = &self.settings.instance_name;
        Ok(match kind {
            FeedKind::Trending => Feed {
                title: format!("Trending papers · {instance}"),
                page_url: format!("{base}/"),
                entries: by_paper_date(self.trending(0, ENTRIES).await?),
            },
            FeedKind::Daily => {
                let today = self.today();
                let week = DayRange {
                    from: today - Duration::days(6),
                    to: today,
                };
                let rows = self
                    .daily(week, DailySort::PublishedAt, None, 0, 100)
                    .await?;
                // An entry changes for this feed when it is submitted.
                let mut entries: Vec<FeedEntry> = rows
                    .into_iter()
                    .map(|l| FeedEntry {
                        updated: l
                            .daily
                            .as_ref()
                            .map(|d| d.submitted_at)
                            .unwrap_or_else(|| paper_updated(&l)),
                        listed: l,
                        note: None,
                    })
                    .collect();
                entries.sort_by_key(|e| std::cmp::Reverse(e.updated));
                Feed {
                    title: format!("Daily papers · {instance}"),
                    page_url: format!("{base}/daily"),
                    entries,
                }
            }
            FeedKind::Search(query) => {
                let req = SearchRequest::new(query, Mode::Hybrid, ENTRIES as usize, 0)?;
                let found = self.search(&req).await?;
                Feed {
                    title: format!("Papers about “{}” · {instance}", req.query),
                    page_url: format!("{base}/search?q={}", urlencode(&req.query)),
                    entries: by_paper_date(found.rows.into_iter().map(|(l, _)| l).collect()),
                }
            }
            FeedKind::Category(cat) => Feed {
                title: format!("New in {} · {instance}", cat.as_str()),
                page_url: format!("{base}/search?q=cat:{}", cat.as_str()),
                entries: by_paper_date(self.recent_in_category(cat.as_str(), ENTRIES).await?),
            },
        })
    }
}
