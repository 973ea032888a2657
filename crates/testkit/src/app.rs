//! [`TestApp`]: the whole application on a fresh store (SQLite, or
//! PostgreSQL when `PAPERBOY_TEST_PG` is set), with a real keyword index in
//! a temporary directory and an in-memory mailer, and HTTP [`Client`]s that
//! call the router in-process (cookies kept, CSRF tokens filled in).
//!
//! The router is passed in (`TestApp::builder().build(paperboy_web::router)`)
//! so this crate never depends on the web crate.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::header::{CONTENT_TYPE, COOKIE, SET_COOKIE};
use axum::http::{HeaderMap, Method, Request};
use axum::Router;
use paperboy_adapters::EngineSearch;
use paperboy_app::stars::StarTracker;
use paperboy_app::{App, MailSettings, Settings};
use paperboy_core::Paper;
use paperboy_search::{Engine, KeywordIndex};
use tower::ServiceExt;

use crate::mail::MemoryMailer;
use crate::{postgres_store, seed_papers, sqlite_store, TestStore};

/// Where the app's links point (and what mails and feeds say).
pub const BASE_URL: &str = "http://paperboy.test";

pub struct TestApp {
    pub app: App,
    pub mailer: Arc<MemoryMailer>,
    pub keyword: Arc<KeywordIndex>,
    router: Router,
    store: TestStore,
    _dir: tempfile::TempDir,
}

pub struct Builder {
    postgres: bool,
    seed: bool,
    papers: Vec<Paper>,
    settings: Settings,
    mail: bool,
    /// A GitHub (stand-in) API URL and an hourly budget for the star tracker.
    github: Option<(String, u32)>,
    /// An arXiv (stand-in) base URL for full texts and the daily budget.
    texts: Option<(String, u64)>,
    /// An OpenAlex (stand-in) base URL for papers without full text.
    openalex: Option<String>,
}

impl TestApp {
    pub fn builder() -> Builder {
        Builder {
            postgres: false,
            seed: false,
            papers: Vec::new(),
            settings: Settings {
                base_url: BASE_URL.into(),
                ..Settings::default()
            },
            mail: true,
            github: None,
            texts: None,
            openalex: None,
        }
    }

    /// The database URL of the store (for a binary started on it).
    pub fn database_url(&self) -> &str {
        &self.store.url
    }

    /// A client with its own cookies (another browser).
    pub fn client(&self) -> Client {
        Client {
            router: self.router.clone(),
            cookies: Mutex::new(HashMap::new()),
            bearer: None,
        }
    }

    /// A client that authenticates with an API token.
    pub fn token_client(&self, token: &str) -> Client {
        Client {
            bearer: Some(token.to_string()),
            ..self.client()
        }
    }

    /// The store under the application, for tests that arrange data or
    /// check what was stored (the application itself keeps it private).
    pub fn store(&self) -> &Arc<dyn paperboy_store::Store> {
        &self.store.store
    }

    /// Brings the keyword index up to date with the store.
    pub async fn sync_search(&self) {
        paperboy_search::catch_up(&*self.store.store, &self.keyword, |_| {})
            .await
            .expect("keyword index catches up");
    }

    /// Composes today's daily digests (queued, not sent: see the mailer).
    pub async fn compose_daily(&self) -> paperboy_app::digest::ComposeSummary {
        let today = self.app.today();
        self.app
            .compose_digests(paperboy_store::Frequency::Daily, today, None, |_| {})
            .await
            .expect("digests compose")
    }

    /// Adds papers to the store and the index.
    pub async fn add_papers(&self, papers: Vec<Paper>) {
        self.store
            .store
            .upsert_papers(papers)
            .await
            .expect("papers are stored");
        self.sync_search().await;
    }
}

impl Builder {
    /// Runs on PostgreSQL (`build` answers `None` when it is not configured).
    pub fn postgres(mut self, yes: bool) -> Self {
        self.postgres = yes;
        self
    }

