//! One typed configuration: defaults → TOML file → `PAPERBOY_*` environment.

use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::Context;
use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

#[derive(Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    pub data_dir: PathBuf,
    /// Empty means `sqlite://<data_dir>/paperboy.db`.
    pub database_url: String,
    pub bind: String,
    pub base_url: String,
    /// Set when `base_url` was left empty and follows `bind`.
    #[serde(skip)]
    pub base_url_derived: bool,
    pub instance_name: String,
    pub contact_email: String,
    pub model_dir: Option<PathBuf>,
    /// Which embedders make the vectors: `transformer` (the default: the
    /// static vectors serve at once and the transformer, built in or in
    /// `model_dir`, fills in better ones behind them, newest papers first)
    /// or `static` (the static model alone, for very large stores on small
    /// machines).
    pub embedder: String,
    pub smtp_url: Option<String>,
    /// PEM certificates to trust for the SMTP server's TLS besides the
    /// public roots (a relay with a private or self-signed certificate).
    pub smtp_ca_file: Option<PathBuf>,
    pub arxiv_oai_url: String,
    pub arxiv_api_url: String,
    pub arxiv_min_interval_ms: u64,
    /// OAI-PMH sets to harvest (`cs`, `math`, `cs:cs:LG`); a comma-separated
    /// string is accepted too (handy in the environment).
    #[serde(deserialize_with = "list_or_csv")]
    pub arxiv_sets: Vec<String>,
    /// `arXivRaw` (full version history) or `arXiv`.
    pub arxiv_metadata_prefix: String,
    pub arxiv_max_retries: u32,
    /// First retry delay; doubles with each retry.
    pub arxiv_backoff_ms: u64,
    /// Where papers' HTML is read (`{url}/html/{id}v{n}`); empty: arxiv.org,
    /// or the origin of `arxiv_api_url` when that points elsewhere (a
    /// stand-in, a mirror).
    pub arxiv_html_url: String,
    /// Fetch papers' full text from arXiv for references and citations.
    pub fulltext: bool,
    /// Full texts fetched a day at most.
    pub fulltext_per_day: u64,
    /// Pages larger than this many megabytes are not read.
    pub fulltext_max_mb: u64,
    /// An OpenAlex API key: papers arXiv has no full text for get their
    /// references and cited-by count from OpenAlex. Empty: not asked.
    pub openalex_api_key: String,
    /// Where OpenAlex answers (tests point it at a stand-in).
    pub openalex_url: String,
    /// Hour (UTC) of the daily harvest, after arXiv's announcement.
    pub harvest_hour_utc: u32,
    /// A set's first harvest covers this many days back (0: the whole
    /// history); later harvests continue from the checkpoint.
    pub initial_harvest_days: u32,
    /// After a failed harvest, the next try is this many seconds later.
    pub harvest_retry_secs: u64,
    /// The scheduler looks for due work (and renews its lease) this often.
    pub scheduler_tick_secs: u64,
    /// The scheduler's lease lasts this long unrenewed: when its node dies,
    /// another takes over within it (plus a tick).
    pub scheduler_lease_secs: i64,
    /// `Name <address>` of outgoing mail; empty: "<instance> <paperboy@<base host>>".
    pub mail_from: String,
    /// Signs links in emails (confirm, unsubscribe). Empty: a random key
    /// kept in `<data_dir>/secret.key`. Set it to the same value on every
    /// node that shares a database.
    pub secret_key: String,
    /// Hour (in `timezone`) when digests are composed and sent; weekly
    /// digests go out on Mondays.
    pub digest_hour: u32,
    /// How long a sender's claim on queued mail lasts (seconds); after a
    /// crash, its mail waits this long before another sender takes it.
    pub mail_claim_secs: i64,
    /// Time zone of the daily list's day boundary (IANA name).
    pub timezone: String,
    /// The daily list refuses papers first submitted to arXiv longer ago.
    pub daily_max_age_days: i64,
    /// Papers per transaction in `paperboy import`.
    pub import_batch_size: usize,
    /// The GitHub REST API the star tracker asks (tests point it at a
    /// stand-in); empty turns the tracker off.
    pub github_api_url: String,
    /// A GitHub token: 5,000 requests an hour instead of 60.
    pub github_token: String,
    /// Requests an hour the tracker may spend; 0: what GitHub grants
    /// (5,000 with a token, 60 without).
    pub github_budget_per_hour: u32,
    /// Log filter (tracing's EnvFilter syntax); `PAPERBOY_LOG` overrides.
    pub log: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from("./data"),
            database_url: String::new(),
            bind: "127.0.0.1:8080".into(),
            base_url: String::new(),
            base_url_derived: false,
            instance_name: "Paperboy".into(),
            contact_email: String::new(),
            model_dir: None,
            embedder: "transformer".into(),
            smtp_url: None,
            smtp_ca_file: None,
            arxiv_oai_url: "https://oaipmh.arxiv.org/oai".into(),
            arxiv_api_url: "https://export.arxiv.org/api/query".into(),
            arxiv_min_interval_ms: 3000,
            arxiv_sets: vec!["cs".into()],
            arxiv_metadata_prefix: "arXivRaw".into(),
            arxiv_max_retries: 5,
            arxiv_backoff_ms: 2000,
            arxiv_html_url: String::new(),
            fulltext: true,
            fulltext_per_day: 2000,
            fulltext_max_mb: 32,
            openalex_api_key: String::new(),
            openalex_url: "https://api.openalex.org".into(),
            harvest_hour_utc: 2,
            initial_harvest_days: 7,
            harvest_retry_secs: 900,
            scheduler_tick_secs: 60,
            scheduler_lease_secs: 120,
            mail_from: String::new(),
            secret_key: String::new(),
            digest_hour: 7,
            mail_claim_secs: 120,
            timezone: "UTC".into(),
            daily_max_age_days: 14,
            import_batch_size: 2000,
            github_api_url: "https://api.github.com".into(),
            github_token: String::new(),
            github_budget_per_hour: 0,
            log: "info".into(),
        }
    }
}

