//! `paperboy eval --qrels FILE`: search quality on graded relevance
//! judgments, per mode: nDCG@10, MRR and Recall@10.

use std::collections::HashMap;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use paperboy_search::hybrid::Fusion;
use paperboy_search::{Engine, Mode as SearchMode, Semantic};
use serde::Deserialize;

use crate::config::Config;

#[derive(Debug, Args)]
pub struct Opts {
    /// JSON lines: {"id", "query", "judgments": {arxiv_id: grade}}.
    #[arg(long, value_name = "FILE", required_unless_present = "profiles")]
    pub qrels: Option<PathBuf>,
    /// Recommendations instead: JSON lines {"id", "library": [ids],
    /// "held_out": [ids]}; Recall@20 and nDCG@20 of the held-out papers
    /// among recommendations over the whole store.
    #[arg(long, value_name = "FILE", conflicts_with = "qrels")]
    pub profiles: Option<PathBuf>,
    /// Modes to evaluate, comma separated.
    #[arg(long, default_value = "keyword,semantic,hybrid")]
    pub modes: String,
    /// Embedders for the semantic and hybrid modes, comma separated
    /// (`static`, `transformer`); each gets its own vector index.
    #[arg(long, default_value = "static,transformer")]
    pub embedders: String,
    /// Fusions for hybrid mode, comma separated: `default` (what serving
    /// uses with each embedder), `rrf[:W[:K]]` (reciprocal rank, semantic
    /// list weighted W, constant K, default 60),
    /// `convex[:A]` (min-max normalised scores, semantic share A).
    #[arg(long, default_value = "default,rrf,convex")]
    pub fusion: String,
}

/// `default` (what serving uses), `rrf` (k 60, equal weights), `rrf:W[:K]`
/// (the semantic list weighted W, constant K), `convex` or `convex:A`
/// (min-max normalised scores, A the semantic share).
fn parse_fusion(f: &str) -> anyhow::Result<Fusion> {
    let mut parts = f.split(':');
    let name = parts.next().unwrap_or_default();
    let args: Vec<&str> = parts.collect();
    let num = |i: usize, default: f32| -> anyhow::Result<f32> {
        match args.get(i) {
            None => Ok(default),
            Some(a) => a
                .parse::<f32>()
                .ok()
                .filter(|x| x.is_finite() && *x >= 0.0)
                .ok_or_else(|| anyhow::anyhow!("fusion `{f}`: `{a}` is not a weight")),
        }
    };
    Ok(match name {
        "default" => Fusion::default(),
        "rrf" => Fusion::Rrf {
            k: num(1, 60.0)?,
            semantic_weight: num(0, 1.0)?,
        },
        "convex" => Fusion::Convex {
            alpha: num(0, 0.5)?,
        },
        other => anyhow::bail!("fusion `{other}` is none of `default`, `rrf[:W]`, `convex[:A]`"),
    })
}

#[derive(Debug, Deserialize)]
struct Judged {
    id: String,
    query: String,
    judgments: HashMap<String, u32>,
}

/// nDCG@k with gains 2^grade − 1 and a log2 discount.
pub fn ndcg_at(ranked: &[String], judgments: &HashMap<String, u32>, k: usize) -> f64 {
    let gain = |g: u32| f64::from((1u32 << g.min(10)) - 1);
    let dcg: f64 = ranked
        .iter()
        .take(k)
        .enumerate()
        .map(|(i, id)| gain(judgments.get(id).copied().unwrap_or(0)) / ((i + 2) as f64).log2())
        .sum();
    let mut ideal: Vec<u32> = judgments.values().copied().collect();
    ideal.sort_unstable_by(|a, b| b.cmp(a));
    let idcg: f64 = ideal
        .iter()
        .take(k)
        .enumerate()
        .map(|(i, g)| gain(*g) / ((i + 2) as f64).log2())
        .sum();
    if idcg == 0.0 {
        0.0
    } else {
        dcg / idcg
    }
}

pub fn reciprocal_rank(ranked: &[String], judgments: &HashMap<String, u32>) -> f64 {
    ranked
        .iter()
        .position(|id| judgments.get(id).copied().unwrap_or(0) > 0)
        .map(|p| 1.0 / (p + 1) as f64)
        .unwrap_or(0.0)
}

pub fn recall_at(ranked: &[String], judgments: &HashMap<String, u32>, k: usize) -> f64 {
    let relevant = judgments.values().filter(|g| **g > 0).count();
    if relevant == 0 {
        return 0.0;
    }
    let found = ranked
        .iter()
        .take(k)
        .filter(|id| judgments.get(*id).copied().unwrap_or(0) > 0)
        .count();
    found as f64 / relevant as f64
}

