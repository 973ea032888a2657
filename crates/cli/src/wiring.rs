//! The one place the parts are put together from the configuration: the
//! store (its backend chosen from the database URL), the application with
//! its ports (arXiv, SMTP, search), the harvester.

use std::sync::Arc;

use anyhow::Context;
use paperboy_adapters::EngineSearch;
use paperboy_adapters::{ArxivFetcher, ArxivHarvest, SmtpMailer};
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

/// The daily harvest's source: the harvester, renewing its lease in `store`.
pub fn harvest(config: &Config, store: &Arc<dyn Store>) -> anyhow::Result<ArxivHarvest> {
    Ok(ArxivHarvest {
        harvester: Arc::new(harvester(config, store)?),
        leases: store.clone(),
    })
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
    app.texts = texts(config)?;
    Ok(app)
}

/// The full-text fetcher (arXiv's HTML, else its LaTeX source, else
/// OpenAlex when a key is set), unless `fulltext = false`.
pub fn texts(config: &Config) -> anyhow::Result<Option<Arc<paperboy_app::citations::Texts>>> {
    if !config.fulltext {
        return Ok(None);
    }
    // One polite client: arXiv's pages and OpenAlex's answers take turns
    // per host, spaced as `arxiv_min_interval_ms` says.
    let client =
        Arc::new(PoliteClient::new(config.arxiv_client()).context("setting up the arXiv client")?);
    let source = paperboy_adapters::ArxivHtml {
        client: client.clone(),
        base_url: config.arxiv_html_base(),
        max_bytes: (config.fulltext_max_mb.max(1) as usize).saturating_mul(1024 * 1024),
    };
    let mut texts = paperboy_app::citations::Texts::new(Arc::new(source), config.fulltext_per_day);
    if !config.openalex_api_key.trim().is_empty() {
        texts = texts.with_catalogue(Arc::new(paperboy_adapters::OpenAlex {
            client,
            base_url: config.openalex_url.trim().to_string(),
            api_key: config.openalex_api_key.trim().to_string(),
        }));
    }
    Ok(Some(Arc::new(texts)))
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
        Arc::new(paperboy_adapters::GitHubStars(github)),
        config.github_budget(),
    ))))
}

/// How much of search a command needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    /// None (accounts, exports, the star tracker).
    Nothing,
    /// The keyword index, brought up to date (title matching on import).
    Keywords,
    /// Keywords and meaning: the keyword index and the static vectors
    /// brought up to date, the transformer's as far as they go (a server or
    /// `paperboy embed` fills them in; a command does not wait for that).
    Everything,
    /// Keywords brought up to date and the vectors as they are, read from
    /// disk when asked for (a digest run reads the period's papers and the
    /// members' libraries: the whole index in memory would be most of its
    /// peak). Papers not embedded yet have no vectors here.
    Lookups,
    /// A digest run: [`Needs::Lookups`] when some member keeps a library
    /// (the For-you sections), [`Needs::Keywords`] otherwise.
    Digests,
    /// `serve`: everything, kept in step with the store in the background
    /// (written by this process when it holds an index's lock, read
    /// otherwise).
    Following,
}

/// The search indexes a command opened.
#[derive(Clone)]
pub struct Indexes {
    pub keyword: Arc<KeywordIndex>,
    /// Static vectors, every paper.
    pub semantic: Option<Semantic>,
    /// The transformer's, filled in behind them.
    pub refined: Option<Semantic>,
}

/// The application as every command and `serve` get it: the store, the
/// ports, and search over the indexes `needs` asks for.
pub struct Wired {
    pub app: App,
    pub store: Arc<dyn Store>,
    pub indexes: Option<Indexes>,
}

/// The one recipe for the application: every command and `serve` build
/// theirs here, so that no front door runs with less than the others (a
/// command without the transformer's vectors, say).
pub async fn build(config: &Config, needs: Needs) -> anyhow::Result<Wired> {
    build_on(config, open_store(config).await?, needs).await
}

