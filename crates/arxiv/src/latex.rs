//! A paper's LaTeX source (arXiv's `/e-print/{id}v{n}`: a gzipped tar of
//! the submission, or one gzipped `.tex`) read into the same [`FullText`]
//! as its HTML rendering: section titles, paragraphs and figure captions as
//! plain text, and the reference list (`thebibliography` or the `.bbl`
//! BibTeX left) with the sentence each entry is first cited in. For papers
//! without HTML: everything before December 2023, and later ones LaTeXML
//! failed on. A PDF-only submission is not read (never the PDF).
//!
//! Written here: no maintained crate turns LaTeX into plain text (the
//! LaTeX language servers' parsers build syntax trees for editors, not
//! text). This is a reader of the common cases, not a TeX engine: macros a
//! paper defines are not expanded, their arguments are kept as text.

use std::collections::HashMap;
use std::io::Read;

use crate::fulltext::{
    cut, reference_from_blocks, sentence_around, FullText, ParseError, Reference, Section,
    MAX_CONTEXT_CHARS, MAX_REFERENCES, MAX_TEXT_CHARS,
};

/// The most bytes a source unpacks to (a gzip bomb stops here).
pub const MAX_SOURCE_BYTES: usize = 64 * 1024 * 1024;
/// Files of an archive read (a submission with more is mostly figures).
const MAX_FILES: usize = 2_000;
/// Where a heading inside a section parts two paragraphs (a character no
/// converted text holds).
const BREAK: &str = "\u{1e}";
/// How deep `\input` may nest (and a file including itself stops).
const MAX_INPUT_DEPTH: usize = 8;

/// Environments whose content is not running text (mathematics, code,
/// drawings): left out, a figure's or table's caption excepted.
const SKIPPED: &[&str] = &[
    "equation",
    "equation*",
    "align",
    "align*",
    "eqnarray",
    "eqnarray*",
    "gather",
    "gather*",
    "multline",
    "multline*",
    "displaymath",
    "math",
    "tikzpicture",
    "pgfpicture",
    "verbatim",
    "lstlisting",
    "minted",
    "comment",
    "algorithmic",
    "tabular",
    "tabular*",
    "tabularx",
];

/// Commands whose arguments are not text (labels, references, layout).
const DROPPED: &[&str] = &[
    "label",
    "ref",
    "eqref",
    "autoref",
    "cref",
    "Cref",
    "pageref",
    "vspace",
    "hspace",
    "includegraphics",
    "bibliographystyle",
    "bibliography",
    "usepackage",
    "newcommand",
    "renewcommand",
    "providecommand",
    "def",
    "setlength",
    "addtolength",
    "thanks",
    "footnotetext",
    "input",
    "include",
    "maketitle",
    "centering",
    "clearpage",
    "newpage",
    "noindent",
    "small",
    "footnotesize",
    "large",
    "Large",
    "normalsize",
    "appendix",
    "tableofcontents",
];

