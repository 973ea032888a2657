//! Full-text parser throughput: arXiv LaTeXML pages shaped like real ones
//! (a header and navigation, an abstract, sections of paragraphs with
//! inline MathML and citations, figures, tables, an equation array, a
//! bibliography of 40–80 entries in blocks), and hostile ones (deep
//! nesting, a huge reference list, not a paper, over the size cap),
//! parsed on one thread by the same function the fetcher calls.

use std::time::Instant;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::gen::Generator;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Inline math as LaTeXML writes it: MathML with the TeX kept.
fn math(rng: &mut ChaCha8Rng) -> String {
    let vars = ["x", "y", "\\theta", "\\lambda", "W", "h"];
    let a = vars[rng.gen_range(0..vars.len())];
    let b = vars[rng.gen_range(0..vars.len())];
    let i = rng.gen_range(1..9);
    format!(
        "<math id=\"m{i}\" class=\"ltx_Math\" alttext=\"{a}_{{{i}}}+{b}\" display=\"inline\"><semantics>\
         <mrow><msub><mi>{a}</mi><mn>{i}</mn></msub><mo>+</mo><mi>{b}</mi></mrow>\
         <annotation-xml encoding=\"MathML-Content\"><apply><plus></plus><apply><csymbol cd=\"ambiguous\">subscript</csymbol><ci>{a}</ci><cn type=\"integer\">{i}</cn></apply><ci>{b}</ci></apply></annotation-xml>\
         <annotation encoding=\"application/x-tex\">{a}_{{{i}}}+{b}</annotation></semantics></math>"
    )
}

fn cite(k: usize) -> String {
    format!(
        "<cite class=\"ltx_cite ltx_citemacro_cite\">[<a href=\"#bib.bib{k}\" title=\"\" class=\"ltx_ref\">{k}</a>]</cite>"
    )
}

