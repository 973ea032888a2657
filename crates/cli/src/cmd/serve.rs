//! `paperboy serve`: the web server on the configured store.

use std::sync::Arc;

use anyhow::Context;
use clap::Args;
use paperboy_arxiv::harvest::Harvester;
use paperboy_core::ArxivId;
use paperboy_store::Store;
use paperboy_web::{AppState, PaperFetcher, WebSettings};

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

pub async fn run(opts: Opts, config: Config) -> anyhow::Result<()> {
    let store = crate::store::open(&config).await?;
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
    let settings = WebSettings {
        base_url: config.base_url.clone(),
        instance_name: config.instance_name.clone(),
        timezone: config.timezone()?,
        max_submission_age_days: config.daily_max_age_days,
        limits: Default::default(),
    };
    let mut state = AppState::new(store.clone(), settings);
    state.fetcher = Some(Arc::new(HarvesterFetcher {
        harvester: crate::cmd::ingest::harvester(&config, store.clone())?,
        store: store.clone(),
    }));
    let mail = config.mail_settings()?;
    if mail.smtp.is_none() {
        tracing::warn!("no smtp_url configured: subscriptions and digests are off");
    }
    state.mail = Some(Arc::new(mail));
    let index = crate::search::open_index(&config)?;
    if index.is_writable() {
        tokio::spawn(paperboy_search::follow(
            store.clone(),
            index.clone(),
            std::time::Duration::from_secs(1),
        ));
    }
    let semantic = crate::search::open_semantic(&config)?;
    if let Some(sem) = &semantic {
        if sem.index.is_writable() {
            tokio::spawn(paperboy_search::embed_follow(
                store.clone(),
                sem.index.clone(),
                sem.embedder.clone(),
                std::time::Duration::from_secs(1),
            ));
        } else {
            tokio::spawn(paperboy_search::vector_refresh(
                sem.index.clone(),
                std::time::Duration::from_secs(1),
            ));
        }
    }
    state.search = Some(Arc::new(
        crate::search::Search::new(index.clone(), store.clone()).with_semantic(semantic),
    ));
    if opts.no_scheduler {
        tracing::info!("scheduler off (--no-scheduler)");
    } else {
        let finder: Arc<dyn paperboy_mail::compose::Finder> =
            Arc::new(crate::search::IndexFinder(index.clone()));
        tokio::spawn(crate::scheduler::run(
            config.clone(),
            state.store.clone(),
            state.scales.clone(),
            Some(finder),
        ));
    }
    eprintln!("Paperboy is listening on http://{addr}");
    paperboy_web::serve(listener, state, shutdown_signal())
        .await
        .context("serving HTTP")?;
    Ok(())
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

/// Submissions of papers the store lacks go through the Atom API.
struct HarvesterFetcher {
    harvester: Harvester,
    store: Arc<dyn Store>,
}

#[async_trait::async_trait]
impl PaperFetcher for HarvesterFetcher {
    async fn fetch(&self, id: &ArxivId) -> Result<bool, String> {
        let on_event = |e: paperboy_arxiv::harvest::HarvestEvent<'_>| {
            if let paperboy_arxiv::harvest::HarvestEvent::Rejected(msg) = e {
                tracing::warn!(%msg, "arXiv API entry rejected");
            }
        };
        self.harvester
            .fetch_ids(std::slice::from_ref(id), &on_event)
            .await
            .map_err(|e| e.to_string())?;
        match self.store.get_paper(id).await {
            Ok(_) => Ok(true),
            Err(paperboy_store::StoreError::NotFound) => Ok(false),
            Err(e) => Err(e.to_string()),
        }
    }
}