/// Reads an e-print: the bytes arXiv sends for `/e-print/{id}v{n}`.
pub fn parse_source(bytes: &[u8]) -> Result<FullText, ParseError> {
    let files = unpack(bytes)?;
    let main = main_file(&files).ok_or(ParseError::NotAPaper)?;
    let mut seen = Vec::new();
    let tex = expand_inputs(&files, main, &files[main], 0, &mut seen);
    let body = match (tex.find("\\begin{document}"), tex.rfind("\\end{document}")) {
        (Some(b), Some(e)) if b < e => &tex[b + "\\begin{document}".len()..e],
        (Some(b), _) => &tex[b + "\\begin{document}".len()..],
        _ => tex.as_str(),
    };
    // The bibliography: in the text, or the `.bbl` BibTeX left beside it.
    let bib_text = environment(body, "thebibliography")
        .map(str::to_string)
        .or_else(|| {
            let stem = main.rsplit_once('.').map_or(main, |(s, _)| s);
            files
                .get(&format!("{stem}.bbl"))
                .or_else(|| {
                    files
                        .iter()
                        .find(|(name, _)| name.ends_with(".bbl"))
                        .map(|(_, t)| t)
                })
                .and_then(|bbl| environment(bbl, "thebibliography").map(str::to_string))
        })
        .unwrap_or_default();
    let entries = bibitems(&bib_text);
    let numbers: HashMap<&str, usize> = entries
        .iter()
        .enumerate()
        .map(|(i, (key, _))| (key.as_str(), i + 1))
        .collect();
    let body = match body.find("\\begin{thebibliography}") {
        Some(at) => &body[..at],
        None => body,
    };
    let mut text = Plain::new(&numbers);
    let mut sections = Vec::new();
    if let Some(abs) = environment(body, "abstract") {
        let paragraphs = text.paragraphs(abs);
        if !paragraphs.is_empty() {
            sections.push(Section {
                title: "Abstract".into(),
                paragraphs,
            });
        }
    }
    for (title, content) in split_sections(body) {
        let paragraphs = text.paragraphs(content);
        let title = text.inline(title);
        if !title.is_empty() || !paragraphs.is_empty() {
            sections.push(Section { title, paragraphs });
        }
        if text.chars > MAX_TEXT_CHARS {
            break;
        }
    }
    let truncated = text.chars > MAX_TEXT_CHARS || entries.len() > MAX_REFERENCES;
    let mut references: Vec<Reference> = entries
        .iter()
        .take(MAX_REFERENCES)
        .filter_map(|(key, raw)| {
            let blocks: Vec<String> = raw
                .split("\\newblock")
                .map(|b| Plain::new(&HashMap::new()).inline(b))
                .filter(|b| !b.is_empty())
                .collect();
            let links = urls(raw);
            reference_from_blocks(key.clone(), blocks, &links)
        })
        .collect();
    for r in &mut references {
        r.context = text.contexts.get(r.key.as_str()).cloned();
    }
    if sections.is_empty() && references.is_empty() {
        return Err(ParseError::NotAPaper);
    }
    Ok(FullText {
        sections,
        references,
        truncated,
    })
}

/// The files of a source: name → text, `.tex`, `.bbl` and extensionless
/// ones (the rest are figures and styles).
fn unpack(bytes: &[u8]) -> Result<HashMap<String, String>, ParseError> {
    let too_large = |bytes| ParseError::TooLarge {
        bytes,
        cap: MAX_SOURCE_BYTES,
    };
    let mut raw = Vec::new();
    if bytes.starts_with(&[0x1f, 0x8b]) {
        flate2::read::MultiGzDecoder::new(bytes)
            .take(MAX_SOURCE_BYTES as u64 + 1)
            .read_to_end(&mut raw)
            .map_err(|_| ParseError::NotAPaper)?;
        if raw.len() > MAX_SOURCE_BYTES {
            return Err(too_large(raw.len()));
        }
    } else {
        raw = bytes.to_vec();
    }
    if raw.starts_with(b"%PDF") {
        return Err(ParseError::NotAPaper);
    }
    let mut files = HashMap::new();
    if raw.len() > 262 && &raw[257..262] == b"ustar" {
        let mut archive = tar::Archive::new(raw.as_slice());
        let entries = archive.entries().map_err(|_| ParseError::NotAPaper)?;
        for entry in entries.take(MAX_FILES) {
            let Ok(mut entry) = entry else { break };
            if !entry.header().entry_type().is_file() {
                continue;
            }
            let Ok(path) = entry.path() else { continue };
            let name = path.to_string_lossy().trim_start_matches("./").to_string();
            let wanted = name.ends_with(".tex")
                || name.ends_with(".bbl")
                || !name.rsplit('/').next().unwrap_or("").contains('.');
            if !wanted {
                continue;
            }
            let mut data = Vec::new();
            if entry
                .by_ref()
                .take(MAX_SOURCE_BYTES as u64)
                .read_to_end(&mut data)
                .is_ok()
            {
                files.insert(name, String::from_utf8_lossy(&data).into_owned());
            }
        }
    } else {
        files.insert(
            "main.tex".to_string(),
            String::from_utf8_lossy(&raw).into_owned(),
        );
    }
    Ok(files)
}

