//! `/papers/{arxiv_id}`: the paper, its authors (claimed ones linked to
//! their members), code, stars and its discussion, every action a plain
//! form; `/papers/{arxiv_id}.md`, the same as Markdown.

use axum::extract::{Path, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use maud::{html, Markup, PreEscaped};
use paperboy_app::discussions::ThreadEntry;
use paperboy_app::papers::PaperPage;
use paperboy_core::ArxivId;
use paperboy_store::Comment;
use serde::Deserialize;

use super::{csrf_form, paper_item, urlencode, vote_form, CheckedForm, Ctx, PageError, PagePath};
use crate::api::{paper_route, parse_id};
use crate::AppState;

pub fn router() -> Router<AppState> {
    let r = paper_route(Router::new(), "/papers", "", get(get_paper));
    let r = paper_route(r, "/papers", "/search", get(get_search_in_paper));
    paper_route(r, "/papers", "/upvote", post(post_upvote))
}

/// The form searching one paper's full text.
fn search_in_paper_form(id: &str, query: &str) -> Markup {
    html! {
        form.search-in role="search" aria-label="Search in this paper" action={ "/papers/" (id) "/search" } method="get" {
            label for="in-paper" { "Search in this paper" }
            input #in-paper type="search" name="q" value=(query) required;
            button type="submit" { "Search" }
        }
    }
}

/// `/papers/{id}/search?q=`: the passages of the paper's full text that
/// match, best first, each a snippet under its section's title, with the
/// way to arXiv for reading (only snippets are shown here).
async fn get_search_in_paper(
    State(state): State<AppState>,
    ctx: Ctx,
    PagePath(id): PagePath,
    axum::extract::Query(q): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> Result<Response, PageError> {
    let query = q.get("q").map(|s| s.trim().to_string()).unwrap_or_default();
    let stored = state.app.paper(&id).await?;
    let found = if query.is_empty() {
        Vec::new()
    } else {
        state.app.search_in_paper(&id, &query, 50).await?
    };
    let title = &stored.paper.title;
    let body = html! {
        section.intro {
            p { a href={ "/papers/" (id) } { "← " (title) } }
            h1 {
                @if query.is_empty() { "Search in this paper" }
                @else { "“" (super::trim_text(&query, 90)) "” in this paper" }
            }
            (search_in_paper_form(id.as_str(), &query))
            @if !query.is_empty() {
                p.lede role="status" {
                    @if found.is_empty() {
                        "No passage of its full text matches (or its full text has not been read yet)."
                    } @else {
                        (super::plural(found.len() as u64, "passage matches", "passages match"))
                    }
                }
            }
        }
        @if !found.is_empty() {
            ol.passages {
                @for m in &found {
                    li {
                        @if !m.section.is_empty() { h2.section { (m.section) } }
                        p.snippet { "…" (PreEscaped(&m.snippet)) "…" }
                    }
                }
            }
            p.muted { "Read the full text on " a href={ "https://arxiv.org/html/" (id) } { "arXiv" } "." }
        }
    };
    Ok(ctx.page(&format!("Search in {title}"), body))
}

/// The id in `/papers/{id}` or `/papers/{id}/{number}`, and whether it
/// ends in `.md` (the Markdown form).
async fn id_and_format(parts: Path<Vec<(String, String)>>) -> Result<(ArxivId, bool), PageError> {
    let raw: Vec<&str> = parts.0.iter().map(|(_, v)| v.as_str()).collect();
    let raw = raw.join("/");
    let (raw, markdown) = match raw.strip_suffix(".md") {
        Some(r) => (r.to_string(), true),
        None => (raw, false),
    };
    Ok((parse_id(&raw)?, markdown))
}

async fn get_paper(
    State(state): State<AppState>,
    ctx: Ctx,
    path: Path<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let (id, markdown) = id_and_format(path).await?;
    if markdown {
        let stored = state.app.paper(&id).await?;
        let view = state.app.paper_view(&stored).await?;
        let text = paper_markdown(&view, &state.app.settings.base_url);
        return Ok(([(CONTENT_TYPE, "text/markdown; charset=utf-8")], text).into_response());
    }
    let page = state.app.paper_page(&id, ctx.user.as_ref()).await?;
    let title = page.stored.paper.title.clone();
    let head = citation_meta(&page.stored.paper);
    let mut shown = page.related.clone();
    shown.push(paperboy_store::ListedPaper {
        stored: page.stored.clone(),
        daily: page.daily.clone(),
    });
    let marks = super::marks(&state, &ctx, &shown).await;
    let following = match &ctx.user {
        Some(u) => {
            state
                .app
                .is_following(u, paperboy_store::FollowKind::Paper, id.as_str())
                .await?
        }
        None => false,
    };
    let body = paper_body(&ctx, &page, &marks, following);
    Ok(ctx.render_with_head(StatusCode::OK, &title, head, body))
}

/// Markdown for people and language models: title, authors, abstract,
/// links. Text from the metadata goes in as it is (it is not HTML).
fn paper_markdown(v: &paperboy_app::views::PaperView, base_url: &str) -> String {
    let authors: Vec<String> = v
        .authors
        .iter()
        .map(|a| match &a.user {
            Some(u) => format!("{} (@{})", a.name, u.username),
            None => a.name.clone(),
        })
        .collect();
    let mut out = format!("# {}\n\n", v.title.replace('\n', " "));
    out.push_str(&format!("**Authors:** {}\n\n", authors.join(", ")));
    out.push_str(&format!(
        "**arXiv:** {} · **Published:** {}",
        v.id,
        &v.published_at[..10.min(v.published_at.len())]
    ));
    if !v.categories.is_empty() {
        out.push_str(&format!(" · **Categories:** {}", v.categories.join(", ")));
    }
    out.push_str(&format!(" · **Upvotes:** {}\n\n", v.upvotes));
    out.push_str(&format!("## Abstract\n\n{}\n\n## Links\n\n", v.summary));
    out.push_str(&format!(
        "- Paper page: {}/papers/{}\n",
        base_url.trim_end_matches('/'),
        v.id
    ));
    out.push_str(&format!("- arXiv: {}\n- PDF: {}\n", v.arxiv_url, v.pdf_url));
    if let Some(r) = &v.github_repo {
        match v.github_stars {
            Some(s) => out.push_str(&format!("- Code: {r} ({s} stars)\n")),
            None => out.push_str(&format!("- Code: {r}\n")),
        }
    }
    if let Some(p) = &v.project_page {
        out.push_str(&format!("- Project page: {p}\n"));
    }
    if let Some(d) = &v.doi {
        out.push_str(&format!("- DOI: https://doi.org/{d}\n"));
    }
    if v.num_comments > 0 {
        out.push_str(&format!(
            "\n{} comments in the discussion.\n",
            v.num_comments
        ));
    }
    out
}

fn author_href(name: &str) -> String {
    format!("/authors/{}", urlencode(name))
}

fn paper_body(ctx: &Ctx, page: &PaperPage, marks: &super::Marks, following: bool) -> Markup {
    let stored = &page.stored;
    let p = &stored.paper;
    let published = p.published_at();
    let id = p.id.as_str();
    let moderator = ctx.user.as_ref().is_some_and(|u| u.role.can_moderate());
    html! {
        article.paper-page {
            header {
                p.meta {
                    a href=(p.id.abs_url()) { "arXiv:" (p.id) }
                    @for c in &p.categories { " " span.cat { (c.as_str()) } }
                }
                h1 { (PreEscaped(paperboy_app::tex::tex_html(&p.title))) }
                p.authors {
                    @for (i, a) in p.authors.iter().enumerate() {
                        @if i > 0 { ", " }
                        a.author href=(author_href(&a.name)) { (a.name) }
                        @if let Some(u) = page.claims.get(&(i as u32)) {
                            " " a.claimed href={ "/u/" (u) } title="Claimed by this member, approved by a moderator" { "(@" (u) ")" }
                        }
                    }
                }
                p.meta {
                    "Submitted " time datetime=(published.format("%Y-%m-%d").to_string()) { (published.format("%B %-d, %Y").to_string()) }
                    @if p.versions.len() > 1 {
                        @if let Some(last) = p.versions.last() { " · v" (last.number) " " (last.created_at.format("%B %-d, %Y").to_string()) }
                    }
                    @if let Some(d) = &page.daily { " · on the " a href={ "/daily/" (d.day) } { "daily list of " (d.day.format("%B %-d").to_string()) } " by " a href={ "/u/" (d.submitted_by) } { (d.submitted_by) } }
                }
            }
            div.actions {
                (vote_form(ctx, id, stored.upvotes, page.voted))
                (super::library::save_form(ctx, id, marks.saved.contains(&stored.paper_id), &marks.here))
                (super::library::follow_form(ctx, paperboy_store::FollowKind::Paper, id, following, "this paper", &marks.here))
                a.button href=(p.id.abs_url()) { "arXiv page" }
                a.button href=(p.id.pdf_url()) { "PDF" }
                @if let Some(repo) = stored.github_repo() {
                    a.button.code href=(repo) rel="nofollow noopener" {
                        "Code: " (repo.trim_start_matches("https://"))
                        @if let Some(s) = stored.github_stars { " · ★ " span.stars { (s) } }
                    }
                }
                @for link in p.code_links.iter().filter(|l| Some(l.url.as_str()) != stored.github_repo()) {
                    a.button href=(link.url) rel="nofollow noopener" { "Code: " (link.url.trim_start_matches("https://")) }
                }
                @if let Some(pp) = &stored.project_page { a.button href=(pp) rel="nofollow noopener" { "Project page" } }
                a.button href={ "/papers/" (id) ".md" } { "Markdown" }
            }
            section aria-labelledby="abstract-h" {
                h2 #abstract-h { "Abstract" }
                p.abstract-full { (PreEscaped(paperboy_app::tex::tex_html(&p.abstract_text))) }
            }
            @if p.comments.is_some() || p.journal_ref.is_some() || p.doi.is_some() {
                dl.facts {
                    @if let Some(c) = &p.comments { dt { "Comments" } dd { (c) } }
                    @if let Some(j) = &p.journal_ref { dt { "Journal reference" } dd { (j) } }
                    @if let Some(d) = &p.doi { dt { "DOI" } dd { a href={ "https://doi.org/" (d) } { (d) } } }
                }
            }
            (author_tools(ctx, page))
            (discussion(ctx, page, moderator))
            (citation_lists(page))
            @if !page.related.is_empty() {
                section aria-labelledby="related-h" {
                    h2 #related-h { "Related papers" }
                    ol.papers { @for lp in &page.related { li { (paper_item(ctx, lp, marks, None)) } } }
                }
            }
        }
    }
}

/// Entries of a references or cited-by list shown before "Show all".
const FIRST_SHOWN: usize = 10;

/// "References (n)" and "Cited by (n)": resolved entries link to their
/// papers here, the others are the entry's text; each citing paper with
/// the sentence that cites. Section titles of the full text, when read,
/// with a link to arXiv for reading it (its licence allows no copy here).
fn citation_lists(page: &PaperPage) -> Markup {
    use paperboy_app::citations::ReferenceView;
    let id = page.stored.paper.id.as_str();
    let reference = |r: &ReferenceView| match r {
        ReferenceView::Paper(c) => html! {
            a href={ "/papers/" (c.paper.id) } { (c.paper.title) }
            " " span.muted { "(" (c.paper.id) ")" }
        },
        ReferenceView::Text(t) => html! { (t) },
    };
    let citing = |c: &paperboy_app::citations::CitedPaper| {
        html! {
            a href={ "/papers/" (c.paper.id) } { (c.paper.title) }
            @if let Some(ctx) = &c.context { blockquote.citing { (ctx) } }
        }
    };
    let refs = &page.references;
    let cites = &page.citations;
    html! {
        @if !page.sections.is_empty() {
            section aria-labelledby="contents-h" {
                h2 #contents-h { "Contents" }
                ol.contents { @for t in &page.sections { li { (t) } } }
                (search_in_paper_form(id, ""))
                p.muted { "Read the full text on " a href={ "https://arxiv.org/html/" (id) } { "arXiv" } "." }
            }
        }
        section aria-labelledby="references-h" {
            h2 #references-h { "References (" (refs.len()) ")" }
            @if refs.is_empty() {
                p.muted { "None read yet: references come from the paper's full text on arXiv, fetched in the background." }
            } @else {
                ol.references { @for r in refs.iter().take(FIRST_SHOWN) { li { (reference(r)) } } }
                @if refs.len() > FIRST_SHOWN {
                    details { summary { "Show all " (refs.len()) }
                        ol.references start=(FIRST_SHOWN + 1) { @for r in refs.iter().skip(FIRST_SHOWN) { li { (reference(r)) } } }
                    }
                }
            }
        }
        section aria-labelledby="citations-h" {
            h2 #citations-h { "Cited by (" (page.stored.citation_count) ")" }
            @if let Some(n) = page.cited_elsewhere {
                p.muted #cited-elsewhere { "OpenAlex counts " (n) " works citing it, here or elsewhere." }
            }
            @if cites.is_empty() {
                p.muted { "No paper here cites it yet (as far as their full texts have been read)." }
            } @else {
                ul.citations { @for c in cites.iter().take(FIRST_SHOWN) { li { (citing(c)) } } }
                @if cites.len() > FIRST_SHOWN {
                    details { summary { "Show all " (cites.len()) }
                        ul.citations { @for c in cites.iter().skip(FIRST_SHOWN) { li { (citing(c)) } } }
                    }
                }
            }
        }
    }
}

/// Claiming an authorship; setting links for an approved author;
/// reporting, locking and removing for members and moderators.
fn author_tools(ctx: &Ctx, page: &PaperPage) -> Markup {
    let Some(user) = &ctx.user else {
        return html! {};
    };
    let stored = &page.stored;
    let id = stored.paper.id.as_str();
    let moderator = user.role.can_moderate();
    html! {
        section.tools aria-label="Paper tools" {
            @if !page.viewer_is_author {
                details.claim {
                    summary { "Are you an author of this paper?" }
                    form method="post" action={ "/papers/" (id) "/claim" } {
                        (ctx.csrf_field())
                        label for="claim-position" { "I am" }
                        select #claim-position name="position" {
                            @for (i, a) in stored.paper.authors.iter().enumerate() {
                                option value=(i + 1) { (a.name) " (author " (i + 1) ")" }
                            }
                        }
                        button type="submit" { "Claim authorship" }
                        p.meta { "A moderator checks each claim before it shows." }
                    }
                }
            }
            @if page.viewer_is_author || moderator {
                details.links {
                    summary { "Set the code link and project page" }
                    form.stack method="post" action={ "/papers/" (id) "/links" } {
                        (ctx.csrf_field())
                        label for="github-repo" { "GitHub repository" }
                        input #github-repo type="url" name="github_repo" placeholder="https://github.com/owner/name" value=[stored.claimed_github_repo.as_deref()];
                        label for="project-page" { "Project page" }
                        input #project-page type="url" name="project_page" placeholder="https://…" value=[stored.project_page.as_deref()];
                        button type="submit" { "Save links" }
                        p.meta { "Changes appear in the public moderation log." }
                    }
                }
            }
            @if page.daily.is_some() {
                details.report {
                    summary { "Report this submission" }
                    form.stack method="post" action={ "/papers/" (id) "/report" } {
                        (ctx.csrf_field())
                        label for="report-submission" { "Why should moderators look at it?" }
                        input #report-submission name="reason" required maxlength="1000";
                        button type="submit" { "Report" }
                    }
                }
            }
            @if moderator {
                details.moderate {
                    summary { "Moderate" }
                    form.stack method="post" action={ "/papers/" (id) "/lock" } {
                        (ctx.csrf_field())
                        input type="hidden" name="action" value=(if page.discussion.locked { "unlock" } else { "lock" });
                        label for="lock-reason" { "Reason (public)" }
                        input #lock-reason name="reason" required maxlength="1000";
                        button type="submit" { (if page.discussion.locked { "Unlock the discussion" } else { "Lock the discussion" }) }
                    }
                    @if page.daily.is_some() {
                        form.stack method="post" action={ "/papers/" (id) "/remove-submission" } {
                            (ctx.csrf_field())
                            label for="remove-reason" { "Reason (public)" }
                            input #remove-reason name="reason" required maxlength="1000";
                            button type="submit" { "Remove from the daily list" }
                        }
                    }
                }
            }
        }
    }
}

fn discussion(ctx: &Ctx, page: &PaperPage, moderator: bool) -> Markup {
    let d = &page.discussion;
    let id = page.stored.paper.id.as_str();
    let count = page.stored.num_comments;
    html! {
        section #discussion aria-labelledby="discussion-h" {
            h2 #discussion-h { "Discussion (" (count) ")" }
            @if d.locked { p.notice { "A moderator locked this discussion: no new comments." } }
            @if d.entries.is_empty() { p { "No comments yet." } }
            ol.comments {
                @for e in &d.entries { li { (entry(ctx, id, e, d, moderator)) } }
            }
            @if !d.locked {
                @if ctx.user.is_some() {
                    form.comment-form.stack method="post" action={ "/papers/" (id) "/comments" } {
                        (ctx.csrf_field())
                        label for="new-comment" { "Add a comment" }
                        textarea #new-comment name="body" rows="5" required maxlength=(paperboy_app::markdown::MAX_CHARS) {}
                        p.meta { "Markdown; TeX between $…$ stays as typed. At most " (paperboy_app::markdown::MAX_CHARS) " characters." }
                        button type="submit" { "Comment" }
                    }
                } @else {
                    p { a href={ "/login?next=" (urlencode(&format!("/papers/{id}#discussion"))) } { "Log in" } " to comment." }
                }
            }
        }
    }
}

