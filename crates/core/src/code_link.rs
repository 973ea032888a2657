//! Code and project links found in abstracts and comments.
//!
//! arXiv text is full of debris around URLs: TeX (`\url{…}`, `{here}`),
//! closing punctuation, footnote markers. We find URL-shaped runs, cut them
//! at the first character that cannot belong to the link, trim trailing
//! punctuation, then normalise per host (`https://github.com/owner/repo`).

use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CodeLinkKind {
    GitHub,
    GitLab,
    HuggingFace,
    Bitbucket,
    Codeberg,
    SourceForge,
    /// A project page or other code host (github.io pages, anonymous code).
    Project,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CodeLink {
    pub kind: CodeLinkKind,
    pub url: String,
}

static URL: LazyLock<Regex> = LazyLock::new(|| {
    // Scheme-less forms are accepted for the well-known code hosts only.
    Regex::new(
        r#"(?i)(?:https?://|\b(?:www\.)?(?:github\.com|gitlab\.com|huggingface\.co|bitbucket\.org|codeberg\.org|sourceforge\.net)/)[^\s<>"'{}|\\^`\[\]]+"#,
    )
    .expect("code link regex compiles")
});

/// Hosts that are never code links (the paper itself, DOIs, licences).
const IGNORED_HOSTS: &[&str] = &[
    "arxiv.org",
    "doi.org",
    "dx.doi.org",
    "creativecommons.org",
    "www.arxiv.org",
    "export.arxiv.org",
];

/// `owner/name` of a `https://github.com/owner/name` link, if it is one.
pub fn github_repo_path(url: &str) -> Option<String> {
    let u = url::Url::parse(url).ok()?;
    if !matches!(u.host_str(), Some("github.com" | "www.github.com")) {
        return None;
    }
    let mut parts = u.path_segments()?.filter(|s| !s.is_empty());
    let owner = parts.next()?;
    let name = parts.next()?.trim_end_matches(".git");
    let ok = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    (ok(owner) && ok(name)).then(|| format!("{owner}/{name}"))
}

/// Extracts de-duplicated code links, in order of appearance.
pub fn extract_code_links(texts: &[&str]) -> Vec<CodeLink> {
    let mut out: Vec<CodeLink> = Vec::new();
    for text in texts {
        if !may_hold_link(text) {
            continue;
        }
        for m in URL.find_iter(text) {
            if let Some(link) = normalise(m.as_str()) {
                if !out.iter().any(|l| l.url == link.url) {
                    out.push(link);
                }
            }
        }
    }
    out
}

/// A cheap test that skips the regex for the many texts without a link:
/// every link has a `/` right after `:/` or after a code host's domain.
fn may_hold_link(text: &str) -> bool {
    let b = text.as_bytes();
    b.iter().enumerate().any(|(i, &c)| {
        c == b'/' && i >= 3 && {
            let before = &b[i.saturating_sub(4)..i];
            before.ends_with(b":")
                || before.eq_ignore_ascii_case(b".com")
                || before.eq_ignore_ascii_case(b".org")
                || before.eq_ignore_ascii_case(b".net")
                || before[1..].eq_ignore_ascii_case(b".co")
        }
    })
}

fn trim_debris(mut s: &str) -> &str {
    loop {
        let before = s.len();
        s = s.trim_end_matches(['.', ',', ';', ':', '!', '?', '*', '\'', '"', '~']);
        // A closing bracket is debris unless the link itself opened one.
        for (open, close) in [('(', ')'), ('{', '}'), ('[', ']')] {
            if s.ends_with(close) && s.matches(open).count() < s.matches(close).count() {
                s = &s[..s.len() - 1];
            }
        }
        if s.len() == before {
            return s;
        }
    }
}

fn normalise(raw: &str) -> Option<CodeLink> {
    let raw = trim_debris(raw);
    let rest = raw
        .strip_prefix("https://")
        .or_else(|| raw.strip_prefix("http://"))
        .or_else(|| raw.strip_prefix("HTTPS://"))
        .or_else(|| raw.strip_prefix("HTTP://"))
        .unwrap_or(raw);
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let host = host.to_ascii_lowercase();
    let host = host.strip_prefix("www.").unwrap_or(&host).to_string();
    if host.is_empty() || !host.contains('.') || IGNORED_HOSTS.contains(&host.as_str()) {
        return None;
    }
    let path = path.split(['?', '#']).next().unwrap_or("");
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let two = |kind: CodeLinkKind, host: &str| -> Option<CodeLink> {
        let owner = *segments.first()?;
        let repo = segments.get(1)?.trim_end_matches(".git");
        if repo.is_empty() {
            return None;
        }
        Some(CodeLink {
            kind,
            url: format!("https://{host}/{owner}/{repo}"),
        })
    };
    match host.as_str() {
        "github.com" => two(CodeLinkKind::GitHub, "github.com"),
        "gitlab.com" => {
            // GitLab groups nest; stop at the `/-/` separator of its pages.
            let end = segments
                .iter()
                .position(|s| *s == "-")
                .unwrap_or(segments.len());
            if end < 2 {
                return None;
            }
            let path = segments[..end].join("/");
            let path = path.trim_end_matches(".git");
            Some(CodeLink {
                kind: CodeLinkKind::GitLab,
                url: format!("https://gitlab.com/{path}"),
            })
        }
        "bitbucket.org" => two(CodeLinkKind::Bitbucket, "bitbucket.org"),
        "codeberg.org" => two(CodeLinkKind::Codeberg, "codeberg.org"),
        "huggingface.co" | "hf.co" => {
            let (prefix, rest) = match segments.first().copied() {
                Some(p @ ("datasets" | "spaces")) => (format!("{p}/"), &segments[1..]),
                _ => (String::new(), &segments[..]),
            };
            let owner = rest.first()?;
            let name = rest.get(1)?;
            Some(CodeLink {
                kind: CodeLinkKind::HuggingFace,
                url: format!("https://huggingface.co/{prefix}{owner}/{name}"),
            })
        }
        "sourceforge.net" => {
            let name = match segments.as_slice() {
                ["projects", name, ..] | ["p", name, ..] => *name,
                _ => return None,
            };
            Some(CodeLink {
                kind: CodeLinkKind::SourceForge,
                url: format!("https://sourceforge.net/projects/{name}"),
            })
        }
        _ => {
            // Everything else that survives is a project page; keep its path.
            let path = segments.join("/");
            let url = if path.is_empty() {
                format!("https://{host}")
            } else {
                format!("https://{host}/{path}")
            };
            Some(CodeLink {
                kind: CodeLinkKind::Project,
                url,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn urls(text: &str) -> Vec<String> {
        extract_code_links(&[text])
            .into_iter()
            .map(|l| l.url)
            .collect()
    }

    #[test]
    fn cleans_markup_debris_and_punctuation() {
        assert_eq!(
            urls("Code is at https://github.com/kleinzcy/Cr-KD-NCD{here}."),
            ["https://github.com/kleinzcy/Cr-KD-NCD"]
        );
        assert_eq!(
            urls("(see https://github.com/Facico/Dynamic-Logit-Fusion.)"),
            ["https://github.com/Facico/Dynamic-Logit-Fusion"]
        );
        assert_eq!(
            urls("available at \\url{https://github.com/mlfoundations/model-soups}."),
            ["https://github.com/mlfoundations/model-soups"]
        );
        assert_eq!(
            urls("at https://github.com/owner/repo/tree/main/src, and github.com/a/b.git;"),
            ["https://github.com/owner/repo", "https://github.com/a/b"]
        );
    }

    #[test]
    fn recognises_each_host() {
        let text = "https://gitlab.com/group/sub/project/-/tree/main \
            https://huggingface.co/datasets/org/data, https://huggingface.co/org/model \
            https://bitbucket.org/team/repo/src https://codeberg.org/user/thing \
            https://sourceforge.net/projects/tool/files https://site.github.io/proj/ \
            https://arxiv.org/abs/2203.05482 https://doi.org/10.1/x";
        let links = extract_code_links(&[text]);
        let got: Vec<(CodeLinkKind, &str)> =
            links.iter().map(|l| (l.kind, l.url.as_str())).collect();
        assert_eq!(
            got,
            [
                (CodeLinkKind::GitLab, "https://gitlab.com/group/sub/project"),
                (
                    CodeLinkKind::HuggingFace,
                    "https://huggingface.co/datasets/org/data"
                ),
                (
                    CodeLinkKind::HuggingFace,
                    "https://huggingface.co/org/model"
                ),
                (CodeLinkKind::Bitbucket, "https://bitbucket.org/team/repo"),
                (CodeLinkKind::Codeberg, "https://codeberg.org/user/thing"),
                (
                    CodeLinkKind::SourceForge,
                    "https://sourceforge.net/projects/tool"
                ),
                (CodeLinkKind::Project, "https://site.github.io/proj"),
            ]
        );
    }

    #[test]
    fn deduplicates_and_ignores_bare_owner_pages() {
        assert_eq!(
            urls("https://github.com/a/b and again http://www.github.com/a/b/ and https://github.com/onlyowner"),
            ["https://github.com/a/b"]
        );
        assert!(urls("no links here, just text.").is_empty());
    }
}