/// The file with `\documentclass` (the one with `\begin{document}` when
/// several have it).
fn main_file(files: &HashMap<String, String>) -> Option<&str> {
    let mut candidates: Vec<&String> = files
        .iter()
        .filter(|(_, t)| t.contains("\\documentclass"))
        .map(|(n, _)| n)
        .collect();
    candidates.sort_by_key(|n| {
        (
            !files[*n].contains("\\begin{document}"),
            n.len(),
            (*n).clone(),
        )
    });
    candidates.first().map(|n| n.as_str()).or_else(|| {
        files
            .iter()
            .find(|(_, t)| t.contains("\\begin{document}") || t.contains("\\section"))
            .map(|(n, _)| n.as_str())
    })
}

/// `text` with comments removed and `\input{f}` / `\include{f}` replaced
/// by the files they name.
fn expand_inputs(
    files: &HashMap<String, String>,
    name: &str,
    text: &str,
    depth: usize,
    seen: &mut Vec<String>,
) -> String {
    seen.push(name.to_string());
    let dir = name.rsplit_once('/').map_or("", |(d, _)| d);
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let line = strip_comment(line);
        let mut rest = line;
        while let Some(at) = [rest.find("\\input"), rest.find("\\include")]
            .into_iter()
            .flatten()
            .min()
        {
            out.push_str(&rest[..at]);
            let after = &rest[at..];
            let cmd_len = if after.starts_with("\\input") { 6 } else { 8 };
            let tail = after[cmd_len..].trim_start();
            let Some(arg) = tail.strip_prefix('{').and_then(|t| t.split_once('}')) else {
                out.push_str(&after[..cmd_len]);
                rest = &after[cmd_len..];
                continue;
            };
            let target = arg.0.trim();
            let found = [
                target.to_string(),
                format!("{target}.tex"),
                format!("{dir}/{target}"),
                format!("{dir}/{target}.tex"),
            ]
            .into_iter()
            .find(|c| files.contains_key(c));
            match found {
                Some(f) if depth < MAX_INPUT_DEPTH && !seen.contains(&f) => {
                    let inner = expand_inputs(files, &f, &files[&f], depth + 1, seen);
                    out.push_str(&inner);
                }
                _ => {}
            }
            rest = arg.1;
        }
        out.push_str(rest);
        out.push('\n');
    }
    out
}

/// A line without its `%` comment (an escaped `\%` stays).
fn strip_comment(line: &str) -> &str {
    let bytes = line.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'%' => return &line[..i],
            _ => i += 1,
        }
    }
    line
}

/// The content of the first `\begin{name}` … `\end{name}`.
fn environment<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    let begin = format!("\\begin{{{name}}}");
    let end = format!("\\end{{{name}}}");
    let start = text.find(&begin)? + begin.len();
    let stop = text[start..].find(&end).map_or(text.len(), |e| start + e);
    Some(&text[start..stop])
}

