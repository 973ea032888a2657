//! `/papers/{arxiv_id}` and its upvote form.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use maud::html;
use paperboy_core::ArxivId;
use paperboy_store::{ListedPaper, StoreError};
use serde::Deserialize;

use super::{csrf_form, paper_item, vote_form, CheckedForm, Ctx, PageError};
use crate::{ApiError, AppState};

pub fn router() -> Router<AppState> {
    Router::new().route("/papers/{*id}", get(get_paper).post(post_paper))
}

fn parse(raw: &str) -> Result<ArxivId, ApiError> {
    ArxivId::parse(raw).map_err(|e| ApiError::BadRequest(e.to_string()))
}

async fn get_paper(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(raw): Path<String>,
) -> Result<Response, PageError> {
    let id = parse(&raw)?;
    let stored = match state.store.get_paper(&id).await {
        Ok(s) => s,
        Err(StoreError::NotFound) => {
            return Err(ApiError::NotFound(format!(
                "This instance has no paper {id}. It may be on arXiv: https://arxiv.org/abs/{id}"
            ))
            .into())
        }
        Err(e) => return Err(e.into()),
    };
    let daily = state.store.daily_entry(stored.paper_id).await?;
    let voted = match &ctx.user {
        Some(u) => !state
            .store
            .voted(u.user_id, &[stored.paper_id])
            .await?
            .is_empty(),
        None => false,
    };
    let related: Vec<ListedPaper> = match &state.search {
        Some(search) => match search.related(&id, 5).await {
            Ok(hits) => {
                let ids: Vec<ArxivId> = hits.iter().map(|h| h.arxiv_id.clone()).collect();
                let mut found = state.store.get_papers(&ids).await.unwrap_or_default();
                found.sort_by_key(|l| ids.iter().position(|i| *i == l.stored.paper.id));
                found
            }
            Err(e) => {
                tracing::warn!(%id, error = %e, "related papers failed");
                Vec::new()
            }
        },
        None => Vec::new(),
    };
    let p = &stored.paper;
    let published = p.published_at();
    let body = html! {
        article.paper-page {
            header {
                p.meta {
                    a href=(p.id.abs_url()) { "arXiv:" (p.id) }
                    @for c in &p.categories { " " span.cat { (c.as_str()) } }
                }
                h1 { (p.title) }
                p.authors { @for (i, a) in p.authors.iter().enumerate() { @if i > 0 { ", " } span { (a.name) } } }
                p.meta {
                    "Submitted " time datetime=(published.format("%Y-%m-%d").to_string()) { (published.format("%B %-d, %Y").to_string()) }
                    @if p.versions.len() > 1 {
                        @if let Some(last) = p.versions.last() { " · v" (last.number) " " (last.created_at.format("%B %-d, %Y").to_string()) }
                    }
                    @if let Some(d) = &daily { " · on the " a href={ "/daily/" (d.day) } { "daily list of " (d.day.format("%B %-d").to_string()) } " by " a href={ "/u/" (d.submitted_by) } { (d.submitted_by) } }
                }
            }
            div.actions {
                (vote_form(&ctx, p.id.as_str(), stored.upvotes, voted))
                a.button href=(p.id.abs_url()) { "arXiv page" }
                a.button href=(p.id.pdf_url()) { "PDF" }
                @for link in &p.code_links { a.button href=(link.url) rel="nofollow noopener" { "Code: " (link.url.trim_start_matches("https://")) } }
            }
            section aria-labelledby="abstract-h" {
                h2 #abstract-h { "Abstract" }
                p.abstract-full { (p.abstract_text) }
            }
            @if p.comments.is_some() || p.journal_ref.is_some() || p.doi.is_some() {
                dl.facts {
                    @if let Some(c) = &p.comments { dt { "Comments" } dd { (c) } }
                    @if let Some(j) = &p.journal_ref { dt { "Journal reference" } dd { (j) } }
                    @if let Some(d) = &p.doi { dt { "DOI" } dd { a href={ "https://doi.org/" (d) } { (d) } } }
                }
            }
            @if !related.is_empty() {
                section aria-labelledby="related-h" {
                    h2 #related-h { "Related papers" }
                    ol.papers { @for lp in &related { li { (paper_item(&ctx, lp, false, None)) } } }
                }
            }
        }
    };
    Ok(ctx.render_with_head(StatusCode::OK, &p.title, citation_meta(p), body))
}

fn citation_meta(p: &paperboy_core::Paper) -> maud::Markup {
    html! {
        meta name="citation_title" content=(p.title);
        @for a in &p.authors { meta name="citation_author" content=(a.name); }
        meta name="citation_publication_date" content=(p.published_at().format("%Y/%m/%d").to_string());
        meta name="citation_arxiv_id" content=(p.id);
        meta name="citation_abstract_html_url" content=(p.id.abs_url());
        meta name="citation_pdf_url" content=(p.id.pdf_url());
        @if let Some(d) = &p.doi { meta name="citation_doi" content=(d); }
        meta name="description" content=(super::trim_text(&p.abstract_text, 200));
    }
}

#[derive(Deserialize)]
struct VoteForm {
    csrf: Option<String>,
    action: Option<String>,
}

csrf_form!(VoteForm);

async fn post_paper(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(raw): Path<String>,
    CheckedForm(form): CheckedForm<VoteForm>,
) -> Result<Response, PageError> {
    let Some(raw) = raw.strip_suffix("/upvote") else {
        return Err(ApiError::NotFound(format!("There is no page at /papers/{raw}.")).into());
    };
    let id = parse(raw)?;
    let Some(user) = ctx.user.as_ref() else {
        let next = format!("/papers/{id}");
        return Ok(Redirect::to(&format!("/login?next={}", urlencode(&next))).into_response());
    };
    let up = form.action.as_deref() != Some("remove");
    crate::api::votes::vote(&state, user, &id, up).await?;
    let back = headers
        .get(axum::http::header::REFERER)
        .and_then(|v| v.to_str().ok())
        .filter(|r| r.starts_with(&state.settings.base_url) || r.starts_with('/'))
        .map(str::to_string)
        .unwrap_or_else(|| format!("/papers/{id}"));
    Ok((
        StatusCode::SEE_OTHER,
        [(axum::http::header::LOCATION, back)],
    )
        .into_response())
}

pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
