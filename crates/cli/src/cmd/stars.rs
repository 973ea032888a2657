//! `paperboy stars`: the GitHub star tracker's state and plan, and (with
//! `--refresh`) its steps run now, until nothing is due or the hour's
//! budget is spent.

use std::time::Instant;

use clap::Args;

use crate::config::Config;

#[derive(Debug, Args)]
pub struct Opts {
    /// Ask GitHub now about the repositories due.
    #[arg(long)]
    pub refresh: bool,
}

pub async fn run(opts: Opts, config: Config) -> anyhow::Result<()> {
    let started = Instant::now();
    let app = crate::wiring::build(&config, crate::wiring::Needs::Nothing)
        .await?
        .app;
    let Some(tracker) = app.stars.clone() else {
        anyhow::bail!("the star tracker is off (github_api_url is empty)");
    };
    let bar = indicatif::ProgressBar::new_spinner();
    let mut total = paperboy_app::stars::StarStep::default();
    loop {
        let step = app
            .refresh_stars(chrono::Utc::now().timestamp())
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        total.spent += step.spent;
        total.updated += step.updated;
        total.unchanged += step.unchanged;
        total.moved += step.moved;
        total.gone += step.gone;
        total.failed += step.failed;
        bar.set_message(format!(
            "{} updated, {} unchanged, {} failed",
            total.updated, total.unchanged, total.failed
        ));
        let asked = step.updated + step.unchanged + step.gone + step.failed;
        if !opts.refresh || step.rate_limited || asked == 0 {
            if step.rate_limited {
                total.rate_limited = true;
            }
            break;
        }
    }
    bar.finish_and_clear();
    let counts = app
        .repo_counts()
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let counts: Vec<String> = counts.iter().map(|(s, n)| format!("{n} {s}")).collect();
    if let Some(plan) = tracker.plan().await {
        println!("plan: {plan}");
    }
    println!(
        "repositories: {}; this run: {} updated, {} unchanged (304), {} moved, {} gone, {} failed, {} requests spent{} in {:.1}s",
        if counts.is_empty() { "none".to_string() } else { counts.join(", ") },
        total.updated,
        total.unchanged,
        total.moved,
        total.gone,
        total.failed,
        total.spent,
        if total.rate_limited { " (paused by GitHub's rate limit)" } else { "" },
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
