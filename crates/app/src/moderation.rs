//! Moderation: members report comments and daily-list submissions; the
//! moderators (admins among them) work the queue on `/mod` — hide or
//! restore a comment, lock a thread, take a submission off the list,
//! suspend a member until a date, decide author claims — and every action
//! lands in the public log on `/moderation` with who, what and why.

use chrono::{DateTime, Utc};
use paperboy_core::{ArxivId, CommentId, User};
use paperboy_store::{Claim, ClaimStatus, ModAction, Report, ReportKind, StoreError};

use crate::{App, AppError};

/// Longest report reason and moderator reason.
pub const MAX_REASON: usize = 1_000;

/// One open report, with what it is about.
pub struct QueueItem {
    pub report: Report,
    /// The reported thing, in words (an excerpt of the comment, the title).
    pub summary: String,
    /// Where it is.
    pub url: String,
    /// Who wrote or submitted it.
    pub author: Option<String>,
    /// A reported comment already hidden.
    pub hidden: bool,
}

/// A pending author claim, with the paper and the author name claimed.
pub struct ClaimItem {
    pub claim: Claim,
    pub arxiv_id: ArxivId,
    pub title: String,
    pub author_name: String,
}

/// `/mod`: open reports and pending claims.
pub struct ModQueue {
    pub reports: Vec<QueueItem>,
    pub claims: Vec<ClaimItem>,
}

/// What a moderator does to a comment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommentAction {
    Hide,
    Restore,
}

fn excerpt(s: &str, max: usize) -> String {
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.chars().count() <= max {
        return s;
    }
    let cut: String = s.chars().take(max).collect();
    format!("{cut}…")
}

/// A reason: not empty, not a book.
fn checked_reason(reason: &str, what: &str) -> Result<String, AppError> {
    let reason = crate::discussions::clean(reason);
    let r = reason.trim();
    if r.is_empty() {
        return Err(AppError::Invalid(format!("Give a reason for {what}.")));
    }
    if reason.chars().count() > MAX_REASON {
        return Err(AppError::Invalid(format!(
            "A reason has at most {MAX_REASON} characters."
        )));
    }
    Ok(r.to_string())
}

impl App {
    pub(crate) fn check_moderator(&self, user: &User) -> Result<(), AppError> {
        if user.role.can_moderate() {
            Ok(())
        } else {
            Err(AppError::Forbidden("Only moderators can do this.".into()))
        }
    }

    /// A moderator's action may go ahead: who asks may moderate, and said why.
    fn moderator_reason(&self, moderator: &User, reason: &str) -> Result<String, AppError> {
        self.check_moderator(moderator)?;
        checked_reason(reason, "a moderator action")
    }

    /// Writes a moderator's action to the public log.
    async fn log(
        &self,
        by: &User,
        action: &str,
        target: &str,
        url: Option<&str>,
        reason: &str,
    ) -> Result<(), AppError> {
        Ok(self
            .store
            .log_action(by.user_id, action, target, url, reason)
            .await?)
    }

    fn paper_url(&self, id: &ArxivId) -> String {
        format!("/papers/{id}")
    }

    /// A member reports a comment.
    pub async fn report_comment(
        &self,
        user: &User,
        id: CommentId,
        reason: &str,
    ) -> Result<Report, AppError> {
        self.check_not_suspended(user)?;
        let reason = checked_reason(reason, "a report")?;
        self.limit("report", &user.username, self.settings.limits.submit)
            .await?;
        self.live_comment(id).await?;
        Ok(self
            .store
            .add_report(ReportKind::Comment, id.0, user.user_id, &reason)
            .await?)
    }

    /// A member reports a paper's daily-list submission.
    pub async fn report_submission(
        &self,
        user: &User,
        id: &ArxivId,
        reason: &str,
    ) -> Result<Report, AppError> {
        self.check_not_suspended(user)?;
        let reason = checked_reason(reason, "a report")?;
        self.limit("report", &user.username, self.settings.limits.submit)
            .await?;
        let paper = self.paper(id).await?;
        if self.store.daily_entry(paper.paper_id).await?.is_none() {
            return Err(AppError::Invalid(format!(
                "{id} is not on a daily list; there is no submission to report."
            )));
        }
        Ok(self
            .store
            .add_report(
                ReportKind::Submission,
                paper.paper_id.0,
                user.user_id,
                &reason,
            )
            .await?)
    }

