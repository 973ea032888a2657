//! Search by meaning from outside: `paperboy search` in every mode,
//! related papers over HTTP, `paperboy embed` (first use distils the static
//! model; a killed run resumes), `paperboy reindex`, and the distilled model
//! loading in the Python model2vec package.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use common::{static_model_dir, stderr, stdout, summary, synthetic_records, write, Env, Server};
use paperboy_embed::{dot, Embedder, StaticModel};
use paperboy_testkit::{seed_corpus_path, transformer_model_dir};
use serde_json::Value;

fn with_model(env: &Env, model: &Path) -> Command {
    let mut c = env.command();
    c.env("PAPERBOY_MODEL_DIR", model);
    c
}

fn run(env: &Env, model: &Path, args: &[&str]) -> Output {
    with_model(env, model)
        .args(args)
        .output()
        .expect("run paperboy")
}

/// [`run`] with the static model alone (`embedder = "static"`).
fn run_static(env: &Env, model: &Path, args: &[&str]) -> Output {
    with_model(env, model)
        .env("PAPERBOY_EMBEDDER", "static")
        .args(args)
        .output()
        .expect("run paperboy")
}

fn seeded() -> Env {
    let env = Env::sqlite();
    let seed = seed_corpus_path();
    let seed = seed.to_str().expect("a UTF-8 path");
    assert_eq!(summary(&env.run(&["import", seed])).0, 68);
    env
}

/// `paperboy search QUERY --mode MODE --json --limit N` with no model
/// configured: the ids found, best first, and what it wrote to stderr.
fn search_ids(env: &Env, query: &str, mode: &str, limit: u32) -> (Vec<String>, String) {
    let limit = limit.to_string();
    let out = env.run(&["search", query, "--mode", mode, "--json", "--limit", &limit]);
    assert!(out.status.success(), "{}", stderr(&out));
    let found = ids(&serde_json::from_str(&stdout(&out)).expect("json"));
    (found, stderr(&out))
}

fn ids(rows: &Value) -> Vec<String> {
    rows.as_array()
        .expect("an array")
        .iter()
        .map(|r| r["paper"]["id"].as_str().expect("id").to_string())
        .collect()
}

/// A paper with a short abstract (43 words) that keyword search and
/// search by meaning both rank first stays first in hybrid search. Fusion
/// once applied the short-document prior on top of lists that already
/// carried it, and such a paper fell below papers both lists rank lower.
#[test]
fn a_short_abstract_first_by_words_and_by_meaning_is_first_in_hybrid() {
    let env = seeded();
    let dev = concat!(env!("CARGO_MANIFEST_DIR"), "/../../eval/dev-papers.jsonl");
    assert_eq!(summary(&env.run(&["import", dev])).0, 120);
    let query = "speech recognisers perform worse for regional accents";
    for mode in ["keyword", "semantic", "hybrid"] {
        let (found, err) = search_ids(&env, query, mode, 5);
        assert_eq!(
            found.first().map(String::as_str),
            Some("2609.90066"),
            "{mode}: {found:?} {err}"
        );
    }
}

