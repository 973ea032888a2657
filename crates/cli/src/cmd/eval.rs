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
    /// "held_out": [ids]} (several files: one column each); nDCG@20 and
    /// Recall@20 of the held-out papers among a member's recommendations
    /// over the whole store, as `paperboy recommend --days 0` makes them.
    #[arg(long, value_name = "FILE", num_args = 1.., conflicts_with = "qrels")]
    pub profiles: Vec<PathBuf>,
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
    /// With --profiles: also the nDCG@20 after one round of feedback (👍 on
    /// the first held-out pick, 👎 on the first three others).
    #[arg(long)]
    pub feedback: bool,
    /// With --profiles: a variant of the recommender to add, as changes
    /// from the served tuning (`learned=0.3,cost=0.1`; repeatable).
    #[arg(long, value_name = "SPEC")]
    pub tuning: Vec<String>,
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
    if !opts.profiles.is_empty() {
        return recommendations(&opts.profiles, &opts, config).await;
    }
    let qrels = opts.qrels.clone().context("--qrels or --profiles")?;
    let judged: Vec<Judged> = read_jsonl(&qrels, "judged queries")?;
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

    // As served: the application the recipe wires, the transformer's
    // vectors filled in first, asked as the web and `paperboy search` ask.
    let wired = crate::wiring::build(&config, crate::wiring::Needs::Everything).await?;
    let store = wired.store.clone();
    let indexes = wired
        .indexes
        .clone()
        .context("the recipe opened no indexes")?;
    if let Some(refined) = &indexes.refined {
        crate::indexes::fill_refined(&*store, refined).await?;
    }
    println!("{} queries from {}", judged.len(), qrels.display());
    println!(
        "{:<28} {:>8} {:>8} {:>10}  note",
        "mode", "nDCG@10", "MRR", "Recall@10"
    );
    for &mode in &modes {
        served(&wired.app, mode, &judged).await?;
    }
    let embedders = semantic_for(&opts, &indexes)?;
    let runs = variants(&indexes.keyword, &embedders, &modes, &fusions);
    for (name, search, mode) in &runs {
        let mut m = Metrics::default();
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
            if std::env::var_os("PAPERBOY_EVAL_VERBOSE").is_some() {
                let q_ndcg = ndcg_at(&ranked, &j.judgments, 10);
                println!("  {name} {}: nDCG@10 {q_ndcg:.3} {ranked:?}", j.id);
            }
            m.add(&ranked, &j.judgments);
        }
        m.print(name, note.as_deref());
    }
    Ok(())
}

/// One JSON object a line (blank lines skipped); a bad line is named by
/// file and line; none at all is an error saying `what` was missing.
fn read_jsonl<T: serde::de::DeserializeOwned>(
    path: &std::path::Path,
    what: &str,
) -> anyhow::Result<Vec<T>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut out = Vec::new();
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let item: T =
            serde_json::from_str(line).with_context(|| format!("{}:{}", path.display(), i + 1))?;
        out.push(item);
    }
    anyhow::ensure!(!out.is_empty(), "{}: no {what}", path.display());
    Ok(out)
}

/// One row: the application's own search in `mode`, as the web asks it.
async fn served(
    app: &paperboy_app::App,
    mode: SearchMode,
    judged: &[Judged],
) -> anyhow::Result<()> {
    let mut m = Metrics::default();
    for j in judged {
        let req = paperboy_app::search::SearchRequest::new(&j.query, mode, 10, 0)
            .map_err(|e| anyhow::anyhow!("query {}: {e}", j.id))?;
        let found = app
            .search(&req)
            .await
            .map_err(|e| anyhow::anyhow!("query {}: {e}", j.id))?;
        let ranked: Vec<String> = found
            .rows
            .iter()
            .map(|(l, _)| l.stored.paper.id.to_string())
            .collect();
        m.add(&ranked, &j.judgments);
    }
    m.print(&format!("served/{}", mode.as_str()), None);
    Ok(())
}