    /// The queue on `/mod`.
    pub async fn mod_queue(&self, moderator: &User) -> Result<ModQueue, AppError> {
        self.check_moderator(moderator)?;
        let mut reports = Vec::new();
        for report in self.store.open_reports().await? {
            reports.push(self.queue_item(report).await?);
        }
        let mut claims = Vec::new();
        for claim in self.store.pending_claims().await? {
            let Ok(paper) = self.store.paper_by_key(claim.paper_id).await else {
                continue;
            };
            let author_name = paper
                .paper
                .authors
                .get(claim.author_position as usize)
                .map(|a| a.name.clone())
                .unwrap_or_default();
            claims.push(ClaimItem {
                arxiv_id: paper.paper.id.clone(),
                title: paper.paper.title.clone(),
                author_name,
                claim,
            });
        }
        Ok(ModQueue { reports, claims })
    }

    async fn queue_item(&self, report: Report) -> Result<QueueItem, AppError> {
        let gone = |report: Report| QueueItem {
            report,
            summary: "(no longer here)".into(),
            url: "/".into(),
            author: None,
            hidden: false,
        };
        Ok(match report.kind {
            ReportKind::Comment => match self.store.comment(CommentId(report.target_id)).await {
                Ok(c) => {
                    let paper = self.paper_of_comment(&c).await?;
                    QueueItem {
                        summary: excerpt(&c.body, 200),
                        url: format!(
                            "{}#comment-{}",
                            self.paper_url(&paper.paper.id),
                            c.comment_id.0
                        ),
                        author: Some(c.author.clone()),
                        hidden: c.hidden_at.is_some(),
                        report,
                    }
                }
                Err(StoreError::NotFound) => gone(report),
                Err(e) => return Err(e.into()),
            },
            ReportKind::Submission => {
                match self
                    .store
                    .paper_by_key(paperboy_core::PaperId(report.target_id))
                    .await
                {
                    Ok(p) => {
                        let entry = self.store.daily_entry(p.paper_id).await?;
                        QueueItem {
                            summary: p.paper.title.clone(),
                            url: self.paper_url(&p.paper.id),
                            author: entry.map(|e| e.submitted_by),
                            hidden: false,
                            report,
                        }
                    }
                    Err(StoreError::NotFound) => gone(report),
                    Err(e) => return Err(e.into()),
                }
            }
        })
    }

    /// Hides or restores a comment, closing its reports, in the public log.
    pub async fn moderate_comment(
        &self,
        moderator: &User,
        id: CommentId,
        action: CommentAction,
        reason: &str,
    ) -> Result<(), AppError> {
        let reason = self.moderator_reason(moderator, reason)?;
        let c = self.comment_by(id).await?;
        let paper = self.paper_of_comment(&c).await?;
        let hide = action == CommentAction::Hide;
        self.store.set_comment_hidden(id, hide).await?;
        let verb = if hide {
            "hide comment"
        } else {
            "restore comment"
        };
        self.store
            .resolve_reports(ReportKind::Comment, id.0, moderator.user_id, verb)
            .await?;
        let target = format!(
            "comment #{} by {} on “{}”",
            id.0, c.author, paper.paper.title
        );
        let url = format!("{}#comment-{}", self.paper_url(&paper.paper.id), id.0);
        self.log(moderator, verb, &target, Some(&url), &reason)
            .await?;
        Ok(())
    }

    /// Locks (or unlocks) a paper's discussion.
    pub async fn lock_thread(
        &self,
        moderator: &User,
        id: &ArxivId,
        locked: bool,
        reason: &str,
    ) -> Result<(), AppError> {
        let reason = self.moderator_reason(moderator, reason)?;
        let paper = self.paper(id).await?;
        self.store
            .set_thread_locked(paper.paper_id, moderator.user_id, locked)
            .await?;
        let verb = if locked {
            "lock thread"
        } else {
            "unlock thread"
        };
        let target = format!("the discussion of “{}”", paper.paper.title);
        self.log(moderator, verb, &target, Some(&self.paper_url(id)), &reason)
            .await?;
        Ok(())
    }

