//! Full text and citations against an arXiv stand-in serving LaTeXML pages:
//! references resolved by arXiv id, by title and year, and later when the
//! cited paper arrives; cited-by lists with the citing sentence; counts on
//! every paper object; the pages; refusals, the budget, new versions.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use paperboy_app::citations::TextStep;
use paperboy_testkit::app::Builder;
use paperboy_testkit::arxiv_standin::{
    latex_eprint, latexml_page, ArxivStandin, Fault, HtmlReference,
};
use paperboy_testkit::{app_suite, papers_from_jsonl, recent_paper, TestApp};
use serde_json::Value;

app_suite!(
    references_and_citations_come_from_full_text,
    refusals_wait_and_the_budget_holds,
    a_new_version_replaces_its_references,
    resolution_is_precise_on_a_judged_fixture,
    a_paper_without_html_is_read_from_its_latex_source,
    openalex_gives_references_and_counts_where_arxiv_has_no_text,
);

const SOUPS: &str = "2611.00001";
const CITES_BY_ID: &str = "2611.00002";
const CITES_BY_TITLE: &str = "2611.00003";
const ARRIVES_LATER: &str = "2611.00004";

fn year() -> i32 {
    chrono::Datelike::year(&chrono::Utc::now())
}

fn soups_paper() -> paperboy_core::Paper {
    recent_paper(
        SOUPS,
        "Averaging weights of many fine-tuned models improves accuracy",
        "We average the weights of fine-tuned models.",
        "cs.LG",
    )
}

fn citing_pages() -> Vec<(&'static str, String)> {
    let by_id = latexml_page(
        "Task arithmetic",
        &[
            ("Introduction", "We edit models."),
            ("Method", "Add vectors."),
        ],
        &[HtmlReference {
            authors: "A. Lovelace and A. Turing.".into(),
            title: "Weight soups.".into(),
            venue: format!("arXiv preprint arXiv:{SOUPS}v1, {}.", year()),
            cited_in: Some("Averaged weights {} beat the best single model.".into()),
        }],
    );
    let by_title = latexml_page(
        "Merging by title",
        &[("Introduction", "We merge models.")],
        &[
            HtmlReference {
                authors: "A. Lovelace and A. Turing.".into(),
                title: "Averaging weights of many fine-tuned models improves accuracy.".into(),
                venue: format!("In ICML, {}.", year()),
                cited_in: Some("Soups {} need no extra inference cost.".into()),
            },
            HtmlReference {
                authors: "C. Babbage.".into(),
                title: "A paper that arrives later.".into(),
                venue: format!("arXiv:{ARRIVES_LATER}, {}.", year()),
                cited_in: None,
            },
            HtmlReference {
                authors: "Someone <script>alert(1)</script>.".into(),
                title: "Nothing anyone stored.".into(),
                venue: "Journal of Nowhere, 1999.".into(),
                cited_in: None,
            },
        ],
    );
    vec![(CITES_BY_ID, by_id), (CITES_BY_TITLE, by_title)]
}

async fn app_with(b: Builder, arxiv: &ArxivStandin, per_day: u64) -> TestApp {
    for (id, page) in citing_pages() {
        arxiv.add_html(id, 1, page);
    }
    b.papers(vec![
        soups_paper(),
        recent_paper(CITES_BY_ID, "Task arithmetic", "We edit models.", "cs.LG"),
        recent_paper(
            CITES_BY_TITLE,
            "Merging by title",
            "We merge models.",
            "cs.LG",
        ),
    ])
    .texts(&arxiv.base, per_day)
    .build(paperboy_web::router)
    .await
    .unwrap()
}

/// Runs the fetcher until nothing is due; the steps it took.
async fn fetch_all(t: &TestApp) -> Vec<TextStep> {
    let mut steps = Vec::new();
    for _ in 0..20 {
        let step = t.app.fetch_next_text().await.unwrap();
        let done = matches!(step, TextStep::Idle | TextStep::BudgetSpent);
        steps.push(step);
        if done {
            return steps;
        }
    }
    panic!("the fetcher never ran out of work: {steps:?}");
}

