//! A member's own pages: `/library` (saved papers by tag, searchable and
//! sortable; import a file; collections and the private feed), `/for-you`
//! (recommendations with their reasons, 👍/👎, not interested), a public
//! collection at `/u/{username}/{tag}`; the save and follow buttons every
//! paper carries. Every action is a plain form.

use std::collections::HashMap;

use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use maud::{html, Markup};
use paperboy_app::library::ImportReport;
use paperboy_app::recommend::RecRequest;
use paperboy_store::{FollowKind, LibraryQuery, LibrarySort, MuteKind};
use serde::Deserialize;

use super::paper::see_other;
use super::{
    csrf_form, marks, page_param, paper_href, paper_item, urlencode, CheckedForm, Ctx, Member,
    PageError, PagePath,
};
use crate::api::paper_route;
use crate::{auth, ApiError, AppState};

pub fn router() -> Router<AppState> {
    let r = Router::new()
        .route("/library", get(get_library))
        .route(
            "/library/import",
            // A library file may be large (10 MB of BibTeX is ~50,000
            // entries); the app refuses past its own limit with a sentence.
            post(post_import).layer(axum::extract::DefaultBodyLimit::max(
                paperboy_app::library::MAX_IMPORT_BYTES + 64 * 1024,
            )),
        )
        .route("/library/visibility", post(post_visibility))
        .route("/library/feed", post(post_feed))
        .route("/for-you", get(get_for_you))
        .route("/for-you/feedback", post(post_feedback))
        .route("/for-you/mute", post(post_mute))
        .route("/follow", post(post_follow))
        .route("/u/{username}/{tag}", get(get_collection));
    paper_route(r, "/papers", "/save", post(post_save))
}

const PAGE_SIZE: u32 = 50;

/// Where a form sends the reader back to: a path on this site, or `fallback`.
fn back_to(next: Option<&str>, fallback: &str) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_string(),
        _ => fallback.to_string(),
    }
}

/// The save button of a paper: adds to (or removes from) the library.
pub fn save_form(ctx: &Ctx, id: &str, saved: bool, next: &str) -> Markup {
    html! {
        form.save method="post" action={ "/papers/" (id) "/save" } {
            (ctx.csrf_field())
            input type="hidden" name="action" value=(if saved { "remove" } else { "add" });
            input type="hidden" name="next" value=(next);
            button type="submit" aria-pressed=(if saved { "true" } else { "false" }) {
                (if saved { "★ Saved" } else { "☆ Save" })
            }
        }
    }
}

/// Follow (or unfollow) a paper, an author or a search.
pub fn follow_form(
    ctx: &Ctx,
    kind: FollowKind,
    target: &str,
    following: bool,
    label: &str,
    next: &str,
) -> Markup {
    html! {
        form.follow method="post" action="/follow" {
            (ctx.csrf_field())
            input type="hidden" name="kind" value=(kind.as_str());
            input type="hidden" name="target" value=(target);
            input type="hidden" name="action" value=(if following { "unfollow" } else { "follow" });
            input type="hidden" name="next" value=(next);
            button type="submit" aria-pressed=(if following { "true" } else { "false" }) {
                (if following { "Following " } else { "Follow " }) (label)
            }
        }
    }
}

#[derive(Deserialize)]
struct SaveForm {
    csrf: Option<String>,
    action: Option<String>,
    tags: Option<String>,
    next: Option<String>,
}

