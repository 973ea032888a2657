//! TeX in titles and abstracts (`$\mathcal{O}(n)$`) shown as math: each
//! `$…$` turned into MathML by `latex2mathml` (browsers draw MathML
//! themselves: no script, nothing loaded, inside the strict CSP), the
//! result sanitised by ammonia with only MathML's presentation elements
//! allowed, and the source kept (a `data-tex` attribute and the element's
//! title) for copying. TeX that does not convert, and all the text around
//! it, is shown as typed, escaped.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

/// The longest formula converted; longer ones stay as typed.
const MAX_FORMULA: usize = 400;

const MATHML: &[&str] = &[
    "math",
    "mi",
    "mn",
    "mo",
    "ms",
    "mtext",
    "mspace",
    "mrow",
    "mfrac",
    "msqrt",
    "mroot",
    "mstyle",
    "merror",
    "mpadded",
    "mphantom",
    "msub",
    "msup",
    "msubsup",
    "munder",
    "mover",
    "munderover",
    "mtable",
    "mtr",
    "mtd",
    "semantics",
    "annotation",
];

static SANITIZER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut b = ammonia::Builder::empty();
    let attrs: HashSet<&str> = [
        "display",
        "mathvariant",
        "stretchy",
        "fence",
        "separator",
        "accent",
        "accentunder",
        "linethickness",
        "columnalign",
        "lspace",
        "rspace",
        "width",
        "encoding",
        "xmlns",
    ]
    .into_iter()
    .collect();
    let mut tag_attrs: HashMap<&str, HashSet<&str>> = HashMap::new();
    for t in MATHML {
        tag_attrs.insert(t, attrs.clone());
    }
    b.tags(MATHML.iter().copied().collect())
        .tag_attributes(tag_attrs)
        .strip_comments(true);
    b
});

fn escape(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

/// `text` as HTML: escaped, with each inline `$…$` that converts drawn as
/// MathML.
pub fn tex_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let mut rest = text;
    while let Some(open) = find_dollar(rest, 0) {
        let Some(close) = find_dollar(rest, open + 1) else {
            break;
        };
        let formula = &rest[open + 1..close];
        escape(&rest[..open], &mut out);
        match math(formula) {
            Some(mathml) => {
                out.push_str("<span class=\"tex\" data-tex=\"");
                escape(formula, &mut out);
                out.push_str("\" title=\"");
                escape(formula, &mut out);
                out.push_str("\">");
                out.push_str(&mathml);
                out.push_str("</span>");
            }
            None => escape(&rest[open..=close], &mut out),
        }
        rest = &rest[close + 1..];
    }
    escape(rest, &mut out);
    out
}

/// The next `$` at or after `from` that is not escaped (`\$`).
fn find_dollar(s: &str, from: usize) -> Option<usize> {
    let bytes = s.as_bytes();
    (from..bytes.len()).find(|&i| bytes[i] == b'$' && (i == 0 || bytes[i - 1] != b'\\'))
}

/// One formula as sanitised MathML, or `None` to keep it as typed.
fn math(formula: &str) -> Option<String> {
    let f = formula.trim();
    if f.is_empty() || f.len() > MAX_FORMULA || f.contains('$') {
        return None;
    }
    // The converter is a third party's parser fed untrusted text: a panic
    // in it must not take the page down.
    let mathml = std::panic::catch_unwind(|| {
        latex2mathml::latex_to_mathml(f, latex2mathml::DisplayStyle::Inline)
    })
    .ok()?
    .ok()?;
    let clean = SANITIZER.clean(&mathml).to_string();
    clean.starts_with("<math").then_some(clean)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_become_mathml_and_the_rest_stays_text() {
        let h = tex_html("Runs in $\\mathcal{O}(n^2)$ time for <n> items & more");
        assert!(h.contains("<math"), "{h}");
        assert!(h.contains("data-tex=\"\\mathcal{O}(n^2)\""), "{h}");
        assert!(h.contains("&lt;n&gt; items &amp; more"), "{h}");
        assert_eq!(tex_html("costs \\$5 and $3"), "costs \\$5 and $3");
        assert_eq!(tex_html("no math"), "no math");
    }

    #[test]
    fn hostile_formulas_stay_inert() {
        for bad in [
            "$<script>alert(1)</script>$",
            "$\\text{<img src=x onerror=alert(1)>}$",
            "$x\" onmouseover=\"alert(1)$",
            "$\\href{javascript:alert(1)}{x}$",
        ] {
            let h = tex_html(bad);
            assert!(!h.contains("<script") && !h.contains("<img"), "{bad}: {h}");
            assert!(
                !h.contains("onerror=") || h.contains("&lt;img"),
                "{bad}: {h}"
            );
            assert!(!h.contains("onmouseover=\""), "{bad}: {h}");
            assert!(!h.contains("href=\"javascript"), "{bad}: {h}");
        }
    }
}
