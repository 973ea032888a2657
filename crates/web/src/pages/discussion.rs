//! The forms of a paper page's discussion and tools, for browsers without
//! JavaScript: each posts, acts through the application layer and sends
//! the reader back (303) to the place on the page it concerns.

use axum::extract::State;
use axum::response::Response;
use axum::routing::post;
use axum::Router;
use paperboy_app::moderation::CommentAction;
use paperboy_core::CommentId;
use serde::Deserialize;

use super::paper::see_other;
use super::{csrf_form, CheckedForm, Member, PageError, PagePath};
use crate::api::comments::CommentPath;
use crate::api::paper_route;
use crate::{ApiError, AppState};

pub fn router() -> Router<AppState> {
    let mut r = Router::new();
    for (tail, handler) in [
        ("/comments", post(post_comment)),
        ("/claim", post(post_claim)),
        ("/links", post(post_links)),
        ("/report", post(post_report_submission)),
        ("/lock", post(post_lock)),
        ("/remove-submission", post(post_remove_submission)),
    ] {
        r = paper_route(r, "/papers", tail, handler);
    }
    r.route("/comments/{cid}/edit", post(post_edit))
        .route("/comments/{cid}/delete", post(post_delete))
        .route("/comments/{cid}/upvote", post(post_comment_vote))
        .route("/comments/{cid}/report", post(post_report_comment))
        .route("/mod/comments/{cid}", post(post_moderate_comment))
}

/// A comment id in a page's path; a bad one is a page.
pub struct PageComment(pub CommentId);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for PageComment {
    type Rejection = PageError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        let CommentPath(id) = CommentPath::from_request_parts(parts, state).await?;
        Ok(PageComment(id))
    }
}

/// A short page after a form: a heading, a sentence, the way back.
fn notice(ctx: &super::Ctx, heading: &str, text: &str, back: &str, back_text: &str) -> Response {
    ctx.page(
        heading,
        maud::html! {
            section.notice {
                h1 { (heading) }
                p { (text) }
                p { a href=(back) { (back_text) } }
            }
        },
    )
}

fn paper_anchor(c: &paperboy_store::Comment, paper: &str) -> String {
    format!("/papers/{paper}#comment-{}", c.comment_id.0)
}

#[derive(Deserialize)]
struct CommentForm {
    csrf: Option<String>,
    body: Option<String>,
    parent_id: Option<String>,
}

#[derive(Deserialize)]
struct ReasonForm {
    csrf: Option<String>,
    reason: Option<String>,
    action: Option<String>,
}

impl ReasonForm {
    fn reason(&self) -> &str {
        self.reason.as_deref().unwrap_or("")
    }
}

#[derive(Deserialize)]
struct ClaimForm {
    csrf: Option<String>,
    position: Option<String>,
}

#[derive(Deserialize)]
struct LinksForm {
    csrf: Option<String>,
    github_repo: Option<String>,
    project_page: Option<String>,
}

#[derive(Deserialize)]
struct ActionForm {
    csrf: Option<String>,
    action: Option<String>,
}

csrf_form!(CommentForm, ReasonForm, ClaimForm, LinksForm, ActionForm);

async fn post_comment(
    State(state): State<AppState>,
    Member(_ctx, user): Member,
    PagePath(id): PagePath,
    CheckedForm(f): CheckedForm<CommentForm>,
) -> Result<Response, PageError> {
    let parent = match f
        .parent_id
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        None => None,
        Some(p) => Some(CommentId(p.parse::<i64>().map_err(|_| {
            ApiError::bad_request(format!("`{p}` is not a comment id"))
        })?)),
    };
    let body = f.body.unwrap_or_default();
    let c = state.app.post_comment(&user, &id, &body, parent).await?;
    Ok(see_other(&paper_anchor(&c, id.as_str())))
}

/// The comment's paper id, for the way back.
async fn comment_paper(state: &AppState, id: CommentId) -> Result<String, PageError> {
    let c = state.app.comment_by(id).await?;
    let p = state.app.paper_of_comment(&c).await?;
    Ok(p.paper.id.to_string())
}

async fn post_edit(
    State(state): State<AppState>,
    Member(_ctx, user): Member,
    PageComment(cid): PageComment,
    CheckedForm(f): CheckedForm<CommentForm>,
) -> Result<Response, PageError> {
    let paper = comment_paper(&state, cid).await?;
    let c = state
        .app
        .edit_comment(&user, cid, &f.body.unwrap_or_default())
        .await?;
    Ok(see_other(&paper_anchor(&c, &paper)))
}