fn list_or_csv<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        List(Vec<String>),
        Csv(String),
    }
    let items = match Either::deserialize(d)? {
        Either::List(v) => v,
        Either::Csv(s) => s.split(',').map(str::to_string).collect(),
    };
    Ok(items
        .into_iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect())
}

/// Hides the secret part of a URL (`user:***@host`).
fn redact(url: &str) -> String {
    paperboy_store_postgres::redact(url)
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("data_dir", &self.data_dir)
            .field("database_url", &redact(&self.database_url))
            .field("bind", &self.bind)
            .field("base_url", &self.base_url)
            .field("instance_name", &self.instance_name)
            .field("contact_email", &self.contact_email)
            .field("model_dir", &self.model_dir)
            .field("embedder", &self.embedder)
            .field("smtp_url", &self.smtp_url.as_deref().map(redact))
            .field("smtp_ca_file", &self.smtp_ca_file)
            .field("arxiv_oai_url", &self.arxiv_oai_url)
            .field("arxiv_api_url", &self.arxiv_api_url)
            .field("arxiv_min_interval_ms", &self.arxiv_min_interval_ms)
            .field("arxiv_sets", &self.arxiv_sets)
            .field("arxiv_metadata_prefix", &self.arxiv_metadata_prefix)
            .field("arxiv_max_retries", &self.arxiv_max_retries)
            .field("arxiv_backoff_ms", &self.arxiv_backoff_ms)
            .field("arxiv_html_url", &self.arxiv_html_url)
            .field("fulltext", &self.fulltext)
            .field("fulltext_per_day", &self.fulltext_per_day)
            .field("fulltext_max_mb", &self.fulltext_max_mb)
            .field(
                "openalex_api_key",
                &if self.openalex_api_key.is_empty() {
                    ""
                } else {
                    "***"
                },
            )
            .field("openalex_url", &self.openalex_url)
            .field("harvest_hour_utc", &self.harvest_hour_utc)
            .field("initial_harvest_days", &self.initial_harvest_days)
            .field("harvest_retry_secs", &self.harvest_retry_secs)
            .field("scheduler_tick_secs", &self.scheduler_tick_secs)
            .field("scheduler_lease_secs", &self.scheduler_lease_secs)
            .field("mail_from", &self.mail_from)
            .field(
                "secret_key",
                &if self.secret_key.is_empty() {
                    ""
                } else {
                    "***"
                },
            )
            .field("digest_hour", &self.digest_hour)
            .field("mail_claim_secs", &self.mail_claim_secs)
            .field("timezone", &self.timezone)
            .field("daily_max_age_days", &self.daily_max_age_days)
            .field("import_batch_size", &self.import_batch_size)
            .field("github_api_url", &self.github_api_url)
            .field(
                "github_token",
                &if self.github_token.is_empty() {
                    ""
                } else {
                    "***"
                },
            )
            .field("github_budget_per_hour", &self.github_budget_per_hour)
            .field("log", &self.log)
            .finish()
    }
}

