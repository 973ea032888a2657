//! Atom 1.0 and RSS 2.0 feeds: trending, the daily list, a search, a
//! category. Stable entry ids (the paper's page), `updated` dates, and
//! ETag / Last-Modified with 304 on conditional GET.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::header::{
    CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED,
};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, Duration, Utc};
use paperboy_core::{ArxivId, Category};
use paperboy_store::{DailySort, ListedPaper};
use sha2::{Digest, Sha256};

use crate::fetch::{SearchMode, SearchRequest};
use crate::{daily, ApiError, AppState};

pub fn router() -> Router<AppState> {
    Router::new().route("/feeds/{*name}", get(get_feed))
}

const ENTRIES: u32 = 30;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Atom,
    Rss,
}

struct Entry {
    listed: ListedPaper,
    /// When this entry last changed for this feed.
    updated: DateTime<Utc>,
}

fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Characters XML 1.0 forbids.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

fn paper_updated(l: &ListedPaper) -> DateTime<Utc> {
    let p = &l.stored.paper;
    p.versions
        .last()
        .map(|v| v.created_at)
        .unwrap_or_else(|| p.published_at())
}

async fn get_feed(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (stem, format) = if let Some(s) = name.strip_suffix(".atom") {
        (s, Format::Atom)
    } else if let Some(s) = name.strip_suffix(".rss") {
        (s, Format::Rss)
    } else {
        return Err(ApiError::NotFound(format!(
            "no feed /feeds/{name} (feeds end in .atom or .rss)"
        )));
    };
    let base = state.settings.base_url.trim_end_matches('/').to_string();
    let (title, page_url, entries) = match stem {
        "trending" => {
            let rows = state.store.trending_papers(0, ENTRIES).await?;
            let entries = rows.into_iter().map(|l| Entry { updated: paper_updated(&l), listed: l }).collect();
            (format!("Trending papers · {}", state.settings.instance_name), format!("{base}/"), entries)
        }
        "daily" => {
            let today = daily::today(state.settings.timezone);
            let rows = state.store.daily_papers(today - Duration::days(6), today, DailySort::PublishedAt, 0, 100).await?;
            let mut entries: Vec<Entry> = rows
                .into_iter()
                .map(|l| Entry { updated: l.daily.as_ref().map(|d| d.submitted_at).unwrap_or_else(|| paper_updated(&l)), listed: l })
                .collect();
            entries.sort_by_key(|e| std::cmp::Reverse(e.updated));
            (format!("Daily papers · {}", state.settings.instance_name), format!("{base}/daily"), entries)
        }
        "search" => {
            let query = q.get("q").map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
            let Some(query) = query else { return Err(ApiError::BadRequest("q is required".into())) };
            let Some(search) = &state.search else {
                return Err(ApiError::Unavailable("search is not set up on this instance".into()));
            };
            let outcome = search
                .search(SearchRequest { query: query.clone(), mode: SearchMode::Hybrid, limit: ENTRIES as usize, offset: 0 })
                .await
                .map_err(ApiError::Internal)?;
            let ids: Vec<ArxivId> = outcome.hits.iter().map(|h| h.arxiv_id.clone()).collect();
            let mut rows = state.store.get_papers(&ids).await?;
            rows.sort_by_key(|l| ids.iter().position(|i| *i == l.stored.paper.id));
            let entries = rows.into_iter().map(|l| Entry { updated: paper_updated(&l), listed: l }).collect();
            let url = format!("{base}/search?q={}", crate::pages::urlencode(&query));
            (format!("Papers about “{query}” · {}", state.settings.instance_name), url, entries)
        }
        other => match other.strip_prefix("category/") {
            Some(cat) => {
                let cat = Category::parse(cat).map_err(|e| ApiError::BadRequest(e.to_string()))?;
                let rows = state.store.recent_in_category(cat.as_str(), ENTRIES).await?;
                let entries = rows.into_iter().map(|l| Entry { updated: paper_updated(&l), listed: l }).collect();
                let url = format!("{base}/search?q=cat:{}", cat.as_str());
                (format!("New in {} · {}", cat.as_str(), state.settings.instance_name), url, entries)
            }
            None => {
                return Err(ApiError::NotFound(format!(
                    "no feed /feeds/{name}; there are trending, daily, search?q= and category/CAT, each .atom or .rss"
                )))
            }
        },
    };
    let self_url = match q.get("q") {
        Some(query) => format!("{base}/feeds/{name}?q={}", crate::pages::urlencode(query)),
        None => format!("{base}/feeds/{name}"),
    };
    let updated = entries
        .iter()
        .map(|e| e.updated)
        .max()
        .unwrap_or(DateTime::<Utc>::UNIX_EPOCH);
    let body = match format {
        Format::Atom => atom(&title, &page_url, &self_url, &base, updated, &entries),
        Format::Rss => rss(&title, &page_url, &self_url, &base, updated, &entries),
    };
    let etag = format!("\"{}\"", hex16(&Sha256::digest(body.as_bytes())));
    let last_modified = updated.format("%a, %d %b %Y %H:%M:%S GMT").to_string();
    let not_modified = match headers.get(IF_NONE_MATCH).and_then(|v| v.to_str().ok()) {
        Some(inm) => inm.split(',').any(|t| t.trim() == etag || t.trim() == "*"),
        None => headers
            .get(IF_MODIFIED_SINCE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| DateTime::parse_from_rfc2822(v).ok())
            .is_some_and(|since| updated.timestamp() <= since.timestamp()),
    };
    let content_type = match format {
        Format::Atom => "application/atom+xml; charset=utf-8",
        Format::Rss => "application/rss+xml; charset=utf-8",
    };
    let common = [
        (ETAG, etag),
        (LAST_MODIFIED, last_modified),
        (CACHE_CONTROL, "public, max-age=300".to_string()),
    ];
    if not_modified {
        return Ok((StatusCode::NOT_MODIFIED, common).into_response());
    }
    Ok((StatusCode::OK, common, [(CONTENT_TYPE, content_type)], body).into_response())
}

