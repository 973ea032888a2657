//! Drives the real `paperboy` binary.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_paperboy")
}

/// A data directory and database for one test run of the binary.
pub struct Env {
    pub dir: tempfile::TempDir,
    pub database_url: String,
    _pg: Option<paperboy_testkit::PgDatabase>,
}

impl Env {
    pub fn sqlite() -> Env {
        let dir = tempfile::tempdir().expect("temp dir");
        let database_url = format!("sqlite://{}", dir.path().join("data/paperboy.db").display());
        Env {
            dir,
            database_url,
            _pg: None,
        }
    }

    /// Another node's data directory on the same database.
    pub fn sharing(other: &Env) -> Env {
        Env {
            dir: tempfile::tempdir().expect("temp dir"),
            database_url: other.database_url.clone(),
            _pg: None,
        }
    }

    pub async fn postgres() -> Option<Env> {
        let db = paperboy_testkit::PgDatabase::create().await?;
        let dir = tempfile::tempdir().expect("temp dir");
        Some(Env {
            dir,
            database_url: db.url.clone(),
            _pg: Some(db),
        })
    }

    pub fn command(&self) -> Command {
        let mut c = Command::new(bin());
        c.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("PAPERBOY_DATA_DIR", self.dir.path().join("data"))
            .env("PAPERBOY_DATABASE_URL", &self.database_url)
            .env("PAPERBOY_LOG", "warn")
            // A public address, as a deployment names one (links in mail
            // and feeds); tests of the address derived from `--bind`
            // remove it.
            .env("PAPERBOY_BASE_URL", "http://127.0.0.1:8080")
            .current_dir(self.dir.path());
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command().args(args).output().expect("run paperboy")
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The numbers of the import summary line.
pub fn summary(o: &Output) -> (u64, u64, u64, u64) {
    let out = stdout(o);
    let line = out
        .lines()
        .find(|l| l.starts_with("imported "))
        .unwrap_or_else(|| panic!("no summary line in {out:?}; stderr: {}", stderr(o)));
    let nums: Vec<u64> = line
        .split([',', ' '])
        .filter_map(|w| w.parse().ok())
        .take(4)
        .collect();
    (nums[0], nums[1], nums[2], nums[3])
}

/// A running `paperboy serve`, killed on drop.
pub struct Server {
    pub child: Child,
    pub base: String,
}

impl Server {
    pub async fn start(env: &Env, extra: &[&str]) -> Server {
        Self::start_with(env.command(), extra).await
    }

    /// Starts `serve --no-scheduler` from a prepared command (environment
    /// set by the caller).
    pub async fn start_with(mut cmd: Command, extra: &[&str]) -> Server {
        cmd.arg("serve").arg("--no-scheduler");
        Self::launch(cmd, extra).await
    }

    /// Starts `serve` with its scheduler (harvests, digests, the outbox).
    pub async fn start_scheduled(mut cmd: Command, extra: &[&str]) -> Server {
        cmd.arg("serve");
        Self::launch(cmd, extra).await
    }

    async fn launch(mut cmd: Command, extra: &[&str]) -> Server {
        let mut child = cmd
            .args(["--bind", "127.0.0.1:0"])
            .args(extra)
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("start paperboy serve");
        let stderr = child.stderr.take().expect("stderr piped");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut sent = false;
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if !sent {
                    if let Some(url) = line.split("listening on ").nth(1) {
                        let _ = tx.send(url.trim().to_string());
                        sent = true;
                    }
                }
                eprintln!("[serve] {line}");
            }
        });
        let base = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("server announced its address");
        let server = Server { child, base };
        server.wait_healthy().await;
        server
    }

    async fn wait_healthy(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(r) = reqwest::get(format!("{}/healthz", self.base)).await {
                if r.status().is_success() {
                    return;
                }
            }
            assert!(Instant::now() < deadline, "server never became healthy");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `n` valid snapshot records with ids 2301.00000.., one JSON line each.
pub fn synthetic_records(n: usize) -> String {
    let mut out = String::new();
    for i in 0..n {
        let rec = serde_json::json!({
            "id": format!("2301.{i:05}"),
            "title": format!("Synthetic paper number {i}"),
            "abstract": format!("We study problem {i} with a method. Code at https://github.com/lab/p{i}."),
            "authors": "Ada Lovelace, Alan Turing",
            "categories": "cs.LG stat.ML",
            "versions": [{"version": "v1", "created": "Mon, 2 Jan 2023 10:00:00 GMT"}],
            "update_date": "2023-01-02",
            "authors_parsed": [["Lovelace", "Ada", ""], ["Turing", "Alan", ""]]
        });
        out.push_str(&rec.to_string());
        out.push('\n');
    }
    out
}

/// The `csrf` hidden field of a page.
pub fn csrf_of(html: &str) -> String {
    let at = html
        .find("name=\"csrf\" value=\"")
        .expect("page has a CSRF field")
        + 19;
    html[at..at + 64].to_string()
}

/// A browser: cookies kept, redirects not followed.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("an HTTP client")
}

