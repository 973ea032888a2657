//! Subscriptions and digests end to end, against a real SMTP server on
//! loopback (aiosmtpd writing a Maildir).

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;

use std::collections::HashMap;
use std::process::Stdio;
use std::time::Duration;

use common::{browser, csrf_of, get_text, stderr, stdout, summary, write, Env, Smtp};
use paperboy_store::{OutboxStore, SubscriberStore};
use paperboy_testkit::{recent_record, seed_corpus_path};

fn recent(id: &str, title: &str, cats: &str) -> String {
    let abstract_text = if cats.contains("cs.") {
        format!(
            "{title}. We study weight averaging of fine-tuned models. Code at https://github.com/lab/{}.",
            id.replace('.', "")
        )
    } else {
        format!("{title}. Strings on branes at strong coupling.")
    };
    recent_record(id, title, &abstract_text, cats)
}

#[tokio::test]
async fn subscribe_confirm_digest_unsubscribe() {
    let env = Env::sqlite();
    let smtp = Smtp::start(env.dir.path());
    assert_eq!(
        summary(&env.run(&["import", seed_corpus_path().to_str().unwrap()])).0,
        68
    );
    let file = env.path("recent.jsonl");
    write(
        &file,
        &[
            recent("2511.00101", "Fresh soup of models", "cs.LG"),
            recent("2511.00102", "A fresh physics result", "hep-th"),
        ]
        .join("\n"),
    );
    assert_eq!(summary(&env.run(&["import", file.to_str().unwrap()])).0, 2);
    let mut cmd = env.command();
    cmd.env("PAPERBOY_SMTP_URL", smtp.url());
    let s = common::Server::start_with(cmd, &[]).await;
    let c = browser();
    let csrf = csrf_of(&get_text(&c, &s.url("/subscribe")).await);
    let post = |form: Vec<(&'static str, String)>| {
        let c = c.clone();
        let url = s.url("/subscribe");
        async move { c.post(url).form(&form).send().await.unwrap() }
    };
    let bad = post(vec![
        ("csrf", csrf.clone()),
        ("email", "not-an-email".into()),
        ("frequency", "daily".into()),
        ("categories", "cs.LG".into()),
    ])
    .await;
    assert_eq!(bad.status(), 422);
    assert!(bad.text().await.unwrap().contains("not an email address"));
    let ok = post(vec![
        ("csrf", csrf.clone()),
        ("email", "reader@example.org".into()),
        ("frequency", "daily".into()),
        ("trending_top", "0".into()),
        ("categories", "cs.LG".into()),
        ("queries", "weight averaging".into()),
    ])
    .await;
    assert_eq!(ok.status(), 200);
    let ok_text = ok.text().await.unwrap();
    assert!(ok_text.contains("Check your inbox"));

    // The confirmation arrives at once (the server runs with --no-scheduler).
    let mails = smtp.messages();
    assert_eq!(mails.len(), 1, "one confirmation");
    assert_eq!(mails[0].to(), "reader@example.org");
    assert!(mails[0].subject().starts_with("Confirm your subscription"));
    let confirm = mails[0].link("http://127.0.0.1:8080/subscribe/confirm?token=");

    let digest_env = |extra: &str| {
        let mut cmd = env.command();
        cmd.env("PAPERBOY_SMTP_URL", smtp.url())
            .args(["digest", "--frequency", extra]);
        cmd.output().unwrap()
    };
    let out = digest_env("daily");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        smtp.messages().len(),
        1,
        "nothing before the address confirms"
    );

    let path = confirm.trim_start_matches("http://127.0.0.1:8080");
    let r = c.get(s.url(path)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("You are subscribed"));
    let forged = c
        .get(s.url("/subscribe/confirm?token=confirm.1.9999999999.00"))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 400);

    let out = digest_env("daily");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("composed 1 digests"),
        "{}",
        stdout(&out)
    );
    let mails = smtp.messages();
    assert_eq!(mails.len(), 2);
    let digest = mails
        .iter()
        .find(|m| m.subject().contains("new paper"))
        .expect("a digest");
    assert_eq!(digest.to(), "reader@example.org");
    assert!(
        digest.text.contains("Fresh soup of models"),
        "{}",
        digest.text
    );
    // Its contents are tested in-process (crates/web/tests/subscribe.rs);
    // here, that it went through a real SMTP server whole.
    assert!(digest.header("message-id").starts_with('<'));
    let unsub = digest
        .header("list-unsubscribe")
        .trim_matches(['<', '>'])
        .to_string();
    assert!(unsub.starts_with("http://127.0.0.1:8080/unsubscribe?token="));

    // Composing again queues nothing new.
    let out = digest_env("daily");
    assert!(
        stdout(&out).contains("composed 0 digests"),
        "{}",
        stdout(&out)
    );
    assert_eq!(smtp.messages().len(), 2);

    // One-click unsubscribe (RFC 8058), then no more mail.
    let r = reqwest::Client::new()
        .post(s.url(unsub.trim_start_matches("http://127.0.0.1:8080")))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    write(
        &file,
        &recent("2511.00103", "Another fresh cs.LG paper", "cs.LG"),
    );
    assert_eq!(summary(&env.run(&["import", file.to_str().unwrap()])).0, 1);
    let out = digest_env("weekly");
    assert!(out.status.success(), "{}", stderr(&out));
    let out = digest_env("daily");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(smtp.messages().len(), 2, "nothing after unsubscribing");
}