fn entry(
    ctx: &Ctx,
    paper: &str,
    e: &ThreadEntry,
    d: &paperboy_app::discussions::Discussion,
    moderator: bool,
) -> Markup {
    html! {
        (comment(ctx, &e.comment, d, moderator))
        @if !d.locked && ctx.user.is_some() && e.comment.is_visible() {
            details.reply {
                summary { "Reply" }
                form.stack method="post" action={ "/papers/" (paper) "/comments" } {
                    (ctx.csrf_field())
                    input type="hidden" name="parent_id" value=(e.comment.comment_id.0);
                    label for={ "reply-" (e.comment.comment_id.0) } { "Your reply" }
                    textarea id={ "reply-" (e.comment.comment_id.0) } name="body" rows="3" required maxlength=(paperboy_app::markdown::MAX_CHARS) {}
                    button type="submit" { "Reply" }
                }
            }
        }
        @if !e.replies.is_empty() {
            ol.replies { @for r in &e.replies { li { (comment(ctx, r, d, moderator)) } } }
        }
    }
}

fn comment(
    ctx: &Ctx,
    c: &Comment,
    d: &paperboy_app::discussions::Discussion,
    moderator: bool,
) -> Markup {
    let cid = c.comment_id.0;
    let mine = ctx.user.as_ref().is_some_and(|u| u.user_id == c.author_id);
    let voted = d.voted.contains(&c.comment_id);
    let created = c.created_at;
    html! {
        article.comment id={ "comment-" (cid) } data-comment-id=(cid) {
            @if c.deleted_at.is_some() {
                p.placeholder { "[deleted]" }
            } @else if c.hidden_at.is_some() && !moderator {
                p.placeholder { "[hidden by a moderator]" }
            } @else {
                header.meta {
                    a href={ "/u/" (c.author) } { (c.author) }
                    " · "
                    a href={ "#comment-" (cid) } { time datetime=(created.to_rfc3339()) { (created.format("%b %-d, %Y %H:%M").to_string()) } }
                    @if let Some(t) = c.edited_at { " · " span.edited title={ "Edited " (t.format("%b %-d, %Y %H:%M").to_string()) } { "edited" } }
                    @if c.hidden_at.is_some() { " · " strong { "hidden by a moderator" } }
                    " · " span.comment-votes { (c.upvotes) " " (if c.upvotes == 1 { "upvote" } else { "upvotes" }) }
                }
                div.comment-body { (PreEscaped(&c.html)) }
                @if ctx.user.is_some() {
                    div.comment-actions {
                        form.inline method="post" action={ "/comments/" (cid) "/upvote" } {
                            (ctx.csrf_field())
                            input type="hidden" name="action" value=(if voted { "remove" } else { "add" });
                            button.link type="submit" aria-pressed=(if voted { "true" } else { "false" }) { (if voted { "Remove upvote" } else { "Upvote" }) }
                        }
                        @if mine && !d.locked {
                            details.edit {
                                summary { "Edit" }
                                form.stack method="post" action={ "/comments/" (cid) "/edit" } {
                                    (ctx.csrf_field())
                                    label for={ "edit-" (cid) } { "Edit your comment" }
                                    textarea id={ "edit-" (cid) } name="body" rows="4" required maxlength=(paperboy_app::markdown::MAX_CHARS) { (c.body) }
                                    button type="submit" { "Save" }
                                }
                            }
                        }
                        @if mine || moderator {
                            form.inline method="post" action={ "/comments/" (cid) "/delete" } {
                                (ctx.csrf_field())
                                button.link type="submit" { "Delete" }
                            }
                        }
                        @if !mine {
                            details.report {
                                summary { "Report" }
                                form.stack method="post" action={ "/comments/" (cid) "/report" } {
                                    (ctx.csrf_field())
                                    label for={ "report-" (cid) } { "Why should moderators look at it?" }
                                    input id={ "report-" (cid) } name="reason" required maxlength="1000";
                                    button type="submit" { "Report" }
                                }
                            }
                        }
                        @if moderator {
                            details.moderate {
                                summary { (if c.hidden_at.is_some() { "Restore" } else { "Hide" }) }
                                form.stack method="post" action={ "/mod/comments/" (cid) } {
                                    (ctx.csrf_field())
                                    input type="hidden" name="action" value=(if c.hidden_at.is_some() { "restore" } else { "hide" });
                                    label for={ "mod-" (cid) } { "Reason (public)" }
                                    input id={ "mod-" (cid) } name="reason" required maxlength="1000";
                                    button type="submit" { (if c.hidden_at.is_some() { "Restore comment" } else { "Hide comment" }) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
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
        link rel="alternate" type="text/markdown" href={ "/papers/" (p.id) ".md" };
    }
}

#[derive(Deserialize)]
struct VoteForm {
    csrf: Option<String>,
    action: Option<String>,
}

csrf_form!(VoteForm);

/// Where to go back to after a form: the page it came from when it is ours.
pub fn back_to(state: &AppState, headers: &HeaderMap, fallback: String) -> String {
    headers
        .get(axum::http::header::REFERER)
        .and_then(|v| v.to_str().ok())
        .filter(|r| r.starts_with(&state.app.settings.base_url) || r.starts_with('/'))
        .map(str::to_string)
        .unwrap_or(fallback)
}

/// 303 to `to`.
pub fn see_other(to: &str) -> Response {
    (
        StatusCode::SEE_OTHER,
        [(axum::http::header::LOCATION, to.to_string())],
    )
        .into_response()
}

/// To the login page, coming back to `next`.
pub fn to_login(next: &str) -> Response {
    Redirect::to(&format!("/login?next={}", urlencode(next))).into_response()
}

async fn post_upvote(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    PagePath(id): PagePath,
    CheckedForm(form): CheckedForm<VoteForm>,
) -> Result<Response, PageError> {
    let Some(user) = ctx.user.as_ref() else {
        return Ok(to_login(&format!("/papers/{id}")));
    };
    let up = form.action.as_deref() != Some("remove");
    state.app.upvote(user, &id, up).await?;
    Ok(see_other(&back_to(
        &state,
        &headers,
        format!("/papers/{id}"),
    )))
}
