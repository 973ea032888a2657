//! The storage boundary. Everything above it sees `Arc<dyn Store>`; only the
//! CLI picks a backend, from the database URL.

pub mod community;
pub mod delivery;
mod error;
pub mod harvest;
pub mod row;

use async_trait::async_trait;
use chrono::NaiveDate;
use paperboy_core::{ArxivId, Paper, PaperId, Role, User, UserId};

pub use community::{DailyEntry, DailySort, ListedPaper, NewUser, TrendingRow};
pub use delivery::{
    Frequency, OutboxRow, OutgoingMail, Preferences, SendOutcome, Subscriber, SubscriberId,
};
pub use error::StoreError;
pub use harvest::{HarvestCheckpoint, HarvestCounts, HarvestPage};
pub use row::{PaperChange, StoredPaper};

/// What an upsert of a batch did, paper by paper.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UpsertCounts {
    pub imported: u64,
    pub updated: u64,
    pub unchanged: u64,
}

impl UpsertCounts {
    pub fn add(&mut self, other: UpsertCounts) {
        self.imported += other.imported;
        self.updated += other.updated;
        self.unchanged += other.unchanged;
    }
}

/// How an incoming paper compares with what the store holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpsertDecision {
    Insert,
    Update,
    Unchanged,
}

/// The one rule both backends apply: identical content is unchanged, and an
/// older version never overwrites a newer one (a stale snapshot imported
/// after a harvest must not roll papers back).
pub fn decide_upsert(
    existing: Option<(i64, u32)>,
    incoming_hash: i64,
    incoming_version: u32,
) -> UpsertDecision {
    match existing {
        None => UpsertDecision::Insert,
        Some((hash, _)) if hash == incoming_hash => UpsertDecision::Unchanged,
        Some((_, version)) if incoming_version < version => UpsertDecision::Unchanged,
        Some(_) => UpsertDecision::Update,
    }
}