pub async fn run(opts: Opts, config: Config) -> anyhow::Result<()> {
    if let Some(profiles) = &opts.profiles {
        return recommendations(profiles, &opts, config).await;
    }
    let qrels = opts.qrels.clone().context("--qrels or --profiles")?;
    let text =
        std::fs::read_to_string(&qrels).with_context(|| format!("reading {}", qrels.display()))?;
    let mut judged = Vec::new();
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let j: Judged =
            serde_json::from_str(line).with_context(|| format!("{}:{}", qrels.display(), i + 1))?;
        judged.push(j);
    }
    anyhow::ensure!(!judged.is_empty(), "{}: no judged queries", qrels.display());
    let modes: Vec<SearchMode> = opts
        .modes
        .split(',')
        .map(str::trim)
        .filter(|m| !m.is_empty())
        .map(|m| {
            SearchMode::parse(m).ok_or_else(|| {
                anyhow::anyhow!("`{m}` is not a search mode (keyword, semantic, hybrid)")
            })
        })
        .collect::<anyhow::Result<_>>()?;
    let fusions: Vec<(&str, Fusion)> = opts
        .fusion
        .split(',')
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .map(|f| parse_fusion(f).map(|fu| (f, fu)))
        .collect::<anyhow::Result<_>>()?;

    let store = crate::wiring::open_store(&config).await?;
    let index = crate::indexes::open_index_synced(&config, &*store).await?;
    let embedders = semantic_for(&opts, &config, &*store).await?;

    println!("{} queries from {}", judged.len(), qrels.display());
    println!(
        "{:<28} {:>8} {:>8} {:>10}  note",
        "mode", "nDCG@10", "MRR", "Recall@10"
    );
    let mut runs: Vec<(String, Engine, SearchMode)> = Vec::new();
    for &mode in &modes {
        match mode {
            SearchMode::Keyword => {
                runs.push(("keyword".into(), Engine::new(index.clone(), None), mode))
            }
            SearchMode::Semantic | SearchMode::Hybrid => {
                for (kind, sem) in &embedders {
                    let variants: Vec<(&str, Fusion)> = if mode == SearchMode::Hybrid {
                        fusions.clone()
                    } else {
                        vec![("", Fusion::default())]
                    };
                    for (fname, fusion) in variants {
                        let name = match (mode, fname) {
                            (SearchMode::Semantic, _) => format!("semantic/{kind}"),
                            (_, "default") => format!("hybrid/{kind}"),
                            _ => format!("hybrid-{fname}/{kind}"),
                        };
                        let mut search = Engine::new(index.clone(), sem.clone());
                        search.fusion = match (fname, kind.as_str()) {
                            // What serving uses with these vectors.
                            ("default", "transformer") => Fusion::TRANSFORMER,
                            _ => fusion,
                        };
                        runs.push((name, search, mode));
                    }
                }
            }
        }
    }
    for (name, search, mode) in &runs {
        let (mut ndcg, mut mrr, mut recall) = (0.0, 0.0, 0.0);
        let mut note = None;
        for j in &judged {
            let outcome = search
                .search(&j.query, *mode, 10, 0)
                .with_context(|| format!("query {}", j.id))?;
            note = outcome.note.clone().or(note);
            let ranked: Vec<String> = outcome
                .hits
                .iter()
                .map(|h| h.arxiv_id.to_string())
                .collect();
            let q_ndcg = ndcg_at(&ranked, &j.judgments, 10);
            if std::env::var_os("PAPERBOY_EVAL_VERBOSE").is_some() {
                println!("  {name} {}: nDCG@10 {q_ndcg:.3} {ranked:?}", j.id);
            }
            ndcg += q_ndcg;
            mrr += reciprocal_rank(&ranked, &j.judgments);
            recall += recall_at(&ranked, &j.judgments, 10);
        }
        let n = judged.len() as f64;
        println!(
            "{:<28} {:>8.3} {:>8.3} {:>10.3}  {}",
            name,
            ndcg / n,
            mrr / n,
            recall / n,
            note.unwrap_or_default()
        );
    }
    Ok(())
}

/// Each embedder asked for, with its own vector index (kept under the data
/// directory, so a second run does not embed again); `None` where the
/// embedder is not configured.
async fn semantic_for(
    opts: &Opts,
    config: &Config,
    store: &dyn paperboy_store::Store,
) -> anyhow::Result<Vec<(String, Option<Semantic>)>> {
    let mut embedders: Vec<(String, Option<Semantic>)> = Vec::new();
    let kinds: Vec<&str> = opts
        .embedders
        .split(',')
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .collect();
    for kind in kinds {
        let k: crate::embedding::Kind = kind.parse()?;
        match crate::embedding::load(config, k)? {
            Some(e) => {
                let sem = crate::indexes::open_vectors(config, e)?;
                crate::indexes::embed_missing(store, &sem, 500).await?;
                embedders.push((kind.to_string(), Some(sem)));
            }
            None => embedders.push((kind.to_string(), None)),
        }
    }
    if embedders.is_empty() {
        embedders.push(("none".into(), None));
    }
    Ok(embedders)
}