/// `\section{title}` (starred or with a short title too) splits the body;
/// text before the first is an untitled section, the abstract left out.
fn split_sections(body: &str) -> Vec<(&str, &str)> {
    let mut marks: Vec<(usize, usize, &str)> = Vec::new(); // (start, content start, title)
    let mut from = 0;
    while let Some(at) = body[from..].find("\\section").map(|i| from + i) {
        let mut p = at + "\\section".len();
        let rest = &body[p..];
        // `\sectionmark` and friends are other commands.
        if rest.starts_with(|c: char| c.is_ascii_alphabetic()) {
            from = p;
            continue;
        }
        if rest.starts_with('*') {
            p += 1;
        }
        if body[p..].starts_with('[') {
            if let Some(close) = body[p..].find(']') {
                p += close + 1;
            }
        }
        let Some((title, len)) = braced(&body[p..]) else {
            from = p;
            continue;
        };
        marks.push((at, p + len, title));
        from = p + len;
    }
    let mut out = Vec::new();
    let first = marks.first().map_or(body.len(), |m| m.0);
    let before = &body[..first];
    let before = match (
        before.find("\\begin{abstract}"),
        before.find("\\end{abstract}"),
    ) {
        (_, Some(e)) => &before[e + "\\end{abstract}".len()..],
        _ => before,
    };
    out.push(("", before));
    for (i, (_, content, title)) in marks.iter().enumerate() {
        let end = marks.get(i + 1).map_or(body.len(), |m| m.0);
        out.push((*title, &body[*content..end]));
    }
    out
}

/// The brace group at the start of `s` (after spaces): its content and the
/// bytes it took.
fn braced(s: &str) -> Option<(&str, usize)> {
    let skipped = s.len() - s.trim_start().len();
    let t = &s[skipped..];
    if !t.starts_with('{') {
        return None;
    }
    let mut depth = 0usize;
    let bytes = t.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 1,
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return Some((&t[1..i], skipped + i + 1));
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// `\bibitem[label]{key} text` entries, in order.
fn bibitems(bib: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut parts = bib.split("\\bibitem").skip(1);
    for part in parts.by_ref() {
        let mut rest = part.trim_start();
        if rest.starts_with('[') {
            // The label may hold braces: `[{Smith et~al.}(2020)]`.
            let mut depth = 0i32;
            let mut end = None;
            for (i, c) in rest.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ']' if depth == 0 => {
                        end = Some(i);
                        break;
                    }
                    _ => {}
                }
            }
            rest = end.map_or("", |e| &rest[e + 1..]);
        }
        let Some((key, len)) = braced(rest) else {
            continue;
        };
        out.push((key.trim().to_string(), rest[len..].trim().to_string()));
    }
    out
}

/// URLs an entry names (`\url{}`, `\href{}`, DOIs and arXiv links).
fn urls(raw: &str) -> Vec<String> {
    let mut out = Vec::new();
    for cmd in ["\\url", "\\href"] {
        let mut from = 0;
        while let Some(at) = raw[from..].find(cmd).map(|i| from + i) {
            let p = at + cmd.len();
            match braced(&raw[p..]) {
                Some((u, len)) => {
                    out.push(u.to_string());
                    from = p + len;
                }
                None => from = p,
            }
        }
    }
    out
}

/// LaTeX turned into plain text, with what the citations said on the way.
struct Plain<'a> {
    /// A cited key's number in the reference list.
    numbers: &'a HashMap<&'a str, usize>,
    /// Each key's first citing sentence.
    contexts: HashMap<String, String>,
    chars: usize,
}

impl<'a> Plain<'a> {
    fn new(numbers: &'a HashMap<&'a str, usize>) -> Self {
        Plain {
            numbers,
            contexts: HashMap::new(),
            chars: 0,
        }
    }

    /// A section's paragraphs (blank lines and headings part them;
    /// captions are their own), each as plain text.
    fn paragraphs(&mut self, tex: &str) -> Vec<String> {
        let mut out = Vec::new();
        for para in tex.split("\n\n").flat_map(|p| p.split("\\par ")) {
            let mut captions = Vec::new();
            let text = self.convert(para, &mut captions);
            let parts: Vec<String> = text.split(BREAK).map(str::to_string).collect();
            for t in parts.into_iter().chain(captions) {
                let t = collapse(&t);
                if t.chars().any(char::is_alphabetic) && self.chars <= MAX_TEXT_CHARS {
                    self.chars += t.len();
                    out.push(t);
                }
            }
        }
        out
    }

    /// One line of text (a title, a reference block).
    fn inline(&mut self, tex: &str) -> String {
        let mut captions = Vec::new();
        collapse(&self.convert(tex, &mut captions))
    }

