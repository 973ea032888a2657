//! `/notifications`: replies and comments in the discussions a member took
//! part in, and whether they also come by mail; `/following`: what they
//! follow, each with its unfollow button.

use axum::extract::State;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use maud::html;
use serde::Deserialize;

use super::paper::see_other;
use super::{csrf_form, CheckedForm, Member, PageError};
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/notifications", get(get_notifications))
        .route("/notifications/settings", post(post_settings))
        .route("/following", get(get_following))
}

async fn get_following(
    State(state): State<AppState>,
    Member(ctx, user): Member,
) -> Result<Response, PageError> {
    use paperboy_store::FollowKind;
    let follows = state.app.follows(&user).await?;
    let groups = [
        (FollowKind::Paper, "Papers", "new versions, code, comments"),
        (FollowKind::Author, "Authors", "their new papers"),
        (FollowKind::Search, "Searches", "new papers that match"),
    ];
    let body = html! {
        section.intro {
            h1 { "What you follow" }
            p.lede { "News of these lands on " a href="/notifications" { "your notifications" } ", in your private feed and your digest." }
        }
        @if follows.is_empty() {
            p.empty { "Nothing yet. The Follow buttons are on paper pages, author pages and under every search." }
        }
        @for (kind, title, what) in groups {
            @let mine: Vec<_> = follows.iter().filter(|f| f.kind == kind).collect();
            @if !mine.is_empty() {
                h2 { (title) " " span.meta { "(" (what) ")" } }
                ul.following {
                    @for f in mine {
                        li {
                            @match kind {
                                FollowKind::Paper => { a href={ "/papers/" (f.target) } { (f.target) } },
                                FollowKind::Author => { a href={ "/authors/" (super::urlencode(&f.target)) } { (f.target) } },
                                FollowKind::Search => { a href={ "/search?q=" (super::urlencode(&f.target)) } { (f.target) } },
                            }
                            " "
                            (super::library::follow_form(&ctx, kind, &f.target, true, "", "/following"))
                        }
                    }
                }
            }
        }
    };
    Ok(ctx.page("What you follow", body))
}

async fn get_notifications(
    State(state): State<AppState>,
    Member(ctx, user): Member,
) -> Result<Response, PageError> {
    let list = state.app.notifications(&user).await?;
    let mail = state.app.reply_mail(&user).await?;
    let body = html! {
        section.intro { h1 { "Notifications" } }
        @if list.is_empty() { p { "Nothing yet. When someone comments in a discussion you took part in, it shows here." } }
        ol.notifications {
            @for n in &list {
                li class=(if n.read { "read" } else { "unread" }) {
                    @match (&n.arxiv_id, n.comment_id) {
                        (Some(a), Some(c)) => { a href={ "/papers/" (a) "#comment-" (c.0) } { (n.text) } },
                        (Some(a), None) => { a href={ "/papers/" (a) } { (n.text) } },
                        _ => { (n.text) },
                    }
                    " " span.meta { (n.created_at.format("%b %-d, %Y %H:%M").to_string()) }
                }
            }
        }
        @if !state.app.sends_mail() {
            p { "This instance sends no email; notifications show here." }
        } @else {
        form.stack method="post" action="/notifications/settings" {
            (ctx.csrf_field())
            input type="hidden" name="reply_mail" value=(if mail { "off" } else { "on" });
            p {
                (if mail { "You also get these by email. " } else { "These are not sent by email. " })
                button type="submit" { (if mail { "Stop the emails" } else { "Email me too" }) }
            }
        }
        }
    };
    Ok(ctx.page("Notifications", body))
}

#[derive(Deserialize)]
struct SettingsForm {
    csrf: Option<String>,
    reply_mail: Option<String>,
}

csrf_form!(SettingsForm);

async fn post_settings(
    State(state): State<AppState>,
    Member(_ctx, user): Member,
    CheckedForm(f): CheckedForm<SettingsForm>,
) -> Result<Response, PageError> {
    let on = f.reply_mail.as_deref() == Some("on");
    state.app.set_reply_mail(&user, on).await?;
    Ok(see_other("/notifications"))
}