async fn post_save(
    State(state): State<AppState>,
    PagePath(id): PagePath,
    Member(_ctx, user): Member,
    CheckedForm(f): CheckedForm<SaveForm>,
) -> Result<Response, PageError> {
    match f.action.as_deref() {
        Some("remove") => {
            state.app.unsave_paper(&user, &id).await?;
        }
        Some("untag") => {
            state
                .app
                .untag_paper(&user, &id, f.tags.as_deref().unwrap_or(""))
                .await?;
        }
        _ => {
            // Comma separated, as the box says: "merging, weight averaging"
            // is two tags (spaces inside one become hyphens).
            let tags: Vec<String> = f
                .tags
                .as_deref()
                .unwrap_or("")
                .split(',')
                .filter(|t| !t.trim().is_empty())
                .map(str::to_string)
                .collect();
            if tags.is_empty() {
                state.app.tag_paper(&user, &id, &[]).await?;
            } else {
                state.app.tag_paper(&user, &id, &tags).await?;
            }
        }
    }
    Ok(see_other(&back_to(
        f.next.as_deref(),
        &paper_href(id.as_str()),
    )))
}

#[derive(Deserialize)]
struct FollowForm {
    csrf: Option<String>,
    kind: String,
    target: String,
    action: Option<String>,
    next: Option<String>,
}

async fn post_follow(
    State(state): State<AppState>,
    Member(_ctx, user): Member,
    CheckedForm(f): CheckedForm<FollowForm>,
) -> Result<Response, PageError> {
    let kind = FollowKind::parse(&f.kind).ok_or_else(|| {
        ApiError::bad_request(format!(
            "`{}` cannot be followed (paper, author, search)",
            f.kind
        ))
    })?;
    let on = f.action.as_deref() != Some("unfollow");
    state.app.follow(&user, kind, &f.target, on).await?;
    Ok(see_other(&back_to(f.next.as_deref(), "/notifications")))
}

fn tag_nav(tags: &[paperboy_store::TagInfo], current: Option<&str>, base: &str) -> Markup {
    html! {
        nav.tags aria-label="Tags" {
            a href=(base) aria-current=[current.is_none().then_some("page")] { "All" }
            @for t in tags {
                " "
                a href={ (base) "?tag=" (urlencode(&t.tag)) } aria-current=[(current == Some(t.tag.as_str())).then_some("page")] {
                    (t.tag) " (" (t.papers) ")" @if t.public { " · public" }
                }
            }
        }
    }
}

