//! `/papers/{arxiv_id}` and its upvote form.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use maud::html;
use serde::Deserialize;

use super::{csrf_form, paper_item, urlencode, vote_form, CheckedForm, Ctx, PageError, PagePath};
use crate::api::paper_route;
use crate::AppState;

pub fn router() -> Router<AppState> {
    let r = paper_route(Router::new(), "/papers", "", get(get_paper));
    paper_route(r, "/papers", "/upvote", post(post_upvote))
}

async fn get_paper(
    State(state): State<AppState>,
    ctx: Ctx,
    PagePath(id): PagePath,
) -> Result<Response, PageError> {
    let page = state.app.paper_page(&id, ctx.user.as_ref()).await?;
    let (stored, daily, voted, related) = (page.stored, page.daily, page.voted, page.related);
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

async fn post_upvote(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    PagePath(id): PagePath,
    CheckedForm(form): CheckedForm<VoteForm>,
) -> Result<Response, PageError> {
    let Some(user) = ctx.user.as_ref() else {
        let next = format!("/papers/{id}");
        return Ok(Redirect::to(&format!("/login?next={}", urlencode(&next))).into_response());
    };
    let up = form.action.as_deref() != Some("remove");
    state.app.upvote(user, &id, up).await?;
    let back = headers
        .get(axum::http::header::REFERER)
        .and_then(|v| v.to_str().ok())
        .filter(|r| r.starts_with(&state.app.settings.base_url) || r.starts_with('/'))
        .map(str::to_string)
        .unwrap_or_else(|| format!("/papers/{id}"));
    Ok((
        StatusCode::SEE_OTHER,
        [(axum::http::header::LOCATION, back)],
    )
        .into_response())
}
