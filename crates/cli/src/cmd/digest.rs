//! `paperboy digest`: compose the digests due now and send the outbox.

use std::time::Instant;

use anyhow::Context;
use clap::Args;
use paperboy_app::digest::{due_on, ComposeSummary, Composed};
use paperboy_store::Frequency;

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

pub async fn run(opts: Opts, config: Config) -> anyhow::Result<()> {
    let started = Instant::now();
    // The For-you sections' vectors are loaded only when some member keeps
    // a library.
    let app = crate::wiring::build(&config, crate::wiring::Needs::Digests)
        .await?
        .app;
    let today = app.today();
    let frequencies = match opts.frequency.as_deref() {
        Some(f) => vec![Frequency::parse(f).context("frequency")?],
        None => due_on(today),
    };
    let bar = indicatif::ProgressBar::new_spinner();
    let report = |f: Frequency, n: u64| bar.set_message(format!("{}: {n} subscribers", f.as_str()));
    if opts.dry_run {
        let mut total = ComposeSummary::default();
        let mut describe = |c: Composed| {
            let subject = c
                .mail
                .message
                .lines()
                .find(|l| l.starts_with("Subject: "))
                .unwrap_or("")
                .to_string();
            println!(
                "would send to {}: {} papers [{}] {subject}",
                c.mail.recipient, c.papers, c.mail.dedupe_key
            );
        };
        for f in frequencies {
            let s = app
                .compose_digests(f, today, Some(&mut describe), |n| report(f, n))
                .await?;
            total.add(s);
        }
        bar.finish_and_clear();
        println!(
            "dry run: {} digests would be sent, {} subscribers have nothing new",
            total.queued, total.empty
        );
        return Ok(());
    }
    // The scheduler's digest run, without its lease (asked for here).
    let run = app
        .run_digests(&frequencies, None, report)
        .await
        .context("the digest run")?;
    bar.finish_and_clear();
    let total = run.composed;
    let Some(sent) = run.sent else {
        anyhow::bail!(
            "no smtp_url configured: {} digests are queued and wait for one",
            total.queued
        );
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