async fn get_library(
    State(state): State<AppState>,
    Member(ctx, user): Member,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, PageError> {
    library_page(&state, &ctx, &user, &q, None, StatusCode::OK).await
}

async fn library_page(
    state: &AppState,
    ctx: &Ctx,
    user: &paperboy_core::User,
    q: &HashMap<String, String>,
    notice: Option<Markup>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let page = page_param(q, 10_000)?;
    let sort = match q.get("sort").map(String::as_str) {
        None | Some("") => LibrarySort::Added,
        Some(s) => LibrarySort::parse(s).ok_or_else(|| {
            ApiError::bad_request(format!("`{s}` is not a sort (added, published, title)"))
        })?,
    };
    let tag = q.get("tag").filter(|t| !t.is_empty()).cloned();
    let text = q.get("q").filter(|t| !t.trim().is_empty()).cloned();
    let query = LibraryQuery {
        tag: tag.clone(),
        text: text.clone(),
        sort,
        offset: page * PAGE_SIZE,
        limit: PAGE_SIZE,
    };
    let items = state.app.library(user, &query).await?;
    let tags = state.app.tags(user).await?;
    let papers: Vec<_> = items.iter().map(|i| i.paper.clone()).collect();
    let m = marks(state, ctx, &papers).await;
    let has_feed = state.app.has_feed_token(user).await?;
    let here = match &tag {
        Some(t) => format!("/library?tag={}", urlencode(t)),
        None => "/library".to_string(),
    };
    let body = html! {
        section.intro {
            h1 { "Your library" }
            p.lede { "Papers you saved, by tag. Only you see them, unless you make a tag a public collection. " a href="/for-you" { "Recommendations for you →" } }
        }
        @if let Some(n) = notice { (n) }
        (tag_nav(&tags, tag.as_deref(), "/library"))
        form.search-library method="get" action="/library" {
            @if let Some(t) = &tag { input type="hidden" name="tag" value=(t); }
            label for="lq" { "Title words" }
            input #lq type="search" name="q" value=(text.as_deref().unwrap_or(""));
            label for="sort" { "Sort" }
            select #sort name="sort" {
                @for (v, label) in [("added", "Newest saved"), ("published", "Newest paper"), ("title", "Title")] {
                    option value=(v) selected[sort.as_str() == v] { (label) }
                }
            }
            button type="submit" { "Show" }
        }
        @if items.is_empty() {
            p { "Nothing here yet. Save papers with ☆ Save on any list or paper page, or import a BibTeX file below." }
        }
        ol.papers {
            @for (i, lp) in items.iter().zip(papers.iter()) {
                li {
                    (paper_item(ctx, lp, &m, None))
                    div.tags {
                        @if !i.saved.tags.is_empty() { "Tags: " }
                        @for t in &i.saved.tags {
                            span.tag-chip {
                                a.tag href={ "/library?tag=" (urlencode(t)) } { (t) }
                                form.inline method="post" action={ "/papers/" (lp.stored.paper.id) "/save" } {
                                    (ctx.csrf_field())
                                    input type="hidden" name="action" value="untag";
                                    input type="hidden" name="tags" value=(t);
                                    input type="hidden" name="next" value=(here);
                                    button.link type="submit" aria-label={ "Remove the tag " (t) } title={ "Remove the tag " (t) } { "×" }
                                }
                            }
                            " "
                        }
                        form.inline method="post" action={ "/papers/" (lp.stored.paper.id) "/save" } {
                            (ctx.csrf_field())
                            input type="hidden" name="action" value="add";
                            input type="hidden" name="next" value=(here);
                            label.visually-hidden for={ "tags-" (lp.stored.paper_id.0) } { "Add tags" }
                            input id={ "tags-" (lp.stored.paper_id.0) } type="text" name="tags" placeholder="add tags, comma separated" size="24";
                            button type="submit" { "Tag" }
                        }
                    }
                }
            }
        }
        nav.pager aria-label="Pages" {
            @if page > 0 { a rel="prev" href={ (here) (if here.contains('?') { "&" } else { "?" }) "p=" (page - 1) } { "← Back" } }
            @if items.len() as u32 == PAGE_SIZE { a rel="next" href={ (here) (if here.contains('?') { "&" } else { "?" }) "p=" (page + 1) } { "More →" } }
        }
        section.import {
            h2 { "Import" }
            p { "A BibTeX file (from Zotero, Mendeley, JabRef or Google Scholar) or a list of arXiv ids or URLs, one a line. Papers not here yet are fetched from arXiv." }
            form.stack method="post" action="/library/import" enctype="multipart/form-data" {
                (ctx.csrf_field())
                label for="file" { "File" }
                input #file type="file" name="file" accept=".bib,.txt,text/plain";
                label for="itag" { "Tag every imported paper (optional)" }
                input #itag type="text" name="tag" value=(tag.as_deref().unwrap_or(""));
                button type="submit" { "Import" }
            }
            p { "Export: "
                a href={ "/api/me/library/export?format=bibtex" @if let Some(t) = &tag { "&tag=" (urlencode(t)) } } { "BibTeX" } " · "
                a href={ "/api/me/library/export?format=json" @if let Some(t) = &tag { "&tag=" (urlencode(t)) } } { "JSON" } " · "
                a href={ "/api/me/library/export?format=csv" @if let Some(t) = &tag { "&tag=" (urlencode(t)) } } { "CSV" }
            }
        }
        @if !tags.is_empty() {
            section.collections {
                h2 { "Collections" }
                p { "A public tag is a collection anyone can read at its own address, with a feed." }
                ul {
                    @for t in &tags {
                        li {
                            @if t.public {
                                a href={ "/u/" (user.username) "/" (urlencode(&t.tag)) } { (t.tag) } " is public "
                            } @else {
                                (t.tag) " is private "
                            }
                            form.inline method="post" action="/library/visibility" {
                                (ctx.csrf_field())
                                input type="hidden" name="tag" value=(t.tag);
                                input type="hidden" name="public" value=(if t.public { "off" } else { "on" });
                                button type="submit" { (if t.public { "Make private" } else { "Make public" }) }
                            }
                        }
                    }
                }
            }
        }
        section.private-feed {
            h2 { "Your private feed" }
            p { "Recommendations and alerts in your feed reader, at an address only you know. A new address leaves the old ones working until you revoke them." }
            form.inline method="post" action="/library/feed" {
                (ctx.csrf_field())
                input type="hidden" name="action" value="new";
                button type="submit" { "Make a feed address" }
            }
            @if has_feed {
                " "
                form.inline method="post" action="/library/feed" {
                    (ctx.csrf_field())
                    input type="hidden" name="action" value="revoke";
                    button type="submit" { "Revoke every feed address" }
                }
            }
        }
    };
    Ok(ctx.render(status, "Your library", body))
}

