//! A member's library: `/library` (saved papers by tag, searchable and
//! sortable; import a file; collections and the private feed) and a public
//! collection at `/u/{username}/{tag}`. Every action is a plain form.

use std::collections::HashMap;

use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use maud::{html, Markup};
use paperboy_app::library::ImportReport;
use paperboy_store::{LibraryQuery, LibrarySort, ListedPaper, TagInfo};
use serde::Deserialize;

use super::paper::see_other;
use super::{
    csrf_form, marks, page_param, paper_item, post_button, urlencode, CheckedForm, Ctx, Member,
    PageError,
};
use crate::{auth, ApiError, AppState};

pub use super::saving::{follow_form, save_form};

pub fn router() -> Router<AppState> {
    Router::new()
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
        .route("/u/{username}/{tag}", get(get_collection))
        .merge(super::saving::router())
        .merge(super::for_you::router())
}

const PAGE_SIZE: u32 = 50;

pub(super) fn tag_nav(
    tags: &[paperboy_store::TagInfo],
    current: Option<&str>,
    base: &str,
) -> Markup {
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
                    (item_tags(ctx, &i.saved.tags, lp, &here))
                }
            }
        }
        nav.pager aria-label="Pages" {
            @if page > 0 { a rel="prev" href={ (here) (if here.contains('?') { "&" } else { "?" }) "p=" (page - 1) } { "← Back" } }
            @if items.len() as u32 == PAGE_SIZE { a rel="next" href={ (here) (if here.contains('?') { "&" } else { "?" }) "p=" (page + 1) } { "More →" } }
        }
        (import_section(ctx, tag.as_deref()))
        @if !tags.is_empty() {
            (collections_section(ctx, &user.username, &tags))
        }
        (feed_section(ctx, has_feed))
    };
    Ok(ctx.render(status, "Your library", body))
}

/// A saved paper's tags, each removable, and a field to add more.
fn item_tags(ctx: &Ctx, tags: &[String], lp: &ListedPaper, here: &str) -> Markup {
    html! {
        div.tags {
            @if !tags.is_empty() { "Tags: " }
            @for t in tags {
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

/// Importing a BibTeX file or a list of ids, and the export links.
fn import_section(ctx: &Ctx, tag: Option<&str>) -> Markup {
    html! {
        section.import {
            h2 { "Import" }
            p { "A BibTeX file (from Zotero, Mendeley, JabRef or Google Scholar) or a list of arXiv ids or URLs, one a line. Papers not here yet are fetched from arXiv." }
            form.stack method="post" action="/library/import" enctype="multipart/form-data" {
                (ctx.csrf_field())
                label for="file" { "File" }
                input #file type="file" name="file" accept=".bib,.txt,text/plain";
                label for="itag" { "Tag every imported paper (optional)" }
                input #itag type="text" name="tag" value=(tag.unwrap_or(""));
                button type="submit" { "Import" }
            }
            p { "Export: "
                a href={ "/api/me/library/export?format=bibtex" @if let Some(t) = tag { "&tag=" (urlencode(t)) } } { "BibTeX" } " · "
                a href={ "/api/me/library/export?format=json" @if let Some(t) = tag { "&tag=" (urlencode(t)) } } { "JSON" } " · "
                a href={ "/api/me/library/export?format=csv" @if let Some(t) = tag { "&tag=" (urlencode(t)) } } { "CSV" }
            }
        }
    }
}

/// The reader's tags, each made public (a collection) or private.
fn collections_section(ctx: &Ctx, username: &str, tags: &[TagInfo]) -> Markup {
    html! {
        section.collections {
            h2 { "Collections" }
            p { "A public tag is a collection anyone can read at its own address, with a feed." }
            ul {
                @for t in tags {
                    li {
                        @if t.public {
                            a href={ "/u/" (username) "/" (urlencode(&t.tag)) } { (t.tag) } " is public "
                        } @else {
                            (t.tag) " is private "
                        }
                        @let fields = [("tag", t.tag.as_str()), ("public", if t.public { "off" } else { "on" })];
                        (post_button(ctx, "/library/visibility", &fields, None, html! { (if t.public { "Make private" } else { "Make public" }) }))
                    }
                }
            }
        }
    }
}

/// Making and revoking the private feed's addresses.
fn feed_section(ctx: &Ctx, has_feed: bool) -> Markup {
    html! {
        section.private-feed {
            h2 { "Your private feed" }
            p { "Recommendations and alerts in your feed reader, at an address only you know. A new address leaves the old ones working until you revoke them." }
            (post_button(ctx, "/library/feed", &[("action", "new")], None, html! { "Make a feed address" }))
            @if has_feed {
                " "
                (post_button(ctx, "/library/feed", &[("action", "revoke")], None, html! { "Revoke every feed address" }))
            }
        }
    }
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

csrf_form!(VisibilityForm, FeedForm);
