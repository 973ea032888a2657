//! Periodic work inside `paperboy serve`. Only the node holding the
//! scheduler lease (in the store) runs it, so several web nodes never
//! harvest, refresh or send twice; when the holder dies its lease lapses
//! and another node takes over.
//!
//! The jobs, each idempotent:
//! - trending: recompute every stored trending key (every ten minutes);
//! - digests: compose the digests due today, once a day after `digest_hour`;
//! - outbox: send what is queued (every tick);
//! - harvest: each configured OAI-PMH set, daily after `harvest_hour_utc`,
//!   and at once for a set never harvested;
//! - stars: the GitHub star tracker's step (every tick, within its budget).
//!
//! Beside it, under leases of their own: the alert pass ([`run_alerts`])
//! and the full-text fetcher ([`run_texts`]).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, Timelike, Utc};

use crate::lease::JobLease;
use crate::ports::{Harvest, HarvestFailure, HarvestNews, Harvested};
use crate::{trending, App};

const LEASE: &str = "scheduler";
const TRENDING_EVERY: Duration = Duration::from_secs(600);

#[derive(Debug, Clone)]
pub struct SchedulerSettings {
    /// OAI-PMH sets to harvest.
    pub sets: Vec<String>,
    /// Hour (UTC) of the daily harvest, after arXiv's announcement.
    pub harvest_hour_utc: u32,
    /// Hour (in the instance's time zone) when digests are composed.
    pub digest_hour: u32,
    /// After a failed harvest, the next try this much later.
    pub harvest_retry: Duration,
    /// How often the lease is renewed and due work looked for.
    pub tick: Duration,
    /// How long the lease lasts unrenewed: a node that dies is replaced
    /// within about this long (plus a tick).
    pub lease_secs: i64,
}

/// One set's harvest as this node last saw it.
#[derive(Debug, Clone, PartialEq)]
pub struct SetHarvest {
    pub set: String,
    /// The run's `from` (the first harvest's window begins here).
    pub since: Option<NaiveDate>,
    /// Whether this is the set's first harvest (the store was empty of it).
    pub first: bool,
    /// Records stored by this run so far.
    pub records: u64,
    pub state: HarvestState,
    /// When the set last finished a run.
    pub finished_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum HarvestState {
    Running,
    Done,
    /// arXiv could not be reached (or answered nonsense): why, and when
    /// the next try is.
    Failed {
        error: String,
        next_try: DateTime<Utc>,
    },
}

/// The harvests of this node, shared by the scheduler and the pages.
#[derive(Debug, Default)]
pub struct HarvestStatus(Mutex<BTreeMap<String, SetHarvest>>);

impl HarvestStatus {
    fn update(&self, set: &str, f: impl FnOnce(&mut SetHarvest)) {
        let mut map = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let entry = map.entry(set.to_string()).or_insert_with(|| SetHarvest {
            set: set.to_string(),
            since: None,
            first: false,
            records: 0,
            state: HarvestState::Done,
            finished_at: None,
        });
        f(entry);
    }

    /// The sets this instance harvests, known before their first run (for
    /// `/metrics` on every node).
    pub fn register(&self, sets: &[String]) {
        for set in sets {
            self.update(set, |_| {});
        }
    }

    /// Every set's state, by name.
    pub fn sets(&self) -> Vec<SetHarvest> {
        let map = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.values().cloned().collect()
    }

    /// What a reader should be told: a first harvest under way, or arXiv
    /// out of reach. `None` when all is well.
    pub fn notice(&self) -> Option<String> {
        let mut lines = Vec::new();
        for s in self.sets() {
            let since = s.since.map(|d| format!(" since {d}")).unwrap_or_default();
            match &s.state {
                HarvestState::Running if s.first => lines.push(format!(
                    "Harvesting arXiv {}{since}: {} so far.",
                    s.set,
                    plural_papers(s.records)
                )),
                // The error itself (a URL, a network message) is for the
                // log and /metrics, not for readers.
                HarvestState::Failed { next_try, .. } => lines.push(format!(
                    "arXiv {} could not be reached just now; {} stored so far. Next try at {} UTC.",
                    s.set,
                    plural_papers(s.records),
                    next_try.format("%H:%M")
                )),
                _ => {}
            }
        }
        (!lines.is_empty()).then(|| lines.join(" "))
    }
}

/// "1 paper", "1,234 papers".
fn plural_papers(n: u64) -> String {
    format!(
        "{} {}",
        group_digits(n),
        if n == 1 { "paper" } else { "papers" }
    )
}

/// 1234567 → "1,234,567".
pub fn group_digits(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Time from `now` to the next `hour`:00 UTC.
pub fn until_next_harvest(now: DateTime<Utc>, hour: u32) -> Duration {
    let today = now
        .date_naive()
        .and_hms_opt(hour.min(23), 0, 0)
        .map(|t| t.and_utc());
    let next = match today {
        Some(t) if t > now => t,
        Some(t) => t + chrono::Duration::days(1),
        None => now + chrono::Duration::days(1),
    };
    (next - now).to_std().unwrap_or(Duration::from_secs(60))
}

/// Who holds the lease: this host and process.
fn holder() -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "node".into());
    format!("{host}-{}", std::process::id())
}