/// [`build`] on a store already open.
pub async fn build_on(
    config: &Config,
    store: Arc<dyn Store>,
    needs: Needs,
) -> anyhow::Result<Wired> {
    let app = app(config, store.clone())?;
    let needs = match needs {
        Needs::Digests if store.any_library().await? => Needs::Lookups,
        Needs::Digests => Needs::Keywords,
        n => n,
    };
    let indexes = match needs {
        Needs::Nothing => None,
        // (`Digests` was resolved to one of the others above.)
        Needs::Keywords | Needs::Digests => Some(Indexes {
            keyword: crate::indexes::open_index_synced(config, &*store).await?,
            semantic: None,
            refined: None,
        }),
        Needs::Everything => {
            let keyword = crate::indexes::open_index_synced(config, &*store).await?;
            let semantic = crate::indexes::open_semantic(config)?;
            if let Some(sem) = &semantic {
                crate::indexes::embed_missing(&*store, sem, 5_000).await?;
            }
            let refined = crate::indexes::open_refined(config)?;
            Some(Indexes {
                keyword,
                semantic,
                refined,
            })
        }
        Needs::Lookups => Some(lookup_indexes(config, &*store).await?),
        Needs::Following => Some(following_indexes(config, &store)?),
    };
    let app = match &indexes {
        Some(ix) => with_engine(app, engine(ix)),
        None => app,
    };
    Ok(Wired {
        app,
        store,
        indexes,
    })
}

/// [`Needs::Lookups`]: the keyword index brought up to date, the vectors
/// read from disk when asked for.
async fn lookup_indexes(config: &Config, store: &dyn Store) -> anyhow::Result<Indexes> {
    let keyword = crate::indexes::open_index_synced(config, store).await?;
    let semantic = match crate::embedding::serving(config)? {
        Some(e) => {
            // With no server keeping them current, what the static
            // vectors lack is embedded first (the index is loaded
            // whole only then).
            let look = crate::indexes::open_lookup(config, e.clone())?;
            if look.index.synced_seq() < store.change_seq().await? {
                drop(look);
                let sem = crate::indexes::open_vectors(config, e.clone())?;
                crate::indexes::embed_missing(store, &sem, 5_000).await?;
                drop(sem);
                Some(crate::indexes::open_lookup(config, e)?)
            } else {
                Some(look)
            }
        }
        None => None,
    };
    let refined = match crate::embedding::refiner_unloaded(config)? {
        Some(e) => Some(crate::indexes::open_lookup(config, e)?),
        None => None,
    };
    Ok(Indexes {
        keyword,
        semantic,
        refined,
    })
}

/// [`Needs::Following`]: every index, kept in step with the store in the
/// background.
fn following_indexes(config: &Config, store: &Arc<dyn Store>) -> anyhow::Result<Indexes> {
    let keyword = crate::indexes::open_index(config)?;
    // The recommender's table of term frequencies, ready before the first
    // reader asks (otherwise built at that request).
    let tabling = keyword.clone();
    tokio::task::spawn_blocking(move || {
        if let Err(e) = tabling.table_terms() {
            tracing::warn!("{e}");
        }
    });
    if keyword.is_writable() {
        tokio::spawn(paperboy_search::follow(
            store.clone(),
            keyword.clone(),
            std::time::Duration::from_secs(1),
        ));
    }
    let semantic = crate::indexes::open_semantic(config)?;
    if let Some(sem) = &semantic {
        crate::indexes::follow_vectors(store, sem, false);
    }
    let refined = crate::indexes::open_refined(config)?;
    if let Some(r) = &refined {
        crate::indexes::follow_vectors(store, r, true);
    }
    Ok(Indexes {
        keyword,
        semantic,
        refined,
    })
}

/// The search engine over `indexes`, as every channel uses it.
pub fn engine(indexes: &Indexes) -> Engine {
    let mut engine = Engine::new(indexes.keyword.clone(), indexes.semantic.clone());
    engine.refined = indexes.refined.clone();
    engine
}

/// `app` searching with `engine`.
pub fn with_engine(mut app: App, engine: Engine) -> App {
    app.search = Some(EngineSearch::shared(engine));
    app
}
