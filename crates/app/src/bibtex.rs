//! Library files: what an import names (BibTeX as reference managers
//! export it, or one arXiv id or URL a line), and the library written out
//! as BibTeX, JSON or CSV.
//!
//! Parsing is `bibtex-parser`'s (tolerant: a broken entry is reported and
//! the parser carries on with the next). Writing BibTeX is done here: it is
//! a few fields in braces, and what matters is that hostile text cannot
//! close a brace early.

use paperboy_core::text::{author_key, collapse_whitespace};
use paperboy_core::ArxivId;
use serde::Serialize;

/// What one entry of an import file points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wanted {
    Id(ArxivId),
    /// No arXiv id: match by normalised title.
    Title(String),
}

/// An entry read from an import file, with the line it starts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEntry {
    pub line: usize,
    /// The BibTeX key, when there is one.
    pub key: Option<String>,
    pub wanted: Wanted,
}

/// Something in the file that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub line: usize,
    pub message: String,
}

/// 1-based line of byte offset `at`.
fn line_of(text: &str, at: usize) -> usize {
    let at = at.min(text.len());
    text.as_bytes()[..at]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

/// Whether the file looks like BibTeX (an `@type{` at the start of a line).
pub fn is_bibtex(text: &str) -> bool {
    text.lines().any(|l| {
        let l = l.trim_start();
        l.starts_with('@') && l.contains(['{', '('])
    })
}

/// A title compared loosely: letters and digits, lowercased, one space.
pub fn normalise_title(title: &str) -> String {
    author_key(&title.replace(['{', '}', '\\', '$'], ""))
}

/// The arXiv id an entry names, from the fields reference managers use.
fn id_of(get: &dyn Fn(&str) -> Option<String>) -> Option<ArxivId> {
    let loose = |s: &str| ArxivId::parse_loose(s).ok().map(|v| v.id);
    let prefix = get("archiveprefix").or_else(|| get("eprinttype"));
    if let Some(e) = get("eprint") {
        let arxiv = prefix
            .as_deref()
            .is_none_or(|p| p.trim().eq_ignore_ascii_case("arxiv"));
        if arxiv {
            if let Some(id) = loose(&e) {
                return Some(id);
            }
        }
    }
    if let Some(id) = get("arxiv")
        .or_else(|| get("arxivid"))
        .and_then(|a| loose(&a))
    {
        return Some(id);
    }
    for field in ["url", "howpublished", "note", "journal"] {
        if let Some(v) = get(field) {
            if let Some(pos) = v.find("arxiv.org/") {
                let url: String = v[pos..]
                    .chars()
                    .take_while(|c| !c.is_whitespace() && !matches!(c, '}' | ')'))
                    .collect();
                if let Some(id) = loose(&url) {
                    return Some(id);
                }
            }
            if field == "journal" {
                // Google Scholar: `journal = {arXiv preprint arXiv:2203.05482}`.
                if let Some(pos) = v.to_lowercase().find("arxiv:") {
                    let rest: String = v[pos..]
                        .chars()
                        .take_while(|c| !c.is_whitespace() || *c == ':')
                        .collect();
                    if let Some(id) = loose(&rest) {
                        return Some(id);
                    }
                }
            }
        }
    }
    if let Some(doi) = get("doi") {
        let d = doi.trim().to_lowercase();
        let d = d.trim_start_matches("https://doi.org/");
        if let Some(rest) = d.strip_prefix("10.48550/arxiv.") {
            if let Ok(id) = ArxivId::parse(rest) {
                return Some(id);
            }
        }
    }
    None
}

/// The entries of an import file and what could not be read, each with
/// its line.
pub fn read_import(text: &str) -> (Vec<FileEntry>, Vec<Problem>) {
    if is_bibtex(text) {
        read_bibtex(text)
    } else {
        read_lines(text)
    }
}

fn read_lines(text: &str) -> (Vec<FileEntry>, Vec<Problem>) {
    let (mut entries, mut problems) = (Vec::new(), Vec::new());
    for (i, raw) in text.lines().enumerate() {
        let l = raw.trim();
        if l.is_empty() || l.starts_with('#') || l.starts_with('%') {
            continue;
        }
        match ArxivId::parse_loose(l) {
            Ok(v) => entries.push(FileEntry {
                line: i + 1,
                key: None,
                wanted: Wanted::Id(v.id),
            }),
            Err(e) => problems.push(Problem {
                line: i + 1,
                message: format!("not an arXiv id or URL: {e}"),
            }),
        }
    }
    (entries, problems)
}

fn read_bibtex(text: &str) -> (Vec<FileEntry>, Vec<Problem>) {
    use bibtex_parser::{Block, Library};
    let (mut entries, mut problems) = (Vec::new(), Vec::new());
    let library = match Library::parser().tolerant().capture_source().parse(text) {
        Ok(l) => l,
        Err(e) => {
            problems.push(Problem {
                line: 1,
                message: format!("not readable as BibTeX: {e}"),
            });
            return (entries, problems);
        }
    };
    for block in library.blocks() {
        match block {
            Block::Entry(entry, source) => {
                let line = source.map_or(1, |s| line_of(text, s.byte_start));
                let fields: Vec<(String, String)> = entry
                    .fields()
                    .iter()
                    .map(|f| (f.name.to_lowercase(), f.value.to_string()))
                    .collect();
                let get = |name: &str| {
                    fields
                        .iter()
                        .find(|(n, _)| n == name)
                        .map(|(_, v)| v.clone())
                        .filter(|v| !v.trim().is_empty())
                };
                let key = Some(entry.key().to_string());
                if let Some(id) = id_of(&get) {
                    entries.push(FileEntry {
                        line,
                        key,
                        wanted: Wanted::Id(id),
                    });
                } else if let Some(t) = get("title").filter(|t| !normalise_title(t).is_empty()) {
                    entries.push(FileEntry {
                        line,
                        key,
                        wanted: Wanted::Title(t),
                    });
                } else {
                    problems.push(Problem {
                        line,
                        message: format!(
                            "entry `{}` has no arXiv id (eprint, arxiv, url, doi) and no title",
                            entry.key()
                        ),
                    });
                }
            }
            Block::Failed(failed) => {
                let line = failed.source.map_or(1, |s| line_of(text, s.byte_start));
                // The parser's own error is a type's debug print, not a
                // sentence: say what is wrong in words (it goes to the log).
                tracing::debug!(error = %failed.error, line, "malformed BibTeX entry");
                problems.push(Problem {
                    line,
                    message: format!("malformed BibTeX entry: {}", what_is_wrong(&failed.raw)),
                });
            }
            _ => {}
        }
    }
    (entries, problems)
}

/// What is wrong with an entry BibTeX could not read, in words: the
/// common slips (braces that do not pair, a missing key, a field without
/// `=`, a quote left open), or what to check.
fn what_is_wrong(raw: &str) -> String {
    let text = raw.trim();
    let first_line = text.lines().next().unwrap_or("").trim();
    let shown: String = first_line.chars().take(60).collect();
    let Some(open) = text.find(['{', '(']) else {
        return format!("`{shown}` has no `{{` after the entry type");
    };
    let (opens, closes) = (text.matches('{').count(), text.matches('}').count());
    if opens != closes {
        return format!(
            "its braces do not pair ({opens} `{{` and {closes} `}}`); an entry ends with the `}}` that closes its first `{{`"
        );
    }
    if text.matches('"').count() % 2 == 1 {
        return "a quoted value is not closed (an odd number of `\"`)".into();
    }
    let body = &text[open + 1..];
    let key = body.split(',').next().unwrap_or("").trim();
    if key.is_empty() || key.contains('=') {
        return "it has no citation key (`@article{key, …`)".into();
    }
    for field in body.split(',').skip(1) {
        let f = field.trim().trim_end_matches(['}', ')']).trim();
        let shown: String = f.chars().take(40).collect();
        if !f.is_empty() && !f.contains('=') {
            return format!(
                "`{shown}` is not a field (`name = {{value}}`); a comma may be missing before it"
            );
        }
        if f.matches('=').count() > 1 {
            return format!("`{shown}` holds two fields; a comma may be missing between them");
        }
    }
    "it could not be read; check its braces, commas and quotes".into()
}

/// One paper as a library file lists it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportRow {
    pub id: String,
    pub title: String,
    pub authors: Vec<String>,
    pub published: String,
    pub categories: Vec<String>,
    pub doi: Option<String>,
    pub url: String,
    pub tags: Vec<String>,
    pub added_at: String,
}

