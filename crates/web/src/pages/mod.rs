//! Server-rendered pages (maud: compile-time checked, auto-escaping).

mod about;
mod account;
mod authors;
mod discussion;
mod for_you;
mod library;
mod lists;
mod moderation;
mod notifications;
mod paper;
mod saving;
mod search;
mod submit;
mod subscribe;
mod user;

use axum::extract::FromRequestParts;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use maud::{html, Markup, PreEscaped, DOCTYPE};
use paperboy_app::accounts::new_token;
use paperboy_core::User;
use paperboy_store::ListedPaper;

use crate::auth::{self, MaybeUser};
use crate::{ApiError, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/static/style.css", get(style))
        .route("/static/app.js", get(script))
        .route("/prefs", get(get_prefs))
        .merge(lists::router())
        .merge(paper::router())
        .merge(account::router())
        .merge(submit::router())
        .merge(about::router())
        .merge(user::router())
        .merge(search::router())
        .merge(subscribe::router())
        .merge(discussion::router())
        .merge(moderation::router())
        .merge(notifications::router())
        .merge(authors::router())
        .merge(library::router())
}

/// How a reader likes the pages: a compact list (title, authors, date,
/// votes, one line) or the full one, and a light or dark theme (or the
/// system's). Kept in cookies for a year; `/prefs?view=compact&next=/`.
async fn get_prefs(
    ctx: Ctx,
    axum::extract::Query(q): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> Response {
    let mut cookies = Vec::new();
    let year = 365 * 86_400;
    if let Some(v) = q
        .get("view")
        .filter(|v| matches!(v.as_str(), "compact" | "full"))
    {
        cookies.push(auth::set_cookie(VIEW_COOKIE, v, year, false, ctx.secure));
    }
    if let Some(t) = q
        .get("theme")
        .filter(|t| matches!(t.as_str(), "light" | "dark" | "auto"))
    {
        cookies.push(auth::set_cookie(THEME_COOKIE, t, year, false, ctx.secure));
    }
    let next = q
        .get("next")
        .filter(|n| n.starts_with('/') && !n.starts_with("//") && !n.contains('\\'))
        .cloned()
        .unwrap_or_else(|| "/".into());
    let mut r = (
        StatusCode::SEE_OTHER,
        [(axum::http::header::LOCATION, next)],
    )
        .into_response();
    for c in cookies {
        if let Ok(v) = c.parse() {
            r.headers_mut().append(axum::http::header::SET_COOKIE, v);
        }
    }
    r
}

const VIEW_COOKIE: &str = "pb_view";
const THEME_COOKIE: &str = "pb_theme";

/// Links switching a preference, the current one marked.
pub(crate) fn view_switch(ctx: &Ctx) -> Markup {
    let next = urlencode(&ctx.path);
    html! {
        p.view-switch {
            "View: "
            a href={ "/prefs?view=full&next=" (next) } aria-current=[(!ctx.compact).then_some("true")] { "Full" }
            " · "
            a href={ "/prefs?view=compact&next=" (next) } aria-current=[ctx.compact.then_some("true")] { "Compact" }
        }
    }
}

const STYLE: &str = include_str!("../../static/style.css");
const SCRIPT: &str = include_str!("../../static/app.js");

async fn style() -> Response {
    (
        [
            (CONTENT_TYPE, "text/css; charset=utf-8"),
            (CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLE,
    )
        .into_response()
}

async fn script() -> Response {
    (
        [
            (CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (CACHE_CONTROL, "public, max-age=3600"),
        ],
        SCRIPT,
    )
        .into_response()
}

/// A form of one button posting `fields` (and the CSRF token) to
/// `action`: the shape of every 👍, mute, save and undo on the pages.
pub(crate) fn post_button(
    ctx: &Ctx,
    action: &str,
    fields: &[(&str, &str)],
    class: Option<&str>,
    label: Markup,
) -> Markup {
    html! {
        form.inline method="post" action=(action) {
            (ctx.csrf_field())
            @for (name, value) in fields {
                input type="hidden" name=(name) value=(value);
            }
            button type="submit" class=[class] { (label) }
        }
    }
}

/// Who is asking and the CSRF token their forms carry.
pub struct Ctx {
    pub user: Option<User>,
    pub csrf: String,
    new_csrf: bool,
    pub instance: String,
    pub secure: bool,
    /// The path and query of the page (forms come back to it).
    pub path: String,
    /// Unread notifications of the logged-in member (the header's badge).
    pub unread: i64,
    /// The compact list view (a `pb_view` cookie).
    pub compact: bool,
    /// `light` or `dark` when chosen (a `pb_theme` cookie); else the system's.
    pub theme: Option<&'static str>,
}

impl FromRequestParts<AppState> for Ctx {
    type Rejection = PageError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let user = MaybeUser::from_request_parts(parts, state)
            .await
            .map_err(PageError)?;
        let existing = auth::csrf_cookie(&parts.headers);
        let new_csrf = existing.is_none();
        let settings = &state.app.settings;
        let user = user.0.map(|(u, _)| u);
        let unread = match &user {
            Some(u) => state.app.unread_notifications(u).await.unwrap_or(0),
            None => 0,
        };
        let compact = auth::cookie(&parts.headers, VIEW_COOKIE).as_deref() == Some("compact");
        let theme = match auth::cookie(&parts.headers, THEME_COOKIE).as_deref() {
            Some("light") => Some("light"),
            Some("dark") => Some("dark"),
            _ => None,
        };
        Ok(Ctx {
            unread,
            compact,
            theme,
            user,
            csrf: existing.unwrap_or_else(new_token),
            new_csrf,
            instance: settings.instance_name.clone(),
            secure: settings.secure(),
            path: parts
                .uri
                .path_and_query()
                .map(|p| p.as_str().to_string())
                .unwrap_or_else(|| "/".into()),
        })
    }
}

/// A logged-in member and their page context; a visitor is sent to log
/// in, coming back to the page they were on.
pub struct Member(pub Ctx, pub User);

impl FromRequestParts<AppState> for Member {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let ctx = Ctx::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        match ctx.user.clone() {
            Some(u) => Ok(Member(ctx, u)),
            None => {
                let base = &state.app.settings.base_url;
                let back = parts
                    .headers
                    .get(axum::http::header::REFERER)
                    .and_then(|v| v.to_str().ok())
                    .map(|r| r.strip_prefix(base.as_str()).unwrap_or(r))
                    .filter(|r| r.starts_with('/') && !r.starts_with("//"))
                    .unwrap_or("/");
                Err(
                    axum::response::Redirect::to(&format!("/login?next={}", urlencode(back)))
                        .into_response(),
                )
            }
        }
    }
}

impl Ctx {
    /// A whole page with the given status.
    pub fn render(&self, status: StatusCode, title: &str, body: Markup) -> Response {
        self.render_with_head(status, title, html! {}, body)
    }

    /// A page with extra `<head>` elements (meta tags, feed links).
    pub fn render_with_head(
        &self,
        status: StatusCode,
        title: &str,
        head: Markup,
        body: Markup,
    ) -> Response {
        let mut resp =
            (status, Html(layout(self, title, head, body).into_string())).into_response();
        if self.new_csrf {
            let c = auth::set_cookie(
                auth::CSRF_COOKIE,
                &self.csrf,
                365 * 86_400,
                false,
                self.secure,
            );
            if let Ok(v) = c.parse() {
                resp.headers_mut().append(SET_COOKIE, v);
            }
        }
        resp
    }

    pub fn page(&self, title: &str, body: Markup) -> Response {
        self.render(StatusCode::OK, title, body)
    }

    pub fn csrf_field(&self) -> Markup {
        html! { input type="hidden" name="csrf" value=(self.csrf); }
    }
}

fn layout(ctx: &Ctx, title: &str, head: Markup, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" data-theme=[ctx.theme] {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="color-scheme" content="light dark";
                title { (title) " · " (ctx.instance) }
                link rel="stylesheet" href="/static/style.css";
                script src="/static/app.js" defer {}
                (head)
            }
            body class=[ctx.compact.then_some("compact")] {
                a.skip href="#main" { "Skip to content" }
                header.site {
                    nav aria-label="Main" {
                        a.brand href="/" { (ctx.instance) }
                        a href="/" { "Trending" }
                        a href="/daily" { "Daily" }
                        a href="/submit" { "Submit" }
                        a href="/about" { "About" }
                        a href="/subscribe" { "Subscribe" }
                        form.search role="search" aria-label="Site search" action="/search" method="get" {
                            label.visually-hidden for="q" { "Search papers" }
                            input #q type="search" name="q" placeholder="Search papers, e.g. generalization of fine-tuned models";
                            button type="submit" { "Search" }
                        }
                        span.account {
                            @if let Some(u) = &ctx.user {
                                a href={ "/u/" (u.username) } { (u.username) }
                                a href="/library" { "Library" }
                                a href="/for-you" { "For you" }
                                a href="/notifications" {
                                    "Notifications"
                                    @if ctx.unread > 0 { " " span.badge aria-label={ (ctx.unread) " unread" } { (ctx.unread) } }
                                }
                                @if u.role.can_moderate() { a href="/mod" { "Moderate" } }
                                a href="/account" { "Account" }
                                form.inline method="post" action="/logout" {
                                    (ctx.csrf_field())
                                    button.link type="submit" { "Log out" }
                                }
                            } @else {
                                a href="/login" { "Log in" }
                                a href="/signup" { "Sign up" }
                            }
                        }
                    }
                }
                main #main { (body) }
                footer.site {
                    p {
                        (ctx.instance) " runs Paperboy. Paper metadata from arXiv (CC0); full texts stay on arXiv. "
                        a href="/about" { "How trending works" } " · "
                        a href="/moderation" { "Moderation log" } " · "
                        a href="/about#privacy" { "Privacy" }
                    }
                    nav.footer-links aria-label="More" {
                        a href="/" { "Trending" } " · "
                        a href="/daily" { "Daily" } " · "
                        a href="/submit" { "Submit a paper" } " · "
                        a href="/subscribe" { "Subscribe" } " · "
                        a href="/search" { "Search" } " · "
                        a href="/about" { "About" }
                        @if let Some(u) = &ctx.user {
                            " · " a href="/for-you" { "For you" } " · " a href={ "/u/" (u.username) } { "Your profile" }
                        }
                    }
                    p.theme-switch {
                        "Theme: "
                        @for (t, label) in [("auto", "System"), ("light", "Light"), ("dark", "Dark")] {
                            a href={ "/prefs?theme=" (t) "&next=" (urlencode(&ctx.path)) } aria-current=[(ctx.theme.unwrap_or("auto") == t).then_some("true")] { (label) }
                            " "
                        }
                    }
                }
            }
        }
    }
}

