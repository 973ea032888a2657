//! The official Hugging Face client (`huggingface_hub` from PyPI), pointed
//! at a running Paperboy as `HfApi(endpoint=…)`, drives every paper call
//! it has: `paper_info`, `list_papers`, `list_daily_papers` with each of
//! its parameters, and `read_paper`. If its authors' code works against
//! Paperboy, so do our users' scripts.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;

use common::{browser, csrf_of, get_text, stderr, summary, write, Env, Server};
use paperboy_testkit::{python, recent_record, seed_corpus_path};

/// Signs `name` up in a fresh browser and submits `ids` to today's list.
async fn member_submits(s: &Server, name: &str, ids: &[&str]) -> reqwest::Client {
    let c = browser();
    let csrf = csrf_of(&get_text(&c, &s.url("/signup")).await);
    let email = format!("{name}@example.org");
    let r = c
        .post(s.url("/signup"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("username", name),
            ("email", email.as_str()),
            ("password", "correct horse battery"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    for id in ids {
        let r = c
            .post(s.url("/submit"))
            .form(&[("csrf", csrf.as_str()), ("arxiv_id", id)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303, "{id}: {}", r.text().await.unwrap());
    }
    c
}

const SCRIPT: &str = r###"
import datetime, sys
from huggingface_hub import HfApi

api = HfApi(endpoint=sys.argv[1])
today = datetime.date.today()

def check(cond, what):
    if not cond:
        raise SystemExit(f"huggingface_hub against Paperboy: {what}")

p = api.paper_info("2203.05482")
check(p.id == "2203.05482", f"paper_info id {p.id}")
check(p.title.startswith("Model soups"), f"paper_info title {p.title}")
check(p.authors and p.authors[0].name == "Mitchell Wortsman", f"authors {p.authors}")
check(p.published_at and p.published_at.year == 2022, f"published_at {p.published_at}")
check(p.comments == 0, f"numComments {p.comments}")

found = list(api.list_papers(query="model soups fine-tuned weights"))
check(found and found[0].id == "2203.05482", f"list_papers {[f.id for f in found]}")
check(len(list(api.list_papers(query="model soups", limit=2))) <= 2, "list_papers limit")

daily = list(api.list_daily_papers())
ids = sorted(d.id for d in daily)
check(ids == ["2611.30001", "2611.30002", "2611.30003"], f"list_daily_papers() {ids}")
check(all(d.submitted_by is not None for d in daily), "submitted_by")
by_id = {d.id: d for d in daily}
check(by_id["2611.30001"].comments == 1, f"numComments {by_id['2611.30001'].comments}")
check(by_id["2611.30003"].submitted_by.username == "bob", f"submitter {by_id['2611.30003'].submitted_by}")

check(sorted(d.id for d in api.list_daily_papers(date=today.isoformat())) == ids, "date=")
year, week, _ = today.isocalendar()
check(sorted(d.id for d in api.list_daily_papers(week=f"{year}-W{week:02d}")) == ids, "week=")
check(sorted(d.id for d in api.list_daily_papers(month=today.strftime("%Y-%m"))) == ids, "month=")
check(list(api.list_daily_papers(date="2001-01-01")) == [], "another day is empty")
mine = sorted(d.id for d in api.list_daily_papers(submitter="ada"))
check(mine == ["2611.30001", "2611.30002"], f"submitter=ada {mine}")
check(list(api.list_daily_papers(submitter="nobody")) == [], "submitter=nobody")
newest = [d.id for d in api.list_daily_papers(sort="publishedAt")]
check(newest == ["2611.30003", "2611.30002", "2611.30001"], f"sort=publishedAt {newest}")
top = [d.id for d in api.list_daily_papers(sort="trending")]
check(top[0] == "2611.30002", f"sort=trending puts the upvoted one first: {top}")
page0 = [d.id for d in api.list_daily_papers(sort="publishedAt", limit=2, p=0)]
page1 = [d.id for d in api.list_daily_papers(sort="publishedAt", limit=2, p=1)]
check(page0 == newest[:2] and page1 == newest[2:], f"p/limit {page0} {page1}")

md = api.read_paper("2203.05482")
check(md.startswith("# Model soups"), f"read_paper {md[:80]!r}")
check("## Abstract" in md and "Mitchell Wortsman" in md, "read_paper sections")
print("ok")
"###;

#[tokio::test]
async fn the_official_client_uses_every_paper_call() {
    let env = Env::sqlite();
    let out = env.run(&["import", seed_corpus_path().to_str().unwrap()]);
    assert_eq!(summary(&out), (68, 0, 0, 0), "{}", stderr(&out));
    // First versions an hour apart, the highest id the newest.
    let recent: Vec<String> = (1..=3)
        .map(|i| {
            let mut r: serde_json::Value = serde_json::from_str(&recent_record(
                &format!("2611.3000{i}"),
                &format!("A fresh paper number {i}"),
                "A fresh result.",
                "cs.LG",
            ))
            .unwrap();
            let at = chrono::Utc::now() - chrono::Duration::hours(4 - i);
            r["versions"][0]["created"] =
                at.format("%a, %-d %b %Y %H:%M:%S GMT").to_string().into();
            r.to_string()
        })
        .collect();
    let file = env.path("recent.jsonl");
    write(&file, &recent.join("\n"));
    assert_eq!(summary(&env.run(&["import", file.to_str().unwrap()])).0, 3);
    let s = Server::start(&env, &[]).await;
    member_submits(&s, "ada", &["2611.30001", "2611.30002"]).await;
    let bob = member_submits(&s, "bob", &["2611.30003"]).await;
    let csrf = csrf_of(&get_text(&bob, &s.url("/submit")).await);
    let r = bob
        .post(s.url("/papers/2611.30002/upvote"))
        .form(&[("csrf", csrf.as_str()), ("action", "add")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let r = bob
        .post(s.url("/api/papers/2611.30001/comments"))
        .header("x-csrf-token", &csrf)
        .json(&serde_json::json!({"body": "Nice result."}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);

    let out = python(
        SCRIPT,
        &[std::ffi::OsStr::new(&s.base)],
        "the official Hugging Face client is missing: `python3 -m pip install huggingface_hub`",
    );
    assert_eq!(String::from_utf8_lossy(&out).trim(), "ok");
}