/// One page of about 100–300 kB (a mean of 180 kB): an 8–15 page paper
/// with light mathematics; heavier pages scale by bytes (MB/s is printed).
pub fn page(g: &mut Generator, rng: &mut ChaCha8Rng) -> String {
    let refs = rng.gen_range(40..80);
    let title = esc(&g.sentence_text(9));
    let mut out = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>\
         <link rel=\"stylesheet\" href=\"https://arxiv.org/static/browse/0.3.4/css/ar5iv.0.7.9.min.css\">\
         <script src=\"https://arxiv.org/static/browse/0.3.4/js/addons_new.js\"></script></head><body>\
         <nav class=\"ltx_page_navbar\"><nav class=\"ltx_TOC\"><ol class=\"ltx_toclist\">"
    );
    let sections = rng.gen_range(6..10);
    for s in 1..=sections {
        out.push_str(&format!(
            "<li class=\"ltx_tocentry ltx_tocentry_section\"><a href=\"#S{s}\" class=\"ltx_ref\"><span class=\"ltx_text ltx_ref_title\"><span class=\"ltx_tag ltx_tag_ref\">{s} </span>Section</span></a></li>"
        ));
    }
    out.push_str(&format!(
        "</ol></nav></nav><div class=\"ltx_page_main\"><div class=\"ltx_page_content\">\
         <article class=\"ltx_document ltx_authors_1line\"><h1 class=\"ltx_title ltx_title_document\">{title}</h1>\
         <div class=\"ltx_authors\"><span class=\"ltx_creator ltx_role_author\"><span class=\"ltx_personname\">Ada Lovelace</span></span></div>\
         <div class=\"ltx_abstract\"><h6 class=\"ltx_title ltx_title_abstract\">Abstract</h6><p class=\"ltx_p\">{}</p></div>",
        esc(&g.sentence_text(180))
    ));
    for s in 1..=sections {
        out.push_str(&format!(
            "<section id=\"S{s}\" class=\"ltx_section\"><h2 class=\"ltx_title ltx_title_section\">\
             <span class=\"ltx_tag ltx_tag_section\">{s} </span>{}</h2>",
            esc(&g.sentence_text(3))
        ));
        for p in 1..=rng.gen_range(5..10) {
            let mut para = String::new();
            for _ in 0..rng.gen_range(4..9) {
                para.push_str(&esc(&g.sentence_text(rng.gen_range(12..30))));
                para.push(' ');
                if rng.gen_bool(0.5) {
                    para.push_str(&math(rng));
                    para.push(' ');
                }
                if rng.gen_bool(0.3) {
                    para.push_str(&cite(rng.gen_range(1..=refs)));
                    para.push_str(". ");
                }
            }
            out.push_str(&format!(
                "<div id=\"S{s}.p{p}\" class=\"ltx_para\"><p class=\"ltx_p\">{para}</p></div>"
            ));
        }
        if rng.gen_bool(0.6) {
            out.push_str(&format!(
                "<figure id=\"S{s}.F1\" class=\"ltx_figure\"><img src=\"x{s}.png\" class=\"ltx_graphics ltx_centering\" width=\"598\" height=\"300\" alt=\"Refer to caption\">\
                 <figcaption class=\"ltx_caption ltx_centering\"><span class=\"ltx_tag ltx_tag_figure\">Figure {s}: </span>{}</figcaption></figure>",
                esc(&g.sentence_text(25))
            ));
        }
        if rng.gen_bool(0.4) {
            out.push_str("<figure class=\"ltx_table\"><table class=\"ltx_tabular ltx_centering ltx_align_middle\"><tbody class=\"ltx_tbody\">");
            for _ in 0..rng.gen_range(6..20) {
                out.push_str("<tr class=\"ltx_tr\">");
                for _ in 0..6 {
                    out.push_str(&format!(
                        "<td class=\"ltx_td ltx_align_center ltx_border_t\">{:.1}</td>",
                        rng.gen_range(10.0..99.0)
                    ));
                }
                out.push_str("</tr>");
            }
            out.push_str(&format!(
                "</tbody></table><figcaption class=\"ltx_caption\"><span class=\"ltx_tag ltx_tag_table\">Table {s}: </span>{}</figcaption></figure>",
                esc(&g.sentence_text(15))
            ));
        }
        if rng.gen_bool(0.5) {
            out.push_str(&format!("<table id=\"S{s}.E1\" class=\"ltx_equation ltx_eqn_table\"><tbody><tr class=\"ltx_equation ltx_eqn_row ltx_align_baseline\"><td class=\"ltx_eqn_cell ltx_align_center\">"));
            for _ in 0..4 {
                out.push_str(&math(rng));
            }
            out.push_str("</td></tr></tbody></table>");
        }
        out.push_str("</section>");
    }
    out.push_str(
        "<section id=\"bib\" class=\"ltx_bibliography\"><h2 class=\"ltx_title ltx_title_bibliography\">References</h2><ul class=\"ltx_biblist\">",
    );
    for k in 1..=refs {
        let venue = match rng.gen_range(0..4) {
            0 => format!(
                "arXiv preprint arXiv:{}.{:05}, {}.",
                rng.gen_range(1801..2412),
                rng.gen_range(1..20000),
                rng.gen_range(2018..2025)
            ),
            1 => format!("In <em class=\"ltx_emph ltx_font_italic\">Proceedings of ICML</em>, pages {}–{}, {}.", k, k + 10, rng.gen_range(2010..2025)),
            2 => format!("<a href=\"https://doi.org/10.1000/j.{k}\" class=\"ltx_ref ltx_url\">doi:10.1000/j.{k}</a>, {}.", rng.gen_range(1990..2025)),
            _ => format!("Journal of Things, {}:{}, {}.", k, k * 3, rng.gen_range(1990..2025)),
        };
        out.push_str(&format!(
            "<li id=\"bib.bib{k}\" class=\"ltx_bibitem\"><span class=\"ltx_tag ltx_role_refnum ltx_tag_bibitem\">[{k}]</span>\
             <span class=\"ltx_bibblock\">A. Author, B. Writer, and C. Scholar.</span>\
             <span class=\"ltx_bibblock\">{}.</span><span class=\"ltx_bibblock\">{venue}</span></li>",
            esc(&g.sentence_text(8))
        ));
    }
    out.push_str("</ul></section></article></div><footer class=\"ltx_page_footer\"><div class=\"ltx_page_logo\">Generated by LaTeXML</div></footer></div></body></html>");
    out
}