/// Kill the sender at random points, 50 times; every subscriber still gets
/// each digest exactly once.
#[tokio::test]
async fn killed_senders_deliver_each_digest_exactly_once() {
    use rand::{Rng, SeedableRng};
    let env = Env::sqlite();
    let smtp = Smtp::start(env.dir.path());
    let file = env.path("recent.jsonl");
    let lines: Vec<String> = (0..20)
        .map(|i| {
            recent(
                &format!("2511.{:05}", 200 + i),
                &format!("Fresh paper {i}"),
                "cs.LG",
            )
        })
        .collect();
    write(&file, &lines.join("\n"));
    assert_eq!(summary(&env.run(&["import", file.to_str().unwrap()])).0, 20);
    let n = 200;
    {
        let store = paperboy_store_sqlite::open(&env.database_url)
            .await
            .unwrap();
        let prefs = paperboy_testkit::daily_prefs(&["cs.LG"], &[]);
        for i in 0..n {
            let s = store
                .upsert_subscriber(&format!("reader{i}@example.org"), &prefs)
                .await
                .unwrap();
            store.confirm_subscriber(s.subscriber_id).await.unwrap();
        }
    }
    let digest = || {
        let mut cmd = env.command();
        cmd.env("PAPERBOY_SMTP_URL", smtp.url())
            .env("PAPERBOY_MAIL_CLAIM_SECS", "1")
            .args(["digest", "--frequency", "daily"]);
        cmd.stdout(Stdio::null()).stderr(Stdio::null());
        cmd
    };
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let mut kills = 0;
    let mut runs = 0;
    while kills < 50 {
        runs += 1;
        assert!(runs < 1000, "could not kill the sender 50 times");
        let mut child = digest().spawn().unwrap();
        // A run takes a few hundred ms; kill anywhere in it (start-up,
        // composing, between the commit and the final dot, …).
        std::thread::sleep(Duration::from_millis(rng.gen_range(1..250)));
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap();
            kills += 1;
        }
        child.wait().unwrap();
        // Let a dead sender's claims lapse sometimes, not always.
        if rng.gen_bool(0.2) {
            std::thread::sleep(Duration::from_millis(1100));
        }
    }
    // Finish: run until everything is sent.
    std::thread::sleep(Duration::from_millis(1100));
    for _ in 0..5 {
        let out = digest().stdout(Stdio::piped()).output().unwrap();
        assert!(out.status.success());
        std::thread::sleep(Duration::from_millis(1100));
    }
    let mails = smtp.messages();
    let mut per: HashMap<String, usize> = HashMap::new();
    for m in &mails {
        *per.entry(m.to().to_string()).or_default() += 1;
    }
    let wrong: Vec<String> = (0..n)
        .map(|i| format!("reader{i}@example.org"))
        .filter(|to| per.get(to).copied().unwrap_or(0) != 1)
        .map(|to| format!("{to}: {:?}", per.get(&to)))
        .collect();
    if !wrong.is_empty() {
        // Say what the outbox thinks, to tell a lost message (marked sent)
        // from one still waiting (pending, backed off).
        let store = paperboy_store_sqlite::open(&env.database_url)
            .await
            .unwrap();
        let counts = store.outbox_counts().await.unwrap();
        panic!(
            "after {kills} kills, not exactly one digest: {wrong:?}; outbox by status: {counts:?}"
        );
    }
    assert_eq!(mails.len(), n);
}