#[test]
fn hybrid_search_ranks_model_soups_first_in_every_mode_that_uses_meaning() {
    let env = seeded();
    let model = static_model_dir();
    let query = "averaging weights of several fine-tuned models";

    let out = run(&env, &model, &["search", query]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let first = text.lines().next().unwrap_or_default();
    assert!(
        first.contains("2203.05482"),
        "hybrid ranks Model soups first:\n{text}"
    );
    assert!(!stderr(&out).contains("note:"), "{}", stderr(&out));

    for mode in ["hybrid", "semantic"] {
        let out = run(
            &env,
            &model,
            &["search", query, "--mode", mode, "--json", "--limit", "8"],
        );
        assert!(out.status.success(), "{}", stderr(&out));
        let rows: Value = serde_json::from_str(&stdout(&out)).expect("json");
        let found = ids(&rows);
        assert_eq!(found.len(), 8, "{mode}");
        assert_eq!(found[0], "2203.05482", "{mode}: {found:?}");
        let mut unique = found.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), found.len(), "{mode}: duplicates in {found:?}");
        let scores: Vec<f64> = rows
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["score"].as_f64().unwrap())
            .collect();
        assert!(
            scores.windows(2).all(|w| w[0] >= w[1]),
            "{mode}: scores not descending: {scores:?}"
        );
        for r in rows.as_array().unwrap() {
            assert!(!r["title"].as_str().unwrap().is_empty());
            assert!(r["publishedAt"].is_string());
        }
    }

    // A paraphrase ("average the parameters … networks") finds it by meaning.
    let out = run(
        &env,
        &model,
        &[
            "search",
            "average the parameters of several fine-tuned networks",
            "--mode",
            "semantic",
            "--json",
            "--limit",
            "3",
        ],
    );
    let found = ids(&serde_json::from_str(&stdout(&out)).expect("json"));
    assert!(found.contains(&"2203.05482".to_string()), "{found:?}");

    // Field prefixes are a keyword question, and the answer says so.
    let out = run(&env, &model, &["search", "ti:soups", "--mode", "hybrid"]);
    assert!(out.status.success());
    assert!(stdout(&out).contains("2203.05482"));
    assert!(stderr(&out).contains("keyword only"), "{}", stderr(&out));

    // Without a model: the built-in one searches by meaning, no note.
    let (found, err) = search_ids(
        &env,
        "average the parameters of several fine-tuned networks",
        "hybrid",
        3,
    );
    assert_eq!(
        found.first().map(String::as_str),
        Some("2203.05482"),
        "{found:?}"
    );
    assert!(!err.contains("not available"), "{err}");

    // A broken model directory: named in a warning, and the built-in
    // model serves instead.
    let broken = env.path("broken-model");
    std::fs::create_dir_all(&broken).unwrap();
    std::fs::write(
        broken.join("config.json"),
        "{\"model_type\": \"model2vec\"}",
    )
    .unwrap();
    std::fs::write(broken.join("model.safetensors"), b"cut off").unwrap();
    let out = run(&env, &broken, &["search", query, "--mode", "hybrid"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("2203.05482"));
    let err = stderr(&out);
    assert!(
        err.contains("broken-model") && err.contains("built-in"),
        "{err}"
    );
}