/// When each job last ran on this node.
#[derive(Default)]
struct Runs {
    trending: Option<Instant>,
    digest_day: Option<NaiveDate>,
    harvest_day: Option<NaiveDate>,
}

pub struct Scheduler {
    pub app: App,
    pub harvester: Arc<dyn Harvest>,
    pub settings: SchedulerSettings,
}

/// The alert pass: how often it looks for news, and its own lease (so one
/// node writes alerts, and a long digest run does not hold them up).
const ALERTS_EVERY: Duration = Duration::from_secs(3);
const ALERTS_LEASE: &str = "alerts";

/// Runs the alert pass forever, on the node holding the alerts lease.
pub async fn run_alerts(app: App) {
    let me = holder();
    loop {
        match app.store.try_lease(ALERTS_LEASE, &me, 60).await {
            Ok(true) => match app.alert_pass().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(alerts = n, "alerts written"),
                Err(e) => tracing::error!(error = %e, "the alert pass failed"),
            },
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "cannot renew the alerts lease"),
        }
        tokio::time::sleep(ALERTS_EVERY).await;
    }
}

const TEXTS_LEASE: &str = "fulltext";
/// How often an idle (or spent) fetcher looks again.
const TEXTS_IDLE: Duration = Duration::from_secs(5);
/// After arXiv refuses: the first wait, doubled each time, and the longest.
const TEXTS_BACKOFF: Duration = Duration::from_secs(60);
const TEXTS_BACKOFF_MAX: Duration = Duration::from_secs(3600);

/// Fetches papers' full text forever, one at a time (the client spaces
/// requests to arXiv), on the node holding the full-text lease. When arXiv
/// refuses (403, 429, 5xx) it waits — `Retry-After`, else a backoff that
/// doubles up to an hour — and the refused paper stays due; nothing is
/// recorded for it, so the day's budget is not spent on refusals.
pub async fn run_texts(app: App) {
    let me = holder();
    let mut backoff = TEXTS_BACKOFF;
    let mut since_resolve = 0u32;
    loop {
        let wait = match app.store.try_lease(TEXTS_LEASE, &me, 120).await {
            Ok(true) => match app.fetch_next_text().await {
                Ok(crate::citations::TextStep::Fetched {
                    id,
                    status,
                    references,
                }) => {
                    tracing::info!(%id, status = status.as_str(), references, "full text fetched");
                    backoff = TEXTS_BACKOFF;
                    since_resolve += 1;
                    if since_resolve >= 50 {
                        since_resolve = 0;
                        resolve_waiting(&app).await;
                    }
                    Duration::ZERO
                }
                Ok(crate::citations::TextStep::Idle)
                | Ok(crate::citations::TextStep::BudgetSpent) => {
                    since_resolve = 0;
                    resolve_waiting(&app).await;
                    TEXTS_IDLE
                }
                Ok(crate::citations::TextStep::Refused {
                    reason,
                    retry_after,
                }) => {
                    let wait = retry_after.unwrap_or(backoff).min(TEXTS_BACKOFF_MAX);
                    backoff = (backoff * 2).min(TEXTS_BACKOFF_MAX);
                    tracing::warn!(%reason, wait_secs = wait.as_secs(), "arXiv refused a full text; waiting");
                    if let Some(t) = &app.texts {
                        let until =
                            Utc::now() + chrono::Duration::from_std(wait).unwrap_or_default();
                        if let Ok(mut p) = t.progress.lock() {
                            p.refused = Some((reason, until));
                        }
                    }
                    wait
                }
                Err(e) => {
                    tracing::error!(error = %e, "the full-text fetcher failed");
                    TEXTS_IDLE
                }
            },
            Ok(false) => TEXTS_IDLE,
            Err(e) => {
                tracing::warn!(error = %e, "cannot renew the full-text lease");
                TEXTS_IDLE
            }
        };
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }
}

