//! `/mod`, the moderators' queue (reports, author claims, suspensions),
//! and `/moderation`, the public log of every moderator action.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use chrono::{NaiveDate, NaiveTime};
use maud::html;
use paperboy_store::ReportKind;
use serde::Deserialize;

use super::paper::see_other;
use super::{csrf_form, page_param, CheckedForm, Ctx, Member, PageError};
use crate::{ApiError, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/mod", get(get_queue))
        .route("/mod/claims/{claim}", post(post_claim))
        .route("/mod/reports/dismiss", post(post_dismiss))
        .route("/mod/suspend", post(post_suspend))
        .route("/moderation", get(get_log))
}

const LOG_PAGE: u32 = 50;

async fn get_queue(
    State(state): State<AppState>,
    Member(ctx, user): Member,
) -> Result<Response, PageError> {
    let q = state.app.mod_queue(&user).await?;
    let body = html! {
        section.intro {
            h1 { "Moderation queue" }
            p.lede { "Every action here is written, with your reason, to the " a href="/moderation" { "public moderation log" } "." }
        }
        section aria-labelledby="reports-h" {
            h2 #reports-h { "Reports (" (q.reports.len()) ")" }
            @if q.reports.is_empty() { p { "Nothing reported." } }
            ol.queue {
                @for item in &q.reports {
                    li.report data-report-id=(item.report.report_id) {
                        p {
                            strong { (item.report.kind.as_str()) } ": "
                            a href=(item.url) { (item.summary) }
                            @if let Some(a) = &item.author { " by " a href={ "/u/" (a) } { (a) } }
                            @if item.hidden { " (hidden)" }
                        }
                        p.meta { "Reported by " (item.report.reporter) " on " (item.report.created_at.format("%b %-d, %Y %H:%M").to_string()) ": “" (item.report.reason) "”" }
                        @if item.report.kind == ReportKind::Comment && !item.hidden {
                            form.stack method="post" action={ "/mod/comments/" (item.report.target_id) } {
                                (ctx.csrf_field())
                                input type="hidden" name="action" value="hide";
                                label for={ "hide-" (item.report.report_id) } { "Reason (public)" }
                                input id={ "hide-" (item.report.report_id) } name="reason" required maxlength="1000";
                                button type="submit" { "Hide comment" }
                            }
                        }
                        form.stack method="post" action="/mod/reports/dismiss" {
                            (ctx.csrf_field())
                            input type="hidden" name="kind" value=(item.report.kind.as_str());
                            input type="hidden" name="target" value=(item.report.target_id);
                            label for={ "dismiss-" (item.report.report_id) } { "Reason (public)" }
                            input id={ "dismiss-" (item.report.report_id) } name="reason" required maxlength="1000";
                            button type="submit" { "Dismiss the reports" }
                        }
                    }
                }
            }
        }
        section aria-labelledby="claims-h" {
            h2 #claims-h { "Author claims (" (q.claims.len()) ")" }
            @if q.claims.is_empty() { p { "No claims waiting." } }
            ol.queue {
                @for c in &q.claims {
                    li.claim data-claim-id=(c.claim.claim_id) {
                        p {
                            a href={ "/u/" (c.claim.username) } { (c.claim.username) }
                            " claims to be " strong { (c.author_name) } " (author " (c.claim.author_position + 1) ") of "
                            a href={ "/papers/" (c.arxiv_id) } { (c.title) }
                        }
                        form.stack method="post" action={ "/mod/claims/" (c.claim.claim_id) } {
                            (ctx.csrf_field())
                            label for={ "claim-" (c.claim.claim_id) } { "Reason (public)" }
                            input id={ "claim-" (c.claim.claim_id) } name="reason" required maxlength="1000";
                            div.buttons {
                                button type="submit" name="decision" value="approve" { "Approve" }
                                button type="submit" name="decision" value="decline" { "Decline" }
                            }
                        }
                    }
                }
            }
        }
        section aria-labelledby="suspend-h" {
            h2 #suspend-h { "Suspend a member" }
            form.stack.form-page method="post" action="/mod/suspend" {
                (ctx.csrf_field())
                label for="suspend-user" { "Username" }
                input #suspend-user name="username" required;
                label for="suspend-until" { "Until (leave empty to lift a suspension)" }
                input #suspend-until type="date" name="until";
                label for="suspend-reason" { "Reason (public)" }
                input #suspend-reason name="reason" required maxlength="1000";
                button type="submit" { "Save" }
            }
        }
    };
    Ok(ctx.page("Moderation queue", body))
}