/// Forms that carry the CSRF token.
pub trait CsrfToken {
    fn csrf(&self) -> Option<&str>;
}

/// A form whose CSRF token matched the cookie: an unreadable body is a 400
/// page, a missing or wrong token a 403 page.
pub struct CheckedForm<T>(pub T);

impl<T, S> axum::extract::FromRequest<S> for CheckedForm<T>
where
    T: serde::de::DeserializeOwned + CsrfToken + Send,
    S: Send + Sync,
{
    type Rejection = PageError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        let headers = req.headers().clone();
        let axum::Form(f) = axum::Form::<T>::from_request(req, state)
            .await
            .map_err(|e| PageError(ApiError::bad_request(e.body_text())))?;
        if !auth::csrf_ok(&headers, f.csrf()) {
            return Err(PageError(ApiError::forbidden(
                "This form has expired; reload the page and try again.",
            )));
        }
        Ok(CheckedForm(f))
    }
}

macro_rules! csrf_form {
    ($($t:ty),*) => {
        $(impl $crate::pages::CsrfToken for $t {
            fn csrf(&self) -> Option<&str> {
                self.csrf.as_deref()
            }
        })*
    };
}
pub(crate) use csrf_form;

/// The arXiv id in a page's path (see [`crate::api::PaperPath`]); a bad
/// one is a page, not JSON.
pub struct PagePath(pub paperboy_core::ArxivId);

