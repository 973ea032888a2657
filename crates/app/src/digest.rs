//! Digests: for each active subscriber of a frequency, the papers of the
//! period that match what they asked for and were never sent to them,
//! queued in the outbox (once per subscriber and period: composing twice
//! queues nothing).
//!
//! Candidate lists (trending, the daily list, a category, a saved search)
//! are computed once per run and shared by every subscriber; subscribers
//! are read 500 at a time, so memory stays flat however many there are.

use std::collections::HashMap;

use chrono::{Datelike, Duration, NaiveDate};
use paperboy_mail::compose::{Letterhead, Period, MAX_PAPERS};
use paperboy_store::{DailySort, Frequency, ListedPaper, OutgoingMail, Subscriber};

use crate::{App, AppError};

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ComposeSummary {
    pub queued: u64,
    /// Subscribers with nothing new.
    pub empty: u64,
    /// Digests queued by an earlier run.
    pub already: u64,
}

impl ComposeSummary {
    pub fn add(&mut self, o: ComposeSummary) {
        self.queued += o.queued;
        self.empty += o.empty;
        self.already += o.already;
    }
}

/// The frequencies due on `day`: daily always, weekly on Mondays.
pub fn due_on(day: NaiveDate) -> Vec<Frequency> {
    let mut v = vec![Frequency::Daily];
    if day.weekday() == chrono::Weekday::Mon {
        v.push(Frequency::Weekly);
    }
    v
}

/// A composed digest, for a dry run to describe.
pub struct Composed {
    pub mail: OutgoingMail,
    pub papers: usize,
}

/// Candidate lists shared by every subscriber of one run.
struct Candidates<'a> {
    app: &'a App,
    period: &'a Period,
    cache: HashMap<String, Vec<ListedPaper>>,
}

impl Candidates<'_> {
    /// Papers first published since the day before the period began.
    fn fresh(&self, v: Vec<ListedPaper>) -> Vec<ListedPaper> {
        let since = (self.period.from - Duration::days(1))
            .and_hms_opt(0, 0, 0)
            .map(|t| t.and_utc().timestamp())
            .unwrap_or(0);
        v.into_iter()
            .filter(|l| l.stored.paper.published_at().timestamp() >= since)
            .collect()
    }

    async fn get(&mut self, key: &str) -> Result<&[ListedPaper], AppError> {
        if !self.cache.contains_key(key) {
            let app = self.app;
            let v = if key == "trending" {
                app.store.trending_papers(0, 100).await?
            } else if key == "daily" {
                let (from, to) = (self.period.from, self.period.to);
                app.store
                    .daily_papers(from, to, DailySort::Trending, None, 0, 100)
                    .await?
            } else if let Some(cat) = key.strip_prefix("cat:") {
                self.fresh(app.store.recent_in_category(cat, 100).await?)
            } else if let Some(q) = key.strip_prefix("q:") {
                match app.search {
                    Some(_) => self.fresh(app.find_papers(q, 50).await?),
                    None => Vec::new(),
                }
            } else {
                Vec::new()
            };
            self.cache.insert(key.to_string(), v);
        }
        Ok(self.cache.get(key).map(Vec::as_slice).unwrap_or(&[]))
    }

    /// What `sub` asked for, each paper once, with why it was picked.
    async fn pick(&mut self, sub: &Subscriber) -> Result<Vec<(ListedPaper, String)>, AppError> {
        let mut wanted: Vec<(String, String, usize)> = Vec::new();
        if sub.prefs.trending_top > 0 {
            let n = sub.prefs.trending_top as usize;
            wanted.push(("trending".into(), "trending".into(), n));
        }
        if sub.prefs.daily_list {
            let why = "on the daily list".to_string();
            wanted.push(("daily".into(), why, MAX_PAPERS));
        }
        for c in &sub.prefs.categories {
            wanted.push((format!("cat:{c}"), format!("new in {c}"), 10));
        }
        for q in &sub.prefs.queries {
            wanted.push((format!("q:{q}"), format!("matches “{q}”"), 10));
        }
        let mut picked: Vec<(ListedPaper, String)> = Vec::new();
        for (key, why, n) in wanted {
            for l in self.get(&key).await?.iter().take(n) {
                if !picked
                    .iter()
                    .any(|(p, _)| p.stored.paper_id == l.stored.paper_id)
                {
                    picked.push((l.clone(), why.clone()));
                }
            }
        }
        Ok(picked)
    }
}

impl App {
    /// Composes one frequency's digests for the period ending `day` and
    /// queues them (or, with `dry_run`, hands each to `on_dry` instead).
    /// `progress(subscribers seen)` after each batch.
    pub async fn compose_digests(
        &self,
        frequency: Frequency,
        day: NaiveDate,
        dry_run: Option<&mut (dyn FnMut(Composed) + Send)>,
        mut progress: impl FnMut(u64) + Send,
    ) -> Result<ComposeSummary, AppError> {
        let mail = self.mail_settings()?;
        let letterhead: Letterhead<'_> = mail.letterhead(self);
        let period = Period::ending(frequency, day);
        let mut candidates = Candidates {
            app: self,
            period: &period,
            cache: HashMap::new(),
        };
        let mut dry_run = dry_run;
        let mut summary = ComposeSummary::default();
        let (mut after, mut seen) = (0, 0u64);
        loop {
            let subs = self.store.active_subscribers(frequency, after, 500).await?;
            let Some(last) = subs.last() else { break };
            after = last.subscriber_id.0;
            for sub in &subs {
                seen += 1;
                let mut picked = candidates.pick(sub).await?;
                if picked.is_empty() {
                    summary.empty += 1;
                    continue;
                }
                let ids: Vec<_> = picked.iter().map(|(l, _)| l.stored.paper_id).collect();
                let unsent = self.store.unsent_papers(sub.subscriber_id, &ids).await?;
                picked.retain(|(l, _)| unsent.contains(&l.stored.paper_id));
                picked.truncate(MAX_PAPERS);
                if picked.is_empty() {
                    summary.empty += 1;
                    continue;
                }
                let (out, papers) = letterhead.digest(sub, &period, &picked);
                if let Some(report) = dry_run.as_deref_mut() {
                    report(Composed {
                        mail: out,
                        papers: papers.len(),
                    });
                    summary.queued += 1;
                } else if self.store.enqueue_mail(out, &papers).await? {
                    summary.queued += 1;
                } else {
                    summary.already += 1;
                }
            }
            progress(seen);
        }
        Ok(summary)
    }

    /// Composes everything due today, as the scheduler does each morning.
    pub async fn compose_due_digests(&self) -> Result<ComposeSummary, AppError> {
        let today = self.today();
        let mut total = ComposeSummary::default();
        for f in due_on(today) {
            let s = self.compose_digests(f, today, None, |_| {}).await?;
            tracing::info!(
                frequency = f.as_str(),
                queued = s.queued,
                empty = s.empty,
                "digests composed"
            );
            total.add(s);
        }
        Ok(total)
    }
}