fn import_notice(r: &ImportReport) -> Markup {
    html! {
        section.notice role="status" {
            p {
                "Imported " (r.added) " new " (if r.added == 1 { "paper" } else { "papers" })
                " (" (r.already) " already saved, " (r.fetched) " fetched from arXiv) from " (r.entries) " entries."
            }
            @if r.fetching > 0 {
                p { "Fetching " (super::plural(r.fetching as u64, "paper", "papers")) " this store lacks from arXiv (it asks for a pause between requests): "
                    (if r.fetching == 1 { "it is" } else { "they are" }) " saved as " (if r.fetching == 1 { "it arrives" } else { "they arrive" })
                    ", and " a href="/notifications" { "a notification" } " says how it went." }
            }
            @if !r.problems.is_empty() {
                p.error { (r.problems.len()) " not imported:" }
                ul.problems {
                    @for p in r.problems.iter().take(200) { li { "line " (p.line) ": " (p.message) } }
                    @if r.problems.len() > 200 { li { "… and " (r.problems.len() - 200) " more" } }
                }
            }
        }
    }
}

async fn post_import(
    State(state): State<AppState>,
    Member(ctx, user): Member,
    headers: HeaderMap,
    mut form: Multipart,
) -> Result<Response, PageError> {
    let (mut csrf, mut tag, mut file) = (None, None, None);
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|e| ApiError::bad_request(format!("the upload could not be read: {e}")))?
    {
        let name = field.name().unwrap_or("").to_string();
        let bytes = field
            .bytes()
            .await
            .map_err(|e| ApiError::bad_request(format!("the upload could not be read: {e}")))?;
        match name.as_str() {
            "csrf" => csrf = Some(String::from_utf8_lossy(&bytes).into_owned()),
            "tag" => tag = Some(String::from_utf8_lossy(&bytes).trim().to_string()),
            "file" => file = Some(bytes),
            _ => {}
        }
    }
    if !auth::csrf_ok(&headers, csrf.as_deref()) {
        return Err(
            ApiError::forbidden("This form has expired; reload the page and try again.").into(),
        );
    }
    let Some(file) = file.filter(|f| !f.is_empty()) else {
        return Err(ApiError::bad_request("choose a file to import").into());
    };
    let text = std::str::from_utf8(&file).map_err(|e| {
        ApiError::bad_request(format!(
            "the file is not UTF-8 text (byte {})",
            e.valid_up_to()
        ))
    })?;
    let tag = tag.filter(|t| !t.is_empty());
    let report = state
        .app
        .import_library(
            &user,
            text,
            tag.as_deref(),
            paperboy_app::library::ArxivFetches::Later,
            &|_, _| {},
        )
        .await?;
    let mut q = HashMap::new();
    if let Some(t) = tag {
        q.insert("tag".to_string(), t.to_lowercase());
    }
    library_page(
        &state,
        &ctx,
        &user,
        &q,
        Some(import_notice(&report)),
        StatusCode::OK,
    )
    .await
}

