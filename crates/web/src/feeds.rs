//! Atom 1.0 and RSS 2.0 feeds: trending, the daily list, a search, a
//! category; rendered with the `atom_syndication` and `rss` crates. Stable
//! entry ids (the paper's page), `updated` dates, and ETag /
//! Last-Modified with 304 on conditional GET.

use std::collections::HashMap;

use atom_syndication::{
    CategoryBuilder, EntryBuilder, FeedBuilder, FixedDateTime, GeneratorBuilder, LinkBuilder,
    PersonBuilder, Text,
};
use axum::extract::{Path, Query, State};
use axum::http::header::{
    CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED,
};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, Utc};
use paperboy_app::feeds::{urlencode, Feed, FeedEntry, FeedKind};
use paperboy_core::{Category, Paper};
use sha2::{Digest, Sha256};

use crate::{ApiError, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/feeds/{file}", get(get_feed))
        .route("/feeds/category/{file}", get(get_category_feed))
        .route(
            "/feeds/collection/{username}/{file}",
            get(get_collection_feed),
        )
        .route("/feeds/u/{token}/{file}", get(get_private_feed))
}

async fn get_collection_feed(
    State(state): State<AppState>,
    Path((username, file)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Some((tag, format)) = split_format(&file) else {
        return Err(no_feed(&format!("/feeds/collection/{username}/{file}")));
    };
    let base = state.app.settings.base_url.trim_end_matches('/');
    let self_url = format!("{base}/feeds/collection/{username}/{file}");
    let feed = state.app.collection_feed(&username, tag).await?;
    Ok(respond(&state, &feed, format, &self_url, &headers))
}

/// A member's private feed: `/feeds/u/{token}/for-you.atom[?tag=]`. A
/// revoked or unknown token is 404, and nothing is cached on the way.
async fn get_private_feed(
    State(state): State<AppState>,
    Path((token, file)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let format = match split_format(&file) {
        Some(("for-you", f)) => f,
        _ => return Err(ApiError::not_found("no such feed")),
    };
    if token.len() > 128 || !token.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(ApiError::not_found("no such feed"));
    }
    let user = state.app.feed_token_user(&token).await?;
    let tag = q.get("tag").filter(|t| !t.is_empty());
    let base = state.app.settings.base_url.trim_end_matches('/');
    let self_url = match tag {
        Some(t) => format!("{base}/feeds/u/{token}/{file}?tag={}", urlencode(t)),
        None => format!("{base}/feeds/u/{token}/{file}"),
    };
    let feed = state
        .app
        .private_feed(&user, tag.map(String::as_str))
        .await?;
    let mut resp = respond(&state, &feed, format, &self_url, &headers);
    resp.headers_mut().insert(
        CACHE_CONTROL,
        axum::http::HeaderValue::from_static("private, no-store"),
    );
    Ok(resp)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Atom,
    Rss,
}

/// `name.atom` or `name.rss`.
fn split_format(file: &str) -> Option<(&str, Format)> {
    if let Some(s) = file.strip_suffix(".atom") {
        Some((s, Format::Atom))
    } else {
        file.strip_suffix(".rss").map(|s| (s, Format::Rss))
    }
}

fn no_feed(path: &str) -> ApiError {
    ApiError::not_found(format!(
        "no feed {path}; there are /feeds/trending, /feeds/daily, /feeds/search?q= and \
         /feeds/category/CAT, each .atom or .rss"
    ))
}

async fn get_feed(
    State(state): State<AppState>,
    Path(file): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Some((stem, format)) = split_format(&file) else {
        return Err(no_feed(&format!("/feeds/{file}")));
    };
    let kind = match stem {
        "trending" => FeedKind::Trending,
        "daily" => FeedKind::Daily,
        "search" => {
            let query = q.get("q").map(|s| s.trim()).unwrap_or("");
            if query.is_empty() {
                return Err(ApiError::bad_request("q is required"));
            }
            FeedKind::Search(query.to_string())
        }
        _ => return Err(no_feed(&format!("/feeds/{file}"))),
    };
    let base = state.app.settings.base_url.trim_end_matches('/');
    let self_url = match q.get("q") {
        Some(query) => format!("{base}/feeds/{file}?q={}", urlencode(query)),
        None => format!("{base}/feeds/{file}"),
    };
    let feed = state.app.feed(&kind).await?;
    Ok(respond(&state, &feed, format, &self_url, &headers))
}

async fn get_category_feed(
    State(state): State<AppState>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Some((cat, format)) = split_format(&file) else {
        return Err(no_feed(&format!("/feeds/category/{file}")));
    };
    let cat = Category::parse(cat).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let base = state.app.settings.base_url.trim_end_matches('/');
    let self_url = format!("{base}/feeds/category/{file}");
    let feed = state.app.feed(&FeedKind::Category(cat)).await?;
    Ok(respond(&state, &feed, format, &self_url, &headers))
}

/// The feed in `format`, or 304 when the client's copy is current.
fn respond(
    state: &AppState,
    feed: &Feed,
    format: Format,
    self_url: &str,
    headers: &HeaderMap,
) -> Response {
    let base = state.app.settings.base_url.trim_end_matches('/');
    let updated = feed.updated();
    let body = match format {
        Format::Atom => atom(feed, self_url, base),
        Format::Rss => rss(feed, self_url, base),
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
        return (StatusCode::NOT_MODIFIED, common).into_response();
    }
    (StatusCode::OK, common, [(CONTENT_TYPE, content_type)], body).into_response()
}

fn hex16(bytes: &[u8]) -> String {
    bytes.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

/// Drops the characters XML 1.0 forbids (control characters other than
/// tab and line ends); the feed crates escape the rest.
fn xml_text(s: &str) -> String {
    s.chars()
        .filter(|&c| (c as u32) >= 0x20 || matches!(c, '\t' | '\n' | '\r'))
        .collect()
}

fn html_escape(s: &str) -> String {
    maud::html! { (s) }.into_string()
}

fn link(rel: &str, mime_type: &str, href: impl Into<String>) -> atom_syndication::Link {
    LinkBuilder::default()
        .rel(rel)
        .mime_type(Some(mime_type.into()))
        .href(href)
        .build()
}

fn fixed(t: DateTime<Utc>) -> FixedDateTime {
    t.fixed_offset()
}

/// Each entry with its paper and the paper's page (the entry's id).
fn with_urls<'a>(
    feed: &'a Feed,
    base: &'a str,
) -> impl Iterator<Item = (&'a FeedEntry, &'a Paper, String)> + 'a {
    feed.entries.iter().map(move |e| {
        let p = &e.listed.stored.paper;
        (e, p, format!("{base}/papers/{}", p.id))
    })
}