impl<S: Send + Sync> FromRequestParts<S> for PagePath {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let crate::api::PaperPath(id) =
            crate::api::PaperPath::from_request_parts(parts, state).await?;
        Ok(PagePath(id))
    }
}

/// An error shown as a page.
pub struct PageError(pub ApiError);

impl From<ApiError> for PageError {
    fn from(e: ApiError) -> Self {
        PageError(e)
    }
}

impl From<paperboy_app::AppError> for PageError {
    fn from(e: paperboy_app::AppError) -> Self {
        PageError(e.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let status = self.0.status;
        self.0.log();
        let message = self.0.message.clone();
        let heading = match status {
            StatusCode::NOT_FOUND => "Not found",
            StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY => "That did not work",
            StatusCode::UNAUTHORIZED => "Please log in",
            StatusCode::FORBIDDEN => "Not allowed",
            StatusCode::TOO_MANY_REQUESTS => "Slow down",
            StatusCode::SERVICE_UNAVAILABLE => "Back in a moment",
            _ => "Something went wrong",
        };
        let retry_after = self.0.retry_after();
        let ctx = Ctx {
            user: None,
            csrf: String::new(),
            new_csrf: false,
            instance: "Paperboy".into(),
            secure: false,
            path: "/".into(),
            unread: 0,
            compact: false,
            theme: None,
        };
        let body = html! {
            section.notice {
                h1 { (heading) }
                p.error role="alert" { (message) }
                p { a href="/" { "Back to trending papers" } " · " a href="/search" { "Search" } }
            }
        };
        let mut resp = ctx.render(status, heading, body);
        if let Some(secs) = retry_after {
            resp.headers_mut()
                .insert(axum::http::header::RETRY_AFTER, secs.into());
        }
        resp
    }
}

/// Cuts an abstract at a word boundary near `max` characters.
pub fn trim_text(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let cut: String = s.chars().take(max).collect();
    let end = cut.rfind(' ').unwrap_or(cut.len());
    format!("{}…", &cut[..end])
}

pub use paperboy_app::feeds::urlencode;

/// `<link rel="alternate">` for a page's feeds.
pub fn feed_links(title: &str, path_and_query: &str) -> Markup {
    let (path, query) = match path_and_query.split_once('?') {
        Some((p, q)) => (p, format!("?{q}")),
        None => (path_and_query, String::new()),
    };
    html! {
        link rel="alternate" type="application/atom+xml" title={ (title) " (Atom)" } href={ (path) ".atom" (query) };
        link rel="alternate" type="application/rss+xml" title={ (title) " (RSS)" } href={ (path) ".rss" (query) };
    }
}

pub fn paper_href(id: &str) -> String {
    format!("/papers/{id}")
}

/// A paper in a list: the look of the listing that inspired Paperboy
/// (title, authors, date, abstract), plus votes and code.
pub fn paper_item(
    ctx: &Ctx,
    lp: &ListedPaper,
    marks: &Marks,
    highlight: Option<(&str, &str)>,
) -> Markup {
    let voted = marks.voted.contains(&lp.stored.paper_id);
    let saved = marks.saved.contains(&lp.stored.paper_id);
    let p = &lp.stored.paper;
    let id = p.id.as_str();
    let authors: Vec<&str> = p.authors.iter().map(|a| a.name.as_str()).collect();
    let shown_authors = if authors.len() > 8 {
        format!(
            "{} et al. ({} authors)",
            authors[..6].join(", "),
            authors.len()
        )
    } else {
        authors.join(", ")
    };
    html! {
        article.paper id={ "paper-" (id.replace('/', "-")) } data-arxiv-id=(id) {
            (vote_form(ctx, id, lp.stored.upvotes, voted))
            div.body {
                h2.title {
                    a href=(paper_href(id)) {
                        @if let Some((t, _)) = highlight { (PreEscaped(t)) } @else { (PreEscaped(paperboy_app::tex::tex_html(&p.title))) }
                    }
                }
                p.meta {
                    span.authors { (shown_authors) }
                    " · "
                    time datetime=(p.published_at().format("%Y-%m-%d").to_string()) { (p.published_at().format("%b %-d, %Y").to_string()) }
                    @for c in p.categories.iter().take(3) { " " span.cat { (c.as_str()) } }
                    @if let Some(d) = &lp.daily { " · on " a href={ "/daily/" (d.day) } { (d.day.format("%b %-d").to_string()) } " by " a href={ "/u/" (d.submitted_by) } { (d.submitted_by) } }
                }
                p.abstract {
                    @if let Some((_, s)) = highlight { (PreEscaped(s)) } @else { (PreEscaped(paperboy_app::tex::tex_html(&trim_text(&p.abstract_text, 600)))) }
                }
                p.code {
                    @if let Some(repo) = lp.stored.github_repo() {
                        a href=(repo) rel="nofollow noopener" { "Code: " (repo.trim_start_matches("https://")) }
                        @if let Some(stars) = lp.stored.github_stars { " · ★ " (stars) }
                        " · "
                    }
                    a href={ (paper_href(id)) "#discussion" } {
                        (lp.stored.num_comments) (if lp.stored.num_comments == 1 { " comment" } else { " comments" })
                    }
                }
                (library::save_form(ctx, id, saved, &marks.here))
            }
        }
    }
}

pub fn vote_form(ctx: &Ctx, id: &str, upvotes: i64, voted: bool) -> Markup {
    html! {
        form.vote method="post" action={ "/papers/" (id) "/upvote" } {
            (ctx.csrf_field())
            input type="hidden" name="action" value=(if voted { "remove" } else { "add" });
            button type="submit" aria-pressed=(if voted { "true" } else { "false" })
                aria-label={ (upvotes) " upvotes: " (if voted { "remove your upvote" } else { "upvote" }) } {
                span aria-hidden="true" { "▲" }
                span.count { (upvotes) }
            }
        }
    }
}

/// What the viewer did to the papers of a list: upvoted, saved; and the
/// page the list is on (save buttons come back to it).
#[derive(Default)]
pub struct Marks {
    pub voted: Vec<paperboy_core::PaperId>,
    pub saved: std::collections::HashSet<paperboy_core::PaperId>,
    pub here: String,
}

/// The viewer's marks on `papers`.
pub async fn marks(state: &AppState, ctx: &Ctx, papers: &[ListedPaper]) -> Marks {
    let voted = state.app.voted_ids(ctx.user.as_ref(), papers).await;
    let saved = match &ctx.user {
        Some(u) => state.app.in_library(u, papers).await.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "could not read the library for a list");
            Default::default()
        }),
        None => Default::default(),
    };
    Marks {
        voted,
        saved,
        here: ctx.path.clone(),
    }
}

/// A page number from `?p=`, below `max`.
pub fn page_param(
    q: &std::collections::HashMap<String, String>,
    max: u32,
) -> Result<u32, ApiError> {
    match q.get("p") {
        None => Ok(0),
        Some(p) => p
            .parse::<u32>()
            .ok()
            .filter(|p| *p < max)
            .ok_or_else(|| ApiError::bad_request(format!("`{p}` is not a page number"))),
    }
}

/// `n` with the word for one or for many: "1 paper", "1,204 papers".
pub(crate) fn plural(n: u64, one: &str, many: &str) -> String {
    format!(
        "{} {}",
        paperboy_app::scheduler::group_digits(n),
        if n == 1 { one } else { many }
    )
}