#[derive(Deserialize)]
struct VisibilityForm {
    csrf: Option<String>,
    tag: String,
    public: Option<String>,
}

async fn post_visibility(
    State(state): State<AppState>,
    Member(_ctx, user): Member,
    CheckedForm(f): CheckedForm<VisibilityForm>,
) -> Result<Response, PageError> {
    let public = f.public.as_deref() == Some("on");
    state.app.set_tag_public(&user, &f.tag, public).await?;
    Ok(see_other("/library"))
}

#[derive(Deserialize)]
struct FeedForm {
    csrf: Option<String>,
    action: String,
}

async fn post_feed(
    State(state): State<AppState>,
    Member(ctx, user): Member,
    CheckedForm(f): CheckedForm<FeedForm>,
) -> Result<Response, PageError> {
    let notice = if f.action == "revoke" {
        let n = state.app.revoke_feed_tokens(&user).await?;
        html! { section.notice role="status" { p { "Revoked " (n) " feed " (if n == 1 { "address" } else { "addresses" }) "; they no longer answer." } } }
    } else {
        let token = state.app.new_feed_token(&user).await?;
        let base = state.app.settings.base_url.trim_end_matches('/');
        let url = format!("{base}/feeds/u/{token}/for-you.atom");
        html! {
            section.notice role="status" {
                p { "Your private feed (shown once; keep it to yourself):" }
                p { input.feed-url type="text" readonly value=(url) size="80" aria-label="Private feed address"; }
                p { "For one tag, add " code { "?tag=NAME" } "." }
            }
        }
    };
    library_page(
        &state,
        &ctx,
        &user,
        &HashMap::new(),
        Some(notice),
        StatusCode::OK,
    )
    .await
}

