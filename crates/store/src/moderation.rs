//! Moderation: reports, the public log, suspensions, author claims and the
//! links an approved author sets.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use paperboy_core::{PaperId, UserId};

use crate::{ListedPaper, StoreError};

/// What a report is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportKind {
    Comment,
    Submission,
}

impl ReportKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ReportKind::Comment => "comment",
            ReportKind::Submission => "submission",
        }
    }

    pub fn parse(s: &str) -> Option<ReportKind> {
        match s {
            "comment" => Some(ReportKind::Comment),
            "submission" => Some(ReportKind::Submission),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub report_id: i64,
    pub kind: ReportKind,
    /// The comment's id, or the submitted paper's.
    pub target_id: i64,
    pub reporter: String,
    pub reason: String,
    pub created_at: DateTime<Utc>,
}

/// One line of the public moderation log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModAction {
    pub moderator: String,
    /// What was done: `hide comment`, `lock thread`, `suspend member`, …
    pub action: String,
    /// To what, in words.
    pub target: String,
    pub target_url: Option<String>,
    pub reason: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimStatus {
    Pending,
    Approved,
    Declined,
}

impl ClaimStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ClaimStatus::Pending => "pending",
            ClaimStatus::Approved => "approved",
            ClaimStatus::Declined => "declined",
        }
    }

    pub fn parse(s: &str) -> ClaimStatus {
        match s {
            "approved" => ClaimStatus::Approved,
            "declined" => ClaimStatus::Declined,
            _ => ClaimStatus::Pending,
        }
    }
}

/// "I am author `position` (0-based) of paper `paper_id`."
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub claim_id: i64,
    pub paper_id: PaperId,
    pub author_position: u32,
    pub user_id: UserId,
    pub username: String,
    pub status: ClaimStatus,
    pub created_at: DateTime<Utc>,
}

#[async_trait]
pub trait ModerationStore: Send + Sync + 'static {
    async fn add_report(
        &self,
        kind: ReportKind,
        target_id: i64,
        reporter: UserId,
        reason: &str,
    ) -> Result<Report, StoreError>;
    /// Reports nobody has acted on, oldest first.
    async fn open_reports(&self) -> Result<Vec<Report>, StoreError>;
    /// Closes every open report on a target.
    async fn resolve_reports(
        &self,
        kind: ReportKind,
        target_id: i64,
        by: UserId,
        resolution: &str,
    ) -> Result<u64, StoreError>;
    /// Appends to the public log.
    async fn log_action(
        &self,
        moderator: UserId,
        action: &str,
        target: &str,
        target_url: Option<&str>,
        reason: &str,
    ) -> Result<(), StoreError>;
    /// The log, newest first.
    async fn mod_log(&self, offset: u32, limit: u32) -> Result<Vec<ModAction>, StoreError>;
    /// Suspends a member until `until` (unix seconds); `None` lifts it.
    async fn set_suspension(&self, user: UserId, until: Option<i64>) -> Result<(), StoreError>;
    /// Takes a paper off the daily list.
    async fn remove_submission(&self, paper: PaperId) -> Result<bool, StoreError>;

    /// `Conflict` when this member already claimed this authorship.
    async fn add_claim(
        &self,
        paper: PaperId,
        position: u32,
        user: UserId,
    ) -> Result<Claim, StoreError>;
    async fn claim(&self, id: i64) -> Result<Claim, StoreError>;
    async fn pending_claims(&self) -> Result<Vec<Claim>, StoreError>;
    async fn decide_claim(
        &self,
        id: i64,
        status: ClaimStatus,
        by: UserId,
    ) -> Result<Claim, StoreError>;
    /// The approved authors of `papers`: (paper, position, username), by
    /// paper and position.
    async fn claimed_authors(
        &self,
        papers: &[PaperId],
    ) -> Result<Vec<(PaperId, u32, String)>, StoreError>;
    /// Papers a member is an approved author of, newest first.
    async fn authored_papers(
        &self,
        user: UserId,
        limit: u32,
    ) -> Result<Vec<ListedPaper>, StoreError>;
    /// The code and project links an approved author set (`None` clears).
    async fn set_paper_links(
        &self,
        paper: PaperId,
        github_repo: Option<&str>,
        project_page: Option<&str>,
    ) -> Result<(), StoreError>;
}