    /// Starts with the 68 seed papers.
    pub fn seed(mut self) -> Self {
        self.seed = true;
        self
    }

    pub fn papers(mut self, papers: Vec<Paper>) -> Self {
        self.papers.extend(papers);
        self
    }

    pub fn settings(mut self, f: impl FnOnce(&mut Settings)) -> Self {
        f(&mut self.settings);
        self
    }

    /// Tracks stars on the GitHub at `api_url` with `budget_per_hour`.
    pub fn github(mut self, api_url: &str, budget_per_hour: u32) -> Self {
        self.github = Some((api_url.to_string(), budget_per_hour));
        self
    }

    /// Fetches full texts from the arXiv (stand-in) at `base_url`, at
    /// most `per_day` a day, requests unspaced.
    pub fn texts(mut self, base_url: &str, per_day: u64) -> Self {
        self.texts = Some((base_url.to_string(), per_day));
        self
    }

    /// Asks OpenAlex (a stand-in at `base_url`, with its key) about papers
    /// without full text; needs [`Builder::texts`].
    pub fn openalex(mut self, base_url: &str) -> Self {
        self.openalex = Some(base_url.to_string());
        self
    }

    /// No mail settings at all (an instance that cannot sign links).
    pub fn without_mail(mut self) -> Self {
        self.mail = false;
        self
    }

    pub async fn build(self, router: fn(App) -> Router) -> Option<TestApp> {
        let store = if self.postgres {
            postgres_store().await?
        } else {
            sqlite_store().await
        };
        let dir = tempfile::tempdir().expect("index dir");
        let keyword = Arc::new(
            KeywordIndex::open(&dir.path().join("keyword"), true).expect("open the keyword index"),
        );
        let mut app = App::new(store.store.clone(), self.settings);
        let mailer = Arc::new(MemoryMailer::new(store.store.clone()));
        if self.mail {
            app.mail = Some(Arc::new(MailSettings {
                signer: paperboy_mail::Signer::new(b"test secret key of thirty-two bytes"),
                from: "Paperboy <paperboy@paperboy.test>".into(),
                mailer: Some(mailer.clone()),
            }));
        }
        app.search = Some(EngineSearch::shared(Engine::new(keyword.clone(), None)));
        if let Some((url, budget)) = &self.github {
            let github =
                paperboy_github::GitHub::new(url, Some("test-token".into()), "Paperboy tests")
                    .expect("GitHub client");
            app.stars = Some(Arc::new(StarTracker::new(
                Arc::new(paperboy_adapters::GitHubStars(github)),
                *budget,
            )));
        }
        if let Some((url, per_day)) = &self.texts {
            let mut settings = paperboy_arxiv::ClientSettings::new("Paperboy tests", "", BASE_URL);
            settings.min_interval = std::time::Duration::ZERO;
            settings.timeout = std::time::Duration::from_secs(10);
            let client = paperboy_arxiv::PoliteClient::new(settings).expect("arXiv client");
            let source = paperboy_adapters::ArxivHtml {
                client: Arc::new(client),
                base_url: url.clone(),
                max_bytes: 1024 * 1024,
            };
            let client = source.client.clone();
            let mut texts = paperboy_app::citations::Texts::new(Arc::new(source), *per_day);
            if let Some(base) = &self.openalex {
                texts = texts.with_catalogue(Arc::new(paperboy_adapters::OpenAlex {
                    client,
                    base_url: base.clone(),
                    api_key: crate::openalex_standin::OPENALEX_KEY.to_string(),
                }));
            }
            app.texts = Some(Arc::new(texts));
        }
        let router = router(app.clone());
        let t = TestApp {
            app,
            mailer,
            keyword,
            router,
            store,
            _dir: dir,
        };
        let mut papers = self.papers;
        if self.seed {
            papers.extend(seed_papers());
        }
        if !papers.is_empty() {
            t.add_papers(papers).await;
        }
        Some(t)
    }
}

