//! `paperboy digest`: compose the digests due now and send the outbox.

use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use chrono::Datelike;
use clap::Args;
use paperboy_mail::compose::{Composer, Finder, Period};
use paperboy_store::{Frequency, Store};

use crate::config::Config;

#[derive(Debug, Args)]
pub struct Opts {
    /// Only this frequency (default: daily, and weekly on Mondays).
    #[arg(long, value_parser = ["daily", "weekly"])]
    pub frequency: Option<String>,
    /// Print what would be sent; queue and send nothing.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Default, Clone, Copy)]
pub struct ComposeSummary {
    pub queued: u64,
    pub empty: u64,
    pub already: u64,
}

/// Composes and queues one frequency's digests for the period ending today.
pub async fn compose(
    store: &dyn Store,
    finder: Option<&dyn Finder>,
    config: &Config,
    mail: &paperboy_web::MailSettings,
    frequency: Frequency,
    dry_run: bool,
    mut progress: impl FnMut(u64),
) -> anyhow::Result<ComposeSummary> {
    let today = chrono::Utc::now()
        .with_timezone(&config.timezone()?)
        .date_naive();
    let period = Period::ending(frequency, today);
    let mut composer = Composer::new(
        store,
        finder,
        &mail.signer,
        &config.base_url,
        &mail.from,
        &config.instance_name,
    );
    let mut summary = ComposeSummary::default();
    let mut after = 0;
    let mut seen = 0u64;
    loop {
        let subs = store.active_subscribers(frequency, after, 500).await?;
        let Some(last) = subs.last() else { break };
        after = last.subscriber_id.0;
        for sub in &subs {
            seen += 1;
            match composer.digest(sub, &period).await? {
                None => summary.empty += 1,
                Some((mail, papers)) if dry_run => {
                    let subject = mail
                        .message
                        .lines()
                        .find(|l| l.starts_with("Subject: "))
                        .unwrap_or("")
                        .to_string();
                    println!(
                        "would send to {}: {} papers [{}] {subject}",
                        mail.recipient,
                        papers.len(),
                        mail.dedupe_key
                    );
                    summary.queued += 1;
                }
                Some((mail, papers)) => {
                    if store.enqueue_mail(mail, &papers).await? {
                        summary.queued += 1;
                    } else {
                        summary.already += 1;
                    }
                }
            }
        }
        progress(seen);
    }
    Ok(summary)
}

/// The frequencies due today: daily always, weekly on Mondays.
pub fn due_today(config: &Config) -> anyhow::Result<Vec<Frequency>> {
    let today = chrono::Utc::now()
        .with_timezone(&config.timezone()?)
        .date_naive();
    let mut v = vec![Frequency::Daily];
    if today.weekday() == chrono::Weekday::Mon {
        v.push(Frequency::Weekly);
    }
    Ok(v)
}

pub async fn run(opts: Opts, config: Config) -> anyhow::Result<()> {
    let started = Instant::now();
    let store = crate::store::open(&config).await?;
    let mail = config.mail_settings()?;
    let index = crate::search::open_index(&config)?;
    if index.is_writable() {
        paperboy_search::catch_up(&*store, &index, |_| {})
            .await
            .context("bringing the keyword index up to date")?;
    }
    let finder = crate::search::IndexFinder(index);
    let frequencies = match opts.frequency.as_deref() {
        Some(f) => vec![Frequency::parse(f).context("frequency")?],
        None => due_today(&config)?,
    };
    let bar = indicatif::ProgressBar::new_spinner();
    let mut total = ComposeSummary::default();
    for f in frequencies {
        let s = compose(
            &*store,
            Some(&finder),
            &config,
            &mail,
            f,
            opts.dry_run,
            |n| bar.set_message(format!("{}: {n} subscribers", f.as_str())),
        )
        .await?;
        total.queued += s.queued;
        total.empty += s.empty;
        total.already += s.already;
    }
    bar.finish_and_clear();
    if opts.dry_run {
        println!(
            "dry run: {} digests would be sent, {} subscribers have nothing new",
            total.queued, total.empty
        );
        return Ok(());
    }
    let sent = match &mail.smtp {
        Some(smtp) => paperboy_mail::drain_outbox_with_lease(
            &*store,
            smtp,
            &mail.from,
            100,
            config.mail_claim_secs,
        )
        .await
        .map_err(anyhow::Error::msg)?,
        None => anyhow::bail!(
            "no smtp_url configured: {} digests are queued and wait for one",
            total.queued
        ),
    };
    println!(
        "composed {} digests ({} with nothing new, {} already queued), sent {}, retrying {}, failed {} in {:.1}s",
        total.queued,
        total.empty,
        total.already,
        sent.sent,
        sent.retried,
        sent.failed,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Used by the scheduler: compose what is due and drain the outbox.
pub async fn scheduled(
    store: Arc<dyn Store>,
    finder: Option<Arc<dyn Finder>>,
    config: &Config,
) -> anyhow::Result<()> {
    let mail = config.mail_settings()?;
    for f in due_today(config)? {
        let s = compose(&*store, finder.as_deref(), config, &mail, f, false, |_| {}).await?;
        tracing::info!(
            frequency = f.as_str(),
            queued = s.queued,
            empty = s.empty,
            "digests composed"
        );
    }
    Ok(())
}
