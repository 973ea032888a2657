//! Comment bodies: CommonMark rendered with pulldown-cmark, then sanitised
//! with ammonia. Links get `rel="nofollow ugc noopener"`; only http(s) and
//! mailto links survive (no `javascript:`, no `data:`); TeX between `$…$`
//! is kept as typed (pulldown-cmark's math events, shown as text in a
//! `span.math`).

use std::collections::HashSet;
use std::sync::LazyLock;

use pulldown_cmark::{html, Event, Options, Parser};

/// The longest comment accepted, in characters.
pub const MAX_CHARS: usize = 20_000;

static SANITIZER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut b = ammonia::Builder::default();
    b.link_rel(Some("nofollow ugc noopener"))
        .url_schemes(HashSet::from(["http", "https", "mailto"]))
        .add_allowed_classes("span", &["math", "math-inline", "math-display"]);
    b
});

fn options() -> Options {
    Options::ENABLE_MATH
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TABLES
        | Options::ENABLE_TASKLISTS
}

/// Containers (quotes, lists, emphasis, links…) nested deeper than this
/// are flattened: their text stays, their tags go. HTML sanitisers spend
/// time in the square of the depth, and 10,000 nested quotes fit in
/// 20,000 characters.
pub const MAX_DEPTH: usize = 24;

/// Safe HTML for a comment body. HTML typed into a comment is shown as
/// text (`<b>` reads as `<b>`), never as markup. TeX comes out exactly as
/// typed, with its dollars (for a reader's MathJax or KaTeX, or to read as
/// it is), and is not taken for Markdown (`$a_b * c_d$` has no emphasis).
/// The result then goes through ammonia all the same.
pub fn render(body: &str) -> String {
    let mut raw = String::with_capacity(body.len() * 3 / 2);
    let mut kept: Vec<bool> = Vec::new();
    let mut depth = 0usize;
    let events = Parser::new_ext(body, options()).filter_map(|e| match e {
        Event::InlineMath(tex) => Some(Event::InlineHtml(
            math_span("math-inline", "$", &tex).into(),
        )),
        Event::DisplayMath(tex) => Some(Event::InlineHtml(
            math_span("math-display", "$$", &tex).into(),
        )),
        Event::Html(h) | Event::InlineHtml(h) => Some(Event::Text(h)),
        Event::Start(tag) => {
            let keep = depth < MAX_DEPTH;
            kept.push(keep);
            if keep {
                depth += 1;
                Some(Event::Start(tag))
            } else {
                None
            }
        }
        Event::End(tag) => {
            if kept.pop().unwrap_or(false) {
                depth -= 1;
                Some(Event::End(tag))
            } else {
                None
            }
        }
        other => Some(other),
    });
    html::push_html(&mut raw, events);
    SANITIZER.clean(&raw).to_string()
}

/// `<span class="math …">$tex$</span>`, the TeX escaped.
fn math_span(class: &str, dollars: &str, tex: &str) -> String {
    let mut out = format!("<span class=\"math {class}\">{dollars}");
    pulldown_cmark_escape::escape_html(&mut out, tex).ok();
    out.push_str(dollars);
    out.push_str("</span>");
    out
}

/// Web addresses a body holds (for the limit on new accounts): every
/// link, written as Markdown or bare, carries one.
pub fn count_links(body: &str) -> usize {
    body.matches("http://").count() + body.matches("https://").count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_is_text_and_depth_is_bounded() {
        let h = render("<b>bold?</b> and <div>");
        assert!(h.contains("&lt;b&gt;bold?&lt;/b&gt;"), "{h}");
        let deep = render(&format!("{}deep", "> ".repeat(5_000)));
        assert_eq!(
            deep.matches("<blockquote>").count(),
            MAX_DEPTH,
            "{}",
            &deep[..200]
        );
        assert!(deep.contains("deep"));
        let lists = render(&format!("{}x", "- ".repeat(5_000)));
        assert!(lists.matches("<ul>").count() <= MAX_DEPTH && lists.contains('x'));
    }

    #[test]
    fn hostile_markdown_is_inert() {
        let cases = [
            "<script>alert(1)</script>",
            "<img src=x onerror=alert(1)>",
            "[click](javascript:alert(1))",
            "[data](data:text/html;base64,PHNjcmlwdD4=)",
            "<a href=\"javascript:alert(1)\">x</a>",
            "<iframe src=https://evil.example></iframe>",
            "<svg onload=alert(1)>",
        ];
        for c in cases {
            let h = render(c);
            let lower = h.to_ascii_lowercase();
            for bad in [
                "<script",
                "<img",
                "<a href=\"javascript",
                "<a href=\"data:",
                "<iframe",
                "<svg",
            ] {
                assert!(!lower.contains(bad), "{c} → {h}");
            }
        }
    }

    #[test]
    fn links_math_and_markdown() {
        let h = render("See [the paper](https://arxiv.org/abs/2203.05482) and *this*.");
        assert!(h.contains(r#"rel="nofollow ugc noopener""#), "{h}");
        assert!(h.contains("<em>this</em>"));
        let m = render("Energy $E = mc^2$ and $a_b * c_d$ stay, $x<y$ too.");
        assert!(m.contains("$E = mc^2$") && m.contains("$a_b * c_d$"), "{m}");
        assert!(m.contains("$x&lt;y$"), "TeX is escaped, not HTML: {m}");
        assert!(!m.contains("<em>"), "TeX is not emphasis: {m}");
        let deep = "> ".repeat(1000) + "deep";
        assert!(render(&deep).contains("deep"));
        assert_eq!(
            count_links("see https://a.example and [b](https://b.example)"),
            2
        );
        assert_eq!(count_links("no links"), 0);
    }
}