/// An answer, read whole.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
}

impl Resp {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// A browser (or script) talking to the router in-process.
pub struct Client {
    router: Router,
    cookies: Mutex<HashMap<String, String>>,
    bearer: Option<String>,
}

impl Client {
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.cookies
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(name)
            .cloned()
    }

    /// The CSRF token (the `pb_csrf` cookie), fetching a page first if the
    /// client has none yet.
    pub async fn csrf(&self) -> String {
        if let Some(c) = self.cookie("pb_csrf") {
            return c;
        }
        self.get("/about").await;
        self.cookie("pb_csrf").expect("pages set the CSRF cookie")
    }

    pub async fn request(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Body,
    ) -> Resp {
        let mut req = Request::builder().method(method).uri(path);
        let jar: Vec<String> = self
            .cookies
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        if !jar.is_empty() {
            req = req.header(COOKIE, jar.join("; "));
        }
        if let Some(t) = &self.bearer {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp = self
            .router
            .clone()
            .oneshot(req.body(body).expect("a valid request"))
            .await
            .expect("the router answers");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        {
            let mut jar = self.cookies.lock().unwrap_or_else(|p| p.into_inner());
            for c in headers.get_all(SET_COOKIE) {
                let c = c.to_str().unwrap_or("");
                let Some((name, rest)) = c.split_once('=') else {
                    continue;
                };
                let value = rest.split(';').next().unwrap_or("");
                if c.contains("Max-Age=0") {
                    jar.remove(name);
                } else {
                    jar.insert(name.to_string(), value.to_string());
                }
            }
        }
        let bytes = axum::body::to_bytes(resp.into_body(), 64 << 20)
            .await
            .expect("a readable body");
        Resp {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.request(Method::GET, path, &[], Body::empty()).await
    }

    pub async fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Resp {
        self.request(Method::GET, path, headers, Body::empty())
            .await
    }

    /// Posts a form as it is (no CSRF token added).
    pub async fn post_form_raw(&self, path: &str, fields: &[(&str, &str)]) -> Resp {
        let body = serde_urlencoded::to_string(fields).expect("a form encodes");
        let ct = [(CONTENT_TYPE.as_str(), "application/x-www-form-urlencoded")];
        self.request(Method::POST, path, &ct, Body::from(body))
            .await
    }

    /// Posts a form with the CSRF token a page's form would carry.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Resp {
        let csrf = self.csrf().await;
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        self.post_form_raw(path, &all).await
    }

    /// A JSON API call; with a session, the CSRF header is sent too.
    pub async fn api(&self, method: Method, path: &str, json: Option<serde_json::Value>) -> Resp {
        let csrf = self.cookie("pb_csrf").unwrap_or_default();
        let mut headers = vec![("x-csrf-token", csrf.as_str())];
        let body = match json {
            Some(v) => {
                headers.push((CONTENT_TYPE.as_str(), "application/json"));
                Body::from(v.to_string())
            }
            None => Body::empty(),
        };
        self.request(method, path, &headers, body).await
    }

    /// Posts a form (with its CSRF token) and checks the answer's status and
    /// that its page says `says`; the answer, for more checks.
    pub async fn form_answers(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        status: u16,
        says: &str,
    ) -> Resp {
        let r = self.post_form(path, fields).await;
        assert_eq!(r.status, status, "{path} {fields:?}: {}", r.body);
        assert!(
            r.body.contains(says),
            "{path} {fields:?} says {says:?}: {}",
            r.body
        );
        r
    }

    /// Signs up `name` (address `name@example.org`) and stays logged in.
    pub async fn sign_up(&self, name: &str) {
        let email = format!("{name}@example.org");
        let r = self
            .post_form(
                "/signup",
                &[
                    ("username", name),
                    ("email", &email),
                    ("password", "correct horse battery"),
                ],
            )
            .await;
        assert_eq!(r.status, 303, "sign-up redirects: {}", r.body);
    }
}
