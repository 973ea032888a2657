//! `paperboy serve`: the web server, the index followers and (unless
//! `--no-scheduler`) the scheduler, on the configured store.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use paperboy_app::scheduler::{Scheduler, SchedulerSettings};
use paperboy_web::AppState;

use crate::config::Config;

#[derive(Debug, Args)]
pub struct Opts {
    /// Run no periodic jobs (extra web nodes, tests); transactional mail is
    /// still sent at once.
    #[arg(long)]
    pub no_scheduler: bool,
    /// Overrides `bind` from the configuration.
    #[arg(long, value_name = "ADDR")]
    pub bind: Option<String>,
}

pub async fn run(opts: Opts, mut config: Config) -> anyhow::Result<()> {
    let store = crate::wiring::open_store(&config).await?;
    let papers = store.count_papers().await.context("counting papers")?;
    if papers == 0 {
        eprintln!(
            "The store is empty. Import papers with `paperboy import FILE` (arXiv metadata \
             snapshot JSON lines, e.g. fixtures/seed-papers.jsonl) or harvest arXiv with \
             `paperboy ingest --once`."
        );
    } else {
        tracing::info!(papers, backend = store.backend(), "store opened");
    }
    let bind = opts.bind.unwrap_or_else(|| config.bind.clone());
    let listener = tokio::net::TcpListener::bind(&bind)
        .await
        .with_context(|| format!("cannot listen on {bind}"))?;
    let addr = listener.local_addr()?;
    // Links in feeds, Markdown pages and mail point where this server
    // listens, unless base_url names the public address.
    if config.base_url_follows_bind() {
        config.base_url = format!("http://{addr}");
    } else if opts_bind_differs(&bind, &config) {
        eprintln!(
            "note: links in feeds and mail use base_url {} (set base_url for another public address)",
            config.base_url
        );
    }
    let wired =
        crate::wiring::build_on(&config, store.clone(), crate::wiring::Needs::Following).await?;
    let app = wired.app;
    app.harvest.register(&config.arxiv_sets);
    if app.mail.as_ref().is_none_or(|m| m.mailer.is_none()) {
        tracing::warn!("no smtp_url configured: subscriptions and digests are off");
    }

    if opts.no_scheduler {
        tracing::info!("scheduler off (--no-scheduler)");
    } else {
        let scheduler = Scheduler {
            app: app.clone(),
            harvester: Arc::new(crate::wiring::harvest(&config, &store)?),
            settings: SchedulerSettings {
                sets: config.arxiv_sets.clone(),
                harvest_hour_utc: config.harvest_hour_utc,
                digest_hour: config.digest_hour,
                harvest_retry: Duration::from_secs(config.harvest_retry_secs.max(1)),
                tick: Duration::from_secs(config.scheduler_tick_secs.max(1)),
                lease_secs: config.scheduler_lease_secs.max(2),
            },
        };
        tokio::spawn(scheduler.run());
        if app.texts.is_some() {
            tokio::spawn(paperboy_app::scheduler::run_texts(app.clone()));
        }
    }
    // Alerts are part of serving notifications, scheduler or not (one node
    // writes them, under their own lease).
    tokio::spawn(paperboy_app::scheduler::run_alerts(app.clone()));
    eprintln!("Paperboy is listening on http://{addr}");
    paperboy_web::serve(listener, AppState::new(app), shutdown_signal())
        .await
        .context("serving HTTP")?;
    Ok(())
}

/// Whether `--bind` moved the server away from the configured `bind`.
fn opts_bind_differs(bind: &str, config: &Config) -> bool {
    bind != config.bind
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}