/// Text as a braced BibTeX value: braces kept only when they balance (so
/// TeX like `{BERT}` survives and nothing can close the value early).
fn braced(s: &str) -> String {
    let s = collapse_whitespace(s);
    let mut depth = 0i64;
    let mut balanced = true;
    for c in s.chars() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth < 0 {
                    balanced = false;
                    break;
                }
            }
            _ => {}
        }
    }
    let body = if balanced && depth == 0 {
        s
    } else {
        s.replace(['{', '}'], "")
    };
    // A backslash before the closing brace would escape nothing in BibTeX,
    // but keep it from touching the brace anyway.
    let body = body.trim_end_matches('\\').to_string();
    format!("{{{body}}}")
}

/// The library as BibTeX: `@misc` entries with arXiv's eprint fields.
pub fn to_bibtex(rows: &[ExportRow]) -> String {
    let mut out = String::new();
    for r in rows {
        let key = format!("arxiv:{}", r.id.replace('/', "_"));
        out.push_str(&format!("@misc{{{key},\n"));
        out.push_str(&format!("  title = {},\n", braced(&r.title)));
        if !r.authors.is_empty() {
            out.push_str(&format!(
                "  author = {},\n",
                braced(&r.authors.join(" and "))
            ));
        }
        out.push_str(&format!(
            "  year = {{{}}},\n",
            &r.published[..4.min(r.published.len())]
        ));
        out.push_str(&format!("  eprint = {{{}}},\n", r.id));
        out.push_str("  archivePrefix = {arXiv},\n");
        if let Some(c) = r.categories.first() {
            out.push_str(&format!("  primaryClass = {},\n", braced(c)));
        }
        if let Some(d) = &r.doi {
            out.push_str(&format!("  doi = {},\n", braced(d)));
        }
        if !r.tags.is_empty() {
            out.push_str(&format!("  keywords = {},\n", braced(&r.tags.join(", "))));
        }
        out.push_str(&format!("  url = {{{}}}\n}}\n\n", r.url));
    }
    out
}

