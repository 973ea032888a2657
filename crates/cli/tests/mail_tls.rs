//! Mail over TLS against a real SMTP server (aiosmtpd) on loopback with a
//! certificate from a private CA: STARTTLS and TLS from the first byte,
//! both with AUTH; the CA trusted through `smtp_ca_file`; a wrong password
//! is a clear error and the message stays queued until it is fixed.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{browser, csrf_of, get_text, stderr, stdout, Env, Server};
use paperboy_store::OutboxStore;
use paperboy_testkit::Mail;

/// A CA and a certificate for 127.0.0.1 signed by it (openssl).
fn make_certs(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let run = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("openssl");
        assert!(out.status.success(), "openssl {args:?}: {}", stderr(&out));
    };
    run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=Paperboy test CA",
    ]);
    run(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=127.0.0.1",
    ]);
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n\
         keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
    ]);
    (
        dir.join("ca.pem"),
        dir.join("server.pem"),
        dir.join("server.key"),
    )
}

struct TlsSmtp {
    child: Child,
    port: u16,
    maildir: PathBuf,
}

impl TlsSmtp {
    fn start(dir: &Path, mode: &str, cert: &Path, key: &Path) -> TlsSmtp {
        let maildir = common::new_maildir(dir, &format!("maildir-{mode}"));
        let port = common::free_port();
        let script = paperboy_testkit::repo_root().join("crates/cli/tests/support/tls_smtp.py");
        let mut child = Command::new("python3")
            .arg(script)
            .args([mode, &port.to_string()])
            .arg(&maildir)
            .args([cert, key])
            .args(["paperboy", "relay secret"])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 tls_smtp.py (pip install aiosmtpd)");
        let out = child.stdout.take().unwrap();
        let mut line = String::new();
        BufReader::new(out).read_line(&mut line).unwrap();
        assert_eq!(line.trim(), "ready", "the SMTP server did not start");
        TlsSmtp {
            child,
            port,
            maildir,
        }
    }

    fn messages(&self) -> Vec<Mail> {
        common::maildir_messages(&self.maildir)
    }

    async fn wait_for(&self, n: usize) -> Vec<Mail> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let m = self.messages();
            if m.len() >= n {
                return m;
            }
            assert!(
                Instant::now() < deadline,
                "{} of {n} messages arrived",
                m.len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for TlsSmtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn subscribe(s: &Server, email: &str) {
    let c = browser();
    let csrf = csrf_of(&get_text(&c, &s.url("/subscribe")).await);
    let r = c
        .post(s.url("/subscribe"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("email", email),
            ("frequency", "daily"),
            ("categories", "cs.LG"),
        ])
        .send()
        .await
        .unwrap();
    assert!(
        r.status().is_success() || r.status().is_redirection(),
        "{}",
        r.status()
    );
}

/// A store with papers (subscriptions name categories it holds).
fn seeded() -> Env {
    let env = Env::sqlite();
    let seed = paperboy_testkit::seed_corpus_path();
    assert!(env
        .run(&["import", seed.to_str().unwrap()])
        .status
        .success());
    env
}

fn with_smtp(env: &Env, url: &str, ca: &Path) -> Command {
    let mut cmd = env.command();
    cmd.env("PAPERBOY_SMTP_URL", url)
        .env("PAPERBOY_SMTP_CA_FILE", ca);
    cmd
}

#[tokio::test]
async fn starttls_and_implicit_tls_with_auth_deliver_the_confirmation() {
    let certs = tempfile::tempdir().unwrap();
    let (ca, cert, key) = make_certs(certs.path());
    for (mode, url) in [
        (
            "starttls",
            "smtp://paperboy:relay%20secret@127.0.0.1:{port}?tls=starttls",
        ),
        (
            "implicit",
            "smtps://paperboy:relay%20secret@127.0.0.1:{port}",
        ),
    ] {
        let smtp = TlsSmtp::start(certs.path(), mode, &cert, &key);
        let env = seeded();
        let url = url.replace("{port}", &smtp.port.to_string());
        let s = Server::start_with(with_smtp(&env, &url, &ca), &[]).await;
        subscribe(&s, &format!("reader-{mode}@example.org")).await;
        let got = smtp.wait_for(1).await;
        assert_eq!(got.len(), 1, "{mode}");
        assert_eq!(got[0].to(), format!("reader-{mode}@example.org"), "{mode}");
        assert!(
            got[0].text.contains("/subscribe/confirm"),
            "{mode}: {}",
            got[0].text
        );
        // Sent once: the outbox says so and nothing more arrives.
        drop(s);
        let store = paperboy_store_sqlite::open(&env.database_url)
            .await
            .unwrap();
        let counts = store.outbox_counts().await.unwrap();
        assert_eq!(counts, vec![("sent".to_string(), 1)], "{mode}");
        assert_eq!(smtp.messages().len(), 1, "{mode}");
    }
}

#[tokio::test]
async fn without_the_ca_or_with_a_wrong_password_mail_stays_queued_with_a_clear_error() {
    let certs = tempfile::tempdir().unwrap();
    let (ca, cert, key) = make_certs(certs.path());
    let smtp = TlsSmtp::start(certs.path(), "starttls", &cert, &key);
    let env = seeded();
    let good = format!(
        "smtp://paperboy:relay%20secret@127.0.0.1:{}?tls=starttls",
        smtp.port
    );
    let wrong = format!(
        "smtp://paperboy:not%20it@127.0.0.1:{}?tls=starttls",
        smtp.port
    );

    let s = Server::start_with(with_smtp(&env, &wrong, &ca), &[]).await;
    subscribe(&s, "reader@example.org").await;
    drop(s);
    assert!(smtp.messages().is_empty());

    // The drain says what is wrong and keeps the message.
    let out = with_smtp(&env, &wrong, &ca).arg("digest").output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "SMTP authentication as `paperboy` at 127.0.0.1:{} failed: 535",
            smtp.port
        )),
        "{err}"
    );
    assert!(
        stdout(&out).contains("sent 0, retrying 1, failed 0"),
        "{}",
        stdout(&out)
    );

    // Without trusting the private CA, TLS fails: named, still queued.
    let mut no_ca = env.command();
    no_ca.env("PAPERBOY_SMTP_URL", &good);
    let out = no_ca.arg("digest").output().unwrap();
    let err = stderr(&out);
    assert!(
        err.contains(&format!("TLS with 127.0.0.1:{}", smtp.port)),
        "{err}"
    );
    assert!(
        stdout(&out).contains("sent 0, retrying 1, failed 0"),
        "{}",
        stdout(&out)
    );

    // A CA file that is not one: a clear error at start-up.
    let junk = certs.path().join("junk.pem");
    std::fs::write(&junk, "not a certificate").unwrap();
    let out = with_smtp(&env, &good, &junk)
        .arg("digest")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("junk.pem"), "{}", stderr(&out));

    // Fixed: the message that waited goes out, once.
    let out = with_smtp(&env, &good, &ca).arg("digest").output().unwrap();
    assert!(
        stdout(&out).contains("sent 1, retrying 0, failed 0"),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let got = smtp.wait_for(1).await;
    assert_eq!(got[0].to(), "reader@example.org");
    let out = with_smtp(&env, &good, &ca).arg("digest").output().unwrap();
    assert!(
        stdout(&out).contains("sent 0, retrying 0, failed 0"),
        "{}",
        stdout(&out)
    );
    assert_eq!(smtp.messages().len(), 1);
}