async fn resolve_waiting(app: &App) {
    match app.resolve_waiting_references().await {
        Ok(0) => {}
        Ok(n) => tracing::info!(references = n, "references resolved to papers that arrived"),
        Err(e) => tracing::warn!(error = %e, "resolving waiting references failed"),
    }
}

/// What one set's harvest came to.
#[derive(Debug)]
pub enum SetRun {
    Done(Harvested),
    /// Another node took the lease and goes on (not a failure).
    HandedOver(String),
    /// Tried again at `next_try` (by the scheduler).
    Failed {
        error: String,
        next_try: DateTime<Utc>,
    },
}

impl App {
    /// Harvests `sets` in turn from their checkpoints (or from `from`),
    /// keeping this node's harvest status (what `/about`, the notice and
    /// `/metrics` show) as it goes: the scheduler's daily harvest and
    /// `paperboy ingest` both run it. Under `lease`, renewed before every
    /// page and between sets, the run stops once another node holds it.
    /// A set that fails is marked to be tried again `retry` later, and the
    /// next set is harvested all the same.
    pub async fn harvest_sets(
        &self,
        source: &dyn Harvest,
        sets: &[String],
        from: Option<NaiveDate>,
        on: &(dyn for<'n> Fn(HarvestNews<'n>) + Send + Sync),
        lease: Option<&JobLease>,
        retry: chrono::Duration,
    ) -> Vec<(String, SetRun)> {
        let status = &self.harvest;
        let today = Utc::now().date_naive();
        let mut out = Vec::new();
        for set in sets {
            let saved = self.store.harvest_checkpoint(set).await.ok().flatten();
            let first = saved.as_ref().is_none_or(|c| c.last_datestamp.is_none());
            let since = from
                .or_else(|| source.first_from(saved.as_ref(), today))
                .or(saved.as_ref().and_then(|c| c.run_from.or(c.last_datestamp)));
            status.update(set, |s| {
                s.first = first;
                s.since = since;
                // A retry goes on counting what the failed run stored.
                if !matches!(s.state, HarvestState::Failed { .. }) {
                    s.records = 0;
                }
                s.state = HarvestState::Running;
            });
            let counting = |e: HarvestNews<'_>| {
                if let HarvestNews::Page { set, records, .. } = e {
                    status.update(set, |s| s.records += records);
                }
                on(e);
            };
            let run = match source.harvest_set(set, from, &counting, lease).await {
                Ok(s) => {
                    status.update(set, |st| {
                        st.state = HarvestState::Done;
                        st.finished_at = Some(Utc::now());
                    });
                    SetRun::Done(s)
                }
                Err(HarvestFailure::HandedOver(e)) => {
                    status.update(set, |st| st.state = HarvestState::Done);
                    SetRun::HandedOver(e)
                }
                Err(HarvestFailure::Failed(error)) => {
                    let next_try = Utc::now() + retry;
                    status.update(set, |st| {
                        st.state = HarvestState::Failed {
                            error: short_error(&error),
                            next_try,
                        }
                    });
                    SetRun::Failed { error, next_try }
                }
            };
            let over = matches!(run, SetRun::HandedOver(_));
            out.push((set.clone(), run));
            // The next set only while the lease is still ours.
            if over {
                break;
            }
            if let Some(l) = lease {
                if !self.renew_lease(l).await {
                    break;
                }
            }
        }
        out
    }
}

impl Scheduler {
    /// Runs forever: renews the lease every tick and, while holding it,
    /// runs what is due.
    pub async fn run(self) {
        let me = holder();
        let mut runs = Runs::default();
        loop {
            match self
                .app
                .store
                .try_lease(LEASE, &me, self.settings.lease_secs)
                .await
            {
                Ok(true) => self.tick(&me, &mut runs).await,
                Ok(false) => tracing::debug!("another node holds the scheduler lease"),
                Err(e) => tracing::warn!(error = %e, "cannot renew the scheduler lease"),
            }
            tokio::time::sleep(self.settings.tick).await;
        }
    }