/// An entry's id: its paper's page, and for a noted entry (an alert) the
/// note too, so one paper can appear once as a pick and once per alert.
fn entry_id(e: &FeedEntry, url: &str) -> String {
    match &e.note {
        Some(n) => format!("{url}#n-{}", hex16(&Sha256::digest(n.as_bytes()))),
        None => url.to_string(),
    }
}

/// The summary: the note (if any), then the abstract.
fn summary(e: &FeedEntry, p: &Paper) -> String {
    match &e.note {
        Some(n) => xml_text(&format!("{n}\n\n{}", p.abstract_text)),
        None => xml_text(&p.abstract_text),
    }
}

fn atom(feed: &Feed, self_url: &str, base: &str) -> String {
    let entries: Vec<atom_syndication::Entry> = with_urls(feed, base)
        .map(|(e, p, url)| {
            let mut authors: Vec<_> = p
                .authors
                .iter()
                .map(|a| PersonBuilder::default().name(xml_text(&a.name)).build())
                .collect();
            if authors.is_empty() {
                authors.push(PersonBuilder::default().name("Unknown").build());
            }
            EntryBuilder::default()
                .id(entry_id(e, &url))
                .title(Text::plain(xml_text(&p.title)))
                .link(link("alternate", "text/html", url))
                .link(link("related", "text/html", p.id.abs_url()))
                .published(Some(fixed(p.published_at())))
                .updated(fixed(e.updated))
                .authors(authors)
                .categories(
                    p.categories
                        .iter()
                        .map(|c| CategoryBuilder::default().term(c.as_str()).build())
                        .collect::<Vec<_>>(),
                )
                .summary(Some(Text::plain(summary(e, p))))
                .build()
        })
        .collect();
    FeedBuilder::default()
        .title(Text::plain(xml_text(&feed.title)))
        .id(self_url)
        .link(link("alternate", "text/html", feed.page_url.clone()))
        .link(link("self", "application/atom+xml", self_url))
        .updated(fixed(feed.updated()))
        .generator(Some(GeneratorBuilder::default().value("Paperboy").build()))
        .entries(entries)
        .build()
        .to_string()
}

fn rss(feed: &Feed, self_url: &str, base: &str) -> String {
    let date = |d: DateTime<Utc>| d.to_rfc2822();
    let items: Vec<rss::Item> = with_urls(feed, base)
        .map(|(e, p, url)| {
            rss::ItemBuilder::default()
                .title(Some(xml_text(&p.title)))
                .link(Some(url.clone()))
                .guid(Some(rss::Guid {
                    permalink: e.note.is_none(),
                    value: entry_id(e, &url),
                }))
                .pub_date(Some(date(e.updated)))
                .categories(
                    p.categories
                        .iter()
                        .map(|c| rss::CategoryBuilder::default().name(c.as_str()).build())
                        .collect::<Vec<_>>(),
                )
                // RSS descriptions are HTML to readers: the abstract is
                // text, so it goes in escaped.
                .description(Some(html_escape(&summary(e, p))))
                .build()
        })
        .collect();
    let self_link = rss::extension::atom::Link {
        rel: "self".into(),
        href: self_url.to_string(),
        mime_type: Some("application/rss+xml".into()),
        ..Default::default()
    };
    rss::ChannelBuilder::default()
        .title(xml_text(&feed.title))
        .link(feed.page_url.clone())
        .description(xml_text(&feed.title))
        .atom_ext(Some(rss::extension::atom::AtomExtension {
            links: vec![self_link],
        }))
        .last_build_date(Some(date(feed.updated())))
        .generator(Some("Paperboy".to_string()))
        .items(items)
        .build()
        .to_string()
}