#[derive(Debug, Deserialize)]
struct Profile {
    id: String,
    library: Vec<String>,
    held_out: Vec<String>,
}

/// Recall@20 and nDCG@20 of held-out papers among recommendations from
/// the whole store, per variant: terms alone, meaning alone, fused.
async fn recommendations(
    path: &std::path::Path,
    opts: &Opts,
    config: Config,
) -> anyhow::Result<()> {
    use paperboy_core::ArxivId;
    use paperboy_search::{Pool, Taste};
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut profiles = Vec::new();
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let p: Profile =
            serde_json::from_str(line).with_context(|| format!("{}:{}", path.display(), i + 1))?;
        profiles.push(p);
    }
    anyhow::ensure!(!profiles.is_empty(), "{}: no profiles", path.display());
    let store = crate::wiring::open_store(&config).await?;
    let index = crate::indexes::open_index_synced(&config, &*store).await?;
    let embedders = semantic_for(opts, &config, &*store).await?;
    let mut runs: Vec<(String, Engine)> = vec![("terms".into(), Engine::new(index.clone(), None))];
    for (kind, sem) in &embedders {
        if sem.is_none() {
            continue;
        }
        let mut meaning = Engine::new(index.clone(), sem.clone());
        meaning.taste_mix = 1.0;
        runs.push((format!("meaning/{kind}"), meaning));
        for mix in [0.3, 0.5, 0.7] {
            let mut fused = Engine::new(index.clone(), sem.clone());
            fused.taste_mix = mix;
            runs.push((format!("fused {mix}/{kind}"), fused));
        }
    }
    println!("{} profiles from {}", profiles.len(), path.display());
    println!("{:<28} {:>8} {:>10}", "recommender", "nDCG@20", "Recall@20");
    let parse = |ids: &[String]| -> anyhow::Result<Vec<ArxivId>> {
        ids.iter()
            .map(|s| ArxivId::parse(s).map_err(|e| anyhow::anyhow!("{s}: {e}")))
            .collect()
    };
    for (name, engine) in &runs {
        let (mut ndcg, mut recall) = (0.0, 0.0);
        for p in &profiles {
            let taste = Taste {
                liked: parse(&p.library)?,
                disliked: Vec::new(),
            };
            let exclude = taste.liked.iter().cloned().collect();
            let picks = engine.recommend(&taste, &Pool::All, &exclude, 20)?;
            let ranked: Vec<String> = picks.iter().map(|p| p.arxiv_id.to_string()).collect();
            let judged: HashMap<String, u32> =
                p.held_out.iter().map(|id| (id.clone(), 1)).collect();
            let (n, r) = (
                ndcg_at(&ranked, &judged, 20),
                recall_at(&ranked, &judged, 20),
            );
            if std::env::var_os("PAPERBOY_EVAL_VERBOSE").is_some() {
                println!("  {name} {}: nDCG@20 {n:.3} R@20 {r:.3} {ranked:?}", p.id);
            }
            ndcg += n;
            recall += r;
        }
        let n = profiles.len() as f64;
        println!("{:<28} {:>8.3} {:>10.3}", name, ndcg / n, recall / n);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_on_a_known_ranking() {
        let j: HashMap<String, u32> = [("a".to_string(), 3), ("b".to_string(), 1)]
            .into_iter()
            .collect();
        let ranked: Vec<String> = ["x", "a", "b"].iter().map(|s| s.to_string()).collect();
        assert_eq!(reciprocal_rank(&ranked, &j), 0.5);
        assert_eq!(recall_at(&ranked, &j, 2), 0.5);
        assert_eq!(recall_at(&ranked, &j, 10), 1.0);
        // DCG = 7/log2(3) + 1/log2(4); IDCG = 7/log2(2) + 1/log2(3)
        let want = (7.0 / 3f64.log2() + 0.5) / (7.0 + 1.0 / 3f64.log2());
        assert!((ndcg_at(&ranked, &j, 10) - want).abs() < 1e-12);
        let perfect: Vec<String> = ["a", "b"].iter().map(|s| s.to_string()).collect();
        assert!((ndcg_at(&perfect, &j, 10) - 1.0).abs() < 1e-12);
    }
}