async fn get_for_you(
    State(state): State<AppState>,
    Member(ctx, user): Member,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let tag = q.get("tag").filter(|t| !t.is_empty()).cloned();
    let days = match q.get("days").map(String::as_str) {
        None | Some("") => 7,
        Some(d) => d
            .parse::<u32>()
            .map_err(|_| ApiError::bad_request(format!("`{d}` is not a number of days")))?,
    };
    let req = RecRequest::new(tag.as_deref(), days, 30)?;
    let recs = state.app.recommendations(&user, &req).await?;
    // What the last 👍/👎 was, to confirm it and offer to undo it.
    let rated = match (q.get("rated"), q.get("v").map(String::as_str)) {
        (Some(r), Some(v @ ("1" | "-1"))) => match crate::api::parse_id(r) {
            Ok(id) => state
                .app
                .listed_in_order(std::slice::from_ref(&id))
                .await?
                .pop()
                .map(|l| (id, l.stored.paper.title, v == "1")),
            Err(_) => None,
        },
        _ => None,
    };
    let saved = if recs.is_empty() {
        state.app.library_ids(&user, tag.as_deref()).await?.len()
    } else {
        0
    };
    let tags = state.app.tags(&user).await?;
    let mutes = state.app.mutes(&user).await?;
    let papers: Vec<_> = recs.iter().map(|r| r.paper.clone()).collect();
    let m = marks(&state, &ctx, &papers).await;
    let similar_ids: Vec<_> = recs
        .iter()
        .flat_map(|r| r.similar_to.iter().cloned())
        .collect();
    let titles: HashMap<String, String> = state
        .app
        .listed_in_order(&similar_ids)
        .await?
        .into_iter()
        .map(|l| (l.stored.paper.id.as_str().to_string(), l.stored.paper.title))
        .collect();
    let here = format!(
        "/for-you?days={days}{}",
        tag.as_ref()
            .map(|t| format!("&tag={}", urlencode(t)))
            .unwrap_or_default()
    );
    let body = html! {
        section.intro {
            h1 { "For you" }
            p.lede {
                "Papers near your " a href="/library" { "library" } ", with the reasons. "
                @if days == 0 { "From the whole store. " a href={ "/for-you?days=7" @if let Some(t) = &tag { "&tag=" (urlencode(t)) } } { "Only the last 7 days" } }
                @else { "From the last " (days) " days. " a href={ "/for-you?days=0" @if let Some(t) = &tag { "&tag=" (urlencode(t)) } } { "From the whole store" } }
            }
        }
        (tag_nav(&tags, tag.as_deref(), "/for-you"))
        @if let Some((id, title, up)) = &rated {
            div.notice role="status" {
                (if *up { "Noted: more like " } else { "Noted: less like " }) "“" (title) "”. "
                @if *up { "(A 👍 teaches your recommendations; it does not save the paper: ☆ Save on it does.) " }
                form.inline method="post" action="/for-you/feedback" {
                    (ctx.csrf_field())
                    input type="hidden" name="id" value=(id);
                    input type="hidden" name="value" value="0";
                    input type="hidden" name="next" value=(here);
                    button.link type="submit" { "Undo" }
                }
            }
        }
        @if recs.is_empty() {
            @if saved == 0 {
                p.empty { "No recommendations yet: " (if tag.is_some() { "no paper carries this tag. " } else { "your library is empty. " }) "Save a few papers (☆ Save on any paper) or " a href="/library" { "import your BibTeX" } ", and papers near them appear here." }
            } @else if days > 0 {
                p.empty { "None of the papers of the last " (super::plural(u64::from(days), "day", "days")) " is near your " (super::plural(saved as u64, "saved paper", "saved papers")) ". "
                    a href={ "/for-you?days=0" @if let Some(t) = &tag { "&tag=" (urlencode(t)) } } { "Look in the whole store" } "." }
            } @else {
                p.empty { "Nothing near your " (super::plural(saved as u64, "saved paper", "saved papers")) " yet: the store is still being indexed, or holds nothing else near them. Try again in a minute." }
            }
        }
        ol.papers.recommendations {
            @for r in &recs {
                @let id = r.paper.stored.paper.id.as_str();
                li {
                    (paper_item(&ctx, &r.paper, &m, None))
                    div.why {
                        p {
                            "Why: close to "
                            @for (i, s) in r.similar_to.iter().enumerate() {
                                @if i > 0 { ", " }
                                a href=(paper_href(s.as_str())) { (titles.get(s.as_str()).cloned().unwrap_or_else(|| s.to_string())) }
                            }
                            @if !r.terms.is_empty() {
                                "; shares " @for (i, t) in r.terms.iter().enumerate() { @if i > 0 { ", " } em.term { (t) } }
                            }
                        }
                        form.inline method="post" action="/for-you/feedback" {
                            (ctx.csrf_field())
                            input type="hidden" name="id" value=(id);
                            input type="hidden" name="value" value="1";
                            input type="hidden" name="next" value=(here);
                            button type="submit" { span aria-hidden="true" { "👍 " } "More like this" }
                        }
                        form.inline method="post" action="/for-you/feedback" {
                            (ctx.csrf_field())
                            input type="hidden" name="id" value=(id);
                            input type="hidden" name="value" value="-1";
                            input type="hidden" name="next" value=(here);
                            button.dislike type="submit" { span aria-hidden="true" { "👎 " } "Less like this" }
                        }
                        span.mute-controls {
                        @if let Some(c) = r.paper.stored.paper.categories.first() {
                            form.inline method="post" action="/for-you/mute" {
                                (ctx.csrf_field())
                                input type="hidden" name="kind" value="category";
                                input type="hidden" name="value" value=(c.as_str());
                                input type="hidden" name="next" value=(here);
                                button.link type="submit" { "Not interested in " (c.as_str()) }
                            }
                        }
                        " · "
                        @if let Some(a) = r.paper.stored.paper.authors.first() {
                            form.inline method="post" action="/for-you/mute" {
                                (ctx.csrf_field())
                                input type="hidden" name="kind" value="author";
                                input type="hidden" name="value" value=(a.name);
                                input type="hidden" name="next" value=(here);
                                button.link type="submit" { "Not interested in " (a.name) }
                            }
                        }
                        }
                    }
                }
            }
        }
        @if !mutes.is_empty() {
            section.mutes {
                h2 { "Not interested in" }
                ul {
                    @for (k, v) in &mutes {
                        li {
                            (k.as_str()) " " (v) " "
                            form.inline method="post" action="/for-you/mute" {
                                (ctx.csrf_field())
                                input type="hidden" name="kind" value=(k.as_str());
                                input type="hidden" name="value" value=(v);
                                input type="hidden" name="action" value="unmute";
                                input type="hidden" name="next" value=(here);
                                button.link type="submit" { "Show again" }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(ctx.page("For you", body))
}

#[derive(Deserialize)]
struct FeedbackForm {
    csrf: Option<String>,
    id: String,
    value: i64,
    next: Option<String>,
}

async fn post_feedback(
    State(state): State<AppState>,
    Member(_ctx, user): Member,
    CheckedForm(f): CheckedForm<FeedbackForm>,
) -> Result<Response, PageError> {
    let id = crate::api::parse_id(&f.id)?;
    state.app.rec_feedback(&user, &id, f.value).await?;
    // Back to the list, which says what was noted and offers to undo it.
    let back = back_to(f.next.as_deref(), "/for-you");
    let sep = if back.contains('?') { '&' } else { '?' };
    let back = if back.starts_with("/for-you") && f.value != 0 {
        format!("{back}{sep}rated={}&v={}", urlencode(id.as_str()), f.value)
    } else {
        back
    };
    Ok(see_other(&back))
}

#[derive(Deserialize)]
struct MuteForm {
    csrf: Option<String>,
    kind: String,
    value: String,
    action: Option<String>,
    next: Option<String>,
}

async fn post_mute(
    State(state): State<AppState>,
    Member(_ctx, user): Member,
    CheckedForm(f): CheckedForm<MuteForm>,
) -> Result<Response, PageError> {
    let kind = MuteKind::parse(&f.kind).ok_or_else(|| {
        ApiError::bad_request(format!("`{}` is neither category nor author", f.kind))
    })?;
    let on = f.action.as_deref() != Some("unmute");
    state.app.mute(&user, kind, &f.value, on).await?;
    Ok(see_other(&back_to(f.next.as_deref(), "/for-you")))
}

async fn get_collection(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((username, tag)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let (owner, items) = state.app.collection(&username, &tag, 500).await?;
    let papers: Vec<_> = items.iter().map(|i| i.paper.clone()).collect();
    let m = marks(&state, &ctx, &papers).await;
    let tag = tag.trim().to_lowercase();
    let feed = format!(
        "/feeds/collection/{}/{}.atom",
        owner.username,
        urlencode(&tag)
    );
    let title = format!("{} · {}", tag, owner.username);
    let body = html! {
        section.intro {
            h1 { (tag) }
            p.lede { "A collection by " a href={ "/u/" (owner.username) } { (owner.username) } " · " (super::plural(items.len() as u64, "paper", "papers")) " · " a href=(feed) { "Atom feed" } }
        }
        ol.papers { @for lp in &papers { li { (paper_item(&ctx, lp, &m, None)) } } }
    };
    let head = html! { link rel="alternate" type="application/atom+xml" title={ (title) " (Atom)" } href=(feed); };
    Ok(ctx.render_with_head(StatusCode::OK, &title, head, body))
}

csrf_form!(
    SaveForm,
    FollowForm,
    VisibilityForm,
    FeedForm,
    FeedbackForm,
    MuteForm
);