impl Config {
    pub fn load(file: Option<&Path>) -> anyhow::Result<Config> {
        let mut config: Config = Self::figment(file)
            .extract()
            .context("reading configuration")?;
        if config.base_url.trim().is_empty() {
            config.base_url = format!("http://{}", config.bind);
            config.base_url_derived = true;
        }
        Ok(config)
    }

    /// Whether `base_url` was left empty (and so follows the address the
    /// server listens on).
    pub fn base_url_follows_bind(&self) -> bool {
        self.base_url_derived
    }

    fn figment(file: Option<&Path>) -> Figment {
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = file {
            fig = fig.merge(Toml::file_exact(path));
        }
        // Only known keys: other PAPERBOY_* variables (PAPERBOY_TEST_PG,
        // PAPERBOY_LOG, PAPERBOY_CONFIG) are not configuration.
        let known: Vec<String> = match serde_json::to_value(Config::default()) {
            Ok(serde_json::Value::Object(map)) => map.keys().cloned().collect(),
            _ => Vec::new(),
        };
        fig.merge(Env::prefixed("PAPERBOY_").filter(move |k| known.iter().any(|n| k == n.as_str())))
    }

    /// The HTTP client settings for talking to arXiv.
    pub fn arxiv_client(&self) -> paperboy_arxiv::ClientSettings {
        let mut s = paperboy_arxiv::ClientSettings::new(
            &self.instance_name,
            &self.contact_email,
            &self.base_url,
        );
        s.min_interval = std::time::Duration::from_millis(self.arxiv_min_interval_ms);
        s.max_retries = self.arxiv_max_retries;
        s.backoff_base = std::time::Duration::from_millis(self.arxiv_backoff_ms);
        s
    }

    /// Where papers' HTML is read: `arxiv_html_url`, else arxiv.org when
    /// the API is arXiv's own, else the API's origin (a stand-in serves both).
    pub fn arxiv_html_base(&self) -> String {
        let set = self.arxiv_html_url.trim();
        if !set.is_empty() {
            return set.trim_end_matches('/').to_string();
        }
        match reqwest_origin(&self.arxiv_api_url) {
            Some(origin) if !origin.ends_with("arxiv.org") => origin,
            _ => "https://arxiv.org".into(),
        }
    }

    /// The hourly budget of the star tracker.
    pub fn github_budget(&self) -> u32 {
        match (self.github_budget_per_hour, self.github_token.is_empty()) {
            (0, true) => 60,
            (0, false) => 5000,
            (n, _) => n,
        }
    }

    pub fn mail_from(&self) -> String {
        if !self.mail_from.is_empty() {
            return self.mail_from.clone();
        }
        let host = self
            .base_url
            .split("://")
            .nth(1)
            .unwrap_or("localhost")
            .split(['/', ':'])
            .next()
            .unwrap_or("localhost");
        let host = if host.contains('.') {
            host.to_string()
        } else {
            format!("{host}.localdomain")
        };
        format!("{} <paperboy@{host}>", self.instance_name)
    }

    /// The link-signing key: configured, or created once in the data directory.
    pub fn secret(&self) -> anyhow::Result<Vec<u8>> {
        if !self.secret_key.is_empty() {
            return Ok(self.secret_key.as_bytes().to_vec());
        }
        let path = self.data_dir.join("secret.key");
        if let Ok(s) = std::fs::read_to_string(&path) {
            if s.trim().len() >= 32 {
                return Ok(s.trim().as_bytes().to_vec());
            }
        }
        std::fs::create_dir_all(&self.data_dir)
            .with_context(|| format!("creating {}", self.data_dir.display()))?;
        let key = paperboy_app::accounts::new_token();
        // Written aside and renamed, so two processes never see half a key.
        let tmp = self
            .data_dir
            .join(format!("secret.key.{}", std::process::id()));
        std::fs::write(&tmp, &key).with_context(|| format!("writing {}", tmp.display()))?;
        if std::fs::hard_link(&tmp, &path).is_err() {
            // Someone else created it first: use theirs.
            let _ = std::fs::remove_file(&tmp);
            let s = std::fs::read_to_string(&path)
                .with_context(|| format!("reading {}", path.display()))?;
            return Ok(s.trim().as_bytes().to_vec());
        }
        let _ = std::fs::remove_file(&tmp);
        Ok(key.into_bytes())
    }

