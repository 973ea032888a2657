//! `/for-you`: recommendations with their reasons, 👍/👎 (confirmed, with
//! an undo), and "not interested" in a category or an author.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use maud::{html, Markup};
use paperboy_app::recommend::{RecRequest, Recommendation};
use paperboy_store::MuteKind;
use serde::Deserialize;

use super::library::tag_nav;
use super::paper::see_other;
use super::saving::back_to;
use super::{
    csrf_form, marks, paper_href, paper_item, post_button, urlencode, CheckedForm, Ctx, Member,
    PageError,
};
use crate::{ApiError, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/for-you", get(get_for_you))
        .route("/for-you/feedback", post(post_feedback))
        .route("/for-you/mute", post(post_mute))
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
    let whole_store = format!(
        "/for-you?days=0{}",
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
                @else { "From the last " (days) " days. " a href=(whole_store) { "From the whole store" } }
            }
        }
        (tag_nav(&tags, tag.as_deref(), "/for-you"))
        @if let Some((id, title, up)) = &rated {
            (rated_notice(&ctx, id.as_str(), title, *up, &here))
        }
        @if recs.is_empty() {
            (empty_state(saved, days, tag.is_some(), &whole_store))
        }
        ol.papers.recommendations {
            @for r in &recs {
                li {
                    (paper_item(&ctx, &r.paper, &m, None))
                    (why(&ctx, r, &titles, &here))
                }
            }
        }
        @if !mutes.is_empty() {
            (mutes_section(&ctx, &mutes, &here))
        }
    };
    Ok(ctx.page("For you", body))
}

/// Confirms the last 👍/👎 and offers to undo it.
fn rated_notice(ctx: &Ctx, id: &str, title: &str, up: bool, here: &str) -> Markup {
    let undo = [("id", id), ("value", "0"), ("next", here)];
    html! {
        div.notice role="status" {
            (if up { "Noted: more like " } else { "Noted: less like " }) "“" (title) "”. "
            @if up { "(A 👍 teaches your recommendations; it does not save the paper: ☆ Save on it does.) " }
            (post_button(ctx, "/for-you/feedback", &undo, Some("link"), html! { "Undo" }))
        }
    }
}

/// Why there are no recommendations, and what to do about it.
fn empty_state(saved: usize, days: u32, tagged: bool, whole_store: &str) -> Markup {
    html! {
        @if saved == 0 {
            p.empty { "No recommendations yet: " (if tagged { "no paper carries this tag. " } else { "your library is empty. " }) "Save a few papers (☆ Save on any paper) or " a href="/library" { "import your BibTeX" } ", and papers near them appear here." }
        } @else if days > 0 {
            p.empty { "None of the papers of the last " (super::plural(u64::from(days), "day", "days")) " is near your " (super::plural(saved as u64, "saved paper", "saved papers")) ". "
                a href=(whole_store) { "Look in the whole store" } "." }
        } @else {
            p.empty { "Nothing near your " (super::plural(saved as u64, "saved paper", "saved papers")) " yet: the store is still being indexed, or holds nothing else near them. Try again in a minute." }
        }
    }
}

/// A recommendation's reasons, its 👍/👎 and its "not interested" buttons.
fn why(ctx: &Ctx, r: &Recommendation, titles: &HashMap<String, String>, here: &str) -> Markup {
    let id = r.paper.stored.paper.id.as_str();
    let feedback = |value| [("id", id), ("value", value), ("next", here)];
    let mute = |kind, value| [("kind", kind), ("value", value), ("next", here)];
    html! {
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
                @if !r.cites.is_empty() {
                    "; cites " (super::plural(r.cites.len() as u64, "paper", "papers")) " in your library"
                }
            }
            (post_button(ctx, "/for-you/feedback", &feedback("1"), None,
                html! { span aria-hidden="true" { "👍 " } "More like this" }))
            (post_button(ctx, "/for-you/feedback", &feedback("-1"), Some("dislike"),
                html! { span aria-hidden="true" { "👎 " } "Less like this" }))
            span.mute-controls {
                @if let Some(c) = r.paper.stored.paper.categories.first() {
                    (post_button(ctx, "/for-you/mute", &mute("category", c.as_str()), Some("link"),
                        html! { "Not interested in " (c.as_str()) }))
                }
                " · "
                @if let Some(a) = r.paper.stored.paper.authors.first() {
                    (post_button(ctx, "/for-you/mute", &mute("author", &a.name), Some("link"),
                        html! { "Not interested in " (a.name) }))
                }
            }
        }
    }
}

/// What the reader muted, each with "Show again".
fn mutes_section(ctx: &Ctx, mutes: &[(MuteKind, String)], here: &str) -> Markup {
    html! {
        section.mutes {
            h2 { "Not interested in" }
            ul {
                @for (k, v) in mutes {
                    @let fields = [("kind", k.as_str()), ("value", v.as_str()), ("action", "unmute"), ("next", here)];
                    li {
                        (k.as_str()) " " (v) " "
                        (post_button(ctx, "/for-you/mute", &fields, Some("link"), html! { "Show again" }))
                    }
                }
            }
        }
    }
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

csrf_form!(FeedbackForm, MuteForm);
