//! The one place the parts are put together from the configuration: the
//! store (its backend chosen from the database URL), the application with
//! its ports (arXiv, SMTP, search), the harvester.

use std::sync::Arc;

use anyhow::Context;
use paperboy_app::adapters::{ArxivFetcher, SmtpMailer};
use paperboy_app::search::EngineSearch;
use paperboy_app::stars::StarTracker;
use paperboy_app::{App, MailSettings, Settings};
use paperboy_arxiv::harvest::Harvester;
use paperboy_arxiv::PoliteClient;
use paperboy_search::{Engine, KeywordIndex, Semantic};
use paperboy_store::Store;

use crate::config::Config;

/// Opens the store the database URL names (and applies its migrations).
pub async fn open_store(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    let url = config.database_url();
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let store = paperboy_store_postgres::connect(&url)
            .await
            .with_context(|| {
                format!(
                    "opening PostgreSQL at {}",
                    paperboy_store_postgres::redact(&url)
                )
            })?;
        Ok(Arc::new(store))
    } else if url.starts_with("sqlite:") {
        let store = paperboy_store_sqlite::open(&url)
            .await
            .with_context(|| format!("opening SQLite at {url}"))?;
        Ok(Arc::new(store))
    } else {
        anyhow::bail!("database URL `{url}` must start with sqlite:// or postgres://")
    }
}

pub fn settings(config: &Config) -> anyhow::Result<Settings> {
    Ok(Settings {
        base_url: config.base_url.clone(),
        instance_name: config.instance_name.clone(),
        timezone: config.timezone()?,
        max_submission_age_days: config.daily_max_age_days,
        limits: Default::default(),
    })
}

/// Signing, and sending over SMTP when `smtp_url` is set.
pub fn mail(config: &Config, store: &Arc<dyn Store>) -> anyhow::Result<MailSettings> {
    let from = config.mail_from();
    let mailer = match config.smtp_url.as_deref().filter(|s| !s.is_empty()) {
        Some(url) => {
            let mut smtp = paperboy_mail::SmtpConfig::parse(url)
                .map_err(|e| anyhow::anyhow!("smtp_url: {e}"))?;
            if let Some(ca) = &config.smtp_ca_file {
                smtp = smtp.with_ca_file(ca).map_err(|e| anyhow::anyhow!("{e}"))?;
            }
            let m: Arc<dyn paperboy_app::Mailer> = Arc::new(SmtpMailer {
                outbox: store.clone(),
                smtp,
                from: from.clone(),
                claim_secs: config.mail_claim_secs,
            });
            Some(m)
        }
        None => None,
    };
    Ok(MailSettings {
        signer: paperboy_mail::Signer::new(&config.secret()?),
        from,
        mailer,
    })
}

pub fn harvester(config: &Config, store: &Arc<dyn Store>) -> anyhow::Result<Harvester> {
    let client = PoliteClient::new(config.arxiv_client()).context("setting up the arXiv client")?;
    Ok(Harvester::new(
        Arc::new(client),
        store.clone(),
        store.clone(),
        &config.arxiv_oai_url,
        &config.arxiv_api_url,
    )
    .with_metadata_prefix(&config.arxiv_metadata_prefix)
    .with_initial_days(config.initial_harvest_days))
}

/// The application on `store`: settings, mail, and arXiv for papers the
/// store lacks. Search is added by the commands that open the indexes.
pub fn app(config: &Config, store: Arc<dyn Store>) -> anyhow::Result<App> {
    let mut app = App::new(store.clone(), settings(config)?);
    app.mail = Some(Arc::new(mail(config, &store)?));
    app.fetcher = Some(Arc::new(ArxivFetcher {
        harvester: Arc::new(harvester(config, &store)?),
        papers: store,
    }));
    app.stars = star_tracker(config)?;
    Ok(app)
}

/// The GitHub star tracker, unless `github_api_url` is empty.
pub fn star_tracker(config: &Config) -> anyhow::Result<Option<Arc<StarTracker>>> {
    if config.github_api_url.trim().is_empty() {
        return Ok(None);
    }
    let agent = format!(
        "Paperboy/{} ({}; {})",
        env!("CARGO_PKG_VERSION"),
        config.instance_name,
        config.base_url
    );
    let token = Some(config.github_token.clone()).filter(|t| !t.is_empty());
    let github = paperboy_github::GitHub::new(&config.github_api_url, token, &agent)
        .map_err(|e| anyhow::anyhow!("setting up the GitHub client: {e}"))?;
    Ok(Some(Arc::new(StarTracker::new(
        Arc::new(github),
        config.github_budget(),
    ))))
}

/// Search over the keyword index and, when a model is configured, the
/// vector index (and the better vectors filled in behind it).
pub fn with_search(
    mut app: App,
    keyword: Arc<KeywordIndex>,
    semantic: Option<Semantic>,
    refined: Option<Semantic>,
) -> App {
    let mut engine = Engine::new(keyword, semantic);
    engine.refined = refined;
    app.search = Some(EngineSearch::shared(engine));
    app
}