/// Pages that try the parser: deeply nested markup, a reference list far
/// over the cap, a page that is not a paper, one over the size cap.
pub fn hostile() -> Vec<(&'static str, String)> {
    let deep = format!(
        "<html><body><article class=\"ltx_document\"><section class=\"ltx_section\"><h2>Deep</h2>{}<p class=\"ltx_p\">bottom</p>{}</section></article></body></html>",
        "<div><span>".repeat(20_000),
        "</span></div>".repeat(20_000)
    );
    let mut many = String::from(
        "<html><body><article class=\"ltx_document\"><section class=\"ltx_bibliography\"><ul>",
    );
    for k in 0..10_000 {
        many.push_str(&format!(
            "<li class=\"ltx_bibitem\" id=\"bib.bib{k}\"><span class=\"ltx_bibblock\">Someone. Something {k}. arXiv:2401.{k:05}</span></li>"
        ));
    }
    many.push_str("</ul></section></article></body></html>");
    let not_a_paper =
        "<html><body><h1>Conversion failed</h1><p>No HTML for this paper.</p></body></html>"
            .repeat(1000);
    let huge = format!(
        "<html><body><article class=\"ltx_document\">{}</article></body></html>",
        "<p class=\"ltx_p\">x</p>".repeat(paperboy_arxiv::fulltext::MAX_HTML_BYTES / 20 + 1)
    );
    vec![
        ("deep nesting (20,000 levels)", deep),
        ("10,000 references", many),
        ("not a paper", not_a_paper),
        ("over the size cap", huge),
    ]
}

pub fn time_parse(g: &mut Generator, pages: usize, seed: u64, runs: usize) -> anyhow::Result<()> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let docs: Vec<String> = (0..pages).map(|_| page(g, &mut rng)).collect();
    let bytes: usize = docs.iter().map(String::len).sum();
    let mut rates = Vec::new();
    let (mut refs, mut sections) = (0, 0);
    for _ in 0..runs.max(1) {
        let started = Instant::now();
        (refs, sections) = (0, 0);
        for d in &docs {
            let t = paperboy_arxiv::fulltext::parse(d)
                .map_err(|e| anyhow::anyhow!("a generated page did not parse: {e}"))?;
            anyhow::ensure!(!t.references.is_empty(), "no references read");
            refs += t.references.len();
            sections += t.sections.len();
        }
        rates.push(pages as f64 / started.elapsed().as_secs_f64());
    }
    rates.sort_by(f64::total_cmp);
    let median = rates[rates.len() / 2];
    println!(
        "fulltext-parse: {pages} pages, mean {:.0} kB: median {median:.1} pages/s ({:.1} MB/s), best {:.1} pages/s; {sections} sections, {refs} references read per run",
        bytes as f64 / pages as f64 / 1e3,
        median * bytes as f64 / pages as f64 / 1e6,
        rates[rates.len() - 1],
    );
    for (name, doc) in hostile() {
        let started = Instant::now();
        let outcome = match paperboy_arxiv::fulltext::parse(&doc) {
            Ok(t) => format!(
                "{} sections, {} references",
                t.sections.len(),
                t.references.len()
            ),
            Err(e) => format!("refused: {e}"),
        };
        println!(
            "fulltext-parse hostile: {name} ({:.1} MB): {:.0} ms, {outcome}",
            doc.len() as f64 / 1e6,
            started.elapsed().as_secs_f64() * 1e3
        );
    }
    Ok(())
}