async fn post_delete(
    State(state): State<AppState>,
    Member(_ctx, user): Member,
    PageComment(cid): PageComment,
    CheckedForm(_f): CheckedForm<ActionForm>,
) -> Result<Response, PageError> {
    let paper = comment_paper(&state, cid).await?;
    let c = state.app.delete_comment(&user, cid).await?;
    Ok(see_other(&paper_anchor(&c, &paper)))
}

async fn post_comment_vote(
    State(state): State<AppState>,
    Member(_ctx, user): Member,
    PageComment(cid): PageComment,
    CheckedForm(f): CheckedForm<ActionForm>,
) -> Result<Response, PageError> {
    let paper = comment_paper(&state, cid).await?;
    let up = f.action.as_deref() != Some("remove");
    state.app.vote_comment(&user, cid, up).await?;
    Ok(see_other(&format!("/papers/{paper}#comment-{}", cid.0)))
}

async fn post_report_comment(
    State(state): State<AppState>,
    Member(ctx, user): Member,
    PageComment(cid): PageComment,
    CheckedForm(f): CheckedForm<ReasonForm>,
) -> Result<Response, PageError> {
    let paper = comment_paper(&state, cid).await?;
    state.app.report_comment(&user, cid, f.reason()).await?;
    Ok(notice(
        &ctx,
        "Thank you",
        "The moderators will look at the comment.",
        &format!("/papers/{paper}#comment-{}", cid.0),
        "Back to the discussion",
    ))
}

async fn post_moderate_comment(
    State(state): State<AppState>,
    Member(_ctx, user): Member,
    PageComment(cid): PageComment,
    CheckedForm(f): CheckedForm<ReasonForm>,
) -> Result<Response, PageError> {
    let paper = comment_paper(&state, cid).await?;
    let action = match f.action.as_deref() {
        Some("restore") => CommentAction::Restore,
        Some("hide") | None => CommentAction::Hide,
        Some(other) => {
            return Err(ApiError::bad_request(format!("unknown action `{other}`")).into())
        }
    };
    state
        .app
        .moderate_comment(&user, cid, action, f.reason())
        .await?;
    Ok(see_other(&format!("/papers/{paper}#comment-{}", cid.0)))
}

async fn post_claim(
    State(state): State<AppState>,
    Member(ctx, user): Member,
    PagePath(id): PagePath,
    CheckedForm(f): CheckedForm<ClaimForm>,
) -> Result<Response, PageError> {
    let raw = f.position.unwrap_or_default();
    let position = raw
        .trim()
        .parse::<u32>()
        .map_err(|_| ApiError::bad_request(format!("`{raw}` is not an author number")))?;
    state.app.claim_authorship(&user, &id, position).await?;
    Ok(notice(
        &ctx,
        "Claim sent",
        "A moderator will check your claim; once approved, your name on the paper links to your profile and you can set its code link and project page.",
        &format!("/papers/{id}"),
        "Back to the paper",
    ))
}

async fn post_links(
    State(state): State<AppState>,
    Member(_ctx, user): Member,
    PagePath(id): PagePath,
    CheckedForm(f): CheckedForm<LinksForm>,
) -> Result<Response, PageError> {
    state
        .app
        .set_paper_links(
            &user,
            &id,
            f.github_repo.as_deref(),
            f.project_page.as_deref(),
        )
        .await?;
    Ok(see_other(&format!("/papers/{id}")))
}

async fn post_report_submission(
    State(state): State<AppState>,
    Member(ctx, user): Member,
    PagePath(id): PagePath,
    CheckedForm(f): CheckedForm<ReasonForm>,
) -> Result<Response, PageError> {
    state.app.report_submission(&user, &id, f.reason()).await?;
    Ok(notice(
        &ctx,
        "Thank you",
        "The moderators will look at this submission.",
        &format!("/papers/{id}"),
        "Back to the paper",
    ))
}

async fn post_lock(
    State(state): State<AppState>,
    Member(_ctx, user): Member,
    PagePath(id): PagePath,
    CheckedForm(f): CheckedForm<ReasonForm>,
) -> Result<Response, PageError> {
    let locked = f.action.as_deref() != Some("unlock");
    state
        .app
        .lock_thread(&user, &id, locked, f.reason())
        .await?;
    Ok(see_other(&format!("/papers/{id}#discussion")))
}

async fn post_remove_submission(
    State(state): State<AppState>,
    Member(_ctx, user): Member,
    PagePath(id): PagePath,
    CheckedForm(f): CheckedForm<ReasonForm>,
) -> Result<Response, PageError> {
    state.app.remove_submission(&user, &id, f.reason()).await?;
    Ok(see_other(&format!("/papers/{id}")))
}