/// The library as CSV, one header line then a row a paper.
pub fn to_csv(rows: &[ExportRow]) -> Result<String, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "id",
        "title",
        "authors",
        "published",
        "categories",
        "doi",
        "url",
        "tags",
        "added_at",
    ])?;
    for r in rows {
        w.write_record([
            r.id.as_str(),
            r.title.as_str(),
            &r.authors.join("; "),
            r.published.as_str(),
            &r.categories.join(" "),
            r.doi.as_deref().unwrap_or(""),
            r.url.as_str(),
            &r.tags.join(" "),
            r.added_at.as_str(),
        ])?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| csv::Error::from(e.into_error()))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_broken_entry_is_described_in_words() {
        for (raw, says) in [
            ("@misc{a, title = {x}", "braces do not pair"),
            ("@misc{, title = {x}}", "no citation key"),
            (
                "@misc{a, title = {x} year = {2020}}",
                "a comma may be missing",
            ),
            ("@misc{a, title = \"x}", "not closed"),
            ("@misc a", "no `{`"),
        ] {
            let got = what_is_wrong(raw);
            assert!(got.contains(says), "{raw}: {got}");
        }
        let (_, problems) =
            read_bibtex("@misc{ok, eprint = {2203.05482}}\n@misc{broken, title = {x}\n");
        assert_eq!(problems.len(), 1);
        assert!(
            problems[0].message.contains("braces do not pair"),
            "{:?}",
            problems
        );
    }

    fn id(s: &str) -> Wanted {
        Wanted::Id(ArxivId::parse(s).unwrap())
    }

    #[test]
    fn reference_manager_fields_give_arxiv_ids() {
        let bib = r#"@article{zotero,
  title = {Model soups},
  eprint = {2203.05482},
  archivePrefix = {arXiv},
}
@misc{jabref, title = {X}, arxiv = {arXiv:2110.04366v2}}
@article{scholar, title={Y}, journal={arXiv preprint arXiv:2407.02880}, year={2024}}
@misc{url, title = {Z}, url = {https://arxiv.org/abs/hep-th/9901001v1}}
@misc{doi, title = {W}, doi = {10.48550/arXiv.2305.01034}}
@book{bytitle, title = {On the {Generalization} Mystery in Deep Learning}}
@misc{nothing, author = {Someone}}
@article{broken, title = "unclosed
"#;
        let (entries, problems) = read_import(bib);
        let wanted: Vec<&Wanted> = entries.iter().map(|e| &e.wanted).collect();
        assert_eq!(
            wanted,
            vec![
                &id("2203.05482"),
                &id("2110.04366"),
                &id("2407.02880"),
                &id("hep-th/9901001"),
                &id("2305.01034"),
                &Wanted::Title("On the {Generalization} Mystery in Deep Learning".into()),
            ]
        );
        assert_eq!(entries[0].line, 1);
        assert_eq!(entries[1].line, 6);
        assert_eq!(entries[5].line, 10);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert_eq!(problems[0].line, 11);
        assert!(problems[0].message.contains("nothing"));
        assert_eq!(problems[1].line, 12);
    }

    #[test]
    fn plain_lists_take_ids_and_urls() {
        let (entries, problems) =
            read_import("2203.05482\n\n# mine\nhttps://arxiv.org/pdf/2110.04366v1\nnot an id\n");
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[1].line, 4);
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].line, 5);
    }

    #[test]
    fn hostile_titles_cannot_escape_their_value() {
        let row = ExportRow {
            id: "2203.05482".into(),
            title: "Evil}, note = {pwned} @misc{x,".into(),
            authors: vec!["A {B".into()],
            published: "2022-03-10".into(),
            categories: vec!["cs.LG".into()],
            doi: None,
            url: "https://arxiv.org/abs/2203.05482".into(),
            tags: vec!["t".into()],
            added_at: "2026-01-01T00:00:00Z".into(),
        };
        let bib = to_bibtex(&[row]);
        assert!(bib.contains("title = {Evil, note = pwned @misc"), "{bib}");
        let (entries, problems) = read_import(&bib);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(entries[0].wanted, id("2203.05482"));
    }

    #[test]
    fn titles_compare_loosely() {
        assert_eq!(
            normalise_title("On the {G}eneralization   Mystery: in Deep-Learning"),
            "on the generalization mystery in deep learning"
        );
    }
}