/// The engine variants compared beside what is served: each mode with
/// each embedder and, for hybrid, each fusion asked for.
fn variants(
    index: &std::sync::Arc<paperboy_search::KeywordIndex>,
    embedders: &[(String, Option<Semantic>)],
    modes: &[SearchMode],
    fusions: &[(&str, Fusion)],
) -> Vec<(String, Engine, SearchMode)> {
    let mut runs: Vec<(String, Engine, SearchMode)> = Vec::new();
    for &mode in modes {
        match mode {
            SearchMode::Keyword => {
                runs.push(("keyword".into(), Engine::new(index.clone(), None), mode))
            }
            SearchMode::Semantic | SearchMode::Hybrid => {
                for (kind, sem) in embedders {
                    let variants: Vec<(&str, Fusion)> = if mode == SearchMode::Hybrid {
                        fusions.to_vec()
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
    runs
}

/// nDCG@10, MRR and Recall@10 summed over queries.
#[derive(Default)]
struct Metrics {
    ndcg: f64,
    mrr: f64,
    recall: f64,
    n: usize,
}

impl Metrics {
    fn add(&mut self, ranked: &[String], judgments: &HashMap<String, u32>) {
        self.ndcg += ndcg_at(ranked, judgments, 10);
        self.mrr += reciprocal_rank(ranked, judgments);
        self.recall += recall_at(ranked, judgments, 10);
        self.n += 1;
    }

    fn print(&self, name: &str, note: Option<&str>) {
        let n = self.n.max(1) as f64;
        println!(
            "{:<28} {:>8.3} {:>8.3} {:>10.3}  {}",
            name,
            self.ndcg / n,
            self.mrr / n,
            self.recall / n,
            note.unwrap_or_default()
        );
    }
}

/// Each embedder asked for with its vectors: the static model's and the
/// transformer's indexes the recipe opened (`None` where it opened none).
fn semantic_for(
    opts: &Opts,
    indexes: &crate::wiring::Indexes,
) -> anyhow::Result<Vec<(String, Option<Semantic>)>> {
    let mut embedders: Vec<(String, Option<Semantic>)> = Vec::new();
    for kind in opts
        .embedders
        .split(',')
        .map(str::trim)
        .filter(|k| !k.is_empty())
    {
        let sem = match kind.parse::<crate::embedding::Kind>()? {
            crate::embedding::Kind::Static => indexes.semantic.clone(),
            crate::embedding::Kind::Transformer => indexes.refined.clone(),
        };
        embedders.push((kind.to_string(), sem));
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

/// The member standing for a profile (`eval-S-P`), made on first use, with
/// exactly the profile's library.
async fn profile_member(
    app: &paperboy_app::App,
    name: &str,
    library: &[paperboy_core::ArxivId],
) -> anyhow::Result<paperboy_core::User> {
    let msg = |e: paperboy_app::AppError| anyhow::anyhow!("{name}: {e}");
    let user = match app.member(name).await {
        Ok(u) => u,
        Err(paperboy_app::AppError::NotFound(_)) => app
            .create_account(paperboy_app::accounts::SignUp {
                username: name.to_string(),
                email: format!("{name}@eval.invalid"),
                password: format!("{:032x}", rand::random::<u128>()),
                role: paperboy_core::Role::Member,
            })
            .await
            .map_err(msg)?,
        Err(e) => return Err(msg(e)),
    };
    set_library(app, &user, library).await?;
    Ok(user)
}

async fn set_library(
    app: &paperboy_app::App,
    user: &paperboy_core::User,
    library: &[paperboy_core::ArxivId],
) -> anyhow::Result<()> {
    let msg = |e: paperboy_app::AppError| anyhow::anyhow!("{}: {e}", user.username);
    let keep: std::collections::HashSet<&paperboy_core::ArxivId> = library.iter().collect();
    for id in app.library_ids(user, None).await.map_err(msg)? {
        if !keep.contains(&id) {
            app.unsave_paper(user, &id).await.map_err(msg)?;
        }
    }
    for id in library {
        app.save_paper(user, id, &[]).await.map_err(msg)?;
    }
    Ok(())
}

/// Recall@20 and nDCG@20 of held-out papers among a member's
/// recommendations from the whole store, through the path readers take:
/// each profile's library is a member's (`eval-S-P`, made in the store on
/// first use and left with an empty library), and `App::recommendations`
/// answers as it does for `paperboy recommend --days 0` and the API. The
/// application is wired by the same recipe as every command; the variants
/// change only its engine. The transformer's vectors are filled in first.
async fn recommendations(paths: &[PathBuf], opts: &Opts, config: Config) -> anyhow::Result<()> {
    use paperboy_app::recommend::RecRequest;
    use paperboy_search::Recipe;
    let sets: Vec<(&PathBuf, Vec<Profile>)> = paths
        .iter()
        .map(|p| read_jsonl::<Profile>(p, "profiles").map(|v| (p, v)))
        .collect::<anyhow::Result<_>>()?;
    let wired = crate::wiring::build(&config, crate::wiring::Needs::Everything).await?;
    let indexes = wired
        .indexes
        .clone()
        .context("the recipe opened no indexes")?;
    if let Some(refined) = &indexes.refined {
        let n = crate::indexes::fill_refined(&*wired.store, refined).await?;
        if n > 0 {
            eprintln!("filled in the transformer's vectors of {n} papers first");
        }
    }
    let app = wired.app;
    let variant = |f: &dyn Fn(&mut paperboy_search::Engine)| {
        let mut e = crate::wiring::engine(&indexes);
        f(&mut e);
        crate::wiring::with_engine(app.clone(), e)
    };
    let mut variants: Vec<(String, paperboy_app::App)> = vec![
        ("Paperboy (as served)".into(), app.clone()),
        (
            "  without the reader's model".into(),
            variant(&|e| e.tuning.recipe = Recipe::Neighbours),
        ),
        (
            "  static vectors only".into(),
            variant(&|e| e.refined = None),
        ),
        (
            "  no vectors (terms only)".into(),
            variant(&|e| {
                e.semantic = None;
                e.refined = None;
            }),
        ),
        (
            "arxiv-sanity-lite's recipe".into(),
            variant(&|e| e.tuning.recipe = Recipe::SanityLite),
        ),
    ];
    for spec in &opts.tuning {
        let t = paperboy_search::Tuning::parse(spec)
            .map_err(|e| anyhow::anyhow!("--tuning {spec}: {e}"))?;
        variants.push((format!("  {spec}"), variant(&|e| e.tuning = t)));
    }
    let req = RecRequest::new(None, 0, 20).map_err(|e| anyhow::anyhow!("{e}"))?;
    let parse = |ids: &[String]| -> anyhow::Result<Vec<paperboy_core::ArxivId>> {
        ids.iter()
            .map(|s| paperboy_core::ArxivId::parse(s).map_err(|e| anyhow::anyhow!("{s}: {e}")))
            .collect()
    };
    let verbose = std::env::var_os("PAPERBOY_EVAL_VERBOSE").is_some();
    // Members first, so that every variant sees the same store.
    let mut members = Vec::new();
    for (s, (_, profiles)) in sets.iter().enumerate() {
        for (i, p) in profiles.iter().enumerate() {
            let name = format!("eval-{}-{}", s + 1, i + 1);
            members.push(profile_member(&app, &name, &parse(&p.library)?).await?);
        }
    }
    print!("{:<32}", "recommender (nDCG@20 / Recall@20)");
    for (path, profiles) in &sets {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("?");
        print!(" {:>24}", format!("{name} ({})", profiles.len()));
    }
    println!();
    for (name, vapp) in &variants {
        print!("{name:<32}");
        let mut k = 0;
        for (_, profiles) in &sets {
            let (mut ndcg, mut recall, mut after) = (0.0, 0.0, 0.0);
            for p in profiles {
                let who = &members[k];
                k += 1;
                let score = Scoring {
                    app: vapp,
                    who,
                    req: &req,
                    held_out: &p.held_out,
                };
                let (ranked, n, r) = score.once(&[]).await?;
                if verbose {
                    eprintln!("  {name} {}: nDCG@20 {n:.3} R@20 {r:.3} {ranked:?}", p.id);
                }
                ndcg += n;
                recall += r;
                if opts.feedback {
                    after += score.after_feedback(&ranked).await?;
                }
            }
            let n = profiles.len() as f64;
            let cell = if opts.feedback {
                format!("{:.3} / {:.3} / {:.3}", ndcg / n, recall / n, after / n)
            } else {
                format!("{:.3} / {:.3}", ndcg / n, recall / n)
            };
            print!(" {cell:>24}");
        }
        println!();
    }
    for who in &members {
        set_library(&app, who, &[]).await?;
    }
    Ok(())
}

/// One member's recommendations against a profile's held-out papers.
struct Scoring<'a> {
    app: &'a paperboy_app::App,
    who: &'a paperboy_core::User,
    req: &'a paperboy_app::recommend::RecRequest,
    held_out: &'a [String],
}

/// Picks a simulated reader turns down after the first list: the first
/// ones not held out.
const TURNED_DOWN: usize = 3;

impl Scoring<'_> {
    /// The ranked ids, nDCG@20 and Recall@20 (held-out papers in `known`
    /// left out of the judgments).
    async fn once(&self, known: &[String]) -> anyhow::Result<(Vec<String>, f64, f64)> {
        let recs = self
            .app
            .recommendations(self.who, self.req)
            .await
            .map_err(|e| anyhow::anyhow!("{}: {e}", self.who.username))?;
        let ranked: Vec<String> = recs
            .iter()
            .map(|r| r.paper.stored.paper.id.to_string())
            .collect();
        let judged: HashMap<String, u32> = self
            .held_out
            .iter()
            .filter(|id| !known.contains(id))
            .map(|id| (id.clone(), 1))
            .collect();
        let (n, r) = (
            ndcg_at(&ranked, &judged, 20),
            recall_at(&ranked, &judged, 20),
        );
        Ok((ranked, n, r))
    }

    /// nDCG@20 of the list after the reader has given 👍 to the first held-out
    /// pick of `ranked` and 👎 to the first picks that are not held out
    /// (their feedback forgotten afterwards).
    async fn after_feedback(&self, ranked: &[String]) -> anyhow::Result<f64> {
        let up: Vec<String> = ranked
            .iter()
            .filter(|id| self.held_out.contains(id))
            .take(1)
            .cloned()
            .collect();
        let down: Vec<String> = ranked
            .iter()
            .filter(|id| !self.held_out.contains(id))
            .take(TURNED_DOWN)
            .cloned()
            .collect();
        let set = |ids: &[String], v: i64| {
            let ids = ids.to_vec();
            async move {
                for id in ids {
                    let id =
                        paperboy_core::ArxivId::parse(&id).map_err(|e| anyhow::anyhow!("{e}"))?;
                    self.app
                        .rec_feedback(self.who, &id, v)
                        .await
                        .map_err(|e| anyhow::anyhow!("{e}"))?;
                }
                anyhow::Ok(())
            }
        };
        set(&up, 1).await?;
        set(&down, -1).await?;
        let (_, n, _) = self.once(&up).await?;
        set(&up, 0).await?;
        set(&down, 0).await?;
        Ok(n)
    }
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