    async fn tick(&self, me: &str, runs: &mut Runs) {
        if runs.trending.is_none_or(|t| t.elapsed() >= TRENDING_EVERY) {
            runs.trending = Some(Instant::now());
            self.refresh_trending().await;
            if !self.renew(me).await {
                return;
            }
        }
        let local = Utc::now().with_timezone(&self.app.settings.timezone);
        let digests_due = self.app.mail.as_ref().is_some_and(|m| m.mailer.is_some())
            && local.hour() >= self.settings.digest_hour
            && runs.digest_day != Some(local.date_naive());
        let sent = if digests_due {
            runs.digest_day = Some(local.date_naive());
            let due = crate::digest::due_on(self.app.today());
            match self
                .app
                .run_digests(&due, Some(&self.lease(me)), |_, _| {})
                .await
            {
                Ok(r) if r.composed.handed_over => return,
                Ok(r) => Ok(r.sent),
                Err(e) => {
                    tracing::error!(error = %e, "the digest run failed");
                    self.app.send_outbox().await
                }
            }
        } else {
            self.app.send_outbox().await
        };
        match sent {
            Ok(Some(s)) if s.sent + s.retried + s.failed > 0 => tracing::info!(
                sent = s.sent,
                retried = s.retried,
                failed = s.failed,
                "outbox drained"
            ),
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "draining the outbox failed"),
        }
        if !self.renew(me).await {
            return;
        }
        if self.app.stars.is_some() {
            match self.app.refresh_stars(Utc::now().timestamp()).await {
                Ok(s) if s.spent + s.unchanged > 0 => tracing::info!(
                    updated = s.updated,
                    unchanged = s.unchanged,
                    moved = s.moved,
                    gone = s.gone,
                    failed = s.failed,
                    "star counts refreshed"
                ),
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "refreshing star counts failed"),
            }
        }
        self.harvest_if_due(me, runs).await;
    }

    async fn refresh_trending(&self) {
        let app = &self.app;
        match trending::refresh_all(&*app.store, &app.scales, Utc::now()).await {
            Ok(n) => tracing::info!(papers = n, "trending keys refreshed"),
            Err(e) => tracing::error!(error = %e, "trending refresh failed"),
        }
    }

    async fn harvest_if_due(&self, me: &str, runs: &mut Runs) {
        let now = Utc::now();
        let due_today = now.hour() >= self.settings.harvest_hour_utc
            && runs.harvest_day != Some(now.date_naive());
        let status = &self.app.harvest;
        let mut never = false;
        for set in &self.settings.sets {
            if matches!(self.app.store.harvest_checkpoint(set).await, Ok(None)) {
                never = true;
            }
        }
        // A failed run is tried again when its time comes (also for a set
        // whose first run stopped half-way, which has a checkpoint).
        let retry_due = status
            .sets()
            .iter()
            .any(|s| matches!(&s.state, HarvestState::Failed { next_try, .. } if *next_try <= now));
        if !(due_today || never || retry_due) {
            return;
        }
        runs.harvest_day = Some(now.date_naive());
        let retry = chrono::Duration::from_std(self.settings.harvest_retry)
            .unwrap_or(chrono::Duration::minutes(15));
        let on = |e: HarvestNews<'_>| {
            if let HarvestNews::Rejected(msg) = e {
                tracing::warn!(%msg, "harvest rejected a record")
            }
        };
        let runs = self
            .app
            .harvest_sets(
                &*self.harvester,
                &self.settings.sets,
                None,
                &on,
                Some(&self.lease(me)),
                retry,
            )
            .await;
        for (set, run) in runs {
            match run {
                SetRun::Done(s) => tracing::info!(
                    set,
                    new = s.new,
                    updated = s.updated,
                    deleted = s.deleted,
                    rejected = s.rejected,
                    "harvest finished"
                ),
                SetRun::HandedOver(e) => tracing::warn!(set, error = %e, "harvest handed over"),
                SetRun::Failed { error, next_try } => {
                    tracing::error!(set, %error, %next_try, "harvest failed")
                }
            }
        }
    }

    /// The scheduler's lease, as held by `me`.
    fn lease(&self, me: &str) -> JobLease {
        JobLease {
            name: LEASE.into(),
            holder: me.into(),
            secs: self.settings.lease_secs,
        }
    }

    /// Renews the lease between the steps of a long run; false when
    /// another node holds it now (the run stops there).
    async fn renew(&self, me: &str) -> bool {
        self.app.renew_lease(&self.lease(me)).await
    }
}

/// An error for a reader: its first line, at most 160 characters.
fn short_error(e: &str) -> String {
    let line = e.lines().next().unwrap_or(e);
    match line.char_indices().nth(160) {
        Some((i, _)) => format!("{}…", &line[..i]),
        None => line.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn next_harvest_is_today_or_tomorrow() {
        let at = |h, m| Utc.with_ymd_and_hms(2026, 1, 5, h, m, 0).unwrap();
        assert_eq!(
            until_next_harvest(at(1, 30), 2),
            Duration::from_secs(30 * 60)
        );
        assert_eq!(
            until_next_harvest(at(2, 0), 2),
            Duration::from_secs(24 * 3600)
        );
        assert_eq!(
            until_next_harvest(at(23, 0), 2),
            Duration::from_secs(3 * 3600)
        );
    }
}