fn hex16(bytes: &[u8]) -> String {
    bytes.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

fn atom(
    title: &str,
    page: &str,
    self_url: &str,
    base: &str,
    updated: DateTime<Utc>,
    entries: &[Entry],
) -> String {
    let mut o = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\n");
    o.push_str(&format!(
        "  <title>{}</title>\n  <id>{}</id>\n",
        xml(title),
        xml(self_url)
    ));
    o.push_str(&format!(
        "  <link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>\n",
        xml(page)
    ));
    o.push_str(&format!(
        "  <link rel=\"self\" type=\"application/atom+xml\" href=\"{}\"/>\n",
        xml(self_url)
    ));
    o.push_str(&format!(
        "  <updated>{}</updated>\n  <generator>Paperboy</generator>\n",
        updated.to_rfc3339()
    ));
    for e in entries {
        let p = &e.listed.stored.paper;
        let url = format!("{base}/papers/{}", p.id);
        o.push_str("  <entry>\n");
        o.push_str(&format!(
            "    <id>{}</id>\n    <title>{}</title>\n",
            xml(&url),
            xml(&p.title)
        ));
        o.push_str(&format!(
            "    <link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>\n",
            xml(&url)
        ));
        o.push_str(&format!(
            "    <link rel=\"related\" type=\"text/html\" href=\"{}\"/>\n",
            xml(&p.id.abs_url())
        ));
        o.push_str(&format!(
            "    <published>{}</published>\n",
            p.published_at().to_rfc3339()
        ));
        o.push_str(&format!(
            "    <updated>{}</updated>\n",
            e.updated.to_rfc3339()
        ));
        for a in &p.authors {
            o.push_str(&format!(
                "    <author><name>{}</name></author>\n",
                xml(&a.name)
            ));
        }
        if p.authors.is_empty() {
            o.push_str("    <author><name>Unknown</name></author>\n");
        }
        for c in &p.categories {
            o.push_str(&format!("    <category term=\"{}\"/>\n", xml(c.as_str())));
        }
        o.push_str(&format!(
            "    <summary type=\"text\">{}</summary>\n  </entry>\n",
            xml(&p.abstract_text)
        ));
    }
    o.push_str("</feed>\n");
    o
}

fn rss(
    title: &str,
    page: &str,
    self_url: &str,
    base: &str,
    updated: DateTime<Utc>,
    entries: &[Entry],
) -> String {
    let date = |d: DateTime<Utc>| d.format("%a, %d %b %Y %H:%M:%S +0000").to_string();
    let mut o = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<rss version=\"2.0\" xmlns:atom=\"http://www.w3.org/2005/Atom\">\n<channel>\n",
    );
    o.push_str(&format!(
        "  <title>{}</title>\n  <link>{}</link>\n",
        xml(title),
        xml(page)
    ));
    o.push_str(&format!("  <description>{}</description>\n", xml(title)));
    o.push_str(&format!(
        "  <atom:link rel=\"self\" type=\"application/rss+xml\" href=\"{}\"/>\n",
        xml(self_url)
    ));
    o.push_str(&format!(
        "  <lastBuildDate>{}</lastBuildDate>\n  <generator>Paperboy</generator>\n",
        date(updated)
    ));
    for e in entries {
        let p = &e.listed.stored.paper;
        let url = format!("{base}/papers/{}", p.id);
        o.push_str("  <item>\n");
        o.push_str(&format!(
            "    <title>{}</title>\n    <link>{}</link>\n",
            xml(&p.title),
            xml(&url)
        ));
        o.push_str(&format!(
            "    <guid isPermaLink=\"true\">{}</guid>\n",
            xml(&url)
        ));
        o.push_str(&format!("    <pubDate>{}</pubDate>\n", date(e.updated)));
        for c in &p.categories {
            o.push_str(&format!("    <category>{}</category>\n", xml(c.as_str())));
        }
        o.push_str(&format!(
            "    <description>{}</description>\n  </item>\n",
            xml(&p.abstract_text)
        ));
    }
    o.push_str("</channel>\n</rss>\n");
    o
}