/// The server indexes and embeds the store in the background after it
/// starts: wait until both indexes answer for all 68 seed papers.
async fn wait_until_indexed(s: &Server) {
    let started = Instant::now();
    loop {
        let semantic: Value =
            reqwest::get(s.url("/api/papers/search?q=model+soups&mode=semantic&limit=100"))
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
        let keyword: Value =
            reqwest::get(s.url("/api/papers/search?q=model+soups&mode=keyword&limit=1"))
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
        if ids(&semantic).len() == 68 && !ids(&keyword).is_empty() {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the indexes never caught up"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn related_papers_and_live_semantic_sync_through_the_server() {
    let env = seeded();
    let model = static_model_dir();
    let s = Server::start_with(with_model(&env, &model), &[]).await;

    let started = Instant::now();
    wait_until_indexed(&s).await;
    let related = loop {
        let rows: Value = reqwest::get(s.url("/api/papers/2203.05482/related?limit=8"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let related = ids(&rows);
        if related.len() == 8 || started.elapsed() > Duration::from_secs(30) {
            break related;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(related.len(), 8);
    assert!(
        !related.contains(&"2203.05482".to_string()),
        "a paper is not related to itself"
    );
    // Weight averaging, weight-space ensembles, combining fine-tuned
    // models (the theme of eval/seed-themes.jsonl), robust fine-tuning.
    let on_topic = [
        "2407.02880",
        "2402.04644",
        "2402.05859",
        "2406.15480",
        "2309.17230",
        "2308.02533",
        "2110.07560",
        "2401.15914",
        "2310.03646",
    ];
    let hits = related
        .iter()
        .filter(|id| on_topic.contains(&id.as_str()))
        .count();
    assert!(hits >= 3, "related papers of Model soups: {related:?}");
    // Speech enhancement, dense vision, novelty exploration: not related.
    for off in ["2308.15777", "2404.18459", "2410.14765"] {
        assert!(!related.contains(&off.to_string()), "{off} in {related:?}");
    }

    // A paper imported while the server runs is found by meaning within 5 s.
    let extra = env.path("extra.jsonl");
    write(
        &extra,
        r#"{"id": "2501.00042", "submitter": null, "authors": "Ada Writer", "title": "Coral reef bleaching forecasts from ocean temperature records", "comments": null, "journal-ref": null, "doi": null, "report-no": null, "categories": "physics.ao-ph", "license": null, "abstract": "We forecast coral bleaching events on tropical reefs from sea surface temperature anomalies, using decades of satellite records of ocean heat and field surveys of reef health across the Pacific.", "versions": [{"version": "v1", "created": "Mon, 6 Jan 2025 10:00:00 GMT"}], "update_date": "2025-01-06", "authors_parsed": [["Writer", "Ada", ""]]}
"#,
    );
    let started = Instant::now();
    assert_eq!(summary(&env.run(&["import", extra.to_str().unwrap()])).0, 1);
    let mut found = false;
    while started.elapsed() < Duration::from_secs(5) {
        let r = reqwest::get(
            s.url("/api/papers/search?q=warming%20seas%20harm%20corals&mode=semantic&limit=1"),
        )
        .await
        .unwrap();
        assert!(r.headers().get("x-search-note").is_none());
        let rows: Value = r.json().await.unwrap();
        if ids(&rows).first().map(String::as_str) == Some("2501.00042") {
            found = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(found, "not found by meaning within 5 s of its import");
}

#[test]
fn first_use_distills_then_embed_resumes_after_a_kill_and_reindex_rebuilds() {
    let env = seeded();
    let transformer = transformer_model_dir();
    // With `embedder = "static"` and a transformer configured, the static
    // model is distilled from it into the data directory on first use.
    let out = run_static(&env, &transformer, &["embed"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("embedded 68 changes (68 new vectors)"),
        "{text}"
    );
    assert!(stderr(&out).contains("distill"), "{}", stderr(&out));
    let models: Vec<_> = std::fs::read_dir(env.path("data/models"))
        .unwrap()
        .collect();
    assert_eq!(models.len(), 1);
    let distilled = models[0].as_ref().unwrap().path();
    assert!(StaticModel::is_static_dir(&distilled));
    // Nothing new: nothing to do, and no second distillation.
    let out = run_static(&env, &transformer, &["embed"]);
    assert!(
        stdout(&out).contains("embedded 0 changes"),
        "{}",
        stdout(&out)
    );
    assert!(!stderr(&out).contains("distill"));

    // Many more papers; the first run is killed part-way.
    let big = env.path("big.jsonl");
    write(&big, &synthetic_records(40_000));
    assert_eq!(
        summary(&env.run(&["import", big.to_str().unwrap()])).0,
        40_000
    );
    let vectors = std::fs::read_dir(env.path("data/index/vectors"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path()
        .join("vectors.log");
    let before = std::fs::metadata(&vectors).unwrap().len();
    let mut child = with_model(&env, &transformer)
        .env("PAPERBOY_EMBEDDER", "static")
        .arg("embed")
        .spawn()
        .unwrap();
    let started = Instant::now();
    while std::fs::metadata(&vectors).unwrap().len() == before
        && started.elapsed() < Duration::from_secs(60)
    {
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let out = run_static(&env, &transformer, &["embed"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("the index holds 40068 vectors"), "{text}");
    let n: u64 = text.split_whitespace().nth(1).unwrap().parse().unwrap();
    assert!(n <= 40_000, "{text}");

    // Search works on the resumed index, and reindex rebuilds it whole.
    let out = run(
        &env,
        &transformer,
        &[
            "search",
            "averaging weights of several fine-tuned models",
            "--limit",
            "3",
        ],
    );
    assert!(
        stdout(&out)
            .lines()
            .next()
            .unwrap_or_default()
            .contains("2203.05482"),
        "{}",
        stdout(&out)
    );
    let out = run_static(&env, &transformer, &["reindex"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("re-embedded 40068 papers"),
        "{}",
        stdout(&out)
    );

    // A model directory that is not there is named in a warning, and the
    // built-in model serves instead: no crash, nothing lost.
    let out = run_static(&env, Path::new("/nonexistent/model"), &["embed"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("/nonexistent/model") && stderr(&out).contains("built-in"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn distilled_model_loads_in_python_model2vec_with_the_same_vectors() {
    let dir = static_model_dir();
    let texts = [
        "averaging weights of several fine-tuned models",
        "Coral reef bleaching forecasts from ocean temperature records",
        "Schrödinger équation naïve café",
    ];
    let script = format!(
        "import json, sys\nfrom model2vec import StaticModel\nm = StaticModel.from_pretrained({:?})\nprint(json.dumps(m.encode({}).tolist()))",
        dir.to_str().unwrap(),
        serde_json::to_string(&texts).unwrap()
    );
    let out = paperboy_testkit::python(
        &script,
        &[],
        "model2vec could not load the distilled model (pip install model2vec)",
    );
    let python: Vec<Vec<f32>> = serde_json::from_slice(&out).expect("vectors");
    let ours = StaticModel::load(&dir).unwrap().embed(&texts).unwrap();
    for ((p, o), t) in python.iter().zip(&ours).zip(texts) {
        assert_eq!(p.len(), 256);
        let cos = dot(p, o) / (dot(p, p).sqrt() * dot(o, o).sqrt());
        assert!(cos > 0.9999, "{t}: cosine {cos}");
    }
}

#[test]
fn eval_reports_each_embedder_and_fusion() {
    let env = seeded();
    let model = static_model_dir();
    let qrels = paperboy_testkit::repo_root().join("eval/seed-qrels.jsonl");
    let out = run(
        &env,
        &model,
        &[
            "eval",
            "--qrels",
            qrels.to_str().unwrap(),
            "--embedders",
            "static",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let metric = |name: &str| -> Vec<f64> {
        let line = text
            .lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("no {name} in {text}"));
        line.split_whitespace()
            .skip(1)
            .take(3)
            .map(|n| n.parse().unwrap())
            .collect()
    };
    let keyword = metric("keyword");
    let semantic = metric("semantic/static");
    let hybrid = metric("hybrid/static");
    metric("hybrid-convex/static");
    // Floors well below the measured figures, to catch a broken ranking.
    assert!(semantic[1] > 0.5, "{text}");
    assert!(hybrid[0] > 0.6 && keyword[0] > 0.6, "{text}");
    assert!(!text.contains("not available"), "{text}");
}

/// Hostile and odd queries against the built-in model, in every mode:
/// answered (or a 400 that says why), never a 5xx.
#[tokio::test(flavor = "multi_thread")]
async fn odd_queries_are_answered_in_every_mode() {
    let env = seeded();
    let s = Server::start(&env, &[]).await;
    let long = "weight averaging of fine-tuned models ".repeat(270);
    let queries = [
        long.as_str(),
        "the of and a to in",
        "?!.,;:()[]{}<>/\\\\|@#$%^&*~`",
        "\"unbalanced quote",
        "((model soups",
        "ti:\"model soups",
        "模型汤 权重平均",
        "усреднение весов моделей",
        "🍲🤖📈",
        "au:",
        "   ",
        "\u{0}\u{1}\u{7f}",
    ];
    let client = reqwest::Client::new();
    for q in queries {
        for mode in ["keyword", "semantic", "hybrid"] {
            let r = client
                .get(s.url("/api/papers/search"))
                .query(&[("q", q), ("mode", mode), ("limit", "10")])
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            let body: Value = r.json().await.unwrap_or(Value::Null);
            let shown: String = q.chars().take(40).collect();
            match status {
                200 => assert!(body.is_array(), "{shown:?} {mode}: {body}"),
                400 => assert!(
                    body["error"]["message"]
                        .as_str()
                        .is_some_and(|m| !m.is_empty()),
                    "{shown:?} {mode}: {body}"
                ),
                other => panic!("{shown:?} in {mode} mode: {other} {body}"),
            }
        }
        let page = client
            .get(s.url("/search"))
            .query(&[("q", q)])
            .send()
            .await
            .unwrap();
        assert!(
            page.status().as_u16() < 500,
            "{:?}: {}",
            q.chars().take(40).collect::<String>(),
            page.status()
        );
    }
}

/// The value of a metric line starting with `name` (labels included).
fn metric(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(name))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_transformer_fills_in_behind_the_built_in_vectors() {
    let env = seeded();
    let mut cmd = with_model(&env, &transformer_model_dir());
    cmd.env("PAPERBOY_EMBEDDER", "transformer");
    let s = Server::start_with(cmd, &[]).await;
    let query = "/api/papers/search?q=averaging+weights+of+several+fine-tuned+models&mode=hybrid";
    // Search by meaning answers from the first seconds, before the
    // transformer is done, without a note.
    let started = Instant::now();
    let first = loop {
        let r = reqwest::get(s.url(query)).await.unwrap();
        assert!(r.headers().get("x-search-note").is_none());
        let rows: Value = r.json().await.unwrap();
        let found = ids(&rows);
        if found.first().map(String::as_str) == Some("2203.05482") {
            break started.elapsed();
        }
        assert!(started.elapsed() < Duration::from_secs(30), "{found:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    // The progress shows on /metrics and /about, and the walk ends with
    // every paper covered.
    let mut saw_progress = Vec::new();
    loop {
        let text = reqwest::get(s.url("/metrics"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let covered = metric(&text, "paperboy_embedding_refined_papers{model=");
        let filling = metric(&text, "paperboy_embedding_refined_filling{model=");
        assert_eq!(metric(&text, "paperboy_papers "), Some(68.0), "{text}");
        let covered = covered.expect("refined papers metric");
        saw_progress.push(covered);
        if covered == 68.0 && filling == Some(0.0) {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(240),
            "not filled in: {saw_progress:?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(
        saw_progress.windows(2).all(|w| w[0] <= w[1]),
        "{saw_progress:?}"
    );
    let about = reqwest::get(s.url("/about"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        about.contains("68 of 68 papers (100 %)") && about.contains("as they arrive"),
        "{about}"
    );
    // With the transformer's vectors, the same answers, and related papers
    // on topic.
    let rows: Value = reqwest::get(s.url(query))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ids(&rows)[0], "2203.05482");
    let rows: Value = reqwest::get(s.url("/api/papers/2203.05482/related?limit=5"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let related = ids(&rows);
    assert!(
        related.contains(&"2309.17230".to_string()) || related.contains(&"2407.02880".to_string()),
        "{related:?}"
    );
    // A paper imported now gets its transformer vector too.
    let extra = env.path("extra.jsonl");
    write(
        &extra,
        r#"{"id": "2501.00042", "submitter": null, "authors": "Ada Writer", "title": "Coral reef bleaching forecasts from ocean temperature records", "comments": null, "journal-ref": null, "doi": null, "report-no": null, "categories": "physics.ao-ph", "license": null, "abstract": "We forecast coral bleaching events on tropical reefs from sea surface temperature anomalies, using decades of satellite records of ocean heat and field surveys of reef health across the Pacific.", "versions": [{"version": "v1", "created": "Mon, 6 Jan 2025 10:00:00 GMT"}], "update_date": "2025-01-06", "authors_parsed": [["Writer", "Ada", ""]]}
"#,
    );
    assert_eq!(summary(&env.run(&["import", extra.to_str().unwrap()])).0, 1);
    let started = Instant::now();
    loop {
        let text = reqwest::get(s.url("/metrics"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if metric(&text, "paperboy_embedding_refined_papers{model=") == Some(69.0) {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "{text}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    eprintln!("hybrid answered {first:?} after the server was healthy");
}

/// Thousands of one-line records close to a query (package blurbs in the
/// field's words) neither crowd the papers out of the vector search's pool
/// nor win keyword search through BM25's length normalisation: the paper
/// still comes first in every mode.
#[test]
fn a_crowd_of_one_line_records_does_not_bury_the_paper() {
    let env = seeded();
    let mut lines = String::new();
    let flavours = ["toolkit", "library", "notebooks", "scripts", "package"];
    let verbs = [
        "averaging",
        "merging",
        "pruning",
        "distilling",
        "quantizing",
    ];
    let nouns = [
        "weights",
        "networks",
        "fine-tuned models",
        "embeddings",
        "checkpoints",
    ];
    for i in 0..3000 {
        let (verb, noun) = (verbs[i % 5], nouns[(i / 5) % 5]);
        let name = format!("{verb}-{}", flavours[(i / 25) % 5]);
        let abs = format!(
            "A {} for {verb} {noun} of several models, version {i}.",
            flavours[(i / 125) % 5]
        );
        lines.push_str(
            &serde_json::json!({
                "id": format!("2512.{:05}", 50_000 + i),
                "title": format!("{name}: {abs}"),
                "abstract": abs,
                "authors": "Package Maintainers",
                "categories": "cs.LG",
                "versions": [{"version": "v1", "created": "Mon, 1 Dec 2025 10:00:00 GMT"}],
                "update_date": "2025-12-01",
                "authors_parsed": [["Maintainers", "Package", ""]]
            })
            .to_string(),
        );
        lines.push('\n');
    }
    let file = env.path("blurbs.jsonl");
    write(&file, &lines);
    assert_eq!(
        summary(&env.run(&["import", file.to_str().unwrap()])).0,
        3000
    );
    for mode in ["keyword", "semantic", "hybrid"] {
        let (found, _) = search_ids(
            &env,
            "averaging weights of several fine-tuned models",
            mode,
            5,
        );
        assert_eq!(
            found.first().map(String::as_str),
            Some("2203.05482"),
            "{mode}: {found:?}"
        );
    }
}

/// With nothing configured, once the built-in transformer has filled in,
/// every seed paper's related papers (the API's list, as the paper page
/// shows it) share its themes (`eval/seed-themes.jsonl`): the
/// weight-averaging papers find each other.
#[tokio::test(flavor = "multi_thread")]
async fn related_papers_of_every_seed_paper_share_its_themes() {
    let env = seeded();
    let s = Server::start(&env, &[]).await;
    let started = Instant::now();
    loop {
        let text = reqwest::get(s.url("/metrics"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if metric(&text, "paperboy_embedding_refined_papers{model=") == Some(68.0) {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(240), "{text}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let themes: Vec<Value> =
        std::fs::read_to_string(paperboy_testkit::repo_root().join("eval/seed-themes.jsonl"))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
    let themes_of = |id: &str| -> Vec<usize> {
        themes
            .iter()
            .enumerate()
            .filter(|(_, t)| t["papers"].as_array().unwrap().iter().any(|p| p == id))
            .map(|(i, _)| i)
            .collect()
    };
    let mut judged = 0;
    let mut precision = 0.0;
    let mut misses = Vec::new();
    for p in paperboy_testkit::seed_papers() {
        let mine = themes_of(p.id.as_str());
        if mine.is_empty() {
            continue;
        }
        let rows: Value = reqwest::get(s.url(&format!("/api/papers/{}/related?limit=5", p.id)))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let related = ids(&rows);
        assert_eq!(related.len(), 5, "{}: {related:?}", p.id);
        let on_theme = related
            .iter()
            .filter(|r| themes_of(r).iter().any(|t| mine.contains(t)))
            .count();
        if on_theme == 0 {
            misses.push(p.id.to_string());
        }
        precision += on_theme as f64 / 5.0;
        judged += 1;
    }
    let precision = precision / judged as f64;
    eprintln!(
        "related: precision@5 {precision:.3} over {judged} papers; none on theme: {misses:?}"
    );
    // Measured 0.420 with 5 papers having none on theme (before: 0.393
    // and 7, with the static model's vectors alone 0.3).
    assert!(precision >= 0.38, "precision@5 {precision:.3}");
    assert!(misses.len() <= 6, "{misses:?}");
    // The papers on averaging and composing fine-tuned weights find their
    // theme: soups, task vectors.
    for paper in ["2203.05482", "2407.02880"] {
        assert!(!misses.contains(&paper.to_string()), "{paper}: {misses:?}");
    }
}

/// A query no paper's words hold still has neighbours by meaning; the
/// search page says so instead of counting them as matches.
#[tokio::test(flavor = "multi_thread")]
async fn a_nonsense_query_is_not_counted_as_matches() {
    let env = seeded();
    let s = Server::start(&env, &[]).await;
    // Before the keyword index has caught up, every query has no word
    // matches (CI once asked for "model soups" too early).
    wait_until_indexed(&s).await;
    let page = reqwest::get(s.url("/search?q=xqzvbn+blorptang"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("No paper contains these words"), "{page}");
    assert!(!page.contains("of many"), "{page}");
    let page = reqwest::get(s.url("/search?q=model+soups"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!page.contains("No paper contains these words"), "{page}");
}