/// Paperboy's storage. Object-safe: held as `Arc<dyn Store>`.
///
/// Every write bumps one store-wide change sequence; [`Store::changes_since`]
/// lets derived indexes follow it.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// `"sqlite"` or `"postgres"`.
    fn backend(&self) -> &'static str;

    /// Answers when the database does (health checks).
    async fn ping(&self) -> Result<(), StoreError>;

    /// Inserts new papers and updates changed ones, in one transaction.
    async fn upsert_papers(&self, papers: Vec<Paper>) -> Result<UpsertCounts, StoreError>;

    /// A paper by arXiv id; `NotFound` when the store lacks it or it was
    /// withdrawn from the metadata (deleted).
    async fn get_paper(&self, id: &ArxivId) -> Result<StoredPaper, StoreError>;

    /// Marks a paper deleted (arXiv's OAI reports deletions). Returns
    /// whether anything changed.
    async fn delete_paper(&self, id: &ArxivId) -> Result<bool, StoreError>;

    /// Number of (not deleted) papers.
    async fn count_papers(&self) -> Result<u64, StoreError>;

    /// The current value of the change sequence (0 on an empty store).
    async fn change_seq(&self) -> Result<i64, StoreError>;

    /// Papers changed after `after`, in sequence order, at most `limit`.
    async fn changes_since(&self, after: i64, limit: u32) -> Result<Vec<PaperChange>, StoreError>;

    /// Where the harvest of an OAI-PMH set stands (`None`: never harvested).
    async fn harvest_checkpoint(
        &self,
        set_spec: &str,
    ) -> Result<Option<HarvestCheckpoint>, StoreError>;

    /// Applies a harvested page (papers, deletions) and its checkpoint in
    /// one transaction.
    async fn apply_harvest_page(&self, page: HarvestPage) -> Result<HarvestCounts, StoreError>;

    /// Takes or renews the lease `name` for `holder` for `ttl_secs`; false
    /// while another holder's lease is live. Lets one node of several run
    /// the scheduler.
    async fn try_lease(&self, name: &str, holder: &str, ttl_secs: i64) -> Result<bool, StoreError>;

    /// Papers by arXiv id, with their daily entries; unknown ids are left
    /// out, order is not kept.
    async fn get_papers(&self, ids: &[ArxivId]) -> Result<Vec<ListedPaper>, StoreError>;

    // --- accounts -------------------------------------------------------

    /// `Conflict` on `users_username_key` or `users_email_key`.
    async fn create_user(&self, user: NewUser) -> Result<User, StoreError>;
    /// The user and their password hash.
    async fn user_by_name(&self, username: &str) -> Result<(User, String), StoreError>;
    async fn set_role(&self, username: &str, role: Role) -> Result<(), StoreError>;
    async fn list_users(&self) -> Result<Vec<User>, StoreError>;
    async fn create_session(
        &self,
        token_hash: &str,
        user: UserId,
        expires_at: i64,
    ) -> Result<(), StoreError>;
    /// The session's user; `NotFound` when unknown or expired at `now`.
    async fn session_user(&self, token_hash: &str, now: i64) -> Result<User, StoreError>;
    async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError>;
    async fn create_api_token(
        &self,
        token_hash: &str,
        user: UserId,
        name: &str,
    ) -> Result<(), StoreError>;
    async fn api_token_user(&self, token_hash: &str) -> Result<User, StoreError>;

    // --- votes, daily list, trending --------------------------------------

    /// Sets or clears a user's vote on a paper; returns the paper's count.
    /// Idempotent: voting twice counts once.
    async fn set_vote(&self, user: UserId, paper: PaperId, up: bool) -> Result<i64, StoreError>;
    /// Which of `papers` the user has voted for.
    async fn voted(&self, user: UserId, papers: &[PaperId]) -> Result<Vec<PaperId>, StoreError>;
    /// `Conflict` on `daily_submissions_paper_key` when already listed.
    async fn submit_daily(
        &self,
        paper: PaperId,
        day: NaiveDate,
        user: UserId,
    ) -> Result<DailyEntry, StoreError>;
    async fn daily_entry(&self, paper: PaperId) -> Result<Option<DailyEntry>, StoreError>;
    /// Papers submitted on days `from..=to`.
    async fn daily_papers(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        sort: DailySort,
        offset: u32,
        limit: u32,
    ) -> Result<Vec<ListedPaper>, StoreError>;
    /// By stored trending key, newest first among equals.
    async fn trending_papers(
        &self,
        offset: u32,
        limit: u32,
    ) -> Result<Vec<ListedPaper>, StoreError>;
    /// Inputs of the trending formula for papers first published at or
    /// after `since` (unix seconds).
    async fn trending_rows(&self, since: i64) -> Result<Vec<TrendingRow>, StoreError>;
    /// Stores keys, and zeroes those of papers published before `zero_before`.
    async fn set_trending_scores(
        &self,
        scores: Vec<(PaperId, f64)>,
        zero_before: i64,
    ) -> Result<(), StoreError>;
    // --- delivery -----------------------------------------------------------

    /// A new unconfirmed subscriber, or the existing one with that address
    /// (its preferences replaced when it is not active, so a returning
    /// reader starts over).
    async fn upsert_subscriber(
        &self,
        email: &str,
        prefs: &Preferences,
    ) -> Result<Subscriber, StoreError>;
    /// Replaces a subscriber's preferences (the owner, logged in, in settings).
    async fn set_preferences(
        &self,
        id: SubscriberId,
        prefs: &Preferences,
    ) -> Result<(), StoreError>;
    /// The subscriber with this address, if any.
    async fn subscriber_by_email(&self, email: &str) -> Result<Option<Subscriber>, StoreError>;
    async fn subscriber(&self, id: SubscriberId) -> Result<Subscriber, StoreError>;
    async fn confirm_subscriber(&self, id: SubscriberId) -> Result<(), StoreError>;
    async fn unsubscribe(&self, id: SubscriberId) -> Result<(), StoreError>;
    /// Active subscribers of a frequency with ids above `after`, in id order.
    async fn active_subscribers(
        &self,
        frequency: Frequency,
        after: i64,
        limit: u32,
    ) -> Result<Vec<Subscriber>, StoreError>;
    /// Which of `papers` were never sent to the subscriber.
    async fn unsent_papers(
        &self,
        subscriber: SubscriberId,
        papers: &[PaperId],
    ) -> Result<Vec<PaperId>, StoreError>;
    /// Queues a message once per dedupe key, and records its papers as
    /// sent, in one transaction. False when the key was queued before.
    async fn enqueue_mail(
        &self,
        mail: OutgoingMail,
        papers: &[PaperId],
    ) -> Result<bool, StoreError>;
    /// Claims up to `limit` due rows for `lease_secs` (several senders
    /// never claim the same row).
    async fn claim_outbox(
        &self,
        now: i64,
        lease_secs: i64,
        limit: u32,
    ) -> Result<Vec<OutboxRow>, StoreError>;
    /// Claims one row by id (a transactional mail sent at once).
    async fn claim_outbox_row(
        &self,
        outbox_id: i64,
        now: i64,
        lease_secs: i64,
    ) -> Result<Option<OutboxRow>, StoreError>;
    async fn outbox_id(&self, dedupe_key: &str) -> Result<Option<i64>, StoreError>;
    /// Records how a send ended; a permanent failure counts a bounce and
    /// stops mail to the address after [`delivery::MAX_BOUNCES`].
    async fn finish_outbox(&self, outbox_id: i64, outcome: SendOutcome) -> Result<(), StoreError>;
    /// Marks a row sent and runs `after_commit` the moment the commit
    /// returns, on the same thread (the mail sender writes the final SMTP
    /// `.` there); returns what `after_commit` returned.
    async fn finish_outbox_sent_then(
        &self,
        outbox_id: i64,
        after_commit: Box<dyn FnOnce() -> usize + Send>,
    ) -> Result<usize, StoreError>;
    /// Rows by status (`pending`, `sent`, `failed`).
    async fn outbox_counts(&self) -> Result<Vec<(String, i64)>, StoreError>;

    /// The newest papers whose categories include `category`.
    async fn recent_in_category(
        &self,
        category: &str,
        limit: u32,
    ) -> Result<Vec<ListedPaper>, StoreError>;
    async fn user_submissions(
        &self,
        user: UserId,
        limit: u32,
    ) -> Result<Vec<ListedPaper>, StoreError>;
    async fn user_upvoted(&self, user: UserId, limit: u32) -> Result<Vec<ListedPaper>, StoreError>;
}