#[derive(Deserialize)]
struct DecisionForm {
    csrf: Option<String>,
    decision: Option<String>,
    reason: Option<String>,
}

#[derive(Deserialize)]
struct DismissForm {
    csrf: Option<String>,
    kind: Option<String>,
    target: Option<String>,
    reason: Option<String>,
}

#[derive(Deserialize)]
struct SuspendForm {
    csrf: Option<String>,
    username: Option<String>,
    until: Option<String>,
    reason: Option<String>,
}

csrf_form!(DecisionForm, DismissForm, SuspendForm);

async fn post_claim(
    State(state): State<AppState>,
    Member(_ctx, user): Member,
    Path(claim): Path<String>,
    CheckedForm(f): CheckedForm<DecisionForm>,
) -> Result<Response, PageError> {
    let id = claim
        .parse::<i64>()
        .map_err(|_| ApiError::bad_request(format!("`{claim}` is not a claim id")))?;
    let approve = match f.decision.as_deref() {
        Some("approve") => true,
        Some("decline") => false,
        other => {
            return Err(ApiError::bad_request(format!(
                "decision must be approve or decline, not `{}`",
                other.unwrap_or("")
            ))
            .into())
        }
    };
    state
        .app
        .decide_claim(&user, id, approve, f.reason.as_deref().unwrap_or(""))
        .await?;
    Ok(see_other("/mod#claims-h"))
}

async fn post_dismiss(
    State(state): State<AppState>,
    Member(_ctx, user): Member,
    CheckedForm(f): CheckedForm<DismissForm>,
) -> Result<Response, PageError> {
    let kind = f
        .kind
        .as_deref()
        .and_then(ReportKind::parse)
        .ok_or_else(|| ApiError::bad_request("kind must be comment or submission"))?;
    let raw = f.target.unwrap_or_default();
    let target = raw
        .parse::<i64>()
        .map_err(|_| ApiError::bad_request(format!("`{raw}` is not an id")))?;
    state
        .app
        .dismiss_reports(&user, kind, target, f.reason.as_deref().unwrap_or(""))
        .await?;
    Ok(see_other("/mod"))
}

async fn post_suspend(
    State(state): State<AppState>,
    Member(_ctx, user): Member,
    CheckedForm(f): CheckedForm<SuspendForm>,
) -> Result<Response, PageError> {
    let until = match f.until.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(d) => {
            let day = NaiveDate::parse_from_str(d, "%Y-%m-%d")
                .map_err(|_| ApiError::bad_request(format!("`{d}` is not a date (YYYY-MM-DD)")))?;
            Some(day.and_time(NaiveTime::MIN).and_utc())
        }
    };
    let name = f.username.unwrap_or_default();
    state
        .app
        .suspend(&user, name.trim(), until, f.reason.as_deref().unwrap_or(""))
        .await?;
    Ok(see_other("/moderation"))
}

async fn get_log(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let page = page_param(&q, 10_000)?;
    let entries = state.app.mod_log(page * LOG_PAGE, LOG_PAGE).await?;
    let body = html! {
        section.intro {
            h1 { "Moderation log" }
            p.lede { "Every action a moderator takes, with who took it and why. Limits for new accounts are on the " a href="/about#limits" { "about page" } "." }
        }
        @if entries.is_empty() { p { "No moderator action yet." } }
        table.log {
            thead { tr { th scope="col" { "When" } th scope="col" { "Moderator" } th scope="col" { "Action" } th scope="col" { "Target" } th scope="col" { "Reason" } } }
            tbody {
                @for e in &entries {
                    tr {
                        td { time datetime=(e.created_at.to_rfc3339()) { (e.created_at.format("%Y-%m-%d %H:%M").to_string()) } }
                        td { a href={ "/u/" (e.moderator) } { (e.moderator) } }
                        td.action { (e.action) }
                        td { @if let Some(u) = &e.target_url { a href=(u) { (e.target) } } @else { (e.target) } }
                        td.reason { (e.reason) }
                    }
                }
            }
        }
        nav.pager {
            @if page > 0 { a href={ "/moderation?p=" (page - 1) } { "Newer" } }
            @if entries.len() as u32 == LOG_PAGE { a href={ "/moderation?p=" (page + 1) } { "Older" } }
        }
    };
    Ok(ctx.page("Moderation log", body))
}