    /// Takes a paper off the daily list, closing reports on it.
    pub async fn remove_submission(
        &self,
        moderator: &User,
        id: &ArxivId,
        reason: &str,
    ) -> Result<(), AppError> {
        let reason = self.moderator_reason(moderator, reason)?;
        let paper = self.paper(id).await?;
        let entry = self.store.daily_entry(paper.paper_id).await?;
        if !self.store.remove_submission(paper.paper_id).await? {
            return Err(AppError::NotFound(format!("{id} is not on a daily list.")));
        }
        self.store
            .resolve_reports(
                ReportKind::Submission,
                paper.paper_id.0,
                moderator.user_id,
                "remove submission",
            )
            .await?;
        let by = entry
            .map(|e| format!(" (submitted by {})", e.submitted_by))
            .unwrap_or_default();
        let target = format!("“{}” from the daily list{by}", paper.paper.title);
        self.log(
            moderator,
            "remove submission",
            &target,
            Some(&self.paper_url(id)),
            &reason,
        )
        .await?;
        Ok(())
    }

    /// Closes the reports on something without acting on it.
    pub async fn dismiss_reports(
        &self,
        moderator: &User,
        kind: ReportKind,
        target_id: i64,
        reason: &str,
    ) -> Result<u64, AppError> {
        self.check_moderator(moderator)?;
        let reason = checked_reason(reason, "dismissing reports")?;
        let n = self
            .store
            .resolve_reports(kind, target_id, moderator.user_id, "dismissed")
            .await?;
        if n > 0 {
            let target = format!("{n} report(s) on {} #{target_id}", kind.as_str());
            self.log(moderator, "dismiss reports", &target, None, &reason)
                .await?;
        }
        Ok(n)
    }

    /// Suspends a member until `until` (`None` lifts a suspension).
    pub async fn suspend(
        &self,
        moderator: &User,
        username: &str,
        until: Option<DateTime<Utc>>,
        reason: &str,
    ) -> Result<(), AppError> {
        let reason = self.moderator_reason(moderator, reason)?;
        let (member, _) = self
            .store
            .user_by_name(&username.to_ascii_lowercase())
            .await
            .map_err(|e| AppError::or_not_found(e, || format!("There is no user {username}.")))?;
        if let Some(t) = until {
            if t <= Utc::now() {
                return Err(AppError::Invalid("A suspension ends in the future.".into()));
            }
            if member.role.can_moderate() {
                return Err(AppError::Forbidden(
                    "A moderator cannot be suspended; an admin changes their role first.".into(),
                ));
            }
        }
        self.store
            .set_suspension(member.user_id, until.map(|t| t.timestamp()))
            .await?;
        let verb = match until {
            Some(t) => format!("suspend member until {}", t.format("%Y-%m-%d %H:%M UTC")),
            None => "lift suspension".into(),
        };
        let url = format!("/u/{}", member.username);
        self.log(moderator, &verb, &member.username, Some(&url), &reason)
            .await?;
        Ok(())
    }

    /// The public log, newest first.
    pub async fn mod_log(&self, offset: u32, limit: u32) -> Result<Vec<ModAction>, AppError> {
        Ok(self.store.mod_log(offset, limit.clamp(1, 200)).await?)
    }

    /// Approves or declines an author claim.
    pub async fn decide_claim(
        &self,
        moderator: &User,
        claim_id: i64,
        approve: bool,
        reason: &str,
    ) -> Result<Claim, AppError> {
        let reason = self.moderator_reason(moderator, reason)?;
        let claim =
            self.store.claim(claim_id).await.map_err(|e| {
                AppError::or_not_found(e, || format!("There is no claim {claim_id}."))
            })?;
        if claim.status != ClaimStatus::Pending {
            return Err(AppError::Conflict(format!(
                "Claim {claim_id} was already {}.",
                claim.status.as_str()
            )));
        }
        let status = if approve {
            ClaimStatus::Approved
        } else {
            ClaimStatus::Declined
        };
        let decided = self
            .store
            .decide_claim(claim_id, status, moderator.user_id)
            .await?;
        let paper = self.store.paper_by_key(claim.paper_id).await?;
        let name = paper
            .paper
            .authors
            .get(claim.author_position as usize)
            .map(|a| a.name.as_str())
            .unwrap_or("?");
        let verb = if approve {
            "approve author claim"
        } else {
            "decline author claim"
        };
        let target = format!(
            "{} as {name} (author {}) of “{}”",
            claim.username,
            claim.author_position + 1,
            paper.paper.title
        );
        self.log(
            moderator,
            verb,
            &target,
            Some(&self.paper_url(&paper.paper.id)),
            &reason,
        )
        .await?;
        Ok(decided)
    }
}