    /// Plain text of `tex`; captions of skipped environments go to
    /// `captions`; citations become `[n]` and their sentences are noted.
    fn convert(&mut self, tex: &str, captions: &mut Vec<String>) -> String {
        let mut out = String::with_capacity(tex.len());
        let mut cites: Vec<(usize, Vec<String>)> = Vec::new();
        let mut rest = tex;
        while let Some(at) = rest.find(['\\', '$', '{', '}', '~']) {
            out.push_str(&rest[..at]);
            let here = &rest[at..];
            rest = match here.as_bytes()[0] {
                b'~' => {
                    out.push(' ');
                    &here[1..]
                }
                b'{' | b'}' => &here[1..],
                b'$' => math(here, &mut out),
                _ => self.command(here, &mut out, &mut cites, captions),
            };
        }
        out.push_str(rest);
        self.note_citing_sentences(&out, cites);
        out
    }

    /// A command (`here` starts at its backslash): what it leaves in
    /// `out`; the text after it.
    fn command<'t>(
        &mut self,
        here: &'t str,
        out: &mut String,
        cites: &mut Vec<(usize, Vec<String>)>,
        captions: &mut Vec<String>,
    ) -> &'t str {
        let name_len = here[1..]
            .find(|ch: char| !ch.is_ascii_alphabetic())
            .unwrap_or(here.len() - 1);
        if name_len == 0 {
            return control_symbol(here, out);
        }
        let name = &here[1..1 + name_len];
        let mut after = &here[1 + name_len..];
        if after.starts_with('*') {
            after = &after[1..];
        }
        match name {
            "begin" => self.environment(after, captions),
            "end" => braced(after).map_or(after, |(_, len)| &after[len..]),
            "cite" | "citep" | "citet" | "citealp" | "citealt" | "citeauthor" | "citeyear"
            | "parencite" | "textcite" | "autocite" => self.citation(after, out, cites),
            "subsection" | "subsubsection" | "paragraph" => {
                // A heading inside a section: a break, not words run into
                // the paragraph after it.
                out.push_str(BREAK);
                let a = skip_optional(after);
                braced(a).map_or(a, |(_, len)| &a[len..])
            }
            "footnote" | "caption" => {
                // Their text stays, a sentence of its own.
                out.push(' ');
                after
            }
            n if DROPPED.contains(&n) => dropped(n, after),
            "url" => match braced(after) {
                Some((u, len)) => {
                    out.push_str(u);
                    &after[len..]
                }
                None => after,
            },
            // The link's text, not its target.
            "href" => braced(after).map_or(after, |(_, len)| &after[len..]),
            // Any other command: its name goes, its arguments' text stays.
            _ => after,
        }
    }

    /// `\begin{env}`: figures and tables leave their captions, skipped
    /// environments nothing, the others (lists, theorems) their text.
    fn environment<'t>(&mut self, after: &'t str, captions: &mut Vec<String>) -> &'t str {
        let Some((env, len)) = braced(after) else {
            return after;
        };
        let after_env = &after[len..];
        let float = env.starts_with("figure") || env.starts_with("table");
        if !float && !SKIPPED.contains(&env) {
            return after_env;
        }
        let end = format!("\\end{{{env}}}");
        let stop = after_env.find(&end).unwrap_or(after_env.len());
        if float {
            if let Some(caption) = self.caption(env, &after_env[..stop]) {
                captions.push(caption);
            }
        }
        &after_env[(stop + end.len()).min(after_env.len())..]
    }

    /// A float's `\caption{…}`, as "Figure: …" or "Table: …".
    fn caption(&mut self, env: &str, inside: &str) -> Option<String> {
        let at = inside.find("\\caption")?;
        let mut p = &inside[at + "\\caption".len()..];
        if p.starts_with('[') {
            p = p.find(']').map_or("", |e| &p[e + 1..]);
        }
        let (text, _) = braced(p)?;
        let kind = if env.starts_with("figure") {
            "Figure"
        } else {
            "Table"
        };
        let mut inner = Vec::new();
        let t = self.convert(text, &mut inner);
        Some(format!("{kind}: {t}"))
    }

    /// `\citep[see][p.~3]{a,b}` as `[1, 2]` (the numbers of the keys the
    /// bibliography has); where it stood is noted for its sentence.
    fn citation<'t>(
        &self,
        after: &'t str,
        out: &mut String,
        cites: &mut Vec<(usize, Vec<String>)>,
    ) -> &'t str {
        let mut a = after;
        while a.trim_start().starts_with('[') {
            a = skip_optional(a);
        }
        let Some((keys, len)) = braced(a) else {
            return a;
        };
        let keys: Vec<String> = keys.split(',').map(|k| k.trim().to_string()).collect();
        let nums: Vec<String> = keys
            .iter()
            .filter_map(|k| self.numbers.get(k.as_str()))
            .map(usize::to_string)
            .collect();
        cites.push((out.len(), keys));
        if !nums.is_empty() {
            out.push('[');
            out.push_str(&nums.join(", "));
            out.push(']');
        }
        &a[len..]
    }

    /// Each cited key's first citing sentence, within its paragraph (a
    /// heading may part this text in two).
    fn note_citing_sentences(&mut self, out: &str, cites: Vec<(usize, Vec<String>)>) {
        for (at, keys) in cites {
            let at = at.min(out.len());
            let start = out[..at].rfind(BREAK).map_or(0, |i| i + BREAK.len());
            let end = out[at..].find(BREAK).map_or(out.len(), |i| at + i);
            let sentence = collapse(sentence_around(&out[start..end], at - start));
            if sentence.is_empty() {
                continue;
            }
            for k in keys {
                if self.numbers.contains_key(k.as_str()) && !self.contexts.contains_key(&k) {
                    self.contexts.insert(k, cut(&sentence, MAX_CONTEXT_CHARS));
                }
            }
        }
    }
}

