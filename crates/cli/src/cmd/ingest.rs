//! `paperboy ingest`: harvest arXiv over OAI-PMH, or fetch papers by id
//! through the Atom API.

use std::time::Instant;

use anyhow::Context;
use chrono::NaiveDate;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use paperboy_app::ports::{HarvestNews, Harvested};
use paperboy_app::scheduler::{until_next_harvest, SetRun};
use paperboy_arxiv::harvest::HarvestEvent;
use paperboy_core::ArxivId;

use crate::config::Config;

#[derive(Debug, Args)]
pub struct Opts {
    /// Harvest once and exit (otherwise: harvest now, then every day).
    #[arg(long)]
    pub once: bool,
    /// OAI-PMH set to harvest (repeatable); default: `arxiv_sets` from the config.
    #[arg(long = "set", value_name = "SET")]
    pub sets: Vec<String>,
    /// Harvest records changed since this day (YYYY-MM-DD) instead of
    /// continuing from the checkpoint.
    #[arg(long, value_name = "DATE", value_parser = paperboy_core::days::parse_date)]
    pub from: Option<NaiveDate>,
    /// Fetch these papers through the Atom API instead of harvesting.
    #[arg(long = "id", value_name = "ID", num_args = 1..)]
    pub ids: Vec<String>,
}

fn spinner() -> ProgressBar {
    let bar = ProgressBar::new_spinner();
    if let Ok(style) = ProgressStyle::with_template("{spinner} {elapsed} {msg}") {
        bar.set_style(style);
    }
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    bar
}

fn report(new: u64, updated: u64, deleted: u64, rejected: u64, started: Instant) {
    println!(
        "harvested {new} new, {updated} updated, {deleted} deleted, {rejected} rejected in {:.1}s",
        started.elapsed().as_secs_f64()
    );
}

pub async fn run(opts: Opts, config: Config) -> anyhow::Result<()> {
    let ids = opts
        .ids
        .iter()
        .map(|raw| {
            ArxivId::parse_loose(raw)
                .map(|v| v.id)
                .with_context(|| format!("--id {raw}"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let store = crate::wiring::open_store(&config).await?;
    let bar = spinner();

    if !ids.is_empty() {
        let harvester = crate::wiring::harvester(&config, &store)?;
        let on_event = |e: HarvestEvent<'_>| {
            if let HarvestEvent::Rejected(msg) = e {
                bar.suspend(|| eprintln!("rejected: {msg}"))
            }
        };
        let started = Instant::now();
        let (s, got) = harvester.fetch_ids(&ids, &on_event).await?;
        bar.finish_and_clear();
        for id in &ids {
            if !got.iter().any(|p| &p.id == id) {
                eprintln!("not found on arXiv: {id}");
            }
        }
        report(s.new, s.updated, s.deleted, s.rejected, started);
        return Ok(());
    }

    let sets = if opts.sets.is_empty() {
        config.arxiv_sets.clone()
    } else {
        opts.sets.clone()
    };
    anyhow::ensure!(
        !sets.is_empty(),
        "no sets to harvest: pass --set or configure arxiv_sets"
    );
    // The scheduler's use case, without its lease (one process, asked for).
    let app = crate::wiring::app(&config, store.clone())?;
    let source = crate::wiring::harvest(&config, &store)?;
    let on_news = |e: HarvestNews<'_>| match e {
        HarvestNews::Page {
            set,
            records,
            cursor,
            complete_list_size,
        } => {
            let of = complete_list_size
                .map(|n| format!(" of {n}"))
                .unwrap_or_default();
            let at = cursor.map(|c| c + records).unwrap_or(records);
            bar.set_message(format!("{set}: {at}{of} records"));
        }
        HarvestNews::Rejected(msg) => bar.suspend(|| eprintln!("rejected: {msg}")),
        HarvestNews::Restarted { set, from } => bar.suspend(|| {
            eprintln!("{set}: resumption token refused by the server; restarting from {from:?}")
        }),
    };
    loop {
        let started = Instant::now();
        let mut total = Harvested::default();
        let runs = app
            .harvest_sets(
                &source,
                &sets,
                opts.from,
                &on_news,
                None,
                chrono::Duration::zero(),
            )
            .await;
        bar.finish_and_clear();
        for (set, run) in runs {
            match run {
                SetRun::Done(s) => total.add(s),
                SetRun::Failed { error, .. } | SetRun::HandedOver(error) => {
                    anyhow::bail!("harvesting set {set}: {error}")
                }
            }
        }
        report(
            total.new,
            total.updated,
            total.deleted,
            total.rejected,
            started,
        );
        if opts.once {
            return Ok(());
        }
        let wait = until_next_harvest(chrono::Utc::now(), config.harvest_hour_utc);
        eprintln!(
            "next harvest in {}h{:02}m",
            wait.as_secs() / 3600,
            wait.as_secs() % 3600 / 60
        );
        tokio::time::sleep(wait).await;
    }
}
