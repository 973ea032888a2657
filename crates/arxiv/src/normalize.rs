//! One mapping from raw arXiv fields to a validated [`Paper`], shared by
//! every source (snapshot, OAI-PMH, Atom), so a paper looks the same
//! whichever way it arrived.

use chrono::{DateTime, NaiveDate, Utc};
use paperboy_core::text::{collapse_whitespace, tex_accents_to_unicode};
use paperboy_core::{extract_code_links, ArxivId, Author, Category, Paper, Version};
use serde::Deserialize;

/// Why a record was rejected. Sources add where it was (file:line, URL).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct RecordError(pub String);

/// The fields of an arXiv metadata record, as the snapshot spells them.
#[derive(Debug, Default, Deserialize)]
pub struct RawRecord {
    pub id: Option<String>,
    pub submitter: Option<String>,
    pub authors: Option<String>,
    pub title: Option<String>,
    pub comments: Option<String>,
    #[serde(rename = "journal-ref")]
    pub journal_ref: Option<String>,
    pub doi: Option<String>,
    #[serde(rename = "report-no")]
    pub report_no: Option<String>,
    pub categories: Option<String>,
    pub license: Option<String>,
    #[serde(rename = "abstract")]
    pub abstract_text: Option<String>,
    pub versions: Option<Vec<RawVersion>>,
    pub update_date: Option<String>,
    pub authors_parsed: Option<Vec<Vec<String>>>,
}

#[derive(Debug, Default, Deserialize)]
pub struct RawVersion {
    pub version: String,
    pub created: String,
}

fn clean_opt(s: Option<String>) -> Option<String> {
    s.map(|s| collapse_whitespace(&s)).filter(|s| !s.is_empty())
}

/// `Mon, 2 Apr 2007 19:18:42 GMT`, arXiv's version date format.
pub fn parse_version_date(s: &str) -> Result<DateTime<Utc>, RecordError> {
    DateTime::parse_from_rfc2822(s.trim())
        .map(|d| d.with_timezone(&Utc))
        .map_err(|e| RecordError(format!("impossible date `{s}`: {e}")))
}

fn parse_version_number(s: &str) -> Result<u32, RecordError> {
    s.trim()
        .strip_prefix('v')
        .and_then(|n| n.parse().ok())
        .filter(|&n| n > 0)
        .ok_or_else(|| RecordError(format!("bad version `{s}` (expected v1, v2, …)")))
}

/// Authors from `authors_parsed` ([keyname, forenames, suffix]) when given,
/// else from the free-text list ("A, B and C").
pub fn parse_authors(free: Option<&str>, parsed: Option<&[Vec<String>]>) -> Vec<Author> {
    let names: Vec<String> = match parsed {
        Some(list) if !list.is_empty() => list
            .iter()
            .map(|parts| {
                let get = |i: usize| parts.get(i).map(|s| s.trim()).unwrap_or("");
                [get(1), get(0), get(2)]
                    .iter()
                    .filter(|s| !s.is_empty())
                    .copied()
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect(),
        _ => split_author_list(free.unwrap_or("")),
    };
    names
        .into_iter()
        .map(|n| collapse_whitespace(&tex_accents_to_unicode(&n)))
        .filter(|n| !n.is_empty())
        .map(|name| Author { name })
        .collect()
}

/// Splits "A, B and C" at top-level commas and " and ", leaving
/// parenthesised affiliations attached to their author.
pub fn split_author_list(s: &str) -> Vec<String> {
    let s = collapse_whitespace(s);
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut cur = String::new();
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            _ => {}
        }
        if depth == 0 && c == ',' {
            out.push(std::mem::take(&mut cur));
            continue;
        }
        if depth == 0 && s[i..].starts_with(" and ") {
            out.push(std::mem::take(&mut cur));
            for _ in 0..4 {
                chars.next();
            }
            continue;
        }
        cur.push(c);
    }
    out.push(cur);
    out.into_iter()
        .map(|a| a.trim().trim_start_matches("and ").trim().to_string())
        .filter(|a| !a.is_empty())
        .collect()
}

pub fn parse_categories(s: Option<&str>) -> Result<Vec<Category>, RecordError> {
    let mut out: Vec<Category> = Vec::new();
    for c in s.unwrap_or("").split_whitespace() {
        let cat = Category::parse(c).map_err(|e| RecordError(e.to_string()))?;
        if !out.contains(&cat) {
            out.push(cat);
        }
    }
    Ok(out)
}

impl RawRecord {
    /// Validates and normalises into a [`Paper`].
    pub fn into_paper(self, now: DateTime<Utc>) -> Result<Paper, RecordError> {
        let id = match self.id.as_deref().map(str::trim) {
            None | Some("") => return Err(RecordError("missing id".into())),
            Some(raw) => {
                ArxivId::parse(raw).map_err(|e| RecordError(format!("invalid id: {e}")))?
            }
        };
        let title = collapse_whitespace(self.title.as_deref().unwrap_or(""));
        if title.is_empty() {
            return Err(RecordError("empty title".into()));
        }
        let abstract_text = collapse_whitespace(self.abstract_text.as_deref().unwrap_or(""));
        let authors = parse_authors(self.authors.as_deref(), self.authors_parsed.as_deref());
        let categories = parse_categories(self.categories.as_deref())?;
        let mut versions = Vec::new();
        for v in self.versions.unwrap_or_default() {
            versions.push(Version {
                number: parse_version_number(&v.version)?,
                created_at: parse_version_date(&v.created)?,
            });
        }
        let updated_on = match self.update_date.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(d) => Some(
                NaiveDate::parse_from_str(d, "%Y-%m-%d")
                    .map_err(|e| RecordError(format!("impossible update_date `{d}`: {e}")))?,
            ),
        };
        let comments = clean_opt(self.comments);
        let code_links = extract_code_links(&[&abstract_text, comments.as_deref().unwrap_or("")]);
        let paper = Paper {
            id,
            title,
            abstract_text,
            authors,
            categories,
            versions,
            comments,
            journal_ref: clean_opt(self.journal_ref),
            doi: clean_opt(self.doi),
            report_no: clean_opt(self.report_no),
            license: clean_opt(self.license),
            submitter: clean_opt(self.submitter),
            updated_on,
            code_links,
        };
        paper
            .validate(now)
            .map_err(|e| RecordError(e.to_string()))?;
        Ok(paper)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn author_lists_split_at_top_level() {
        assert_eq!(
            split_author_list("A. One, B. Two (MIT, Harvard) and C. Three"),
            ["A. One", "B. Two (MIT, Harvard)", "C. Three"]
        );
        assert_eq!(split_author_list("Solo Author"), ["Solo Author"]);
    }

    #[test]
    fn parsed_authors_win_and_decode_accents() {
        let parsed = vec![
            vec!["M\\\"uller".to_string(), "Hans".to_string(), "".to_string()],
            vec![
                "King".to_string(),
                "Martin Luther".to_string(),
                "Jr".to_string(),
            ],
        ];
        let got = parse_authors(Some("ignored"), Some(&parsed));
        let names: Vec<&str> = got.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["Hans Müller", "Martin Luther King Jr"]);
    }

    #[test]
    fn version_dates_in_arxiv_format() {
        let d = parse_version_date("Mon, 2 Apr 2007 19:18:42 GMT").unwrap();
        assert_eq!(d.to_rfc3339(), "2007-04-02T19:18:42+00:00");
        assert!(parse_version_date("Mon, 31 Feb 2007 19:18:42 GMT").is_err());
        assert!(parse_version_number("v0").is_err());
        assert_eq!(parse_version_number("v12").unwrap(), 12);
    }
}
