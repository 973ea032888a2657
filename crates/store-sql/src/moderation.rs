//! Reports, the public moderation log, suspensions, author claims and the
//! links approved authors set.

use std::sync::LazyLock;

use async_trait::async_trait;
use chrono::Utc;
use paperboy_core::{PaperId, UserId};
use paperboy_store::{
    Claim, ClaimStatus, ListedPaper, ModAction, ModerationStore, Report, ReportKind, StoreError,
};

use crate::columns::{self, ts};
use crate::conn::{Sql, SqlRow};
use crate::papers::listed_select;
use crate::{args, Backend, SqlStore};

static ADD_REPORT: Sql = Sql::new(
    "INSERT INTO reports (kind, target_id, reporter_id, reason, created_at)
     VALUES ($1, $2, $3, $4, $5) RETURNING report_id",
);
const REPORT_SELECT: &str = "SELECT r.report_id, r.kind, r.target_id, u.username, r.reason, \
     r.created_at FROM reports r JOIN users u ON u.user_id = r.reporter_id";
static REPORT: LazyLock<Sql> =
    LazyLock::new(|| Sql::owned(format!("{REPORT_SELECT} WHERE r.report_id = $1")));
static OPEN_REPORTS: LazyLock<Sql> = LazyLock::new(|| {
    Sql::owned(format!(
        "{REPORT_SELECT} WHERE r.resolved_at IS NULL ORDER BY r.report_id"
    ))
});
static RESOLVE: Sql = Sql::new(
    "UPDATE reports SET resolved_at = $4, resolved_by = $3, resolution = $5
     WHERE kind = $1 AND target_id = $2 AND resolved_at IS NULL",
);
static LOG: Sql = Sql::new(
    "INSERT INTO mod_log (moderator_id, action, target, target_url, reason, created_at)
     VALUES ($1, $2, $3, $4, $5, $6)",
);
static MOD_LOG: Sql = Sql::new(
    "SELECT u.username, l.action, l.target, l.target_url, l.reason, l.created_at
     FROM mod_log l JOIN users u ON u.user_id = l.moderator_id
     ORDER BY l.entry_id DESC LIMIT $1 OFFSET $2",
);
static SUSPEND: Sql = Sql::new("UPDATE users SET suspended_until = $2 WHERE user_id = $1");
static REMOVE_SUBMISSION: Sql = Sql::new("DELETE FROM daily_submissions WHERE paper_id = $1");
static ADD_CLAIM: Sql = Sql::new(
    "INSERT INTO author_claims (paper_id, author_position, user_id, created_at)
     VALUES ($1, $2, $3, $4) RETURNING claim_id",
);
const CLAIM_SELECT: &str = "SELECT a.claim_id, a.paper_id, a.author_position, a.user_id, \
     u.username, a.status, a.created_at FROM author_claims a JOIN users u ON u.user_id = a.user_id";
static CLAIM: LazyLock<Sql> =
    LazyLock::new(|| Sql::owned(format!("{CLAIM_SELECT} WHERE a.claim_id = $1")));
static PENDING_CLAIMS: LazyLock<Sql> = LazyLock::new(|| {
    Sql::owned(format!(
        "{CLAIM_SELECT} WHERE a.status = 'pending' ORDER BY a.claim_id"
    ))
});
static DECIDE_CLAIM: Sql = Sql::new(
    "UPDATE author_claims SET status = $2, decided_by = $3, decided_at = $4 WHERE claim_id = $1",
);
static CLAIMED_AUTHORS: Sql = Sql::new(
    "SELECT a.paper_id, a.author_position, u.username
     FROM author_claims a JOIN users u ON u.user_id = a.user_id
     WHERE a.paper_id = ANY($1) AND a.status = 'approved'
     ORDER BY a.paper_id, a.author_position",
);
static AUTHORED: LazyLock<Sql> = LazyLock::new(|| {
    listed_select(
        "JOIN author_claims a ON a.paper_id = p.paper_id WHERE a.user_id = $1 \
         AND a.status = 'approved' AND p.deleted_at IS NULL ORDER BY p.published_at DESC LIMIT $2",
    )
});
static SET_LINKS: Sql =
    Sql::new("UPDATE papers SET claimed_github_repo = $2, project_page = $3 WHERE paper_id = $1");

fn report(r: &dyn SqlRow) -> Result<Report, StoreError> {
    let kind = r.text(1)?;
    Ok(Report {
        report_id: r.i64(0)?,
        kind: ReportKind::parse(&kind).ok_or_else(|| StoreError::Corrupt {
            key: format!("report {}", r.opt_i64(0).ok().flatten().unwrap_or(0)),
            reason: format!("kind `{kind}`"),
        })?,
        target_id: r.i64(2)?,
        reporter: r.text(3)?,
        reason: r.text(4)?,
        created_at: ts(r.i64(5)?),
    })
}

fn claim(r: &dyn SqlRow) -> Result<Claim, StoreError> {
    Ok(Claim {
        claim_id: r.i64(0)?,
        paper_id: PaperId(r.i64(1)?),
        author_position: r.i64(2)?.clamp(0, u32::MAX as i64) as u32,
        user_id: UserId(r.i64(3)?),
        username: r.text(4)?,
        status: ClaimStatus::parse(&r.text(5)?),
        created_at: ts(r.i64(6)?),
    })
}

