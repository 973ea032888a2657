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
use paperboy_mail::compose::{Letterhead, Period, FOR_YOU, LIBRARY, MAX_PAPERS};
use paperboy_store::{DailySort, Frequency, ListedPaper, OutgoingMail, Subscriber};

use crate::lease::JobLease;
use crate::ports::{DrainSummary, SendError};
use crate::{App, AppError};

/// What [`App::run_digests`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestRun {
    pub composed: ComposeSummary,
    /// What the outbox's sending did (`None`: no mail server, or the run
    /// handed over).
    pub sent: Option<DrainSummary>,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ComposeSummary {
    pub queued: u64,
    /// Subscribers with nothing new.
    pub empty: u64,
    /// Digests queued by an earlier run.
    pub already: u64,
    /// The run stopped because another node took its lease (and goes on
    /// with it).
    pub handed_over: bool,
}

impl ComposeSummary {
    pub fn add(&mut self, o: ComposeSummary) {
        self.queued += o.queued;
        self.empty += o.empty;
        self.already += o.already;
        self.handed_over |= o.handed_over;
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

/// Papers a digest's For-you section lists, at most.
pub const FOR_YOU_PAPERS: usize = 5;
/// Alerts a digest's For-you section lists, at most.
pub const FOR_YOU_ALERTS: usize = 10;
/// A member's newest notifications a digest looks through (for alerts and
/// the library's news).
const RECENT_NOTIFICATIONS: u32 = 200;
/// Papers a digest's Your-library section lists, at most.
pub const LIBRARY_PAPERS: usize = 10;

/// What the library watch told a reader, as a digest lists it: one entry a
/// paper (its events joined), and the notifications it carries.
struct LibraryNews {
    picks: Vec<(ListedPaper, String)>,
    notifications: Vec<i64>,
}

/// A watch notification as the digest's record of what it sent keeps it:
/// below zero, apart from papers (`digest_papers` holds both, so a
/// notification goes out once per subscriber like a paper does).
fn sent_key(notification_id: i64) -> paperboy_core::PaperId {
    paperboy_core::PaperId(-notification_id)
}

impl App {
    /// The member's alerts (follows) of the period, each with its paper,
    /// for the digest's For-you section.
    /// `recent`: the member's newest notifications ([`RECENT_NOTIFICATIONS`]).
    async fn period_alerts(
        &self,
        recent: &[paperboy_store::Notification],
        period: &Period,
    ) -> Result<Vec<(ListedPaper, String)>, AppError> {
        let since = (period.from - Duration::days(1))
            .and_hms_opt(0, 0, 0)
            .map(|t| t.and_utc())
            .unwrap_or_default();
        let alerts: Vec<&paperboy_store::Notification> = recent
            .iter()
            .filter(|n| n.kind.starts_with("follow_") && n.created_at >= since)
            .take(FOR_YOU_ALERTS)
            .collect();
        let ids: Vec<paperboy_core::ArxivId> =
            alerts.iter().filter_map(|n| n.arxiv_id.clone()).collect();
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let papers: HashMap<paperboy_core::ArxivId, ListedPaper> = self.papers_by_id(&ids).await?;
        let mut out: Vec<(ListedPaper, String)> = Vec::new();
        for n in alerts {
            let Some(p) = n.arxiv_id.as_ref().and_then(|id| papers.get(id)) else {
                continue;
            };
            if out
                .iter()
                .any(|(l, _)| l.stored.paper_id == p.stored.paper_id)
            {
                continue;
            }
            out.push((p.clone(), format!("{FOR_YOU}{}", n.text)));
        }
        Ok(out)
    }

    /// The library watch's news for a member not yet mailed to `sub`: what
    /// it was told since the period before this one began (among `recent`,
    /// its newest notifications).
    async fn library_news(
        &self,
        recent: &[paperboy_store::Notification],
        sub: &Subscriber,
        period: &Period,
    ) -> Result<LibraryNews, AppError> {
        let days = match period.frequency {
            Frequency::Daily => 1,
            Frequency::Weekly => 7,
        };
        let since = (period.from - Duration::days(days))
            .and_hms_opt(0, 0, 0)
            .map(|t| t.and_utc())
            .unwrap_or_default();
        let mut told: Vec<paperboy_store::Notification> = recent
            .iter()
            .filter(|n| n.kind.starts_with(crate::watch::KIND_PREFIX) && n.created_at >= since)
            .cloned()
            .collect();
        if told.is_empty() {
            return Ok(LibraryNews {
                picks: Vec::new(),
                notifications: Vec::new(),
            });
        }
        let keys: Vec<_> = told.iter().map(|n| sent_key(n.notification_id)).collect();
        let unsent = self.store.unsent_papers(sub.subscriber_id, &keys).await?;
        told.retain(|n| unsent.contains(&sent_key(n.notification_id)));
        // Oldest first within a paper; papers in the order of their news.
        told.reverse();
        let ids: Vec<paperboy_core::ArxivId> =
            told.iter().filter_map(|n| n.arxiv_id.clone()).collect();
        let papers: HashMap<paperboy_core::ArxivId, ListedPaper> = self.papers_by_id(&ids).await?;
        let mut picks: Vec<(ListedPaper, String)> = Vec::new();
        let mut notifications = Vec::new();
        for n in told {
            let Some(p) = n.arxiv_id.as_ref().and_then(|id| papers.get(id)) else {
                continue;
            };
            let full = picks.len() >= LIBRARY_PAPERS;
            match picks
                .iter_mut()
                .find(|(l, _)| l.stored.paper_id == p.stored.paper_id)
            {
                Some((_, why)) => {
                    why.push_str("; ");
                    why.push_str(&n.text);
                }
                None if !full => picks.push((p.clone(), format!("{LIBRARY}{}", n.text))),
                None => continue,
            }
            notifications.push(n.notification_id);
        }
        Ok(LibraryNews {
            picks,
            notifications,
        })
    }

    /// The For-you picks of a member among `among` (the period's new
    /// papers), each with its reason (prefixed for the digest's section).
    async fn for_you(
        &self,
        user: paperboy_core::UserId,
        among: &[paperboy_core::ArxivId],
        n: usize,
    ) -> Result<Vec<(ListedPaper, String)>, AppError> {
        let (Some(search), false) = (&self.search, among.is_empty()) else {
            return Ok(Vec::new());
        };
        let (taste, exclude) = self.taste_of(user, None).await?;
        let picks = search.recommend_among(&taste, among, &exclude, n).await?;
        let mut ids: Vec<paperboy_core::ArxivId> =
            picks.iter().map(|p| p.arxiv_id.clone()).collect();
        ids.extend(picks.iter().filter_map(|p| p.similar_to.first().cloned()));
        let papers: HashMap<paperboy_core::ArxivId, ListedPaper> = self.papers_by_id(&ids).await?;
        Ok(picks
            .into_iter()
            .filter_map(|p| {
                let l = papers.get(&p.arxiv_id)?.clone();
                let near = p
                    .similar_to
                    .first()
                    .and_then(|s| papers.get(s))
                    .map(|s| {
                        format!(
                            "close to “{}”",
                            paperboy_core::text::collapse_whitespace(&s.stored.paper.title)
                        )
                    })
                    .unwrap_or_else(|| "near your library".into());
                let terms = if p.terms.is_empty() {
                    String::new()
                } else {
                    format!("; shares {}", p.terms.join(", "))
                };
                Some((l, format!("{FOR_YOU}{near}{terms}")))
            })
            .collect())
    }

    /// A member's own sections: their library's news, and their For-you
    /// picks followed by the period's alerts. `fresh` holds the period's
    /// new papers, read for the first member who needs them.
    async fn member_picks(
        &self,
        reader: paperboy_core::UserId,
        sub: &Subscriber,
        period: &Period,
        fresh: &mut Option<Vec<paperboy_core::ArxivId>>,
    ) -> Result<(LibraryNews, Vec<(ListedPaper, String)>), AppError> {
        // Read once for both the library's news and the alerts.
        let recent = self
            .store
            .notifications(reader, RECENT_NOTIFICATIONS)
            .await?;
        let news = self.library_news(&recent, sub, period).await?;
        if fresh.is_none() && self.search.is_some() {
            let since = (period.from - Duration::days(1))
                .and_hms_opt(0, 0, 0)
                .map(|t| t.and_utc().timestamp())
                .unwrap_or(0);
            *fresh = Some(self.store.published_since(since, 100_000).await?);
        }
        let among = fresh.as_deref().unwrap_or(&[]);
        let mut mine = self.for_you(reader, among, FOR_YOU_PAPERS).await?;
        for a in self.period_alerts(&recent, period).await? {
            if !mine
                .iter()
                .any(|(m, _)| m.stored.paper_id == a.0.stored.paper_id)
            {
                mine.push(a);
            }
        }
        Ok((news, mine))
    }

    /// Composes one frequency's digests for the period ending `day` and
    /// queues them (or, with `dry_run`, hands each to `on_dry` instead).
    /// `progress(subscribers seen)` after each batch.
    pub async fn compose_digests(
        &self,
        frequency: Frequency,
        day: NaiveDate,
        dry_run: Option<&mut (dyn FnMut(Composed) + Send)>,
        progress: impl FnMut(u64) + Send,
    ) -> Result<ComposeSummary, AppError> {
        self.compose(frequency, day, dry_run, None, progress).await
    }

    /// [`App::compose_digests`], renewing `lease` before each batch of
    /// subscribers and stopping once another node holds it (that node's
    /// run queues the rest: what this one queued is not queued twice).
    async fn compose(
        &self,
        frequency: Frequency,
        day: NaiveDate,
        dry_run: Option<&mut (dyn FnMut(Composed) + Send)>,
        lease: Option<&JobLease>,
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
        // The period's new papers, for the For-you sections (read once, if
        // any subscriber has a library).
        let mut fresh: Option<Vec<paperboy_core::ArxivId>> = None;
        loop {
            if let Some(lease) = lease {
                if !self.renew_lease(lease).await {
                    summary.handed_over = true;
                    break;
                }
            }
            let subs = self.store.active_subscribers(frequency, after, 500).await?;
            let Some(last) = subs.last() else { break };
            after = last.subscriber_id.0;
            // Members among them: their library's news, and (with search)
            // their For-you picks.
            let emails: Vec<String> = subs.iter().map(|s| s.email.clone()).collect();
            let readers: HashMap<String, paperboy_core::UserId> = self
                .store
                .readers_by_email(&emails)
                .await?
                .into_iter()
                .map(|(e, u)| (e.to_lowercase(), u))
                .collect();
            for sub in &subs {
                seen += 1;
                let mut picked = candidates.pick(sub).await?;
                let mut library = None;
                if let Some(reader) = readers.get(&sub.email.to_lowercase()) {
                    let (news, mine) = self.member_picks(*reader, sub, &period, &mut fresh).await?;
                    library = Some(news);
                    picked.retain(|(l, _)| {
                        !mine
                            .iter()
                            .any(|(m, _)| m.stored.paper_id == l.stored.paper_id)
                    });
                    picked.splice(0..0, mine);
                }
                if picked.is_empty() && library.as_ref().is_none_or(|n| n.picks.is_empty()) {
                    summary.empty += 1;
                    continue;
                }
                let ids: Vec<_> = picked.iter().map(|(l, _)| l.stored.paper_id).collect();
                let unsent = self.store.unsent_papers(sub.subscriber_id, &ids).await?;
                picked.retain(|(l, _)| unsent.contains(&l.stored.paper_id));
                // The library's news goes first, whether or not its papers
                // were mailed before (the news is new).
                let mut told = Vec::new();
                if let Some(news) = library.filter(|n| !n.picks.is_empty()) {
                    picked.retain(|(l, _)| {
                        !news
                            .picks
                            .iter()
                            .any(|(m, _)| m.stored.paper_id == l.stored.paper_id)
                    });
                    picked.splice(0..0, news.picks);
                    told = news.notifications;
                }
                picked.truncate(MAX_PAPERS);
                if picked.is_empty() {
                    summary.empty += 1;
                    continue;
                }
                let (out, mut papers) = letterhead.digest(sub, &period, &picked);
                papers.extend(told.into_iter().map(sent_key));
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

    /// Composes everything due today, as the scheduler does each morning,
    /// under `lease` when one is given (see [`App::renew_lease`]).
    pub async fn compose_due_digests(
        &self,
        lease: Option<&JobLease>,
    ) -> Result<ComposeSummary, AppError> {
        let today = self.today();
        self.compose_all(&due_on(today), today, lease, |_, _| {})
            .await
    }

    /// A digest run, as the scheduler makes it each morning and `paperboy
    /// digest` on demand: composes `frequencies`' digests for today
    /// (under `lease` when given), then sends the outbox. Nothing is sent
    /// by a run that handed over (the node holding the lease sends), and
    /// nothing when no mail server is set up (`sent` is `None`: the
    /// digests wait in the outbox). `progress(frequency, subscribers seen)`.
    pub async fn run_digests(
        &self,
        frequencies: &[Frequency],
        lease: Option<&JobLease>,
        progress: impl FnMut(Frequency, u64) + Send,
    ) -> Result<DigestRun, AppError> {
        let composed = self
            .compose_all(frequencies, self.today(), lease, progress)
            .await?;
        let sent = if composed.handed_over {
            None
        } else {
            self.send_outbox().await?
        };
        Ok(DigestRun { composed, sent })
    }

    /// Sends what the outbox holds; `None` without a mail server.
    pub async fn send_outbox(&self) -> Result<Option<DrainSummary>, AppError> {
        let Some(mailer) = self.mail.as_ref().and_then(|m| m.mailer.clone()) else {
            return Ok(None);
        };
        match mailer.drain().await {
            Ok(s) => Ok(Some(s)),
            Err(SendError::Store(e)) => Err(e.into()),
            Err(e) => Err(AppError::Upstream {
                service: "the mail server",
                detail: e.to_string(),
            }),
        }
    }

    async fn compose_all(
        &self,
        frequencies: &[Frequency],
        day: NaiveDate,
        lease: Option<&JobLease>,
        mut progress: impl FnMut(Frequency, u64) + Send,
    ) -> Result<ComposeSummary, AppError> {
        let mut total = ComposeSummary::default();
        for &f in frequencies {
            let s = self
                .compose(f, day, None, lease, |n| progress(f, n))
                .await?;
            tracing::info!(
                frequency = f.as_str(),
                queued = s.queued,
                empty = s.empty,
                "digests composed"
            );
            let over = s.handed_over;
            total.add(s);
            if over {
                break;
            }
        }
        Ok(total)
    }
}