    pub fn timezone(&self) -> anyhow::Result<chrono_tz::Tz> {
        self.timezone.parse().map_err(|_| {
            anyhow::anyhow!("timezone `{}` is not an IANA time zone name", self.timezone)
        })
    }

    pub fn database_url(&self) -> String {
        if self.database_url.is_empty() {
            format!("sqlite://{}", self.data_dir.join("paperboy.db").display())
        } else {
            self.database_url.clone()
        }
    }
}

/// `scheme://host[:port]` of a URL.
fn reqwest_origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let host = rest.split(['/', '?', '#']).next()?;
    (!host.is_empty()).then(|| format!("{scheme}://{host}"))
}

/// What `paperboy default-config` prints; a test keeps it in step with
/// [`Config::default`].
pub const EXAMPLE: &str = r#"# Paperboy configuration. Every key is optional; the values shown are the
# defaults. Each key can also be set from the environment as PAPERBOY_<KEY>
# (PAPERBOY_DATA_DIR, PAPERBOY_DATABASE_URL, …), which wins over this file.

# Where the embedded database, indexes and models live.
data_dir = "./data"

# Empty: the embedded SQLite file <data_dir>/paperboy.db.
# postgres://user:password@host:5432/paperboy selects PostgreSQL (several web nodes).
database_url = ""

# Address the web server listens on.
bind = "127.0.0.1:8080"

# The public address of this instance, used in emails and feeds. Empty:
# http://<the address `serve` listens on> (right for a local instance; set
# it when a proxy or a domain name stands in front).
base_url = ""

# Shown in page titles and in the User-Agent sent to arXiv.
instance_name = "Paperboy"

# Contact address sent to arXiv with every request (their etiquette asks for it).
contact_email = ""

# Search by meaning, related papers and recommendations work with nothing
# set here: two models of all-MiniLM-L6-v2 are built in, a static one whose
# vectors serve at once and the quantised transformer, which fills in better
# vectors behind them in the background, newest papers first (progress on
# /about and /metrics). To use another model instead, name a
# sentence-transformer directory (config.json, tokenizer.json,
# model.safetensors; a static model is distilled from it into
# <data_dir>/models on first use) or a model2vec static model.
# model_dir = "/path/to/all-MiniLM-L6-v2"

# "transformer" (the default, as above) or "static": the static model
# alone, for very large stores on small machines (it embeds millions of
# papers in minutes; the transformer about 25 a second on two cores).
embedder = "transformer"

# Outgoing mail, e.g. smtp://user:password@mail.example.org:587 (STARTTLS),
# smtps://… for TLS, smtp://127.0.0.1:1025 for a local relay.
# smtp_url = "smtp://127.0.0.1:1025"
# Certificates (PEM) to trust for the mail server's TLS besides the public
# roots: a relay with a private CA or a self-signed certificate.
# smtp_ca_file = "/etc/paperboy/smtp-ca.pem"

# Where arXiv is (tests point these at a local stand-in).
arxiv_oai_url = "https://oaipmh.arxiv.org/oai"
arxiv_api_url = "https://export.arxiv.org/api/query"

# Spacing between two requests to one arXiv host, in milliseconds (arXiv
# asks for no more than one request every 3 seconds).
arxiv_min_interval_ms = 3000

# OAI-PMH sets to harvest: "cs", "math", "physics:hep-th", "cs:cs:LG", …
# (PAPERBOY_ARXIV_SETS takes a comma-separated list.)
arxiv_sets = ["cs"]

# "arXivRaw" carries every version's date; "arXiv" only the first and last.
arxiv_metadata_prefix = "arXivRaw"

# Retries after a network error or a 5xx, and the first retry delay (doubles
# each time, with jitter). A 503 with Retry-After waits as long as asked.
arxiv_max_retries = 5
arxiv_backoff_ms = 2000