pub async fn get_text(c: &reqwest::Client, url: &str) -> String {
    let r = c.get(url).send().await.expect("the server answers");
    r.text().await.expect("a text body")
}

pub async fn get_json(url: &str) -> serde_json::Value {
    let r = reqwest::get(url).await.expect("the server answers");
    r.json().await.expect("a JSON body")
}

pub fn write(path: &Path, text: &str) {
    std::fs::write(path, text).expect("write test file");
}

/// A static model distilled by `paperboy model distill` from the test
/// transformer, once per build of the embedding code, shared by the tests
/// (and test binaries) that only need some static model.
pub fn static_model_dir() -> PathBuf {
    let root = paperboy_testkit::repo_root().join("target/test-models");
    std::fs::create_dir_all(&root).expect("test model dir");
    let mut sources: Vec<PathBuf> = Vec::new();
    let mut dirs = vec![paperboy_testkit::repo_root().join("crates/embed/src")];
    while let Some(dir) = dirs.pop() {
        for e in std::fs::read_dir(&dir).expect("embed sources") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                dirs.push(p);
            } else {
                sources.push(p);
            }
        }
    }
    sources.sort();
    let mut key = 0u64;
    for p in sources {
        let text = std::fs::read(&p).expect("source");
        key = key.rotate_left(7)
            ^ text.iter().fold(0xcbf29ce484222325u64, |h, b| {
                (h ^ *b as u64).wrapping_mul(0x100000001b3)
            });
    }
    let out = root.join(format!("static-{key:016x}"));
    let lock = std::fs::File::create(root.join(".lock")).expect("lock file");
    lock.lock().expect("lock");
    if !out.join("config.json").exists() {
        let from = paperboy_testkit::transformer_model_dir();
        let distill = Command::new(bin())
            .args([
                "model",
                "distill",
                "--from",
                from.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
            ])
            .env("PAPERBOY_DATA_DIR", root.join("data"))
            .output()
            .expect("run paperboy model distill");
        paperboy_testkit::succeeded(distill, "distill failed");
    }
    out
}

/// A real SMTP server (aiosmtpd) storing every message in a Maildir.
pub struct Smtp {
    child: Child,
    pub port: u16,
    pub maildir: PathBuf,
}

impl Smtp {
    pub fn start(dir: &Path) -> Smtp {
        let maildir = new_maildir(dir, "maildir");
        let port = free_port();
        let child = Command::new("python3")
            .args([
                "-m",
                "aiosmtpd",
                "-n",
                "-l",
                &format!("127.0.0.1:{port}"),
                "-c",
                "aiosmtpd.handlers.Mailbox",
            ])
            .arg(&maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 -m aiosmtpd (pip install aiosmtpd)");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "aiosmtpd did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Smtp {
            child,
            port,
            maildir,
        }
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    pub fn messages(&self) -> Vec<paperboy_testkit::Mail> {
        maildir_messages(&self.maildir)
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An empty Maildir `name` under `dir`.
pub fn new_maildir(dir: &Path, name: &str) -> PathBuf {
    let maildir = dir.join(name);
    for sub in ["tmp", "new", "cur"] {
        std::fs::create_dir_all(maildir.join(sub)).unwrap();
    }
    maildir
}

/// A loopback port free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Every message delivered to `maildir`.
pub fn maildir_messages(maildir: &Path) -> Vec<paperboy_testkit::Mail> {
    std::fs::read_dir(maildir.join("new"))
        .unwrap()
        .map(|e| {
            paperboy_testkit::Mail::parse(&std::fs::read_to_string(e.unwrap().path()).unwrap())
        })
        .collect()
}