/// Inline mathematics (`here` starts at `$`) is kept as its TeX (search
/// finds `\alpha` as "alpha"); display math is left out.
fn math<'t>(here: &'t str, out: &mut String) -> &'t str {
    let display = here.starts_with("$$");
    let open = if display { 2 } else { 1 };
    let Some(close) = here[open..].find(if display { "$$" } else { "$" }) else {
        return &here[open..];
    };
    if !display {
        out.push_str(&here[open..open + close]);
    }
    &here[open + close + open..]
}

/// A control symbol (`\%`, `\&`, `\\`, `\[ … \]`, `\( … \)`; `here`
/// starts at its backslash).
fn control_symbol<'t>(here: &'t str, out: &mut String) -> &'t str {
    let sym = here[1..].chars().next().unwrap_or(' ');
    match sym {
        '[' => {
            let end = here.find("\\]").map_or(here.len(), |e| e + 2);
            return &here[end..];
        }
        '(' => {
            let end = here.find("\\)").unwrap_or(here.len());
            out.push_str(&here[2.min(end)..end]);
            return &here[(end + 2).min(here.len())..];
        }
        '\\' | ',' | ';' | '!' | ' ' => out.push(' '),
        '\'' | '`' | '"' | '^' | '~' | '=' | '.' => {}
        s => out.push(s),
    }
    &here[(1 + sym.len_utf8()).min(here.len())..]
}

/// `[…]` (an optional argument) skipped, when there is one.
fn skip_optional(a: &str) -> &str {
    let t = a.trim_start();
    if t.starts_with('[') {
        t.find(']').map_or("", |e| &t[e + 1..])
    } else {
        a
    }
}