fn now() -> i64 {
    Utc::now().timestamp()
}

#[async_trait]
impl<B: Backend> ModerationStore for SqlStore<B> {
    async fn add_report(
        &self,
        kind: ReportKind,
        target_id: i64,
        reporter: UserId,
        reason: &str,
    ) -> Result<Report, StoreError> {
        let reason = reason.to_string();
        on!(self, write, |c| {
            let values = args![kind.as_str(), target_id, reporter.0, &reason, now()];
            let id = c.scalar(&ADD_REPORT, values).await?;
            c.one(&REPORT, args![id], report).await
        })
    }

    async fn open_reports(&self) -> Result<Vec<Report>, StoreError> {
        on!(self, read, |c| { c.all(&OPEN_REPORTS, &[], report).await })
    }

    async fn resolve_reports(
        &self,
        kind: ReportKind,
        target_id: i64,
        by: UserId,
        resolution: &str,
    ) -> Result<u64, StoreError> {
        let resolution = resolution.to_string();
        on!(self, write, |c| {
            let values = args![kind.as_str(), target_id, by.0, now(), &resolution];
            c.execute(&RESOLVE, values).await
        })
    }

    async fn log_action(
        &self,
        moderator: UserId,
        action: &str,
        target: &str,
        target_url: Option<&str>,
        reason: &str,
    ) -> Result<(), StoreError> {
        let (action, target) = (action.to_string(), target.to_string());
        let (url, reason) = (target_url.map(str::to_string), reason.to_string());
        on!(self, write, |c| {
            let values = args![moderator.0, &action, &target, &url, &reason, now()];
            c.execute(&LOG, values).await.map(drop)
        })
    }

    async fn mod_log(&self, offset: u32, limit: u32) -> Result<Vec<ModAction>, StoreError> {
        on!(self, read, |c| {
            c.all(&MOD_LOG, args![limit, offset], |r| {
                Ok(ModAction {
                    moderator: r.text(0)?,
                    action: r.text(1)?,
                    target: r.text(2)?,
                    target_url: r.opt_text(3)?,
                    reason: r.text(4)?,
                    created_at: ts(r.i64(5)?),
                })
            })
            .await
        })
    }

    async fn set_suspension(&self, user: UserId, until: Option<i64>) -> Result<(), StoreError> {
        on!(self, write, |c| {
            match c.execute(&SUSPEND, args![user.0, until]).await? {
                0 => Err(StoreError::NotFound),
                _ => Ok(()),
            }
        })
    }

    async fn remove_submission(&self, paper: PaperId) -> Result<bool, StoreError> {
        on!(self, write, |c| {
            Ok(c.execute(&REMOVE_SUBMISSION, args![paper.0]).await? > 0)
        })
    }

    async fn add_claim(
        &self,
        paper: PaperId,
        position: u32,
        user: UserId,
    ) -> Result<Claim, StoreError> {
        on!(self, write, |c| {
            let values = args![paper.0, position, user.0, now()];
            let id = c.scalar(&ADD_CLAIM, values).await?;
            c.one(&CLAIM, args![id], claim).await
        })
    }

    async fn claim(&self, id: i64) -> Result<Claim, StoreError> {
        on!(self, read, |c| { c.one(&CLAIM, args![id], claim).await })
    }

    async fn pending_claims(&self) -> Result<Vec<Claim>, StoreError> {
        on!(self, read, |c| { c.all(&PENDING_CLAIMS, &[], claim).await })
    }

    async fn decide_claim(
        &self,
        id: i64,
        status: ClaimStatus,
        by: UserId,
    ) -> Result<Claim, StoreError> {
        on!(self, write, |c| {
            let values = args![id, status.as_str(), by.0, now()];
            if c.execute(&DECIDE_CLAIM, values).await? == 0 {
                return Err(StoreError::NotFound);
            }
            c.one(&CLAIM, args![id], claim).await
        })
    }

    async fn claimed_authors(
        &self,
        papers: &[PaperId],
    ) -> Result<Vec<(PaperId, u32, String)>, StoreError> {
        let ids: Vec<i64> = papers.iter().map(|p| p.0).collect();
        on!(self, read, |c| {
            c.all(&CLAIMED_AUTHORS, args![ids.as_slice()], |r| {
                let position = r.i64(1)?.clamp(0, u32::MAX as i64) as u32;
                Ok((PaperId(r.i64(0)?), position, r.text(2)?))
            })
            .await
        })
    }

    async fn authored_papers(
        &self,
        user: UserId,
        limit: u32,
    ) -> Result<Vec<ListedPaper>, StoreError> {
        on!(self, read, |c| {
            c.all(&AUTHORED, args![user.0, limit], columns::listed)
                .await
        })
    }

    async fn set_paper_links(
        &self,
        paper: PaperId,
        github_repo: Option<&str>,
        project_page: Option<&str>,
    ) -> Result<(), StoreError> {
        let (repo, page) = (
            github_repo.map(str::to_string),
            project_page.map(str::to_string),
        );
        on!(self, write, |c| {
            match c.execute(&SET_LINKS, args![paper.0, &repo, &page]).await? {
                0 => Err(StoreError::NotFound),
                _ => Ok(()),
            }
        })
    }
}
