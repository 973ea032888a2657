//! Periodic work inside `paperboy serve`. Only the node holding the
//! scheduler lease runs it, so several web nodes never harvest twice.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Timelike, Utc};
use paperboy_store::Store;

use crate::config::Config;

const LEASE: &str = "scheduler";
const LEASE_TTL_SECS: i64 = 120;
const TRENDING_EVERY: Duration = Duration::from_secs(600);

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

fn holder() -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "node".into());
    format!("{host}-{}", std::process::id())
}

/// Runs forever: renews the lease every minute; the holder harvests every
/// configured set at start (when never harvested) and then daily.
pub async fn run(
    config: Config,
    store: Arc<dyn Store>,
    scales: Arc<paperboy_web::trending::Scales>,
    finder: Option<Arc<dyn paperboy_mail::compose::Finder>>,
) {
    let me = holder();
    let harvester = match crate::cmd::ingest::harvester(&config, store.clone()) {
        Ok(h) => h,
        Err(e) => {
            tracing::error!(error = %e, "scheduler cannot start");
            return;
        }
    };
    let mut last_harvest_day = None;
    let mut last_trending: Option<std::time::Instant> = None;
    let mut last_digest_day = None;
    let mail = config.mail_settings().ok();
    loop {
        match store.try_lease(LEASE, &me, LEASE_TTL_SECS).await {
            Ok(true) => {
                if last_trending.is_none_or(|t| t.elapsed() >= TRENDING_EVERY) {
                    last_trending = Some(std::time::Instant::now());
                    match paperboy_web::trending::refresh_all(&*store, &scales, Utc::now()).await {
                        Ok(n) => tracing::info!(papers = n, "trending keys refreshed"),
                        Err(e) => tracing::error!(error = %e, "trending refresh failed"),
                    }
                }
                if let Some(smtp) = mail
                    .as_ref()
                    .and_then(|m| m.smtp.as_ref().map(|s| (s, m.from.as_str())))
                {
                    let local =
                        Utc::now().with_timezone(&config.timezone().unwrap_or(chrono_tz::UTC));
                    if local.hour() >= config.digest_hour
                        && last_digest_day != Some(local.date_naive())
                    {
                        last_digest_day = Some(local.date_naive());
                        if let Err(e) =
                            crate::cmd::digest::scheduled(store.clone(), finder.clone(), &config)
                                .await
                        {
                            tracing::error!(error = %e, "composing digests failed");
                        }
                    }
                    match paperboy_mail::drain_outbox_with_lease(
                        &*store,
                        smtp.0,
                        smtp.1,
                        100,
                        config.mail_claim_secs,
                    )
                    .await
                    {
                        Ok(s) if s.sent + s.retried + s.failed > 0 => {
                            tracing::info!(
                                sent = s.sent,
                                retried = s.retried,
                                failed = s.failed,
                                "outbox drained"
                            )
                        }
                        Ok(_) => {}
                        Err(e) => tracing::error!(error = %e, "draining the outbox failed"),
                    }
                }
                let now = Utc::now();
                let due_today = now.hour() >= config.harvest_hour_utc
                    && last_harvest_day != Some(now.date_naive());
                let mut never = false;
                for set in &config.arxiv_sets {
                    if matches!(store.harvest_checkpoint(set).await, Ok(None)) {
                        never = true;
                    }
                }
                if due_today || never {
                    last_harvest_day = Some(now.date_naive());
                    for set in &config.arxiv_sets {
                        let on_event = |e: paperboy_arxiv::harvest::HarvestEvent<'_>| {
                            if let paperboy_arxiv::harvest::HarvestEvent::Rejected(msg) = e {
                                tracing::warn!(%msg, "harvest rejected a record");
                            }
                        };
                        match harvester.harvest_set(set, None, &on_event).await {
                            Ok(s) => tracing::info!(
                                set,
                                new = s.new,
                                updated = s.updated,
                                deleted = s.deleted,
                                rejected = s.rejected,
                                "harvest finished"
                            ),
                            Err(e) => tracing::error!(set, error = %e, "harvest failed"),
                        }
                        let _ = store.try_lease(LEASE, &me, LEASE_TTL_SECS).await;
                    }
                }
            }
            Ok(false) => tracing::debug!("another node holds the scheduler lease"),
            Err(e) => tracing::warn!(error = %e, "cannot renew the scheduler lease"),
        }
        tokio::time::sleep(Duration::from_secs(60)).await;
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