# Full text for references and citations: each paper's HTML rendering on
# arXiv (`<arxiv_html_url>/html/<id>v<n>`; empty: https://arxiv.org, or the
# host of arxiv_api_url when that is not arXiv's), one request at a time
# and spaced like the requests above, at most fulltext_per_day pages a day,
# pages above fulltext_max_mb not read. Papers in libraries and follows
# first, then the daily list, then the newest. false turns it off.
arxiv_html_url = ""
fulltext = true
fulltext_per_day = 2000
fulltext_max_mb = 32

# An OpenAlex API key (free, from openalex.org): papers arXiv has no full
# text for (neither HTML nor LaTeX source) get their references and
# OpenAlex's count of works citing them. Empty: OpenAlex is not asked.
openalex_api_key = ""
openalex_url = "https://api.openalex.org"

# Hour (UTC) of the daily harvest that `paperboy serve` runs; arXiv
# announces new papers at 00:00 UTC, Sunday to Thursday.
harvest_hour_utc = 2

# The first harvest of a set covers the last N days (0: its whole history,
# hours of requests). History comes faster from the metadata snapshot
# (`paperboy import`) or `paperboy ingest --from DATE`.
initial_harvest_days = 7

# After a failed harvest (arXiv unreachable), try again this many seconds later.
harvest_retry_secs = 900

# The scheduler (harvests, trending, digests, the outbox; one node of
# several holds its lease) looks for due work every tick; when the node
# holding the lease dies, another takes over within the lease time.
scheduler_tick_secs = 60
scheduler_lease_secs = 120

# Sender of digests and confirmations; empty: "<instance_name> <paperboy@<host of base_url>>".
mail_from = ""

# Key that signs the links in emails. Empty: a random key kept in
# <data_dir>/secret.key. Give every node that shares a database the same value.
secret_key = ""

# Hour (in `timezone`) when digests are composed and sent; weekly ones on Mondays.
digest_hour = 7

# How long a sender's claim on queued mail lasts; after a crash its mail
# waits this long before another sender picks it up.
mail_claim_secs = 120

# The daily list's day begins at midnight in this time zone (IANA name).
timezone = "UTC"

# Papers first submitted to arXiv longer ago than this are refused on the daily list.
daily_max_age_days = 14

# Papers written per transaction by `paperboy import`.
import_batch_size = 2000

# The GitHub API the star tracker asks for the stars of papers' code links
# (empty: no tracking). A token raises GitHub's limit from 60 to 5,000
# requests an hour; the budget caps what the tracker spends (0: all of it).
github_api_url = "https://api.github.com"
github_token = ""
github_budget_per_hour = 0

# Log filter (e.g. "info", "paperboy=debug"); PAPERBOY_LOG overrides.
log = "info"
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_config_parses_to_the_defaults() {
        let parsed: Config = Figment::from(Toml::string(EXAMPLE)).extract().unwrap();
        assert_eq!(format!("{parsed:?}"), format!("{:?}", Config::default()));
    }

    #[test]
    fn layers_apply_in_order_and_secrets_stay_hidden() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("pb.toml", "bind = \"0.0.0.0:9000\"\ndata_dir = \"/srv/pb\"\nsmtp_url = \"smtp://u:hunter2@mail:25\"")?;
            jail.set_env("PAPERBOY_BIND", "127.0.0.1:7000");
            jail.set_env("PAPERBOY_TEST_PG", "postgres://ignored");
            let c = Config::load(Some(Path::new("pb.toml"))).map_err(|e| e.to_string())?;
            assert_eq!(c.bind, "127.0.0.1:7000", "environment wins over the file");
            assert_eq!(
                c.data_dir,
                PathBuf::from("/srv/pb"),
                "file wins over defaults"
            );
            assert_eq!(c.database_url(), "sqlite:///srv/pb/paperboy.db");
            assert_eq!(c.arxiv_min_interval_ms, 3000);
            assert_eq!(c.arxiv_sets, ["cs"]);
            jail.set_env("PAPERBOY_ARXIV_SETS", "cs, math");
            let c = Config::load(Some(Path::new("pb.toml"))).map_err(|e| e.to_string())?;
            assert_eq!(c.arxiv_sets, ["cs", "math"]);
            let debug = format!("{c:?}");
            assert!(!debug.contains("hunter2"), "{debug}");
            Ok(())
        });
    }
}
