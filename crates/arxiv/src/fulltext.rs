//! arXiv's HTML rendering of a paper (LaTeXML, `https://arxiv.org/html/{id}v{n}`)
//! read into what Paperboy keeps: section titles, paragraphs, figure
//! captions, and the reference list with the sentence each reference is
//! first cited in. Parsed with html5ever (through `scraper`), which takes
//! any HTML a browser would, malformed included.
//!
//! arXiv's licence allows indexing with a link back, not redistribution:
//! the caller stores what search and citations need and links to arXiv
//! for reading.

use std::collections::HashMap;
use std::sync::LazyLock;

use paperboy_core::ArxivId;
use regex::Regex;
use scraper::{ElementRef, Html, Selector};

/// The largest page read (a paper's HTML is rarely above 5 MB; the
/// largest LaTeXML pages with inline SVG reach 30).
pub const MAX_HTML_BYTES: usize = 32 * 1024 * 1024;
/// References kept of one paper (surveys cite a few hundred; more is noise).
pub const MAX_REFERENCES: usize = 2_000;
/// Characters kept of one reference's text, and of one citing sentence.
pub const MAX_REFERENCE_CHARS: usize = 1_000;
pub const MAX_CONTEXT_CHARS: usize = 400;
/// Characters of running text kept in all (for passages).
pub const MAX_TEXT_CHARS: usize = 400_000;

pub use paperboy_core::fulltext::{FullText, ParseError, Reference, Section};

fn sel(s: &str) -> Selector {
    Selector::parse(s).expect("a fixed selector")
}

static DOCUMENT: LazyLock<Selector> = LazyLock::new(|| sel(".ltx_document, .ltx_page_main"));
static SECTION: LazyLock<Selector> =
    LazyLock::new(|| sel("section.ltx_section, section.ltx_appendix"));
static SECTION_TITLE: LazyLock<Selector> = LazyLock::new(|| sel("h2, h3, .ltx_title"));
static PARAGRAPH: LazyLock<Selector> = LazyLock::new(|| sel("p.ltx_p, figcaption"));
static BIBITEM: LazyLock<Selector> = LazyLock::new(|| sel("li.ltx_bibitem"));
static BIBBLOCK: LazyLock<Selector> = LazyLock::new(|| sel(".ltx_bibblock"));
static TAG: LazyLock<Selector> = LazyLock::new(|| sel(".ltx_tag"));
static LINK: LazyLock<Selector> = LazyLock::new(|| sel("a[href]"));
static CITE_IN_TEXT: LazyLock<Selector> = LazyLock::new(|| sel("p.ltx_p"));

static ARXIV_IN_TEXT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(?:arxiv[:\s]\s*|arxiv\.org/(?:abs|pdf|html)/|10\.48550/arxiv\.|corr,?\s+abs/)((?:\d{4}\.\d{4,5})|(?:[a-z][a-z\-]*(?:\.[a-z]{2})?/\d{7}))(?:v\d+)?",
    )
    .expect("a fixed pattern")
});
static DOI: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b(10\.\d{4,9}/[^\s,;]+[^\s,;.)])").expect("a fixed pattern"));
static YEAR: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b(19[5-9]\d|20[0-4]\d)[a-z]?\b").expect("a fixed pattern"));

/// Text of an element, whitespace collapsed.
fn text_of(e: ElementRef<'_>) -> String {
    collapse(&e.text().collect::<String>())
}

fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

pub(crate) fn cut(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", s[..at].trim_end()),
        None => s.to_string(),
    }
}