async fn json(t: &TestApp, path: &str) -> Value {
    let r = t.client().get(path).await;
    assert_eq!(r.status, 200, "{path}: {}", r.body);
    r.json()
}

fn html_requests(arxiv: &ArxivStandin) -> Vec<(String, u16)> {
    arxiv
        .requests()
        .into_iter()
        .filter(|r| r.query.starts_with("/html/"))
        .map(|r| (r.query, r.status))
        .collect()
}

async fn references_and_citations_come_from_full_text(b: Builder) {
    let arxiv = ArxivStandin::start(vec![], 10).await;
    let t = app_with(b, &arxiv, 100).await;
    // Before any fetch: empty lists and zero counts, on the API and the page.
    assert_eq!(
        json(&t, &format!("/api/papers/{SOUPS}")).await["citationCount"],
        0
    );
    assert_eq!(
        json(&t, &format!("/api/papers/{SOUPS}/citations")).await,
        Value::Array(vec![])
    );
    let page = t.client().get(&format!("/papers/{SOUPS}")).await.body;
    assert!(
        page.contains("References (0)") && page.contains("Cited by (0)"),
        "{page}"
    );

    let steps = fetch_all(&t).await;
    assert_eq!(steps.len(), 4, "three papers, then idle: {steps:?}");
    // Each page asked for once; the paper without HTML got a 404 once.
    let mut asked = html_requests(&arxiv);
    asked.sort();
    assert_eq!(
        asked,
        vec![
            (format!("/html/{SOUPS}v1"), 404),
            (format!("/html/{CITES_BY_ID}v1"), 200),
            (format!("/html/{CITES_BY_TITLE}v1"), 200),
        ]
    );

    // Cited by both: one by arXiv id, one by title and year.
    let soups = json(&t, &format!("/api/papers/{SOUPS}")).await;
    assert_eq!(soups["citationCount"], 2);
    let cites = json(&t, &format!("/api/papers/{SOUPS}/citations")).await;
    let cites = cites.as_array().unwrap();
    let mut ids: Vec<&str> = cites.iter().map(|c| c["id"].as_str().unwrap()).collect();
    ids.sort();
    assert_eq!(ids, vec![CITES_BY_ID, CITES_BY_TITLE]);
    let context = |id: &str| {
        cites.iter().find(|c| c["id"] == id).unwrap()["context"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(
        context(CITES_BY_ID),
        "Averaged weights [1] beat the best single model."
    );
    assert_eq!(
        context(CITES_BY_TITLE),
        "Soups [1] need no extra inference cost."
    );
    for c in cites {
        assert!(
            c["citationCount"].is_i64(),
            "every paper object has its count: {c}"
        );
    }

    // References in list order: the paper here, then texts.
    let refs = json(&t, &format!("/api/papers/{CITES_BY_TITLE}/references")).await;
    let refs = refs.as_array().unwrap();
    assert_eq!(refs.len(), 3);
    assert_eq!(refs[0]["id"], SOUPS);
    assert!(
        refs[1].as_str().unwrap().contains(ARRIVES_LATER),
        "{refs:?}"
    );
    assert!(refs[2].as_str().unwrap().contains("Journal of Nowhere"));

    // The paper named by id arrives later: resolved then, counted.
    t.add_papers(vec![recent_paper(
        ARRIVES_LATER,
        "A paper that arrives later",
        "Later.",
        "cs.CL",
    )])
    .await;
    assert_eq!(t.app.resolve_waiting_references().await.unwrap(), 1);
    let refs = json(&t, &format!("/api/papers/{CITES_BY_TITLE}/references")).await;
    assert_eq!(refs[1]["id"], ARRIVES_LATER);
    assert_eq!(
        json(&t, &format!("/api/papers/{ARRIVES_LATER}")).await["citationCount"],
        1
    );
    assert_eq!(
        t.app.resolve_waiting_references().await.unwrap(),
        0,
        "once only"
    );

    // The pages: counts, the citing sentence, sections, hostile text inert.
    let page = t.client().get(&format!("/papers/{SOUPS}")).await.body;
    assert!(page.contains("Cited by (2)"), "{page}");
    assert!(page.contains("Soups [1] need no extra inference cost."));
    let page = t
        .client()
        .get(&format!("/papers/{CITES_BY_TITLE}"))
        .await
        .body;
    assert!(page.contains("References (3)"));
    assert!(page.contains("href=\"/papers/2611.00001\""));
    assert!(page.contains("Introduction"), "section titles shown");
    assert!(
        !page.contains("<script>alert(1)"),
        "reference text is escaped"
    );
    assert!(page.contains("&lt;script&gt;alert(1)"));

    // The paper that arrived is fetched in turn; then nothing is due.
    fetch_all(&t).await;
    assert_eq!(t.app.fetch_next_text().await.unwrap(), TextStep::Idle);
    // Unknown papers are 404s with a message.
    let r = t.client().get("/api/papers/2611.09999/references").await;
    assert_eq!(r.status, 404, "{}", r.body);
    assert!(r.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("2611.09999"));

    // A reader who saved the cited paper hears why the citing ones are
    // picked for them.
    let ada = t.client();
    ada.sign_up("ada").await;
    let r = ada
        .api(
            axum::http::Method::PUT,
            &format!("/api/me/library/{SOUPS}"),
            Some(serde_json::json!({"tags": []})),
        )
        .await;
    assert!(r.status < 300, "{}", r.body);
    let recs = ada.get("/api/me/recommendations?days=0&limit=10").await;
    assert_eq!(recs.status, 200, "{}", recs.body);
    let recs = recs.json();
    for id in [CITES_BY_ID, CITES_BY_TITLE] {
        let rec = recs
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["paper"]["id"] == id)
            .unwrap_or_else(|| panic!("{id} recommended: {recs}"));
        assert_eq!(
            rec["why"]["citesLibrary"],
            serde_json::json!([SOUPS]),
            "{rec}"
        );
    }
    let page = ada.get("/for-you?days=0").await.body;
    assert!(page.contains("cites 1 paper in your library"), "{page}");

    // Citing papers of the last week join the trending formula.
    let week_ago = (chrono::Utc::now() - chrono::Duration::days(7)).timestamp();
    let store = t.store();
    let key = paperboy_testkit::paper_key(store, SOUPS).await;
    let row = store.trending_row(key, week_ago).await.unwrap();
    assert_eq!(row.new_citations, 2, "{row:?}");
    let key = paperboy_testkit::paper_key(store, CITES_BY_ID).await;
    assert_eq!(
        store
            .trending_row(key, week_ago)
            .await
            .unwrap()
            .new_citations,
        0
    );
    let tomorrow = (chrono::Utc::now() + chrono::Duration::days(1)).timestamp();
    let key = paperboy_testkit::paper_key(store, SOUPS).await;
    assert_eq!(
        store
            .trending_row(key, tomorrow)
            .await
            .unwrap()
            .new_citations,
        0,
        "only citing papers of the window count"
    );

    let metrics = t.client().get("/metrics").await.body;
    assert!(
        metrics.contains("paperboy_fulltext_papers{status=\"parsed\"} 2"),
        "{metrics}"
    );
    assert!(metrics.contains("paperboy_fulltext_papers{status=\"missing\"} 2"));
    assert!(metrics.contains("paperboy_references 4"));
    assert!(metrics.contains("paperboy_references_resolved 3"));
}

async fn refusals_wait_and_the_budget_holds(b: Builder) {
    let arxiv = ArxivStandin::start(vec![], 10).await;
    // Newest first: all three are equally new, so refuse each once.
    for id in [SOUPS, CITES_BY_ID, CITES_BY_TITLE] {
        arxiv.fault_once(
            &format!("html:{id}v1"),
            Fault::Unavailable {
                retry_after_secs: 7,
            },
        );
    }
    let t = app_with(b, &arxiv, 2).await;
    match t.app.fetch_next_text().await.unwrap() {
        TextStep::Refused {
            retry_after,
            reason,
        } => {
            assert_eq!(retry_after, Some(std::time::Duration::from_secs(7)));
            assert!(
                reason.contains("/html/") && reason.contains("503"),
                "{reason}"
            );
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    // A refusal records nothing: the paper is still due and the budget
    // (two a day) is untouched, so two more papers are read today.
    let mut fetched = 0;
    let mut refused = 1;
    loop {
        match t.app.fetch_next_text().await.unwrap() {
            TextStep::Fetched { .. } => fetched += 1,
            TextStep::Refused { .. } => refused += 1,
            TextStep::BudgetSpent => break,
            TextStep::Idle => panic!("a paper should still be due"),
        }
        assert!(refused <= 3 && fetched <= 2);
    }
    assert_eq!(fetched, 2, "the day's budget, refusals not counted in it");
    let statuses: Vec<u16> = html_requests(&arxiv).into_iter().map(|(_, s)| s).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 503).count(), refused);
    assert_eq!(statuses.iter().filter(|s| **s != 503).count(), 2);
}

async fn a_new_version_replaces_its_references(b: Builder) {
    let arxiv = ArxivStandin::start(vec![], 10).await;
    let t = app_with(b, &arxiv, 100).await;
    fetch_all(&t).await;
    assert_eq!(
        json(&t, &format!("/api/papers/{SOUPS}")).await["citationCount"],
        2
    );

    // Version 2 of the paper citing by id drops the reference.
    let now = chrono::Utc::now()
        .format("%a, %-d %b %Y %H:%M:%S GMT")
        .to_string();
    let v2 = serde_json::json!({
        "id": CITES_BY_ID, "title": "Task arithmetic", "abstract": "We edit models.",
        "authors": "Ada Lovelace, Alan Turing", "categories": "cs.LG",
        "versions": [{"version": "v1", "created": now}, {"version": "v2", "created": now}]
    })
    .to_string();
    t.add_papers(papers_from_jsonl(&v2)).await;
    arxiv.add_html(
        CITES_BY_ID,
        2,
        latexml_page(
            "Task arithmetic",
            &[("Introduction", "Rewritten.")],
            &[HtmlReference {
                authors: "N. Body.".into(),
                title: "Something else entirely.".into(),
                venue: "2020.".into(),
                cited_in: None,
            }],
        ),
    );
    let steps = fetch_all(&t).await;
    assert!(
        matches!(&steps[0], TextStep::Fetched { id, references: 1, .. } if id.as_str() == CITES_BY_ID),
        "{steps:?}"
    );
    assert_eq!(
        json(&t, &format!("/api/papers/{SOUPS}")).await["citationCount"],
        1
    );
    let refs = json(&t, &format!("/api/papers/{CITES_BY_ID}/references")).await;
    assert_eq!(refs.as_array().unwrap().len(), 1);
    assert!(refs[0]
        .as_str()
        .unwrap()
        .contains("Something else entirely"));
}

/// The judged fixture (`fixtures/references-judged.jsonl`): references in
/// the forms bibliographies write them, each with the stored paper it
/// names (or none: other works, near titles, identifiers of papers not
/// here, the citing paper itself, malformed entries), resolved by the
/// fetcher against the 68 seed papers. Precision ≥ 0.95 is the target.
async fn resolution_is_precise_on_a_judged_fixture(b: Builder) {
    const CITING: &str = "2611.00077";
    let judged: Vec<Value> = include_str!("../../../fixtures/references-judged.jsonl")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let s = |v: &Value, k: &str| v[k].as_str().unwrap_or_default().to_string();
    let refs: Vec<HtmlReference> = judged
        .iter()
        .map(|j| HtmlReference {
            authors: s(j, "authors"),
            title: s(j, "title"),
            venue: s(j, "venue"),
            cited_in: None,
        })
        .collect();
    let arxiv = ArxivStandin::start(vec![], 10).await;
    arxiv.add_html(
        CITING,
        1,
        latexml_page("Judged references", &[("Introduction", "We cite.")], &refs),
    );
    let t = b
        .seed()
        .papers(vec![recent_paper(
            CITING,
            "Judged references",
            "We cite.",
            "cs.LG",
        )])
        .texts(&arxiv.base, 1000)
        .build(paperboy_web::router)
        .await
        .unwrap();
    // The newest paper is read first.
    match t.app.fetch_next_text().await.unwrap() {
        TextStep::Fetched { id, .. } => assert_eq!(id.as_str(), CITING),
        other => panic!("expected {CITING} read first: {other:?}"),
    }
    let got = json(&t, &format!("/api/papers/{CITING}/references")).await;
    let got = got.as_array().unwrap();
    // Every entry with any text is kept, in order (an empty one is not an
    // entry).
    let kept: Vec<&Value> = judged
        .iter()
        .filter(|j| {
            !format!("{}{}{}", s(j, "authors"), s(j, "title"), s(j, "venue"))
                .trim()
                .is_empty()
        })
        .collect();
    assert_eq!(got.len(), kept.len(), "every entry kept, in order");
    let (mut resolved, mut right, mut expected) = (0, 0, 0);
    let mut wrong = Vec::new();
    for (j, g) in kept.into_iter().zip(got) {
        let want = j["expect"].as_str();
        let found = g["id"].as_str();
        expected += usize::from(want.is_some());
        if let Some(f) = found {
            resolved += 1;
            if Some(f) == want {
                right += 1;
            } else {
                wrong.push(format!("{f} for {j}"));
            }
        }
    }
    let precision = right as f64 / resolved.max(1) as f64;
    let recall = right as f64 / expected.max(1) as f64;
    println!(
        "reference resolution on {} judged entries: precision {precision:.3} ({right}/{resolved}), recall {recall:.3} ({right}/{expected})",
        judged.len()
    );
    assert!(
        wrong.is_empty() || precision >= 0.95,
        "precision {precision:.3}: {wrong:#?}"
    );
    assert!(precision >= 0.95, "precision {precision:.3}");
    assert!(recall >= 0.85, "recall {recall:.3}");
}

/// arXiv has HTML only since December 2023 (and not for every paper
/// since): a paper without it is read from its LaTeX source (`/e-print/`),
/// into the same references, cited-by sentences, sections and passages; a
/// PDF-only submission is not read; a refused e-print is asked again later.
async fn a_paper_without_html_is_read_from_its_latex_source(b: Builder) {
    const OLD: &str = "2611.00021";
    const PDF_ONLY: &str = "2611.00022";
    let arxiv = ArxivStandin::start(vec![], 10).await;
    let main = r"\documentclass{article}
\begin{document}
\begin{abstract}Merging without HTML.\end{abstract}
\section{Introduction}
Uniform soups~\cite{soups} help on iWildCam camera traps.
\input{related}
\end{document}";
    let related = r"\section{Related work}
Nothing else \cite{other} compares.";
    let bbl = format!(
        r"\begin{{thebibliography}}{{2}}
\bibitem{{soups}} A.~Lovelace.
\newblock Weight soups.
\newblock arXiv:{SOUPS}, {year}.
\bibitem{{other}} B.~Nobody.
\newblock Unrelated work here.
\newblock 1999.
\end{{thebibliography}}",
        year = year()
    );
    arxiv.add_eprint(
        OLD,
        1,
        latex_eprint(&[
            ("paper.tex", main),
            ("related.tex", related),
            ("paper.bbl", &bbl),
        ]),
    );
    arxiv.add_eprint(PDF_ONLY, 1, b"%PDF-1.5 a PDF and nothing else".to_vec());
    arxiv.fault_once(
        &format!("eprint:{OLD}v1"),
        Fault::Unavailable {
            retry_after_secs: 5,
        },
    );
    let t = b
        .papers(vec![
            soups_paper(),
            recent_paper(
                OLD,
                "Merging, from source",
                "Merging without HTML.",
                "cs.LG",
            ),
            recent_paper(PDF_ONLY, "Only a PDF", "No source at all.", "cs.LG"),
        ])
        .texts(&arxiv.base, 100)
        .build(paperboy_web::router)
        .await
        .unwrap();
    let steps = fetch_all(&t).await;
    assert!(
        steps.iter().any(|s| matches!(s, TextStep::Refused { reason, .. } if reason.contains("/e-print/") && reason.contains("503"))),
        "{steps:?}"
    );
    let fetched: Vec<(String, paperboy_store::TextStatus, usize)> = steps
        .iter()
        .filter_map(|s| match s {
            TextStep::Fetched {
                id,
                status,
                references,
            } => Some((id.to_string(), *status, *references)),
            _ => None,
        })
        .collect();
    let of = |id: &str| fetched.iter().find(|f| f.0 == id).cloned().unwrap();
    assert_eq!(of(OLD).1, paperboy_store::TextStatus::Parsed, "{fetched:?}");
    assert_eq!(of(OLD).2, 2);
    assert_eq!(of(PDF_ONLY).1, paperboy_store::TextStatus::Unreadable);
    assert_eq!(of(SOUPS).1, paperboy_store::TextStatus::Missing);
    // HTML asked for first, the source after it, each once per paper (the
    // refused e-print once more).
    let asked: Vec<String> = arxiv.requests().into_iter().map(|r| r.query).collect();
    assert_eq!(
        asked
            .iter()
            .filter(|q| **q == format!("/e-print/{OLD}v1"))
            .count(),
        2
    );
    assert_eq!(
        asked
            .iter()
            .filter(|q| **q == format!("/html/{OLD}v1"))
            .count(),
        2
    );

    // The citation graph, as from HTML.
    let refs = json(&t, &format!("/api/papers/{OLD}/references")).await;
    assert_eq!(refs[0]["id"], SOUPS);
    assert!(refs[1].as_str().unwrap().contains("Unrelated work here"));
    let cites = json(&t, &format!("/api/papers/{SOUPS}/citations")).await;
    assert_eq!(cites[0]["id"], OLD);
    assert_eq!(
        cites[0]["context"],
        "Uniform soups [1] help on iWildCam camera traps."
    );
    let page = t.client().get(&format!("/papers/{OLD}")).await.body;
    assert!(
        page.contains("Related work") && page.contains("Introduction"),
        "{page}"
    );
    // Its passages are searchable.
    t.sync_search().await;
    let inside = json(&t, &format!("/api/papers/{OLD}/passages?q=iWildCam")).await;
    assert_eq!(inside.as_array().unwrap().len(), 1, "{inside}");
    assert_eq!(inside[0]["section"], "Introduction");
    assert!(json(&t, &format!("/api/papers/{PDF_ONLY}/references"))
        .await
        .as_array()
        .unwrap()
        .is_empty());
}

/// With an OpenAlex key: a paper arXiv has no text for (no HTML, no
/// source) gets its references from OpenAlex (resolved by arXiv's DOI, or
/// title and year) and OpenAlex's cited-by count; a paper OpenAlex does not
/// know stays without; a 429 records nothing and is asked again.
async fn openalex_gives_references_and_counts_where_arxiv_has_no_text(b: Builder) {
    use paperboy_testkit::openalex_standin::{OpenAlexStandin, Work};
    const KNOWN: &str = "2611.00031";
    const UNKNOWN: &str = "2611.00032";
    let arxiv = ArxivStandin::start(vec![], 10).await;
    let openalex = OpenAlexStandin::start(vec![
        Work {
            id: "W100".into(),
            doi: Some(format!("10.48550/arXiv.{KNOWN}")),
            title: "Merging, catalogued".into(),
            year: year(),
            cited_by_count: 42,
            references: vec!["W1".into(), "W2".into(), "W3".into(), "W999".into()],
        },
        Work {
            id: "W1".into(),
            doi: Some(format!("10.48550/arxiv.{SOUPS}")),
            title: "Weight soups".into(),
            year: year(),
            ..Default::default()
        },
        Work {
            id: "W2".into(),
            doi: Some("10.5555/ta.2023".into()),
            title: "Task arithmetic".into(),
            year: year(),
            ..Default::default()
        },
        Work {
            id: "W3".into(),
            doi: None,
            title: "A book nobody stored".into(),
            year: 1999,
            ..Default::default()
        },
    ])
    .await;
    openalex.refuse_next(1);
    let t = b
        .papers(vec![
            soups_paper(),
            recent_paper(CITES_BY_ID, "Task arithmetic", "We edit models.", "cs.LG"),
            recent_paper(KNOWN, "Merging, catalogued", "No text on arXiv.", "cs.LG"),
            recent_paper(UNKNOWN, "Unknown to OpenAlex", "Nor here.", "cs.LG"),
        ])
        .texts(&arxiv.base, 100)
        .openalex(&openalex.base)
        .build(paperboy_web::router)
        .await
        .unwrap();
    let steps = fetch_all(&t).await;
    let refused: Vec<&String> = steps
        .iter()
        .filter_map(|s| match s {
            TextStep::Refused { reason, .. } => Some(reason),
            _ => None,
        })
        .collect();
    assert_eq!(refused.len(), 1, "{steps:?}");
    assert!(
        refused[0].contains("429") && !refused[0].contains("test-openalex-key"),
        "{refused:?}"
    );
    let status = |id: &str| {
        steps
            .iter()
            .rev()
            .find_map(|s| match s {
                TextStep::Fetched { id: i, status, .. } if i.as_str() == id => Some(*status),
                _ => None,
            })
            .unwrap_or_else(|| panic!("{id} not fetched: {steps:?}"))
    };
    assert_eq!(status(KNOWN), paperboy_store::TextStatus::Catalogued);
    assert_eq!(status(UNKNOWN), paperboy_store::TextStatus::Missing);
    // Every call carried the key (the stand-in answers 401 without it).
    assert!(openalex.requests().iter().all(|(_, s)| s.as_u16() != 401));

    let refs = json(&t, &format!("/api/papers/{KNOWN}/references")).await;
    let refs = refs.as_array().unwrap();
    assert_eq!(refs.len(), 3, "three of four known to OpenAlex: {refs:?}");
    assert_eq!(refs[0]["id"], SOUPS, "by arXiv's DOI");
    assert_eq!(refs[1]["id"], CITES_BY_ID, "by title and year");
    assert!(refs[2].as_str().unwrap().contains("A book nobody stored"));
    let cites = json(&t, &format!("/api/papers/{SOUPS}/citations")).await;
    assert!(cites.as_array().unwrap().iter().any(|c| c["id"] == KNOWN));
    let known = json(&t, &format!("/api/papers/{KNOWN}")).await;
    assert_eq!(known["openAlexCitationCount"], 42);
    assert!(json(&t, &format!("/api/papers/{UNKNOWN}"))
        .await
        .get("openAlexCitationCount")
        .is_none());
    let page = t.client().get(&format!("/papers/{KNOWN}")).await.body;
    assert!(
        page.contains("OpenAlex counts 42 works citing it"),
        "{page}"
    );
}
