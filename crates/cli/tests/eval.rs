//! `paperboy eval` on the committed relevance judgments.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;

use common::{stderr, stdout, summary, Env};
use paperboy_testkit::{repo_root, seed_corpus_path};

#[test]
fn eval_prints_metrics_per_mode() {
    let env = Env::sqlite();
    assert_eq!(
        summary(&env.run(&["import", seed_corpus_path().to_str().unwrap()])).0,
        68
    );
    let qrels = repo_root().join("eval/seed-qrels.jsonl");
    let out = env.run(&["eval", "--qrels", qrels.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.starts_with("36 queries"), "{text}");
    for mode in ["keyword", "semantic", "hybrid"] {
        let line = text
            .lines()
            .find(|l| l.starts_with(mode))
            .unwrap_or_else(|| panic!("no {mode} line in {text}"));
        let nums: Vec<f64> = line
            .split_whitespace()
            .skip(1)
            .take(3)
            .map(|n| n.parse().unwrap())
            .collect();
        assert!(nums.iter().all(|n| (0.0..=1.0).contains(n)), "{line}");
        // A floor far below what keyword search reaches, to catch a broken ranking.
        assert!(nums[1] > 0.3, "MRR collapsed: {line}");
    }
    let bad = env.path("bad.jsonl");
    std::fs::write(&bad, "{not json\n").unwrap();
    let out = env.run(&["eval", "--qrels", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("bad.jsonl:1"), "{}", stderr(&out));
}