/// Reads a page of arXiv HTML.
pub fn parse(html: &str) -> Result<FullText, ParseError> {
    if html.len() > MAX_HTML_BYTES {
        return Err(ParseError::TooLarge {
            bytes: html.len(),
            cap: MAX_HTML_BYTES,
        });
    }
    let doc = Html::parse_document(html);
    let Some(root) = doc.select(&DOCUMENT).next() else {
        return Err(ParseError::NotAPaper);
    };
    let mut out = FullText::default();
    let mut text_left = MAX_TEXT_CHARS;
    for section in root.select(&SECTION) {
        let title = section
            .select(&SECTION_TITLE)
            .next()
            .map(title_without_number)
            .unwrap_or_default();
        let mut paragraphs = Vec::new();
        for p in section.select(&PARAGRAPH) {
            let t = text_of(p);
            if t.is_empty() {
                continue;
            }
            if t.len() > text_left {
                out.truncated = true;
                break;
            }
            text_left -= t.len();
            paragraphs.push(t);
        }
        if !title.is_empty() || !paragraphs.is_empty() {
            out.sections.push(Section {
                title: cut(&title, 200),
                paragraphs,
            });
        }
    }
    let contexts = citing_sentences(root);
    for item in root.select(&BIBITEM) {
        if out.references.len() == MAX_REFERENCES {
            out.truncated = true;
            break;
        }
        if let Some(mut r) = reference(item) {
            r.context = contexts.get(&r.key).cloned();
            out.references.push(r);
        }
    }
    Ok(out)
}

/// A heading without its number tag (`1 Introduction` → `Introduction`).
fn title_without_number(h: ElementRef<'_>) -> String {
    let full = text_of(h);
    match h.select(&TAG).next().map(text_of) {
        Some(tag) if !tag.is_empty() => full
            .strip_prefix(&tag)
            .map(|s| s.trim().to_string())
            .unwrap_or(full),
        _ => full,
    }
}

fn reference(item: ElementRef<'_>) -> Option<Reference> {
    let key = item.value().id().unwrap_or_default().to_string();
    let blocks: Vec<String> = item
        .select(&BIBBLOCK)
        .map(text_of)
        .filter(|b| !b.is_empty())
        .collect();
    let text = if blocks.is_empty() {
        let full = text_of(item);
        match item.select(&TAG).next().map(text_of) {
            Some(tag) => full.strip_prefix(&tag).unwrap_or(&full).trim().to_string(),
            None => full,
        }
    } else {
        blocks.join(" ")
    };
    if text.is_empty() {
        return None;
    }
    let links: Vec<String> = item
        .select(&LINK)
        .filter_map(|a| a.value().attr("href"))
        .map(str::to_string)
        .collect();
    reference_with_text(key, text, &blocks, &links)
}

/// A reference from its blocks (authors, title, venue: LaTeXML's and
/// BibTeX's `\newblock`s) and the links it holds.
pub(crate) fn reference_from_blocks(
    key: String,
    blocks: Vec<String>,
    links: &[String],
) -> Option<Reference> {
    let text = blocks.join(" ");
    if text.is_empty() {
        return None;
    }
    reference_with_text(key, text, &blocks, links)
}

fn reference_with_text(
    key: String,
    text: String,
    blocks: &[String],
    links: &[String],
) -> Option<Reference> {
    let haystack = format!("{text} {}", links.join(" "));
    let arxiv_id = ARXIV_IN_TEXT
        .captures_iter(&haystack)
        .find_map(|c| ArxivId::parse(&c[1]).ok());
    let doi = DOI
        .captures(&haystack)
        .map(|c| c[1].to_string())
        .filter(|d| d.len() <= 200);
    let year = YEAR
        .captures_iter(&text)
        .filter_map(|c| c[1].parse().ok())
        .last();
    let title = (blocks.len() >= 2)
        .then(|| blocks[1].trim_end_matches(['.', ',']).trim().to_string())
        .filter(|t| t.split_whitespace().count() >= 2);
    Some(Reference {
        key,
        text: cut(&text, MAX_REFERENCE_CHARS),
        title: title.map(|t| cut(&t, 300)),
        arxiv_id,
        doi,
        year,
        context: None,
    })
}

