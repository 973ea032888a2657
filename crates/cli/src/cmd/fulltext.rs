//! `paperboy fulltext`: reads papers' full text from arXiv now, as the
//! server's fetcher does (the same use case, the same order, spacing and
//! daily budget), until `--limit` pages, nothing due, the budget spent or
//! a refusal; then resolves references waiting for papers that arrived.

use std::time::Instant;

use clap::Args;
use paperboy_app::citations::TextStep;

use crate::config::Config;

#[derive(Debug, Args)]
pub struct Opts {
    /// Pages to read at most this run.
    #[arg(long, default_value_t = 100)]
    pub limit: u64,
}

pub async fn run(opts: Opts, config: Config) -> anyhow::Result<()> {
    let started = Instant::now();
    // Keywords: references named by title are matched through the index.
    let app = crate::wiring::build(&config, crate::wiring::Needs::Keywords)
        .await?
        .app;
    anyhow::ensure!(
        app.texts.is_some(),
        "fetching full text is turned off (fulltext = false)"
    );
    let bar = indicatif::ProgressBar::new(opts.limit);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} full texts {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let (mut read, mut parsed, mut references) = (0u64, 0u64, 0usize);
    let mut stopped = "nothing more is due";
    let mut refused = None;
    while read < opts.limit {
        match app
            .fetch_next_text()
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?
        {
            TextStep::Fetched {
                id,
                status,
                references: n,
            } => {
                read += 1;
                if status == paperboy_store::TextStatus::Parsed {
                    parsed += 1;
                }
                references += n;
                bar.set_message(format!("{id}: {}", status.as_str()));
                bar.inc(1);
            }
            TextStep::Idle => break,
            TextStep::BudgetSpent => {
                stopped = "the day's budget is spent (fulltext_per_day)";
                break;
            }
            TextStep::Refused { reason, .. } => {
                stopped = "arXiv refused";
                refused = Some(reason);
                break;
            }
        }
    }
    if read == opts.limit {
        stopped = "the limit";
    }
    bar.finish_and_clear();
    let resolved = app
        .resolve_waiting_references()
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!(
        "read {read} full texts ({parsed} parsed), {references} references, {resolved} waiting ones resolved; stopped at {stopped} in {:.1}s",
        started.elapsed().as_secs_f64()
    );
    if let Some(reason) = refused {
        anyhow::bail!("{reason} (nothing was recorded for that paper; try again later)");
    }
    Ok(())
}