/// See `paperboy-bench add-texts`.
pub async fn add_texts(
    data_dir: &std::path::Path,
    share: f64,
    mut g: Generator,
    seed: u64,
) -> anyhow::Result<()> {
    use anyhow::Context;
    use paperboy_store::{NewestCursor, TextRecord, TextStatus};
    let db = data_dir.join("paperboy.db");
    let url = format!("sqlite://{}", db.display());
    let store: std::sync::Arc<dyn paperboy_store::Store> = std::sync::Arc::new(
        paperboy_store_sqlite::open(&url)
            .await
            .with_context(|| format!("opening {url}"))?,
    );
    let db_before = sqlite_bytes(&db);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let started = Instant::now();
    let (mut papers, mut html_bytes) = (0u64, 0u64);
    let mut after = NewestCursor::START;
    loop {
        let batch = store.papers_newest_first(after, 2_000).await?;
        let Some((last, _)) = batch.last() else { break };
        after = *last;
        let chosen: Vec<(paperboy_core::PaperId, u32)> = batch
            .iter()
            .filter(|_| rng.gen_bool(share))
            .map(|(_, p)| (p.paper_id, p.paper.latest_version()))
            .collect();
        let pages: Vec<String> = chosen.iter().map(|_| page(&mut g, &mut rng)).collect();
        html_bytes += pages.iter().map(|p| p.len() as u64).sum::<u64>();
        // Parsed on both cores, as the fetcher's blocking threads would.
        let half = pages.len() / 2;
        let (a, b) = pages.split_at(half);
        let parse = |pages: &[String]| -> Vec<Result<paperboy_arxiv::fulltext::FullText, String>> {
            pages
                .iter()
                .map(|p| paperboy_arxiv::fulltext::parse(p).map_err(|e| e.to_string()))
                .collect()
        };
        let (pa, pb) = std::thread::scope(|s| {
            let h = s.spawn(|| parse(a));
            let pb = parse(b);
            (h.join().unwrap_or_default(), pb)
        });
        for ((paper_id, version), (parsed, html)) in
            chosen.into_iter().zip(pa.into_iter().chain(pb).zip(&pages))
        {
            let text =
                parsed.map_err(|e| anyhow::anyhow!("a generated page did not parse: {e}"))?;
            store
                .record_text(TextRecord {
                    paper_id,
                    version,
                    status: TextStatus::Parsed,
                    last_modified: None,
                    bytes: html.len() as i64,
                    sections: text.section_titles(),
                    section_hashes: text.section_hashes(),
                    references: Vec::new(),
                    passages: paperboy_app::citations::passages_of(&text),
                    cited_elsewhere: None,
                })
                .await?;
            papers += 1;
        }
        if papers > 0 && papers % 10_000 < 250 {
            eprintln!("{papers} texts ({:.0}s)", started.elapsed().as_secs_f64());
        }
    }
    let stored_in = started.elapsed().as_secs_f64();
    // The passages into the keyword index, as the server follows them.
    let index_dir = data_dir.join("index").join("keyword");
    let index = std::sync::Arc::new(
        paperboy_search::KeywordIndex::open(&index_dir, true)
            .map_err(|e| anyhow::anyhow!("{e}"))?,
    );
    let t = Instant::now();
    paperboy_search::catch_up(&*store, &index, |_| {}).await?;
    let indexed_in = t.elapsed().as_secs_f64();
    let stats = store.text_stats().await?;
    let db_after = sqlite_bytes(&db);
    let passages_dir = dir_bytes(&index_dir.join("passages"));
    let per = |b: u64| b as f64 / papers.max(1) as f64 / 1024.0;
    println!(
        "add-texts: {papers} papers given a text ({:.0} kB of HTML each) in {stored_in:.0}s, indexed in {indexed_in:.0}s: \
         {} passages ({:.0} a paper, {:.1} kB of text a paper); per paper with text: store +{:.1} kB, passage index {:.1} kB",
        per(html_bytes),
        stats.passages,
        stats.passages as f64 / papers.max(1) as f64,
        stats.passage_chars as f64 / papers.max(1) as f64 / 1024.0,
        per(db_after.saturating_sub(db_before)),
        per(passages_dir),
    );
    Ok(())
}

/// The SQLite database's bytes, its write-ahead log included.
fn sqlite_bytes(db: &std::path::Path) -> u64 {
    let len = |p: std::path::PathBuf| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    len(db.to_path_buf()) + len(db.with_extension("db-wal"))
}

fn dir_bytes(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter_map(|e| e.metadata().ok())
                .filter(|m| m.is_file())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}