/// For each reference anchor, the first sentence of the running text that
/// cites it.
fn citing_sentences(root: ElementRef<'_>) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for p in root.select(&CITE_IN_TEXT) {
        // The paragraph's text, and where each link to a reference sits in it.
        let mut text = String::new();
        let mut marks: Vec<(usize, String)> = Vec::new();
        for node in p.descendants() {
            if let Some(t) = node.value().as_text() {
                text.push_str(t);
            } else if let Some(el) = node.value().as_element() {
                if el.name() == "a" {
                    if let Some(key) = el.attr("href").and_then(|h| h.strip_prefix('#')) {
                        if key.starts_with("bib.") {
                            marks.push((text.len(), key.to_string()));
                        }
                    }
                }
            }
        }
        for (at, key) in marks {
            if out.contains_key(&key) {
                continue;
            }
            let sentence = collapse(sentence_around(&text, at));
            if !sentence.is_empty() {
                out.insert(key, cut(&sentence, MAX_CONTEXT_CHARS));
            }
        }
    }
    out
}

/// Abbreviations a sentence does not end after.
const NOT_AN_END: &[&str] = &[
    "al", "e.g", "i.e", "cf", "Fig", "fig", "Eq", "eq", "Sec", "vs", "resp", "etc", "Tab",
];

fn is_end(text: &str, dot: usize) -> bool {
    let before = &text[..dot];
    let word = before
        .rsplit(|c: char| c.is_whitespace() || c == '(')
        .next()
        .unwrap_or("");
    let after = text[dot + 1..].chars().next();
    after.is_none_or(char::is_whitespace) && !NOT_AN_END.contains(&word) && word.len() != 1
}