/// A command whose arguments are not text (`\label{…}`; two groups for
/// `\newcommand{\x}[1]{…}` and its kin).
fn dropped<'t>(name: &str, after: &'t str) -> &'t str {
    let mut a = skip_optional(after);
    let groups = match name {
        "newcommand" | "renewcommand" | "providecommand" | "setlength" | "addtolength" => 2,
        _ => 1,
    };
    for _ in 0..groups {
        if let Some((_, len)) = braced(a) {
            a = &a[len..];
        }
    }
    a
}

fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tarball(files: &[(&str, &str)]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (name, text) in files {
            let mut h = tar::Header::new_gnu();
            h.set_size(text.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            b.append_data(&mut h, name, text.as_bytes()).unwrap();
        }
        gzip(&b.into_inner().unwrap())
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    }

    const MAIN: &str = r"\documentclass{article}
\usepackage{amsmath} % comments go: \section{Not a section}
\newcommand{\R}{\mathbb{R}}
\title{Weight averaging}
\begin{document}
\maketitle
\begin{abstract}
We average the weights of fine-tuned models.
\end{abstract}
\input{sections/intro}
\section{Method}\label{sec:method}
We add task vectors $\tau_i$ to the pre-trained weights, as \citet{wortsman2022} did, with 100\% of the budget.
\begin{equation}
  \theta = \sum_i \tau_i
\end{equation}

\begin{figure}[t]
\includegraphics{soup.pdf}
\caption{Soups of \emph{many} models.}
\end{figure}
\section*{Acknowledgements}
Thanks to \href{https://example.org}{our funders}.
\bibliographystyle{plain}
\bibliography{refs}
\end{document}
";

    const INTRO: &str = r"\section{Introduction}
Fine-tuned models can be merged~\cite{wortsman2022,ilharco2023}. Greedy soups beat the best single model \citep[see][]{nobody1999}.

A second paragraph without citations.
\subsection{Setup}
A third, after a heading.
";

    const BBL: &str = r"\begin{thebibliography}{3}
\bibitem[Wortsman et~al.(2022)]{wortsman2022}
M.~Wortsman and others.
\newblock Model soups: averaging weights of multiple fine-tuned models.
\newblock \emph{arXiv preprint arXiv:2203.05482}, 2022.
\bibitem{ilharco2023}
G.~Ilharco.
\newblock Editing models with task arithmetic.
\newblock In \emph{ICLR}, 2023. \url{https://doi.org/10.48550/arXiv.2212.04089}
\bibitem{nobody1999}
A.~Nobody.
\newblock A paper nobody has.
\newblock Journal of Elsewhere, 1999.
\end{thebibliography}
";

    #[test]
    fn a_submission_reads_like_its_html() {
        let bytes = tarball(&[
            ("main.tex", MAIN),
            ("sections/intro.tex", INTRO),
            ("main.bbl", BBL),
            ("soup.pdf", "%PDF-1.5 not read"),
        ]);
        let t = parse_source(&bytes).unwrap();
        assert_eq!(
            t.section_titles(),
            vec!["Abstract", "Introduction", "Method", "Acknowledgements"]
        );
        assert_eq!(
            t.sections[0].paragraphs,
            vec!["We average the weights of fine-tuned models."]
        );
        assert_eq!(
            t.sections[1].paragraphs,
            vec![
                "Fine-tuned models can be merged [1, 2]. Greedy soups beat the best single model [3].",
                "A second paragraph without citations.",
                "A third, after a heading."
            ]
        );
        let method = &t.sections[2].paragraphs;
        assert_eq!(
            method[0],
            "We add task vectors \\tau_i to the pre-trained weights, as [1] did, with 100% of the budget."
        );
        assert!(
            method.iter().any(|p| p == "Figure: Soups of many models."),
            "{method:?}"
        );
        assert!(
            !method.iter().any(|p| p.contains("sum_i")),
            "display math left out: {method:?}"
        );
        assert_eq!(t.sections[3].paragraphs, vec!["Thanks to our funders."]);
        let all: String = t
            .sections
            .iter()
            .flat_map(|s| s.paragraphs.clone())
            .collect();
        assert!(!all.contains("Not a section") && !all.contains("sec:method"));

        assert_eq!(t.references.len(), 3);
        let soups = &t.references[0];
        assert_eq!(soups.key, "wortsman2022");
        assert_eq!(soups.arxiv_id.as_ref().unwrap().as_str(), "2203.05482");
        assert_eq!(
            soups.title.as_deref(),
            Some("Model soups: averaging weights of multiple fine-tuned models")
        );
        assert_eq!(soups.year, Some(2022));
        assert_eq!(
            soups.context.as_deref(),
            Some("Fine-tuned models can be merged [1, 2].")
        );
        assert_eq!(
            t.references[1].arxiv_id.as_ref().unwrap().as_str(),
            "2212.04089"
        );
        assert_eq!(t.references[2].arxiv_id, None);
        assert_eq!(t.references[2].year, Some(1999));
        assert_eq!(
            t.references[2].context.as_deref(),
            Some("Greedy soups beat the best single model [3].")
        );
    }

    #[test]
    fn one_gzipped_file_with_its_bibliography_inline() {
        let tex = format!(
            "\\documentclass{{article}}\\begin{{document}}\\section{{Only}}Text citing \\cite{{a}}.\n{}\\end{{document}}",
            "\\begin{thebibliography}{1}\\bibitem{a} A. Author. \\newblock A title here. \\newblock 2020.\\end{thebibliography}"
        );
        let t = parse_source(&gzip(tex.as_bytes())).unwrap();
        assert_eq!(t.section_titles(), vec!["Only"]);
        assert_eq!(t.sections[0].paragraphs, vec!["Text citing [1]."]);
        assert_eq!(t.references.len(), 1);
        assert_eq!(t.references[0].context.as_deref(), Some("Text citing [1]."));
    }

    #[test]
    fn any_cut_or_garbling_of_a_source_reads_without_a_panic() {
        let whole = format!("{MAIN}{INTRO}{BBL}é∑ \\[ $$ {{ \\( }}");
        let cuts: Vec<usize> = (0..whole.len())
            .filter(|i| whole.is_char_boundary(*i))
            .collect();
        for at in cuts.iter().step_by(7) {
            let _ = parse_source(&whole.as_bytes()[..*at]);
            let _ = parse_source(&whole.as_bytes()[*at..]);
            let garbled = whole.replacen(['}', '$', ']'], "{", at % 5 + 1);
            let _ = parse_source(format!("\\documentclass{{x}}{garbled}").as_bytes());
        }
    }

    #[test]
    fn pdfs_bombs_loops_and_noise_are_refused_or_bounded() {
        assert_eq!(
            parse_source(&gzip(b"%PDF-1.7 ...")),
            Err(ParseError::NotAPaper)
        );
        assert_eq!(
            parse_source(b"\x1f\x8bnot gzip at all"),
            Err(ParseError::NotAPaper)
        );
        assert_eq!(
            parse_source(b"plain words, no TeX"),
            Err(ParseError::NotAPaper)
        );
        // Decompresses past the cap: refused, not unpacked in full.
        let zeros = vec![b'%'; MAX_SOURCE_BYTES + 10];
        assert!(matches!(
            parse_source(&gzip(&zeros)),
            Err(ParseError::TooLarge { .. })
        ));
        // Files including each other, and an unclosed brace.
        let bytes = tarball(&[
            ("a.tex", "\\documentclass{article}\\begin{document}\\input{b}\\section{Loop}x \\textbf{never closed\n\\end{document}"),
            ("b.tex", "\\input{a} Included once."),
        ]);
        let t = parse_source(&bytes).unwrap();
        let all: Vec<String> = t
            .sections
            .iter()
            .flat_map(|s| s.paragraphs.clone())
            .collect();
        assert_eq!(
            all.iter().filter(|p| p.contains("Included once")).count(),
            1,
            "{all:?}"
        );
        assert!(t.section_titles().contains(&"Loop".to_string()));
    }
}
