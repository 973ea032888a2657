//! The save and follow buttons every paper (and author, and search)
//! carries, and what they post to. Every action is a plain form.

use axum::extract::State;
use axum::response::Response;
use axum::routing::post;
use axum::Router;
use maud::{html, Markup};
use paperboy_store::FollowKind;
use serde::Deserialize;

use super::paper::see_other;
use super::{csrf_form, paper_href, CheckedForm, Ctx, Member, PageError, PagePath};
use crate::api::paper_route;
use crate::{ApiError, AppState};

pub fn router() -> Router<AppState> {
    let r = Router::new().route("/follow", post(post_follow));
    paper_route(r, "/papers", "/save", post(post_save))
}

/// Where a form sends the reader back to: a path on this site, or `fallback`.
pub(super) fn back_to(next: Option<&str>, fallback: &str) -> String {
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

csrf_form!(SaveForm, FollowForm);