/// The sentence of `text` that contains byte `at`.
pub(crate) fn sentence_around(text: &str, at: usize) -> &str {
    let ends: Vec<usize> = text
        .char_indices()
        .filter(|&(i, c)| matches!(c, '.' | '?' | '!') && is_end(text, i))
        .map(|(i, _)| i)
        .collect();
    let start = ends
        .iter()
        .rev()
        .find(|&&e| e < at)
        .map(|e| e + 1)
        .unwrap_or(0);
    let end = ends
        .iter()
        .find(|&&e| e >= at)
        .map(|e| e + 1)
        .unwrap_or(text.len());
    text[start..end].trim()
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = r##"<!DOCTYPE html><html><body><div class="ltx_page_main">
<article class="ltx_document">
<h1 class="ltx_title ltx_title_document">Averaging weights</h1>
<section id="S1" class="ltx_section">
<h2 class="ltx_title ltx_title_section"><span class="ltx_tag ltx_tag_section">1 </span>Introduction</h2>
<div class="ltx_para"><p class="ltx_p">Fine-tuned models can be averaged. Model soups
<cite class="ltx_cite">Wortsman et al. (<a href="#bib.bib2" class="ltx_ref">2022</a>)</cite> average
many of them, e.g. across seeds. Task vectors <cite class="ltx_cite">[<a href="#bib.bib1" class="ltx_ref">1</a>]</cite>
add and subtract them! We go further.</p></div>
<figure class="ltx_figure"><figcaption class="ltx_caption">Figure 1: Soups of weights.</figcaption></figure>
</section>
<section id="bib" class="ltx_bibliography"><h2 class="ltx_title">References</h2>
<ul class="ltx_biblist">
<li id="bib.bib1" class="ltx_bibitem"><span class="ltx_tag ltx_tag_bibitem">[1]</span>
<span class="ltx_bibblock">G. Ilharco, M. T. Ribeiro, and A. Farhadi.</span>
<span class="ltx_bibblock">Editing models with task arithmetic.</span>
<span class="ltx_bibblock"><em>arXiv preprint arXiv:2212.04089v3</em>, 2022.</span></li>
<li id="bib.bib2" class="ltx_bibitem"><span class="ltx_tag ltx_tag_bibitem">[2]</span>
<span class="ltx_bibblock">M. Wortsman et al.</span>
<span class="ltx_bibblock">Model soups: averaging weights of multiple fine-tuned models.</span>
<span class="ltx_bibblock">In ICML, 2022. <a href="https://doi.org/10.48550/arXiv.2203.05482">doi</a></span></li>
<li id="bib.bib3" class="ltx_bibitem"><span class="ltx_tag">[3]</span>
<span class="ltx_bibblock">A. Krizhevsky.</span>
<span class="ltx_bibblock">Learning multiple layers of features from tiny images.</span>
<span class="ltx_bibblock">Technical report, 2009. doi:10.1000/xyz.123.</span></li>
<li id="bib.bib4" class="ltx_bibitem">Old style: hep-th/9901001 in arXiv:hep-th/9901001</li>
</ul></section></article></div></body></html>"##;

    #[test]
    fn sections_references_and_citing_sentences() {
        let f = parse(PAGE).unwrap();
        assert_eq!(f.section_titles(), vec!["Introduction"]);
        assert_eq!(f.sections[0].paragraphs.len(), 2);
        assert_eq!(f.sections[0].paragraphs[1], "Figure 1: Soups of weights.");
        assert_eq!(f.references.len(), 4);
        let r = &f.references;
        assert_eq!(r[0].key, "bib.bib1");
        assert_eq!(r[0].arxiv_id.as_ref().unwrap().as_str(), "2212.04089");
        assert_eq!(
            r[0].title.as_deref(),
            Some("Editing models with task arithmetic")
        );
        assert_eq!(r[0].year, Some(2022));
        assert_eq!(
            r[0].context.as_deref(),
            Some("Task vectors [1] add and subtract them!")
        );
        assert_eq!(r[1].arxiv_id.as_ref().unwrap().as_str(), "2203.05482");
        assert_eq!(
            r[1].context.as_deref(),
            Some("Model soups Wortsman et al. (2022) average many of them, e.g. across seeds.")
        );
        assert_eq!(r[2].arxiv_id, None);
        assert_eq!(r[2].doi.as_deref(), Some("10.1000/xyz.123"));
        assert_eq!(r[2].year, Some(2009));
        assert_eq!(r[2].context, None);
        assert_eq!(r[3].arxiv_id.as_ref().unwrap().as_str(), "hep-th/9901001");
        assert_eq!(r[3].title, None);
    }

    #[test]
    fn not_a_paper_and_too_large_are_named() {
        assert_eq!(
            parse("<html><body><p>Just a page</p></body></html>"),
            Err(ParseError::NotAPaper)
        );
        assert_eq!(parse(""), Err(ParseError::NotAPaper));
        let big = "x".repeat(MAX_HTML_BYTES + 1);
        assert!(matches!(parse(&big), Err(ParseError::TooLarge { .. })));
    }

    #[test]
    fn hostile_and_broken_html_is_read_as_text() {
        let page = r##"<div class="ltx_document"><section class="ltx_section"><h2>Intro<script>alert(1)</script>
<p class="ltx_p">Unclosed <b>bold <i>and <a href="#bib.bibX">x</a> more
<ul><li class="ltx_bibitem" id="bib.bibX"><span class="ltx_bibblock"><img src=x onerror=alert(1)>Someone.</span>
<span class="ltx_bibblock">A title &lt;script&gt;</span></li>"##;
        let f = parse(page).unwrap();
        assert_eq!(f.references.len(), 1);
        let r = &f.references[0];
        assert_eq!(r.title.as_deref(), Some("A title <script>"));
        assert!(r
            .context
            .as_deref()
            .unwrap()
            .starts_with("Unclosed bold and x more"));
    }

    #[test]
    fn caps_hold() {
        let mut page = String::from(r#"<div class="ltx_document"><ul>"#);
        for i in 0..(MAX_REFERENCES + 5) {
            page.push_str(&format!(
                r#"<li class="ltx_bibitem" id="bib.bib{i}">Ref {i} {}</li>"#,
                "w".repeat(3000)
            ));
        }
        let f = parse(&page).unwrap();
        assert_eq!(f.references.len(), MAX_REFERENCES);
        assert!(f.truncated);
        assert!(f.references[0].text.chars().count() <= MAX_REFERENCE_CHARS + 1);
    }
}