/// A subscriber who is also a member with a library: the digest opens with
/// a For-you section of the new papers nearest that library (checked as
/// delivered by a real SMTP server), and the member's private feed parses
/// in feedparser, with the same picks and their reasons.
#[tokio::test]
async fn for_you_in_the_digest_and_the_private_feed() {
    let env = Env::sqlite();
    let smtp = Smtp::start(env.dir.path());
    assert_eq!(
        summary(&env.run(&["import", seed_corpus_path().to_str().unwrap()])).0,
        68
    );
    let file = env.path("recent.jsonl");
    write(
        &file,
        &[
            recent_record(
                "2511.00301",
                "Merging fine-tuned models with task vectors and weight averaging",
                "We average the weights of fine-tuned models into soups and add task vectors; routing among the merged experts keeps accuracy.",
                "cs.LG",
            ),
            recent_record(
                "2511.00302",
                "Gravitational waves from cosmic strings",
                "We compute the spectrum of gravitational waves emitted by a network of cosmic strings.",
                "astro-ph.CO",
            ),
        ]
        .join("\n"),
    );
    assert_eq!(summary(&env.run(&["import", file.to_str().unwrap()])).0, 2);
    let mut add = env.command();
    add.env("PAPERBOY_PASSWORD", "a long enough password")
        .args(["user", "add", "reader", "reader@example.org"]);
    assert!(add.output().unwrap().status.success());
    let lib = env.path("lib.txt");
    write(
        &lib,
        "2203.05482\narXiv:2407.02880\nhttps://arxiv.org/abs/2402.05859v2\n",
    );
    let out = env.run(&[
        "library",
        "import",
        "--user",
        "reader",
        lib.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("imported 3 new"), "{}", stdout(&out));
    {
        let store = paperboy_store_sqlite::open(&env.database_url)
            .await
            .unwrap();
        // Trending-free, categories the new papers are not in: only the
        // For-you section can bring them.
        let prefs = paperboy_testkit::daily_prefs(&["math.AG"], &[]);
        let s = store
            .upsert_subscriber("reader@example.org", &prefs)
            .await
            .unwrap();
        store.confirm_subscriber(s.subscriber_id).await.unwrap();
    }
    let mut digest = env.command();
    digest
        .env("PAPERBOY_SMTP_URL", smtp.url())
        .args(["digest", "--frequency", "daily"]);
    let out = digest.output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let mails = smtp.messages();
    assert_eq!(mails.len(), 1, "{}", stdout(&out));
    let text = &mails[0].text;
    assert!(text.starts_with("FOR YOU (near your library)"), "{text}");
    assert!(
        text.contains("Merging fine-tuned models with task vectors"),
        "{text}"
    );
    assert!(text.contains("close to “"), "{text}");
    assert!(
        !text.contains("cosmic strings"),
        "far from the library: {text}"
    );

    // The private feed, through the pages and feedparser.
    let s = common::Server::start(&env, &[]).await;
    let c = browser();
    let csrf = csrf_of(&get_text(&c, &s.url("/login")).await);
    let r = c
        .post(s.url("/login"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("username", "reader"),
            ("password", "a long enough password"),
        ])
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success() || r.status().is_redirection());
    let page = get_text(&c, &s.url("/library")).await;
    let csrf = csrf_of(&page);
    let made = c
        .post(s.url("/library/feed"))
        .form(&[("csrf", csrf.as_str()), ("action", "new")])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let start = made.find("/feeds/u/").expect("a feed address");
    let end = made[start..].find("for-you.atom").unwrap() + start + "for-you.atom".len();
    let url = s.url(&made[start..end]);
    let parsed = paperboy_testkit::python(
        "import sys, json, feedparser\nf = feedparser.parse(sys.argv[1])\nprint(json.dumps({'bozo': f.bozo, 'titles': [e.title for e in f.entries], 'summaries': [e.summary for e in f.entries]}))",
        &[std::ffi::OsStr::new(&url)],
        "`python3 -m pip install feedparser` (scripts/test.sh does)",
    );
    let v: serde_json::Value = serde_json::from_slice(&parsed).unwrap();
    assert_eq!(v["bozo"], false, "{v}");
    let titles: Vec<&str> = v["titles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert_eq!(
        titles.first(),
        Some(&"Merging fine-tuned models with task vectors and weight averaging"),
        "{v}"
    );
    assert!(
        v["summaries"][0]
            .as_str()
            .unwrap()
            .starts_with("Recommended: close to"),
        "{v}"
    );
}
